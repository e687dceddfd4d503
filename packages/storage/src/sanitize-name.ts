const MAX_NAME_LENGTH = 128;
const FALLBACK_NAME = 'input';
// Kept through truncation so a long "sample….vcf.gz" still reads as gzip VCF downstream.
const EXTENSION = /(?:\.[A-Za-z0-9]{1,10}){1,2}$/;

function truncate(name: string): string {
  const ext = EXTENSION.exec(name)?.[0] ?? '';
  if (ext.length === 0 || ext.length >= MAX_NAME_LENGTH / 2) return name.slice(0, MAX_NAME_LENGTH);
  return name.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
}

/**
 * Turns a user-supplied file name into one safe path segment. The result is never trusted as a
 * path by anyone, but it ends up in keys, file names and Content-Disposition headers.
 */
export function sanitizeName(name: string): string {
  const segments = String(name)
    .split(/[\\/]/)
    .filter((s) => s.length > 0);
  let out = segments.at(-1) ?? '';
  out = out.replace(/\p{Cc}/gu, '');
  // Decompose so accented Latin letters keep their base letter instead of becoming '_'.
  out = out.normalize('NFKD').replace(/\p{M}/gu, '');
  out = out.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/_+/g, '_');
  out = out.replace(/^\.+/, '');
  if (out.length > MAX_NAME_LENGTH) out = truncate(out);
  if (out === '' || out === '.' || out === '..') return FALLBACK_NAME;
  return out;
}
