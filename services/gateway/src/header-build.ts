// The upload's genome build check: the start of the file (gzip or BGZF inflated, at most
// HEADER_TEXT_BYTES of text) is read for ##contig lengths and build names. When they clearly point
// to another build than the one chosen, the job is created as asked (a script's choice is not
// second-guessed) and carries the warning from the start; the annotator checks the whole header
// again when it runs.
import { createGunzip, constants } from 'node:zlib';
import { buildMismatchWarning, detectBuild, headerLines } from '@gas/anntools/format';
import type { JobWarningText } from '@gas/anntools/format';

/** Bytes of the upload read for the check: the primary contigs come early in every header seen. */
export const HEADER_PEEK_BYTES = 64 * 1024;
/** Text inflated from a compressed head, at most: a gzip bomb's head stops here. */
export const HEADER_TEXT_BYTES = 256 * 1024;

/** The text at the start of `head`, inflated when it is gzip (a truncated stream gives what it has). */
export function headText(head: Buffer, maxBytes = HEADER_TEXT_BYTES): Promise<string> {
  if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) return Promise.resolve(head.subarray(0, maxBytes).toString('latin1'));
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let have = 0;
    const done = () => resolve(Buffer.concat(out).subarray(0, maxBytes).toString('latin1'));
    // Inflated a chunk at a time, and stopped once there is enough: memory stays near maxBytes.
    const gunzip = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    gunzip.on('data', (chunk: Buffer) => {
      out.push(chunk);
      have += chunk.length;
      if (have >= maxBytes) gunzip.destroy();
    });
    gunzip.on('error', done);
    gunzip.on('end', done);
    gunzip.on('close', done);
    gunzip.end(head);
  });
}

/** The warnings the start of an upload gives for the chosen build (none, or a build mismatch). */
export async function uploadWarnings(head: Buffer, chosenBuild: string): Promise<JobWarningText[]> {
  const warning = buildMismatchWarning(detectBuild(headerLines(await headText(head))), chosenBuild);
  return warning ? [warning] : [];
}
