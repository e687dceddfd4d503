// SOURCES.json in the download folder: for every file fetched, where it came from, when, its size
// and checksums, and what was made from it. It is merged across runs (one run may fetch only
// `--only genes`), and written after every file so an interrupted run keeps what it finished.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildName } from '../reference-presets.ts';
import type { SourceKind } from './catalogue.ts';

export const SOURCES_MANIFEST = 'SOURCES.json';
const FORMAT = 1;

export interface SourceRecord {
  build: BuildName;
  id: string;
  kind: SourceKind;
  /** The publisher's URL. */
  url: string;
  /** Where the bytes were actually fetched from, when a mirror was used. */
  fetchedFrom?: string;
  file: string;
  bytes: number;
  sha256: string;
  checksum:
    | { algorithm: 'md5' | 'bsd-sum'; expected: string; listedIn: string; verified: true }
    | { algorithm: 'none'; why: string; gzipChecked: boolean };
  /** When the file was downloaded (kept from the earlier record when it was already present). */
  retrievedAt: string;
  terms: string;
  /** The file build-db reads when it is not the download itself. */
  prepared?: {
    file: string;
    bytes: number;
    /** SHA-256 of the download it was made from: a new download means a new preparation. */
    fromSha256: string;
    how: string;
    preparedAt: string;
    /** Preparation-specific numbers (records, alleles, sequences, subset). */
    details: Record<string, string | number>;
  };
}

export interface SourcesManifest {
  format: number;
  updatedAt: string;
  sources: SourceRecord[];
}

export async function readSourcesManifest(dir: string): Promise<SourcesManifest> {
  try {
    const m = JSON.parse(await readFile(join(dir, SOURCES_MANIFEST), 'utf8')) as SourcesManifest;
    if (m.format === FORMAT && Array.isArray(m.sources)) return m;
  } catch {
    // Missing or unreadable: start a new one; the files themselves are checked against their checksums.
  }
  return { format: FORMAT, updatedAt: new Date().toISOString(), sources: [] };
}

export function findRecord(m: SourcesManifest, build: BuildName, id: string): SourceRecord | undefined {
  return m.sources.find((s) => s.build === build && s.id === id);
}

/** Replaces the record of the same build and id, or adds it; then writes the file atomically. */
export async function saveRecord(dir: string, m: SourcesManifest, record: SourceRecord): Promise<void> {
  const i = m.sources.findIndex((s) => s.build === record.build && s.id === record.id);
  if (i >= 0) m.sources[i] = record;
  else m.sources.push(record);
  m.updatedAt = new Date().toISOString();
  const path = join(dir, SOURCES_MANIFEST);
  await writeFile(`${path}.partial`, JSON.stringify(m, null, 2) + '\n');
  await rename(`${path}.partial`, path);
}
