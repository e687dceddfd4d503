// `gas-annotate fetch-sources`: download the selected public sources of one build with their
// publishers' checksums, make them readable by build-db, record them in SOURCES.json and, when asked,
// build the .gasref from them.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ENGINE_NAME } from '../engine.ts';
import { buildReferenceFile } from '../reference-file.ts';
import type { ReferenceManifest } from '../reference-file.ts';
import type { BuildName } from '../reference-presets.ts';
import { formatBsdSum } from './bsd-sum.ts';
import { selectSources } from './catalogue.ts';
import type { SourceEntry } from './catalogue.ts';
import { expectedChecksum } from './checksum-lists.ts';
import { downloadVerified } from './download.ts';
import { mirrorUrl } from './mirror.ts';
import { prepareDbSnp, preparedDbSnpName } from './prepare-dbsnp.ts';
import type { DbSnpSubset } from './prepare-dbsnp.ts';
import { prepareFasta } from './prepare-fasta.ts';
import { formatBytes } from './progress.ts';
import type { RetryOptions } from './retry.ts';
import { SOURCES_MANIFEST, findRecord, readSourcesManifest, saveRecord } from './sources-manifest.ts';
import type { SourceRecord, SourcesManifest } from './sources-manifest.ts';

export interface FetchSourcesOptions {
  build: BuildName;
  dir: string;
  /** Kinds (`genes`, `dbsnp`, `fasta`) or entry ids; all default entries when absent. */
  only?: string[];
  /** A mirror laid out as host/path (see mirror.ts). */
  baseUrl?: string;
  dbsnpSubset?: DbSnpSubset;
  /** Build this .gasref from the fetched files. */
  buildDb?: string;
  retry?: RetryOptions;
  say?: (message: string) => void;
  progressIntervalMs?: number;
}

export interface FetchSourcesResult {
  /** This run's sources, in the order fetched. */
  sources: SourceRecord[];
  manifestPath: string;
  reference?: ReferenceManifest;
}

/** SnpTable bytes per entry (position, rs number, allele pair). */
const SNP_ENTRY_BYTES = 12;
/** A .gasref stores each section's length as a uint32, and Node 20 Buffers stop at 4 GiB as well. */
const GASREF_SECTION_LIMIT = 2 ** 32;

export async function fetchSources(o: FetchSourcesOptions): Promise<FetchSourcesResult> {
  const say = o.say ?? (() => undefined);
  const entries = selectSources(o.build, o.only);
  await mkdir(o.dir, { recursive: true });
  const manifest = await readSourcesManifest(o.dir);
  const sources: SourceRecord[] = [];
  for (const entry of entries) sources.push(await fetchOne(entry, manifest, o, say));
  const reference = o.buildDb ? await buildReference(o, sources, say) : undefined;
  return { sources, manifestPath: join(o.dir, SOURCES_MANIFEST), reference };
}

async function fetchOne(
  entry: SourceEntry,
  manifest: SourcesManifest,
  o: FetchSourcesOptions,
  say: (m: string) => void,
): Promise<SourceRecord> {
  const previous = findRecord(manifest, o.build, entry.id);
  const fetchUrl = mirrorUrl(entry.url, o.baseUrl);
  say(`${entry.id}: ${entry.title} (${entry.approxSize})`);
  const expected = await expectedChecksum(entry.url, entry.checksum, { baseUrl: o.baseUrl, retry: o.retry, say });
  const dest = join(o.dir, entry.file);
  const dl = await downloadVerified({
    url: fetchUrl,
    dest,
    expected,
    knownSha256: !expected && previous?.url === entry.url ? previous.sha256 : undefined,
    // md5 is strong enough on its own; a 16-bit sum or nothing at all is backed by the gzip CRCs.
    checkGzip: entry.checksum.type !== 'md5-list',
    retry: o.retry,
    say,
    progressIntervalMs: o.progressIntervalMs,
  });
  const sameAsBefore = previous?.sha256 === dl.sha256;
  const record: SourceRecord = {
    build: o.build,
    id: entry.id,
    kind: entry.kind,
    url: entry.url,
    ...(fetchUrl !== entry.url ? { fetchedFrom: fetchUrl } : {}),
    file: entry.file,
    bytes: dl.bytes,
    sha256: dl.sha256,
    checksum: expected
      ? {
          algorithm: expected.algorithm,
          expected: expected.algorithm === 'md5' ? expected.hex : formatBsdSum(expected),
          listedIn: expected.from,
          verified: true,
        }
      : {
          algorithm: 'none',
          why: entry.checksum.type === 'none' ? entry.checksum.why : '',
          gzipChecked: dl.action === 'downloaded' || (previous?.checksum.algorithm === 'none' && previous.checksum.gzipChecked),
        },
    retrievedAt:
      dl.action === 'downloaded' ? new Date().toISOString() : sameAsBefore ? previous.retrievedAt : (await stat(dest)).mtime.toISOString(),
    terms: entry.terms,
  };
  if (dl.action === 'downloaded')
    say(`${entry.file}: ${formatBytes(dl.bytes)}, ${dl.actual ? `${dl.actual} verified` : 'no published checksum; gzip stream checked'}`);
  const prepared = await prepare(entry, record, sameAsBefore ? previous?.prepared : undefined, o, say);
  if (prepared) record.prepared = prepared;
  await saveRecord(o.dir, manifest, record);
  return record;
}

async function prepare(
  entry: SourceEntry,
  record: SourceRecord,
  before: SourceRecord['prepared'],
  o: FetchSourcesOptions,
  say: (m: string) => void,
): Promise<SourceRecord['prepared']> {
  if (entry.prepare === 'none') return undefined;
  const src = join(o.dir, entry.file);
  const subset = o.dbsnpSubset ?? 'common';
  const file = entry.prepare === 'fasta-plain' ? entry.file.replace(/\.gz$/, '') : preparedDbSnpName(o.build, subset);
  const path = join(o.dir, file);
  // Made from these very bytes, with these settings, and still there: nothing to do.
  if (
    before &&
    before.file === file &&
    before.fromSha256 === record.sha256 &&
    existsSync(path) &&
    (await stat(path)).size === before.bytes
  ) {
    if (entry.prepare !== 'fasta-plain' || existsSync(`${path}.fai`)) {
      say(`${file}: already prepared from this download`);
      return before;
    }
  }
  const preparedAt = (): string => new Date().toISOString();
  if (entry.prepare === 'fasta-plain') {
    say(`${entry.file}: decompressing to ${file} and writing ${file}.fai`);
    const r = await prepareFasta(src, path);
    say(`${file}: ${r.sequences} sequences, ${formatBytes(r.bytes)}`);
    return {
      file,
      bytes: r.bytes,
      fromSha256: record.sha256,
      how: 'decompressed to a plain FASTA with a samtools-style .fai index',
      preparedAt: preparedAt(),
      details: { sequences: r.sequences },
    };
  }
  say(`${entry.file}: rewriting as ${file} (RefSeq accessions to 1-22/X/Y/MT, subset ${subset}); this reads the whole file`);
  const r = await prepareDbSnp({ src, dest: path, build: o.build, subset });
  const bytes = (await stat(path)).size;
  say(
    `${file}: ${r.records} records with ${r.alleles} ALT alleles; ${r.dropped} left out ` +
      `(${r.droppedContigs} other contigs${subset === 'common' ? ', or not flagged COMMON' : ''})`,
  );
  return {
    file,
    bytes,
    fromSha256: record.sha256,
    how:
      'primary chromosomes renamed from RefSeq accessions, other contigs dropped, CHROM-ALT kept' +
      (subset === 'common' ? ', COMMON records only' : ''),
    preparedAt: preparedAt(),
    details: { subset, records: r.records, alleles: r.alleles, dropped: r.dropped, droppedContigs: r.droppedContigs },
  };
}

async function buildReference(o: FetchSourcesOptions, sources: SourceRecord[], say: (m: string) => void): Promise<ReferenceManifest> {
  const input = (r: SourceRecord): string => join(o.dir, r.prepared?.file ?? r.file);
  const genes = sources.filter((r) => r.kind === 'genes');
  if (genes.length === 0) throw new Error('--build-db needs gene models: add genes to --only');
  const dbsnp = sources.filter((r) => r.kind === 'dbsnp');
  const fastas = sources.filter((r) => r.kind === 'fasta');
  if (fastas.length > 1) say(`more than one FASTA was fetched; the reference uses ${fastas[0]!.prepared?.file ?? fastas[0]!.file}`);
  for (const r of dbsnp) {
    const alleles = Number(r.prepared?.details['alleles'] ?? 0);
    if (alleles * SNP_ENTRY_BYTES >= GASREF_SECTION_LIMIT) {
      throw new Error(
        `${r.prepared?.file}: ${alleles} dbSNP alleles need at least ${formatBytes(alleles * SNP_ENTRY_BYTES)} in the reference file, ` +
          `more than the 4 GiB a .gasref section holds; use --dbsnp-subset common`,
      );
    }
  }
  await mkdir(dirname(o.buildDb!), { recursive: true });
  say(`building ${o.buildDb} from ${[...genes, ...dbsnp, ...fastas.slice(0, 1)].map((r) => r.prepared?.file ?? r.file).join(', ')}`);
  return buildReferenceFile({
    build: o.build,
    genes: genes.map(input),
    dbsnp: dbsnp.map(input),
    fasta: fastas[0] ? input(fastas[0]) : undefined,
    out: o.buildDb!,
    engine: ENGINE_NAME,
    onProgress: say,
  });
}
