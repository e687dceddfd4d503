// What a download is called on the user's disk: the name they uploaded, as they wrote it (any
// script, spaces kept), never the sanitised blob key. Sent as RFC 6266 `filename*` (RFC 8187/5987
// UTF-8 percent-encoding) with a plain-ASCII `filename` for clients that do not read `filename*`.
import { sanitizeName } from '@gas/storage';

/** The part of an input name the engine's result names keep: `sample.vcf.gz` -> `sample`. */
function stem(name: string): string {
  return name.replace(/\.(vcf|txt)(\.b?gz)?$/i, '').replace(/\.b?gz$/i, '');
}

/**
 * The download name of a stored file of a job. The blob key's last segment is the sanitised stem
 * of the input name plus what the annotator appended (`.annot.vcf`, `.count.log`, ...); the same
 * ending goes after the user's own stem. A key that does not have that shape keeps its own name.
 */
export function downloadName(inputName: string, key: string): string {
  const stored = key.slice(key.lastIndexOf('/') + 1);
  if (!inputName) return stored;
  if (stored === sanitizeName(inputName)) return inputName;
  const safeStem = stem(sanitizeName(inputName)) || 'input';
  const userStem = stem(inputName).trim();
  if (!userStem || !stored.startsWith(safeStem) || stored.length === safeStem.length) return stored;
  return userStem + stored.slice(safeStem.length);
}

/** RFC 8187 ext-value: everything but attr-char percent-encoded from UTF-8. */
function extValue(s: string): string {
  return "UTF-8''" + encodeURIComponent(s).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** A stand-in for old clients: accents dropped, other non-ASCII, quotes and backslashes as `_`. */
function asciiFallback(s: string): string {
  return (
    s
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(/[^\x20-\x7e]|["\\%]/g, '_')
      .trim() || 'download'
  );
}

/** `attachment; filename="…"; filename*=UTF-8''…` (or `inline`). */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  const filename = name || 'download';
  const ascii = asciiFallback(filename);
  const header = `${type}; filename="${ascii}"`;
  return ascii === filename ? header : `${header}; filename*=${extValue(filename)}`;
}
