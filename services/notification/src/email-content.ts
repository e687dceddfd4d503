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

/** "2026-12-07 06:40 UTC": the minute, as the emails about the account say when. */
function utcMinute(d: Date): string {
  return `${d.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/** `<event id>@<host of the public URL>`, with anything a Message-ID may not hold replaced. */
export function messageIdFor(eventId: string, publicUrl: string): string {
  return `<${eventId.replace(/[^A-Za-z0-9._-]/g, '-')}@${new URL(publicUrl).hostname || 'gas.invalid'}>`;
}

/**
 * The HTML part's frame; `body`, `after` (below the button) and `footer` are HTML already escaped by
 * the caller. No `link`: no button.
 */
function htmlPage(o: { title: string; body: string[]; link?: string; linkText?: string; after?: string[]; footer: string }): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(o.title)}</title></head>
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1b1f24;font-size:15px;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #dde1e6;border-radius:8px;padding:24px">
<p style="margin:0 0 4px;color:#555;font-size:13px">GAS · Genomics Annotation Service</p>
<h1 style="margin:0 0 16px;font-size:20px">${e(o.title)}</h1>
${o.body.join('\n')}
${o.link ? `<p style="margin:0 0 24px"><a href="${e(o.link)}" style="display:inline-block;background:#1f6feb;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px">${e(o.linkText ?? o.link)}</a></p>\n` : ''}${o.after ? `${o.after.join('\n')}\n` : ''}<p style="margin:0;color:#555;font-size:12px">${o.footer}</p>
</div></body></html>
`;
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
  const html = htmlPage({
    title: o.notice.title,
    body: [
      `<p style="margin:0 0 12px">${e(greeting)}</p>`,
      `<p style="margin:0 0 16px">${e(o.notice.text)}</p>`,
      ...(rows ? [`<table role="presentation" style="border-collapse:collapse;margin:0 0 20px;font-size:14px">${rows}</table>`] : []),
    ],
    link,
    linkText,
    footer: `You get this because your GAS notification preference is ${e(PREFERENCE_WORDS[o.preference])}. <a href="${e(prefs)}" style="color:#555">Change it</a>.`,
  });
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

const SIGN_UP_ATTEMPT_TITLE = 'Someone tried to sign up with your address';

/**
 * The security notice to an address someone tried to sign up with while it had an account. It
 * holds only what GAS knows: the time and the sign-in link. Nothing from the sign-up form, and no
 * greeting by name either: addresses are not verified at sign-up, so the account's own name may be
 * a stranger's words, and this email must give nobody a way to put words in front of the owner.
 */
export function composeSignUpAttemptEmail(o: { eventId: string; to: string; occurredAt: Date; publicUrl: string }): OutgoingMail {
  const base = o.publicUrl.replace(/\/+$/, '');
  const signIn = `${base}/signin`;
  const when = utcMinute(o.occurredAt);
  const what =
    `On ${when} someone tried to create a GAS account with this email address. ` +
    'This address already has an account, so no new account was made and nobody was signed in.';
  const ifYou = 'If it was you: you have an account already. Sign in with it';
  const forgot = `${base}/password/forgot`;
  const forgotten = 'Forgot its password? Ask for a link to set a new one';
  const ifNot = 'If it was not you: you need do nothing. Your account is unchanged.';
  const why = 'You get this security notice whatever your email preference, as it concerns your account. GAS sends at most one an hour.';
  const text = ['Hello,', '', what, '', `${ifYou}: ${signIn}`, `${forgotten}: ${forgot}`, '', ifNot, '', '-- ', why, ''].join('\n');
  const e = escapeHtml;
  const html = htmlPage({
    title: SIGN_UP_ATTEMPT_TITLE,
    body: [
      ...['Hello,', what, `${ifYou}.`].map((p) => `<p style="margin:0 0 12px">${e(p)}</p>`),
      `<p style="margin:0 0 12px">${e(forgotten)}: <a href="${e(forgot)}">${e(forgot)}</a></p>`,
      `<p style="margin:0 0 12px">${e(ifNot)}</p>`,
    ],
    link: signIn,
    linkText: 'Sign in to GAS',
    footer: e(why),
  });
  return accountMail(o, SIGN_UP_ATTEMPT_TITLE, text, html);
}

/**
 * An email about the account itself, sent whatever the preference. No List-Unsubscribe: the
 * preference does not turn it off, and a link saying it does would mislead.
 */
function accountMail(o: { eventId: string; to: string; publicUrl: string }, title: string, text: string, html: string): OutgoingMail {
  return {
    to: o.to,
    subject: `GAS: ${title}`,
    text,
    html,
    messageId: messageIdFor(o.eventId, o.publicUrl),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': o.eventId },
  };
}

const CONFIRM_TITLE = 'Confirm your email address';

/** Where the confirmation link leads: the gateway's page that asks the signed-in owner to confirm. */
export function confirmationLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/confirm-email?token=${encodeURIComponent(token)}`;
}

/**
 * An email whose point is a single-use link that is a secret: the link goes into this email and
 * nowhere else, never into a log. It greets nobody by name and holds nothing the account's owner
 * typed, as the reader may be a stranger to whoever named the account.
 */
function linkEmail(
  o: { eventId: string; to: string; publicUrl: string },
  title: string,
  p: { what: string; how: string; link: string; linkText: string; ifNot: string; why: string },
): OutgoingMail {
  const text = ['Hello,', '', p.what, '', `${p.how}:`, p.link, '', p.ifNot, '', '-- ', p.why, ''].join('\n');
  const e = escapeHtml;
  const html = htmlPage({
    title,
    body: ['Hello,', p.what, `${p.how}.`].map((x) => `<p style="margin:0 0 12px">${e(x)}</p>`),
    link: p.link,
    linkText: p.linkText,
    footer: `${e(p.ifNot)}<br>${e(p.why)}`,
  });
  return accountMail(o, title, text, html);
}

/**
 * The link that proves the account owns its address. Like the sign-up notice it greets nobody by
 * name: until the address is confirmed, whoever signed up with it may be a stranger to the person
 * reading this. The link confirms the address until it expires.
 */
export function composeConfirmationEmail(o: {
  eventId: string;
  to: string;
  token: string;
  expiresAt: Date;
  publicUrl: string;
}): OutgoingMail {
  return linkEmail(o, CONFIRM_TITLE, {
    what: 'A GAS account was created with this email address, or its owner asked for a new link to confirm it.',
    how: `To confirm that the address is yours, open this link and sign in to that account if GAS asks you to. It works once, until ${utcMinute(o.expiresAt)}`,
    link: confirmationLink(o.publicUrl, o.token),
    linkText: 'Confirm my address',
    ifNot: 'If you did not sign up for GAS: you need do nothing. Without the link the address stays unconfirmed.',
    why: 'You get this because the email address was given to GAS; it is sent only when asked for, at most every few minutes.',
  });
}

const PASSWORD_RESET_TITLE = 'Reset your password';

/** Where the reset link leads: the gateway's page that asks for the new password. */
export function passwordResetLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/password/reset?token=${encodeURIComponent(token)}`;
}

/** "one hour", "30 minutes", "24 hours", "7 days": how long a link lasts, to the minute; '' when it cannot be said. */
function lifetime(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes <= 0) return '';
  if (minutes > 24 * 60 && minutes % (24 * 60) === 0) return `${minutes / (24 * 60)} days`;
  if (minutes % 60 === 0) return minutes === 60 ? 'one hour' : `${minutes / 60} hours`;
  return minutes === 1 ? 'one minute' : `${minutes} minutes`;
}

/**
 * The link that sets a new password for the account with this address (its owner forgot the old
 * one). Whoever asked may be anyone who knows the address, so it greets nobody by name and tells
 * the owner who did not ask that nothing changes. The link sets the password until it expires;
 * `requestedAt` (when it was asked for) says how long it lasts.
 */
export function composePasswordResetEmail(o: {
  eventId: string;
  to: string;
  token: string;
  requestedAt: Date;
  expiresAt: Date;
  publicUrl: string;
}): OutgoingMail {
  const lasts = lifetime(o.expiresAt.getTime() - o.requestedAt.getTime());
  return linkEmail(o, PASSWORD_RESET_TITLE, {
    what: 'Someone, hopefully you, asked to set a new password for the GAS account with this email address.',
    how: `To choose a new password, open this link. It works once, ${lasts ? `for ${lasts}, ` : ''}until ${utcMinute(o.expiresAt)}`,
    link: passwordResetLink(o.publicUrl, o.token),
    linkText: 'Choose a new password',
    ifNot: 'If you did not ask for it: you need do nothing. Your password stays as it is.',
    why: 'You get this security email whatever your email preference, as it concerns your account; it is sent only when asked for.',
  });
}

const PASSWORD_CHANGED_TITLE = 'Your password was changed';

/**
 * Tells the owner that the account's password changed, so that one who did not change it can take
 * the account back at once. No secret, no name (the account's name may be a stranger's words).
 */
export function composePasswordChangedEmail(o: {
  eventId: string;
  to: string;
  occurredAt: Date;
  throughResetLink: boolean;
  publicUrl: string;
}): OutgoingMail {
  const forgot = `${o.publicUrl.replace(/\/+$/, '')}/password/forgot`;
  const how = o.throughResetLink ? 'through a link mailed to this address' : "on the account's profile page";
  const what = `The password of the GAS account with this email address was changed on ${utcMinute(o.occurredAt)}, ${how}.`;
  const ifYou = 'If it was you: you need do nothing.';
  const ifNot = 'If it was not you: set a new password at once, and check your jobs and API tokens.';
  const why = 'You get this security notice whatever your email preference, as it concerns your account.';
  const text = ['Hello,', '', what, '', ifYou, '', `${ifNot} Set a new password here: ${forgot}`, '', '-- ', why, ''].join('\n');
  const e = escapeHtml;
  const html = htmlPage({
    title: PASSWORD_CHANGED_TITLE,
    body: ['Hello,', what, ifYou, ifNot].map((x) => `<p style="margin:0 0 12px">${e(x)}</p>`),
    link: forgot,
    linkText: 'Set a new password',
    footer: e(why),
  });
  return accountMail(o, PASSWORD_CHANGED_TITLE, text, html);
}

const ACCOUNT_DELETED_TITLE = 'Your account was deleted';

/**
 * The last email of a deleted account, to the address it had: what went and when, and whom to tell
 * if the owner did not do it. Like the sign-up notice it greets nobody by name and holds nothing the
 * owner typed (the address may never have been confirmed, so the reader may be a stranger to whoever
 * named the account), and it has no link: there is no account left to sign in to, and nothing to
 * click is what a warning about someone else's doing should look like. The site's address is there
 * as text, so the reader knows which GAS to contact.
 */
/** `byAdmin`: an administrator deleted it on the owner's request, not the owner. */
export function composeAccountDeletedEmail(o: {
  eventId: string;
  to: string;
  occurredAt: Date;
  publicUrl: string;
  byAdmin?: boolean;
}): OutgoingMail {
  const site = o.publicUrl.replace(/\/+$/, '');
  const when = utcMinute(o.occurredAt);
  const what = o.byAdmin
    ? `On ${when} an administrator of this GAS site deleted the GAS account with this email address, as asked on its owner's behalf.`
    : `On ${when} the GAS account with this email address was deleted, as its owner asked.`;
  const gone =
    'Deleted with it: all its jobs, with the files uploaded for them and their annotated results, and all its notices. ' +
    'This cannot be undone.';
  const ifYou = o.byAdmin
    ? 'If you asked for it: you need do nothing. GAS sends no more email about this account.'
    : 'If you deleted it: you need do nothing. GAS sends no more email about this account.';
  const ifNot = o.byAdmin
    ? `If you did not ask for it: tell the people who run this GAS site (${site}) at once, and say when it happened.`
    : `If you did not: someone else may have been able to sign in to it. Tell the people who run this GAS site (${site}), and say when it happened.`;
  const why = 'You get this security notice whatever your email preference was, as it concerns your account.';
  const text = ['Hello,', '', what, '', gone, '', ifYou, '', ifNot, '', '-- ', why, ''].join('\n');
  const e = escapeHtml;
  const html = htmlPage({
    title: ACCOUNT_DELETED_TITLE,
    body: ['Hello,', what, gone, ifYou, ifNot].map((p) => `<p style="margin:0 0 12px">${e(p)}</p>`),
    footer: e(why),
  });
  return accountMail(o, ACCOUNT_DELETED_TITLE, text, html);
}

const EMAIL_CHANGE_TITLE = 'Confirm your new email address';

/** Where the address-change link leads: the gateway's page that asks the signed-in owner to confirm the change. */
export function emailChangeLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/change-email?token=${encodeURIComponent(token)}`;
}

/**
 * The link that changes an account's address to this one, mailed to the new address only: opening
 * it proves the owner holds it. Like the other links it greets nobody by name and names neither the
 * account nor its current address, as whoever typed this address may have typed a stranger's.
 * `requestedAt` (when it was asked for) says how long it lasts.
 */
export function composeEmailChangeEmail(o: {
  eventId: string;
  to: string;
  token: string;
  requestedAt: Date;
  expiresAt: Date;
  publicUrl: string;
}): OutgoingMail {
  const lasts = lifetime(o.expiresAt.getTime() - o.requestedAt.getTime());
  return linkEmail(o, EMAIL_CHANGE_TITLE, {
    what: 'Someone, hopefully you, asked to change the email address of their GAS account to this one.',
    how:
      'To confirm the change, open this link and sign in to that account if GAS asks you to. ' +
      `It works once, ${lasts ? `for ${lasts}, ` : ''}until ${utcMinute(o.expiresAt)}`,
    link: emailChangeLink(o.publicUrl, o.token),
    linkText: 'Confirm my new address',
    ifNot: 'If you did not ask for it: ignore this email. Without the link no account is changed to this address.',
    why: 'You get this because this address was given to GAS as the new address of an account; it is sent only when asked for.',
  });
}

const EMAIL_CHANGED_TITLE = 'The address of your account was changed';

/** Where the undo link leads: the gateway's page, open without signing in, that moves the account back. */
export function undoEmailChangeLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/undo-email-change?token=${encodeURIComponent(token)}`;
}

/**
 * Tells the address an account had that the account now has another, so an owner who did not
 * change it knows at once that someone else may be signed in as them. With `undo` (the link the
 * gateway made for this address, unexpired) the owner who did not do it can take the account back
 * without signing in, which whoever changed it may have made impossible; the link is a secret, in
 * this email only. Without it there is no link at all: a password reset would now go to the new
 * address, and nothing to click is what a warning about someone else's doing should look like (as
 * in the deleted account's email). Either way the site's address is there as text, so the reader
 * knows whom to tell. No name (the account's name may be a stranger's).
 */
export function composeEmailChangedEmail(o: {
  eventId: string;
  to: string;
  newEmail: string;
  occurredAt: Date;
  publicUrl: string;
  undo?: { token: string; expiresAt: Date };
}): OutgoingMail {
  const site = o.publicUrl.replace(/\/+$/, '');
  const what = `The email address of the GAS account that had this address was changed on ${utcMinute(o.occurredAt)}, to ${o.newEmail}.`;
  const from = 'From now on GAS sends its emails about the account to that address, and the account signs in with it.';
  const ifYou = 'If it was you: you need do nothing.';
  const suspect = 'If it was not you: someone else may have been able to sign in to your account.';
  const tell = `the people who run this GAS site (${site}) at once, and say when it happened.`;
  const why = 'You get this security notice whatever your email preference, as it concerns your account.';
  const e = escapeHtml;
  const para = (x: string) => `<p style="margin:0 0 12px">${e(x)}</p>`;
  if (!o.undo) {
    const ifNot = `${suspect} Tell ${tell}`;
    const text = ['Hello,', '', what, '', from, '', ifYou, '', ifNot, '', '-- ', why, ''].join('\n');
    const html = htmlPage({ title: EMAIL_CHANGED_TITLE, body: ['Hello,', what, from, ifYou, ifNot].map(para), footer: e(why) });
    return accountMail(o, EMAIL_CHANGED_TITLE, text, html);
  }
  const lasts = lifetime(o.undo.expiresAt.getTime() - o.occurredAt.getTime());
  const works = `It works once, ${lasts ? `for ${lasts}, ` : ''}until ${utcMinute(o.undo.expiresAt)}`;
  const how = `${suspect} To take it back, open this link. ${works}`;
  const link = undoEmailChangeLink(o.publicUrl, o.undo.token);
  const does =
    'It moves the account back to this address, signs out every browser signed in to it, revokes its API tokens and makes its ' +
    'password stop working; GAS then emails this address a link to set a new one.';
  const then = `Then tell ${tell}`;
  const text = ['Hello,', '', what, '', from, '', ifYou, '', `${how}:`, link, '', does, '', then, '', '-- ', why, ''].join('\n');
  const html = htmlPage({
    title: EMAIL_CHANGED_TITLE,
    body: ['Hello,', what, from, ifYou, `${how}.`, does].map(para),
    link,
    linkText: 'Take my account back',
    after: [para(then)],
    footer: e(why),
  });
  return accountMail(o, EMAIL_CHANGED_TITLE, text, html);
}

const EMAIL_CHANGE_UNDONE_TITLE = 'The address of your account was changed back';

/**
 * Tells the address an account leaves when an earlier change is undone (through the link mailed to
 * the address it goes back to) that it is no longer the account's. Its reader may be whoever took
 * the account over, or its owner if the undo was not theirs: so what happened and whom to tell, no
 * link, no name.
 */
export function composeEmailChangeUndoneEmail(o: {
  eventId: string;
  to: string;
  email: string;
  occurredAt: Date;
  publicUrl: string;
}): OutgoingMail {
  const site = o.publicUrl.replace(/\/+$/, '');
  const what =
    `The address of your GAS account was changed back to ${o.email} on ${utcMinute(o.occurredAt)}, ` +
    'through the link mailed to that address when it was changed from it.';
  const gone = 'GAS no longer emails this address about the account.';
  const ifNot = `If you did not expect this: tell the people who run this GAS site (${site}), and say when it happened.`;
  const why = 'You get this security notice whatever your email preference, as it concerns your account.';
  const text = ['Hello,', '', what, '', gone, '', ifNot, '', '-- ', why, ''].join('\n');
  const e = escapeHtml;
  const html = htmlPage({
    title: EMAIL_CHANGE_UNDONE_TITLE,
    body: ['Hello,', what, gone, ifNot].map((p) => `<p style="margin:0 0 12px">${e(p)}</p>`),
    footer: e(why),
  });
  return accountMail(o, EMAIL_CHANGE_UNDONE_TITLE, text, html);
}
