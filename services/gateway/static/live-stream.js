// One /jobs/events stream, for whoever holds it: the shared worker (live-worker.js), the leader
// tab when there is no SharedWorker, or a lone page. Loaded by pages and by the worker
// (importScripts), so it uses nothing of `window`.
'use strict';
/**
 * Opens the stream for `account` (the page's gas-live key). Job events are passed on only after
 * the stream's `hello` names the same account: the stream rides on whatever session cookie the
 * browser holds when it (re)connects, which after a sign-out and a sign-in in another tab is
 * another account's. Then, and on the server's `signed-out` or a refused reconnect, it ends.
 * Handlers: onLive(), onJob(job), onEnded(reason), and optionally onJobDeleted(id) (the user deleted
 * the job), onNotice(notice) (a new in-app notice: {id, title, text, link, unread}) and
 * onUnread(count) (only the unread count moved).
 */
self.gasOpenStream = function gasOpenStream(account, handlers) {
  const source = new EventSource('/jobs/events');
  let verified = false;
  let closed = false;
  const end = (reason) => {
    if (closed) return;
    closed = true;
    source.close();
    handlers.onEnded(reason);
  };
  source.addEventListener('hello', (e) => {
    let who = null;
    try {
      who = JSON.parse(e.data).account;
    } catch {
      // Treated as a stream of nobody's: ended below.
    }
    if (who !== account) return end('account');
    verified = true;
    handlers.onLive();
  });
  source.addEventListener('job', (e) => {
    if (!verified) return;
    let job;
    try {
      job = JSON.parse(e.data);
    } catch (err) {
      console.warn('bad job event', err);
      return;
    }
    handlers.onJob(job);
  });
  const data = (e, what) => {
    if (!verified) return null;
    try {
      return JSON.parse(e.data);
    } catch (err) {
      console.warn('bad ' + what + ' event', err);
      return null;
    }
  };
  source.addEventListener('job-deleted', (e) => {
    const job = data(e, 'job-deleted');
    if (job && typeof job.id === 'string' && handlers.onJobDeleted) handlers.onJobDeleted(job.id);
  });
  source.addEventListener('notice', (e) => {
    const notice = data(e, 'notice');
    if (notice && handlers.onNotice) handlers.onNotice(notice);
  });
  source.addEventListener('unread', (e) => {
    const count = data(e, 'unread');
    if (count && typeof count.unread === 'number' && handlers.onUnread) handlers.onUnread(count.unread);
  });
  source.addEventListener('signed-out', () => end('signed-out'));
  source.addEventListener('error', () => {
    // A reconnect must say again whose stream it is before its events count.
    verified = false;
    // CLOSED: the reconnect was refused (401 after a sign-out, or not an event stream).
    if (source.readyState === EventSource.CLOSED) end('closed');
  });
  return {
    close() {
      closed = true;
      source.close();
    },
  };
};
