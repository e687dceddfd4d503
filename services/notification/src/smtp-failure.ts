// Which SMTP failures are worth another try. A 4xx answer, a refused or dropped connection, a
// timeout or a failed login (an operator can fix it) are transient: the consumer redelivers with
// backoff. A 5xx answer or an address the message cannot go to is permanent: recorded, never retried.

export interface SmtpFailure {
  permanent: boolean;
  /** For people and logs: the server's code and words, with any email address in it masked. */
  detail: string;
}

const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'EAUTH',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPROTOCOL',
  'ETLS',
]);

/** a***@example.org: enough to tell addresses apart in a log, not enough to harvest them. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

function masked(text: string): string {
  return text.replace(/<?[^\s<>@]+@[^\s<>]+>?/g, (m) => maskAddress(m.replace(/^<|>$/g, '')));
}

export function classifySmtpFailure(err: unknown): SmtpFailure {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const code = e.responseCode;
  const words = masked((e.response ?? e.message ?? String(err)).trim()).slice(0, 300);
  // A refused login is ours to fix, not the recipient's: every email would fail the same way.
  if (e.code === 'EAUTH') return { permanent: false, detail: `the mail server refused our login: ${words}` };
  if (typeof code === 'number' && code >= 500 && code < 600) return { permanent: true, detail: `the mail server refused it: ${words}` };
  if (typeof code === 'number' && code >= 400 && code < 500)
    return { permanent: false, detail: `the mail server asked to try later: ${words}` };
  if (e.code && TRANSIENT_CODES.has(e.code))
    return { permanent: false, detail: `the mail server could not be reached (${e.code}): ${words}` };
  // No recipient nodemailer could use (a malformed address): no retry can help.
  if (e.code === 'EENVELOPE') return { permanent: true, detail: `the address cannot be mailed: ${words}` };
  return { permanent: false, detail: `sending failed: ${words}` };
}
