'use strict';
(function () {
  const table = document.querySelector('table.jobs');
  if (!table) return;
  const filter = table.dataset.liveStatus;
  const template = document.createElement('template');
  window.gasLive((job) => {
    template.innerHTML = job.row.trim();
    const row = template.content.firstElementChild;
    window.gasLocalTimes(row);
    const existing = document.querySelector(`tr[data-job="${CSS.escape(job.id)}"]`);
    if (existing) {
      if (filter && job.status !== filter) existing.remove();
      else existing.replaceWith(row);
      return;
    }
    // A job this page does not list yet (submitted elsewhere): show it on the first page.
    if (filter && job.status !== filter) return;
    if (new URLSearchParams(location.search).has('page')) return;
    table.tBodies[0].prepend(row);
    table.closest('.table-wrap').hidden = false;
    const empty = document.querySelector('p.empty');
    if (empty) empty.hidden = true;
  });
})();
