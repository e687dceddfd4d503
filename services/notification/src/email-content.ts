// The email for a notice: a subject, a text part and an HTML part that say the same (escaped, no
// remote images, inline styles only, as mail clients want), and the headers that let mail systems
// and people handle it: a Message-ID fixed by the event (a resend after a crash is recognisably the
// same message), List-Unsubscribe to the preference, Auto-Submitted.
import type { Notice } from '@gas/proto';
import type { EmailPreference } from './notice-content.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

const PREFERENCE_WORDS: Record<EmailPreference, string> = {
  all: 'emails about every job',
  failures: 'emails about failed jobs only',
  none: 'no emails',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `<event id>@<host of the public URL>`, with anything a Message-ID may not hold replaced. */
export function messageIdFor(eventId: string, publicUrl: string): string {
  return `<${eventId.replace(/[^A-Za-z0-9._-]/g, '-')}@${new URL(publicUrl).hostname || 'gas.invalid'}>`;
}

export function composeEmail(o: {
  notice: Notice;
  to: string;
  recipientName: string;
  publicUrl: string;
  facts: Array<[string, string]>;
  preference: EmailPreference;
}): OutgoingMail {
  const base = o.publicUrl.replace(/\/+$/, '');
  const link = o.notice.jobId ? `${base}/jobs/${o.notice.jobId}` : `${base}/notices`;
  const linkText = o.notice.jobId ? 'Open the job' : 'Open your notices';
  const prefs = `${base}/profile#notifications`;
  const greeting = o.recipientName ? `Hello ${o.recipientName},` : 'Hello,';
  const why = `You get this because your GAS notification preference is ${PREFERENCE_WORDS[o.preference]}. Change it: ${prefs}`;
  const text = [
    greeting,
    '',
    o.notice.text,
    '',
    ...o.facts.map(([k, v]) => `${k}: ${v}`),
    ...(o.facts.length > 0 ? [''] : []),
    `${linkText}: ${link}`,
    '',
    '-- ',
    why,
    '',
  ].join('\n');
  const e = escapeHtml;
  const rows = o.facts
    .map(([k, v]) => `<tr><td style="padding:2px 12px 2px 0;color:#555">${e(k)}</td><td style="padding:2px 0">${e(v)}</td></tr>`)
    .join('');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(o.notice.title)}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1b1f24;font-size:15px;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #dde1e6;border-radius:8px;padding:24px">
<p style="margin:0 0 4px;color:#555;font-size:13px">GAS · Genomics Annotation Service</p>
<h1 style="margin:0 0 16px;font-size:20px">${e(o.notice.title)}</h1>
<p style="margin:0 0 12px">${e(greeting)}</p>
<p style="margin:0 0 16px">${e(o.notice.text)}</p>
${rows ? `<table role="presentation" style="border-collapse:collapse;margin:0 0 20px;font-size:14px">${rows}</table>` : ''}
<p style="margin:0 0 24px"><a href="${e(link)}" style="display:inline-block;background:#1f6feb;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px">${e(linkText)}</a></p>
<p style="margin:0;color:#555;font-size:12px">You get this because your GAS notification preference is ${e(PREFERENCE_WORDS[o.preference])}. <a href="${e(prefs)}" style="color:#555">Change it</a>.</p>
</div></body></html>
`;
  return {
    to: o.to,
    subject: `GAS: ${o.notice.title}`,
    text,
    html,
    messageId: messageIdFor(o.notice.eventId, o.publicUrl),
    headers: {
      'List-Unsubscribe': `<${prefs}>`,
      'Auto-Submitted': 'auto-generated',
      'X-GAS-Event-Id': o.notice.eventId,
    },
  };
}
