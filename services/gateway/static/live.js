// Shared by the jobs and job pages: listens to /jobs/events and calls back with each job update.
// The server renders the markup (escaping user data); this only swaps it in.
'use strict';
window.gasLive = function gasLive(onJob) {
  if (!('EventSource' in window)) return;
  const source = new EventSource('/jobs/events');
  source.addEventListener('job', (e) => {
    try {
      onJob(JSON.parse(e.data));
    } catch (err) {
      console.warn('bad job event', err);
    }
  });
  const note = document.querySelector('.live-note');
  if (note) note.hidden = false;
  window.addEventListener('pagehide', () => source.close());
};

// Times are written in UTC by the server; show them in the reader's zone.
window.gasLocalTimes = function gasLocalTimes(root) {
  root.querySelectorAll('time[datetime]').forEach((t) => {
    const d = new Date(t.getAttribute('datetime'));
    if (!Number.isNaN(d.getTime())) t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  });
};
window.gasLocalTimes(document);
