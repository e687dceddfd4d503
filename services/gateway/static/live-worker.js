// The live-updates SharedWorker: one /jobs/events stream for every tab of one account in this
// browser (browsers allow six HTTP/1.1 connections per host, so a stream per tab starved the
// seventh). Pages name the worker after their account (`gas-live:<key>`), so tabs of different
// accounts never share one; each tab's port says `hello` with its account and `bye` when it goes.
'use strict';
self.importScripts('/static/live-stream.js');

const ports = new Set();
let account = null;
let stream = null;
let live = false;

function broadcast(message) {
  for (const port of ports) port.postMessage(message);
}

function ensureStream() {
  if (stream) return;
  live = false;
  stream = self.gasOpenStream(account, {
    onLive() {
      live = true;
      broadcast({ type: 'live', account });
    },
    onJob(job) {
      broadcast({ type: 'job', account, job });
    },
    onJobDeleted(id) {
      broadcast({ type: 'job-deleted', account, id });
    },
    onNotice(notice) {
      broadcast({ type: 'notice', account, notice });
    },
    onUnread(unread) {
      broadcast({ type: 'unread', account, unread });
    },
    onEnded(reason) {
      stream = null;
      live = false;
      broadcast({ type: 'ended', account, reason });
    },
  });
}

self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  port.addEventListener('message', (e) => {
    const msg = e.data || {};
    if (msg.type === 'hello') {
      account = account || msg.account;
      if (msg.account !== account) {
        port.postMessage({ type: 'ended', account: msg.account, reason: 'account' });
        return;
      }
      ports.add(port);
      // A new page after a sign-out and sign-in as the same account starts the stream again.
      ensureStream();
      if (live) port.postMessage({ type: 'live', account });
    } else if (msg.type === 'bye') {
      ports.delete(port);
      if (ports.size === 0 && stream) {
        stream.close();
        stream = null;
        live = false;
      }
    }
  });
  port.start();
});
