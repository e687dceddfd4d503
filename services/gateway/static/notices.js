// The notices page: opening it marks what it shows as read (up to the newest notice listed, so one
// that arrives after the page was made stays unread), with the session's CSRF token. The "New"
// marks stay for this visit; the header's badge (here and, through the live stream, in other tabs)
// takes the new count. Without this script the "Mark all read" button posts the same form.
'use strict';
(function () {
  const form = document.querySelector('form.mark-read');
  if (!form) return;
  const csrf = document.querySelector('meta[name=csrf-token]').content;
  fetch(form.action, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-CSRF-Token': csrf, Accept: 'application/json' },
    body: new URLSearchParams({ up_to: form.elements.up_to.value }),
  })
    .then((res) => (res.ok ? res.json() : null))
    .then((answer) => {
      if (!answer) return;
      if (window.gasSetUnread) window.gasSetUnread(answer.unread);
      form.hidden = true;
    })
    .catch(() => {
      // The button stays for another try.
    });
})();
