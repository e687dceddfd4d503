import t from 'tap';
import { create, NoticeKind, NoticeSchema } from '@gas/proto';
import {
  composeAccountDeletedEmail,
  composeConfirmationEmail,
  composeEmail,
  composeEmailChangedEmail,
  composeEmailChangeEmail,
  composeEmailChangeUndoneEmail,
  composePasswordChangedEmail,
  composePasswordResetEmail,
  composeSignUpAttemptEmail,
  emailChangeLink,
  messageIdFor,
  passwordResetLink,
  undoEmailChangeLink,
} from '../src/email-content.ts';
import { classifySmtpFailure, maskAddress } from '../src/smtp-failure.ts';

const notice = create(NoticeSchema, {
  noticeId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W',
  eventId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W.completed',
  userId: 'alice',
  jobId: '01JQ8Z7X5K3M4N6P8R9S2T3V4W',
  kind: NoticeKind.JOB_COMPLETED,
  title: '<img src=x onerror=alert(1)>.vcf is annotated',
  text: 'The GRCh37 annotation of <img src=x onerror=alert(1)>.vcf is done: 3 variants.',
});

t.test('an email says the same in text and escaped HTML, links the job and the preference', async (t) => {
  const mail = composeEmail({
    notice,
    to: 'alice@example.org',
    recipientName: 'Alice & Co',
    publicUrl: 'https://gas.example.org/',
    facts: [['File', '<img src=x onerror=alert(1)>.vcf']],
    preference: 'failures',
  });
  t.equal(mail.subject, 'GAS: <img src=x onerror=alert(1)>.vcf is annotated');
  t.match(mail.text, /^Hello Alice & Co,$/m);
  t.match(mail.text, /^File: <img src=x onerror=alert\(1\)>\.vcf$/m);
  t.match(mail.text, /^Open the job: https:\/\/gas\.example\.org\/jobs\/01JQ8Z7X5K3M4N6P8R9S2T3V4W$/m);
  t.match(mail.text, /preference is emails about failed jobs only\. Change it: https:\/\/gas\.example\.org\/profile#notifications/);
  t.notMatch(mail.html, /<img/, 'no markup from user data, and no images at all');
  t.match(mail.html, /&#60;img src=x onerror=alert\(1\)&#62;\.vcf is annotated/);
  t.match(mail.html, /Hello Alice &#38; Co,/);
  t.match(mail.html, /href="https:\/\/gas\.example\.org\/jobs\/01JQ8Z7X5K3M4N6P8R9S2T3V4W"/);
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.equal(mail.messageId, '<01JQ8Z7X5K3M4N6P8R9S2T3V4W.completed@gas.example.org>');
  t.strictSame(mail.headers, {
    'List-Unsubscribe': '<https://gas.example.org/profile#notifications>',
    'Auto-Submitted': 'auto-generated',
    'X-GAS-Event-Id': '01JQ8Z7X5K3M4N6P8R9S2T3V4W.completed',
  });
});

t.test('an account notice links the notices page', async (t) => {
  const mail = composeEmail({
    notice: create(NoticeSchema, { ...notice, jobId: '', title: 'You are on premium', text: 'x' }),
    to: 'a@b.c',
    recipientName: '',
    publicUrl: 'http://127.0.0.1:8080',
    facts: [],
    preference: 'all',
  });
  t.match(mail.text, /^Hello,$/m);
  t.match(mail.text, /^Open your notices: http:\/\/127\.0\.0\.1:8080\/notices$/m);
});

t.test('a sign-up attempt: what happened and when, the sign-in link, nothing from the form, not tied to the preference', async (t) => {
  const mail = composeSignUpAttemptEmail({
    eventId: 'alice.sign_up_attempted.1796630400',
    to: 'alice@example.org',
    occurredAt: new Date('2026-12-07T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
  });
  t.equal(mail.to, 'alice@example.org');
  t.equal(mail.subject, 'GAS: Someone tried to sign up with your address');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'On 2026-12-07 06:40 UTC someone tried to create a GAS account with this email address. This address already has an ' +
        'account, so no new account was made and nobody was signed in.',
      '',
      'If it was you: you have an account already. Sign in with it: https://gas.example.org/signin',
      'Forgot its password? Ask for a link to set a new one: https://gas.example.org/password/forgot',
      '',
      'If it was not you: you need do nothing. Your account is unchanged.',
      '',
      '-- ',
      'You get this security notice whatever your email preference, as it concerns your account. GAS sends at most one an hour.',
      '',
    ].join('\n'),
  );
  t.match(mail.html, /On 2026-12-07 06:40 UTC someone tried to create a GAS account with this email address\./);
  t.match(mail.html, /If it was not you: you need do nothing\. Your account is unchanged\./);
  t.match(mail.html, /<a href="https:\/\/gas\.example\.org\/password\/forgot">/);
  t.match(mail.html, /href="https:\/\/gas\.example\.org\/signin"/);
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.sign_up_attempted.1796630400@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.sign_up_attempted.1796630400' });
});

t.test('the address confirmation: the link with its token, until when it works, no name, not tied to the preference', async (t) => {
  const token = 'alice.Zm9vYmFyYmF6-_0123456789abcdefABCDEF';
  const mail = composeConfirmationEmail({
    eventId: 'alice.email_confirmation_requested.0f1e2d3c4b5a',
    to: 'alice@example.org',
    token,
    expiresAt: new Date('2026-12-08T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
  });
  const link = `https://gas.example.org/confirm-email?token=${token}`;
  t.equal(mail.to, 'alice@example.org');
  t.equal(mail.subject, 'GAS: Confirm your email address');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'A GAS account was created with this email address, or its owner asked for a new link to confirm it.',
      '',
      'To confirm that the address is yours, open this link and sign in to that account if GAS asks you to. It works once, ' +
        'until 2026-12-08 06:40 UTC:',
      link,
      '',
      'If you did not sign up for GAS: you need do nothing. Without the link the address stays unconfirmed.',
      '',
      '-- ',
      'You get this because the email address was given to GAS; it is sent only when asked for, at most every few minutes.',
      '',
    ].join('\n'),
  );
  t.match(mail.html, `href="${link}"`);
  t.match(mail.html, '>Confirm my address</a>');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.email_confirmation_requested.0f1e2d3c4b5a@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.email_confirmation_requested.0f1e2d3c4b5a' });
});

t.test(
  'a deleted account: what went and when, whom to tell if it was not the owner, no link, no name, not tied to the preference',
  async (t) => {
    const mail = composeAccountDeletedEmail({
      eventId: 'alice.deleted',
      to: 'alice@example.org',
      occurredAt: new Date('2026-12-07T06:40:31Z'),
      publicUrl: 'https://gas.example.org/',
    });
    t.equal(mail.to, 'alice@example.org');
    t.equal(mail.subject, 'GAS: Your account was deleted');
    t.equal(
      mail.text,
      [
        'Hello,',
        '',
        'On 2026-12-07 06:40 UTC the GAS account with this email address was deleted, as its owner asked.',
        '',
        'Deleted with it: all its jobs, with the files uploaded for them and their annotated results, and all its notices. ' +
          'This cannot be undone.',
        '',
        'If you deleted it: you need do nothing. GAS sends no more email about this account.',
        '',
        'If you did not: someone else may have been able to sign in to it. Tell the people who run this GAS site ' +
          '(https://gas.example.org), and say when it happened.',
        '',
        '-- ',
        'You get this security notice whatever your email preference was, as it concerns your account.',
        '',
      ].join('\n'),
    );
    t.match(mail.html, /On 2026-12-07 06:40 UTC the GAS account with this email address was deleted/);
    t.match(mail.html, /Tell the people who run this GAS site \(https:\/\/gas\.example\.org\)/);
    t.notMatch(mail.html, /<a\s|href=/, 'no link: there is no account to sign in to');
    t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
    t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
    t.equal(mail.messageId, '<alice.deleted@gas.example.org>');
    t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.deleted' });
  },
);

t.test('a deleted account, deleted by an administrator: the mail says who, and whom to tell if the owner asked for nothing', async (t) => {
  const mail = composeAccountDeletedEmail({
    eventId: 'alice.deleted',
    to: 'alice@example.org',
    occurredAt: new Date('2026-12-07T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
    byAdmin: true,
  });
  t.equal(mail.subject, 'GAS: Your account was deleted');
  const lines = mail.text.split('\n');
  t.ok(
    lines.includes(
      "On 2026-12-07 06:40 UTC an administrator of this GAS site deleted the GAS account with this email address, as asked on its owner's behalf.",
    ),
    mail.text,
  );
  t.ok(lines.includes('If you asked for it: you need do nothing. GAS sends no more email about this account.'));
  t.ok(
    lines.includes(
      'If you did not ask for it: tell the people who run this GAS site (https://gas.example.org) at once, and say when it happened.',
    ),
  );
  t.notMatch(mail.text, /as its owner asked|someone else may have been able to sign in/, 'not the words for an owner’s own deletion');
  t.match(mail.html, /an administrator of this GAS site deleted the GAS account/);
  t.notMatch(mail.html, /<a\s|href=/, 'no link: there is no account to sign in to');
});

t.test('a password reset: the link with its token, for how long and until when, nothing changes if not asked, no name', async (t) => {
  const token = 'alice.Zm9vYmFyYmF6-_0123456789abcdefABCDEF';
  const mail = composePasswordResetEmail({
    eventId: 'alice.password_reset_requested.r1',
    to: 'alice@example.org',
    token,
    requestedAt: new Date('2026-12-07T06:40:31.250Z'),
    expiresAt: new Date('2026-12-07T07:40:31Z'),
    publicUrl: 'https://gas.example.org/',
  });
  const link = `https://gas.example.org/password/reset?token=${token}`;
  t.equal(mail.to, 'alice@example.org');
  t.equal(mail.subject, 'GAS: Reset your password');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'Someone, hopefully you, asked to set a new password for the GAS account with this email address.',
      '',
      'To choose a new password, open this link. It works once, for one hour, until 2026-12-07 07:40 UTC:',
      link,
      '',
      'If you did not ask for it: you need do nothing. Your password stays as it is.',
      '',
      '-- ',
      'You get this security email whatever your email preference, as it concerns your account; it is sent only when asked for.',
      '',
    ].join('\n'),
  );
  t.match(mail.html, `href="${link}"`);
  t.match(mail.html, '>Choose a new password</a>');
  t.match(mail.html, 'It works once, for one hour, until 2026-12-07 07:40 UTC.');
  t.match(mail.html, 'If you did not ask for it: you need do nothing. Your password stays as it is.');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.password_reset_requested.r1@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.password_reset_requested.r1' });

  const other = (minutes: number) =>
    composePasswordResetEmail({
      eventId: 'e',
      to: 'a@b.c',
      token: 't',
      requestedAt: new Date('2026-12-07T06:00:00Z'),
      expiresAt: new Date(Date.parse('2026-12-07T06:00:00Z') + minutes * 60_000),
      publicUrl: 'http://x.org',
    }).text;
  t.match(other(30), 'It works once, for 30 minutes, until 2026-12-07 06:30 UTC:', 'the lifetime is the one the link has');
  t.match(other(120), 'for 2 hours, until');
  t.match(other(-5), 'It works once, until 2026-12-07 05:55 UTC:', 'no lifetime when it cannot be said');
});

t.test('the reset link escapes what the token holds', async (t) => {
  t.equal(passwordResetLink('http://127.0.0.1:8080//', 'a+b/c=&d e'), 'http://127.0.0.1:8080/password/reset?token=a%2Bb%2Fc%3D%26d%20e');
});

t.test('a password change: when and how, what to do if it was not you, no name, not tied to the preference', async (t) => {
  const compose = (throughResetLink: boolean) =>
    composePasswordChangedEmail({
      eventId: `alice.password_changed.${throughResetLink ? 'link' : 'profile'}`,
      to: 'alice@example.org',
      occurredAt: new Date('2026-12-07T06:40:31Z'),
      throughResetLink,
      publicUrl: 'https://gas.example.org/',
    });
  const mail = compose(true);
  t.equal(mail.to, 'alice@example.org');
  t.equal(mail.subject, 'GAS: Your password was changed');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'The password of the GAS account with this email address was changed on 2026-12-07 06:40 UTC, through a link mailed to ' +
        'this address.',
      '',
      'If it was you: you need do nothing.',
      '',
      'If it was not you: set a new password at once, and check your jobs and API tokens. Set a new password here: ' +
        'https://gas.example.org/password/forgot',
      '',
      '-- ',
      'You get this security notice whatever your email preference, as it concerns your account.',
      '',
    ].join('\n'),
  );
  t.match(compose(false).text, "was changed on 2026-12-07 06:40 UTC, on the account's profile page.\n");
  t.match(compose(false).html, 'was changed on 2026-12-07 06:40 UTC, on the account&#39;s profile page.');
  t.match(mail.html, 'href="https://gas.example.org/password/forgot"');
  t.match(mail.html, '>Set a new password</a>');
  t.match(mail.html, 'If it was not you: set a new password at once, and check your jobs and API tokens.');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.password_changed.link@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.password_changed.link' });
});

t.test('an address change link: to the new address, the link with its token, for how long, nothing changes if not asked', async (t) => {
  const token = 'alice.Zm9vYmFyYmF6-_0123456789abcdefABCDEF';
  const mail = composeEmailChangeEmail({
    eventId: 'alice.email_change_requested.r1',
    to: 'alice@new.example.net',
    token,
    requestedAt: new Date('2026-12-07T06:40:31Z'),
    expiresAt: new Date('2026-12-08T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
  });
  const link = `https://gas.example.org/change-email?token=${token}`;
  t.equal(mail.to, 'alice@new.example.net', 'to the new address');
  t.equal(mail.subject, 'GAS: Confirm your new email address');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'Someone, hopefully you, asked to change the email address of their GAS account to this one.',
      '',
      'To confirm the change, open this link and sign in to that account if GAS asks you to. It works once, for 24 hours, ' +
        'until 2026-12-08 06:40 UTC:',
      link,
      '',
      'If you did not ask for it: ignore this email. Without the link no account is changed to this address.',
      '',
      '-- ',
      'You get this because this address was given to GAS as the new address of an account; it is sent only when asked for.',
      '',
    ].join('\n'),
  );
  t.equal(mail.text.split(token).length, 2, 'the token once, in the link');
  t.match(mail.html, `href="${link}"`);
  t.match(mail.html, '>Confirm my new address</a>');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.email_change_requested.r1@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.email_change_requested.r1' });
  t.equal(emailChangeLink('http://127.0.0.1:8080//', 'a+b/c=&d e'), 'http://127.0.0.1:8080/change-email?token=a%2Bb%2Fc%3D%26d%20e');
});

t.test('an address changed: to the old address, the new one and when, whom to tell if it was not you, no link, no name', async (t) => {
  const mail = composeEmailChangedEmail({
    eventId: 'alice.email_changed.r1',
    to: 'alice@example.org',
    newEmail: 'a<b>&c@new.example.net',
    occurredAt: new Date('2026-12-07T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
  });
  t.equal(mail.to, 'alice@example.org', 'to the address the account had');
  t.equal(mail.subject, 'GAS: The address of your account was changed');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'The email address of the GAS account that had this address was changed on 2026-12-07 06:40 UTC, to a<b>&c@new.example.net.',
      '',
      'From now on GAS sends its emails about the account to that address, and the account signs in with it.',
      '',
      'If it was you: you need do nothing.',
      '',
      'If it was not you: someone else may have been able to sign in to your account. Tell the people who run this GAS site ' +
        '(https://gas.example.org) at once, and say when it happened.',
      '',
      '-- ',
      'You get this security notice whatever your email preference, as it concerns your account.',
      '',
    ].join('\n'),
  );
  t.match(mail.html, 'to a&#60;b&#62;&#38;c@new.example.net.', 'the new address, escaped');
  t.notMatch(mail.html, '<b>');
  t.notMatch(mail.html, /<a\s/, 'nothing to click');
  t.notMatch(mail.text + mail.html, /token|change-email|undo-email-change|password\/forgot/, 'no link of any kind');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.equal(mail.messageId, '<alice.email_changed.r1@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.email_changed.r1' });
});

t.test('an address changed, with the undo link: how to take the account back, until when, what it does, and whom to tell', async (t) => {
  const token = 'alice.Zm9v+YmFy/YmF6=&x y';
  const mail = composeEmailChangedEmail({
    eventId: 'alice.email_changed.r2',
    to: 'alice@example.org',
    newEmail: 'a<b>&c@new.example.net',
    occurredAt: new Date('2026-12-07T06:40:31Z'),
    publicUrl: 'https://gas.example.org/',
    undo: { token, expiresAt: new Date('2026-12-14T06:40:31Z') },
  });
  const link = 'https://gas.example.org/undo-email-change?token=alice.Zm9v%2BYmFy%2FYmF6%3D%26x%20y';
  t.equal(mail.to, 'alice@example.org');
  t.equal(mail.subject, 'GAS: The address of your account was changed');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'The email address of the GAS account that had this address was changed on 2026-12-07 06:40 UTC, to a<b>&c@new.example.net.',
      '',
      'From now on GAS sends its emails about the account to that address, and the account signs in with it.',
      '',
      'If it was you: you need do nothing.',
      '',
      'If it was not you: someone else may have been able to sign in to your account. To take it back, open this link. ' +
        'It works once, for 7 days, until 2026-12-14 06:40 UTC:',
      link,
      '',
      'It moves the account back to this address, signs out every browser signed in to it, revokes its API tokens and makes its ' +
        'password stop working; GAS then emails this address a link to set a new one.',
      '',
      'Then tell the people who run this GAS site (https://gas.example.org) at once, and say when it happened.',
      '',
      '-- ',
      'You get this security notice whatever your email preference, as it concerns your account.',
      '',
    ].join('\n'),
  );
  t.equal(mail.text.split('alice.Zm9v').length, 2, 'the token once, in the link, URL-encoded');
  t.notOk(mail.text.includes(token), 'never raw');
  t.equal(
    undoEmailChangeLink('http://127.0.0.1:8080//', 'a+b/c=&d e'),
    'http://127.0.0.1:8080/undo-email-change?token=a%2Bb%2Fc%3D%26d%20e',
  );

  const a = mail.html.indexOf(`href="${link.replace(/&/g, '&#38;')}"`);
  t.ok(a > 0, 'the link is the button in the HTML');
  t.match(mail.html, '>Take my account back</a>');
  t.ok(mail.html.indexOf('It works once, for 7 days, until 2026-12-14 06:40 UTC.') < a, 'when it works, before the button');
  t.ok(mail.html.indexOf('makes its password stop working') < a, 'and what it does');
  t.ok(mail.html.indexOf('Then tell the people who run this GAS site (https://gas.example.org) at once') > a, 'whom to tell, after it');
  t.match(mail.html, 'to a&#60;b&#62;&#38;c@new.example.net.', 'the new address, escaped');
  t.notMatch(mail.html, '<b>');
  t.equal(mail.html.match(/<a\s/g)?.length, 1, 'one link');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.notMatch(mail.text + mail.html, /profile#notifications|Change it/, 'no preference link: the preference does not turn it off');
  t.equal(mail.messageId, '<alice.email_changed.r2@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.email_changed.r2' });

  // How long it lasts is counted from the change, in the words the other links use.
  const odd = composeEmailChangedEmail({
    eventId: 'alice.email_changed.r3',
    to: 'alice@example.org',
    newEmail: 'alice@new.example.net',
    occurredAt: new Date('2026-12-07T06:40:31Z'),
    publicUrl: 'https://gas.example.org',
    undo: { token: 't', expiresAt: new Date('2026-12-08T06:40:31Z') },
  });
  t.match(odd.text, 'It works once, for 24 hours, until 2026-12-08 06:40 UTC:\nhttps://gas.example.org/undo-email-change?token=t\n');
});

t.test('an address changed back (an undo): to the address the account left, where it went and when, no link, no name', async (t) => {
  const mail = composeEmailChangeUndoneEmail({
    eventId: 'alice.email_changed.undo',
    to: 'taker@example.net',
    email: 'a<b>&c@example.org',
    occurredAt: new Date('2026-12-08T09:05:59Z'),
    publicUrl: 'https://gas.example.org/',
  });
  t.equal(mail.to, 'taker@example.net', 'to the address the account left');
  t.equal(mail.subject, 'GAS: The address of your account was changed back');
  t.equal(
    mail.text,
    [
      'Hello,',
      '',
      'The address of your GAS account was changed back to a<b>&c@example.org on 2026-12-08 09:05 UTC, ' +
        'through the link mailed to that address when it was changed from it.',
      '',
      'GAS no longer emails this address about the account.',
      '',
      'If you did not expect this: tell the people who run this GAS site (https://gas.example.org), and say when it happened.',
      '',
      '-- ',
      'You get this security notice whatever your email preference, as it concerns your account.',
      '',
    ].join('\n'),
  );
  t.match(mail.html, 'changed back to a&#60;b&#62;&#38;c@example.org on 2026-12-08 09:05 UTC', 'the address, escaped');
  t.notMatch(mail.html, '<b>');
  t.notMatch(mail.html, /<a\s/, 'nothing to click');
  t.notMatch(mail.text + mail.html, /token|undo-email-change|password\/forgot/, 'no link of any kind');
  t.notMatch(mail.html, /<(img|link|script|iframe)\b|\ssrc="|url\(|@import/, 'nothing remote');
  t.equal(mail.messageId, '<alice.email_changed.undo@gas.example.org>');
  t.strictSame(mail.headers, { 'Auto-Submitted': 'auto-generated', 'X-GAS-Event-Id': 'alice.email_changed.undo' });
});

t.test('Message-IDs hold only what they may', async (t) => {
  t.equal(messageIdFor('alice.upgraded.17', 'http://127.0.0.1:8080'), '<alice.upgraded.17@127.0.0.1>');
  t.equal(messageIdFor('a b<c>@d', 'https://x.org'), '<a-b-c--d@x.org>');
});

t.test('SMTP failures: 5xx and unusable addresses are permanent, the rest transient; addresses masked', async (t) => {
  t.equal(maskAddress('alice@example.org'), 'a***@example.org');
  t.equal(maskAddress('nonsense'), '***');
  const refused = classifySmtpFailure(
    Object.assign(new Error('x'), { responseCode: 550, response: '550 5.1.1 <carol@example.org>: user unknown' }),
  );
  t.equal(refused.permanent, true);
  t.equal(refused.detail, 'the mail server refused it: 550 5.1.1 c***@example.org: user unknown');
  t.equal(classifySmtpFailure(Object.assign(new Error('x'), { responseCode: 451, response: '451 4.3.0 later' })).permanent, false);
  t.equal(classifySmtpFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })).permanent, false);
  t.equal(
    classifySmtpFailure(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 })).permanent,
    false,
    'a refused login is ours to fix: retried, not blamed on the recipient',
  );
  t.equal(classifySmtpFailure(Object.assign(new Error('No recipients defined'), { code: 'EENVELOPE' })).permanent, true);
  t.equal(classifySmtpFailure(new Error('something else')).permanent, false, 'unknown: tried again');
});
