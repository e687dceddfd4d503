// Live updates on every signed-in page: job events (a job changed, a job was deleted) for the pages
// that list jobs (jobs.js and job.js subscribe with window.gasLive), and the user's in-app notices
// for all of them (a toast and the header's unread badge). The server renders job markup (escaping
// user data); the pages only swap it in. Notices are plain text, put in with textContent.
//
// One /jobs/events stream serves every tab of the browser (six HTTP/1.1 connections per host is
// all a browser opens, so a stream per tab kept the seventh tab from loading): a SharedWorker
// holds it where there is one; else one tab, elected with the Web Locks API, holds it and passes
// events on through a BroadcastChannel; else (old browsers) each page opens its own. Workers,
// locks and channels are named after the page's account (meta gas-live), and the stream itself
// says whose it is, so a page never shows another account's jobs after a sign-out and sign-in in
// another tab.
'use strict';
(function () {
  const TOAST_MS = 8000;
  const MAX_TOASTS = 3;
  const jobListeners = [];
  const deletedListeners = [];
  // Jobs deleted while this page is open: a notice about one (its stream and the job's can cross)
  // must not offer a link to a page that is gone.
  const deletedJobs = new Set();

  // Page scripts subscribe as they load; the stream starts once all of them have (DOMContentLoaded
  // comes after every deferred script). onJobDeleted(id), optional: the user deleted that job.
  window.gasLive = function gasLive(onJob, onJobDeleted) {
    jobListeners.push(onJob);
    if (onJobDeleted) deletedListeners.push(onJobDeleted);
  };

  /** The header's badge: the count, hidden at 0. */
  window.gasSetUnread = function gasSetUnread(n) {
    if (typeof n !== 'number' || !(n >= 0)) return;
    document.querySelectorAll('.badge.unread').forEach((badge) => {
      badge.textContent = String(n);
      badge.hidden = n === 0;
    });
  };

  function toast(notice) {
    const region = document.querySelector('.toasts');
    if (!region || typeof notice.title !== 'string') return;
    const box = document.createElement('div');
    box.className = 'toast';
    const title = document.createElement('strong');
    title.className = 'toast-title';
    title.textContent = notice.title;
    const text = document.createElement('p');
    text.textContent = typeof notice.text === 'string' ? notice.text : '';
    const link = document.createElement('a');
    const toJob = typeof notice.link === 'string' && /^\/jobs\/[0-9A-Z]{26}$/.test(notice.link);
    if (toJob && deletedJobs.has(notice.link.slice('/jobs/'.length))) return;
    if (toJob) box.dataset.job = notice.link.slice('/jobs/'.length);
    link.href = toJob ? notice.link : '/notices';
    link.textContent = toJob ? 'Open the job' : 'See your notices';
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'toast-close';
    close.setAttribute('aria-label', 'Dismiss');
    close.textContent = '×';
    box.append(title, text, link, close);
    region.append(box);
    while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
    let timer = null;
    const remove = () => {
      clearTimeout(timer);
      box.remove();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(remove, TOAST_MS);
    };
    close.addEventListener('click', remove);
    // Kept while the reader points at it or has moved focus into it.
    box.addEventListener('mouseenter', () => clearTimeout(timer));
    box.addEventListener('mouseleave', arm);
    box.addEventListener('focusin', () => clearTimeout(timer));
    box.addEventListener('focusout', arm);
    arm();
  }

  const meta = document.querySelector('meta[name="gas-live"]');
  if (!meta || !('EventSource' in window) || typeof window.gasOpenStream !== 'function') return;
  const account = meta.content;
  const name = 'gas-live:' + account;
  let stopped = false;
  const say = (text) => {
    const note = document.querySelector('.live-note');
    if (!note) return;
    note.textContent = text;
    note.hidden = false;
  };
  const handle = (msg) => {
    if (!msg || msg.account !== account) return;
    if (msg.type === 'job') {
      if (!stopped) for (const onJob of jobListeners) onJob(msg.job);
    } else if (msg.type === 'job-deleted') {
      if (stopped || typeof msg.id !== 'string' || !/^[0-9A-Z]{26}$/.test(msg.id)) return;
      deletedJobs.add(msg.id);
      document.querySelectorAll('.toast[data-job="' + msg.id + '"]').forEach((box) => box.remove());
      for (const onJobDeleted of deletedListeners) onJobDeleted(msg.id);
    } else if (msg.type === 'notice') {
      if (stopped || !msg.notice) return;
      window.gasSetUnread(msg.notice.unread);
      toast(msg.notice);
    } else if (msg.type === 'unread') {
      if (!stopped) window.gasSetUnread(msg.unread);
    } else if (msg.type === 'live') {
      stopped = false;
      say('Statuses update live.');
    } else if (msg.type === 'ended') {
      stopped = true;
      say('Live updates stopped (signed out, or signed in as someone else). Reload the page to see the latest statuses.');
    }
  };
  const relay = (post) => ({
    onLive: () => post({ type: 'live', account }),
    onJob: (job) => post({ type: 'job', account, job }),
    onJobDeleted: (id) => post({ type: 'job-deleted', account, id }),
    onNotice: (notice) => post({ type: 'notice', account, notice }),
    onUnread: (unread) => post({ type: 'unread', account, unread }),
    onEnded: (reason) => post({ type: 'ended', account, reason }),
  });
  // A page restored from the back/forward cache has let go of its stream: start over.
  window.addEventListener('pageshow', (e) => {
    if (e.persisted) location.reload();
  });

  function direct() {
    window.gasLiveTransport = 'direct';
    const stream = window.gasOpenStream(account, relay(handle));
    window.addEventListener('pagehide', () => stream.close());
  }

  function viaLeader() {
    window.gasLiveTransport = 'leader';
    const channel = new BroadcastChannel(name);
    let leading = null;
    channel.addEventListener('message', (e) => {
      if (e.data && e.data.type === 'ask') {
        if (leading && leading.live) channel.postMessage({ type: 'live', account });
      } else handle(e.data);
    });
    // A channel does not deliver to its sender: the leader handles its own events too.
    const share = (msg) => {
      channel.postMessage(msg);
      handle(msg);
    };
    navigator.locks.request(name, () => {
      return new Promise((release) => {
        const lead = { live: false, stream: null };
        leading = lead;
        lead.stream = window.gasOpenStream(account, {
          ...relay(share),
          onLive() {
            lead.live = true;
            share({ type: 'live', account });
          },
          onEnded(reason) {
            share({ type: 'ended', account, reason });
            // The next tab in line tries once (after a sign-out it is refused too, and so on).
            leading = null;
            release();
          },
        });
        window.addEventListener('pagehide', () => {
          lead.stream.close();
          leading = null;
          release();
        });
      });
    });
    channel.postMessage({ type: 'ask' });
  }

  function viaWorker() {
    let worker;
    try {
      worker = new SharedWorker('/static/live-worker.js', { name });
    } catch {
      return false;
    }
    window.gasLiveTransport = 'shared-worker';
    const port = worker.port;
    let heard = false;
    // The worker's script did not load (a proxy, a policy): share through a leader tab instead.
    worker.addEventListener('error', () => {
      if (heard) return;
      port.close();
      if (typeof BroadcastChannel === 'function' && navigator.locks) viaLeader();
      else direct();
    });
    port.addEventListener('message', (e) => {
      heard = true;
      handle(e.data);
    });
    port.start();
    port.postMessage({ type: 'hello', account });
    window.addEventListener('pagehide', () => port.postMessage({ type: 'bye' }));
    return true;
  }

  function start() {
    if (typeof SharedWorker === 'function' && viaWorker()) return;
    if (typeof BroadcastChannel === 'function' && navigator.locks) return viaLeader();
    direct();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
})();

// Times are written in UTC by the server; show them in the reader's zone.
window.gasLocalTimes = function gasLocalTimes(root) {
  root.querySelectorAll('time[datetime]').forEach((t) => {
    const d = new Date(t.getAttribute('datetime'));
    if (!Number.isNaN(d.getTime())) t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  });
};
window.gasLocalTimes(document);
