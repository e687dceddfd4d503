// The admin page: fetches the page again every few seconds and swaps in the fresh figures
// (#admin-state), so the markup is made in one place, on the server. Paused while the tab is
// hidden; the server caches the figures for a couple of seconds whatever the tabs do. When the page
// stops answering (signed out, no longer an admin) the figures stay as they were, marked stale.
'use strict';
(function () {
  const EVERY_MS = 5000;
  let timer = null;
  let stopped = false;

  function refresh() {
    timer = null;
    fetch(location.pathname, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then((res) => {
        if (!res.ok) {
          if (res.status === 404 || res.status === 401) stopped = true;
          throw new Error(String(res.status));
        }
        return res.text();
      })
      .then((text) => {
        const fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('admin-state');
        const current = document.getElementById('admin-state');
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      })
      .catch(() => {
        const current = document.getElementById('admin-state');
        if (current) current.classList.add('stale');
      })
      .finally(schedule);
  }

  function schedule() {
    if (stopped || timer !== null || document.hidden) return;
    timer = setTimeout(refresh, EVERY_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!stopped && timer === null) refresh();
  });
  schedule();
})();
