// Reading the checksum lists the publishers put beside their files, and finding one file's entry.
import { basename } from 'node:path';
import type { ChecksumSource } from './catalogue.ts';
import type { ExpectedChecksum } from './checksum.ts';
import { fetchText } from './fetch-text.ts';
import type { RetryOptions } from './retry.ts';
import { mirrorUrl } from './mirror.ts';

/**
 * `md5sum` output, one "<32 hex> <space><space or *><name>" per line (UCSC md5sum.txt, NCBI
 * `<file>.md5`); BSD `md5` lines ("MD5 (name) = hex") are taken too. Names are reduced to their
 * last path part, which is how the lists are looked up.
 */
export function parseMd5List(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const gnu = /^([0-9a-fA-F]{32})\s+\*?(.+)$/.exec(line);
    const bsd = /^MD5 ?\((.+)\) ?= ?([0-9a-fA-F]{32})$/.exec(line);
    if (gnu) out.set(basename(gnu[2]!.trim()), gnu[1]!.toLowerCase());
    else if (bsd) out.set(basename(bsd[1]!.trim()), bsd[2]!.toLowerCase());
  }
  return out;
}

/**
 * Ensembl's CHECKSUMS: "<checksum> <blocks> <name>" per line, whitespace-separated, as `sum`
 * prints it (older files have the checksum zero-padded, some have a path before the name).
 */
export function parseBsdSumList(text: string): Map<string, { checksum: number; blocks: number }> {
  const out = new Map<string, { checksum: number; blocks: number }>();
  for (const raw of text.split('\n')) {
    const m = /^(\d+)\s+(\d+)\s+(.+)$/.exec(raw.trim());
    if (!m) continue;
    const checksum = Number(m[1]);
    if (checksum > 0xffff) continue;
    out.set(basename(m[3]!.trim().split(/\s+/).pop()!), { checksum, blocks: Number(m[2]) });
  }
  return out;
}

/**
 * The publisher's checksum for `fileUrl`, read from the list `source` names (through the mirror when
 * one is set); undefined when the publisher has none. Throws when the list lacks the file, because a
 * list without it means the catalogue or the mirror is out of date.
 */
export async function expectedChecksum(
  fileUrl: string,
  source: ChecksumSource,
  opts: { baseUrl?: string; retry?: RetryOptions; say?: (m: string) => void } = {},
): Promise<ExpectedChecksum | undefined> {
  if (source.type === 'none') return undefined;
  const listUrl = mirrorUrl(source.url, opts.baseUrl);
  const text = await fetchText(listUrl, opts.retry, opts.say);
  const name = basename(new URL(fileUrl).pathname);
  if (source.type === 'md5-list') {
    const hex = parseMd5List(text).get(name);
    if (!hex) throw new Error(`${listUrl} lists no md5 for ${name}`);
    return { algorithm: 'md5', hex, from: listUrl };
  }
  const v = parseBsdSumList(text).get(name);
  if (!v) throw new Error(`${listUrl} lists no checksum for ${name}`);
  return { algorithm: 'bsd-sum', ...v, from: listUrl };
}
