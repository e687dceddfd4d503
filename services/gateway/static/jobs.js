'use strict';
(function () {
  const table = document.querySelector('table.jobs');
  if (!table) return;
  const filter = table.dataset.liveStatus;
  const template = document.createElement('template');
  // A late event about a deleted job must not bring its row back.
  const deleted = new Set();
  const rowOf = (id) => table.querySelector(`tr[data-job="${CSS.escape(id)}"]`);
  const removeRow = (row) => {
    row.remove();
    if (table.tBodies[0].rows.length > 0) return;
    table.closest('.table-wrap').hidden = true;
    // With older jobs on further pages the link to them stays, and "No jobs yet" would be wrong.
    const empty = document.querySelector('p.empty');
    if (empty && !document.querySelector('p.pager')) empty.hidden = false;
  };
  window.gasLive(
    (job) => {
      if (deleted.has(job.id)) return;
      template.innerHTML = job.row.trim();
      const row = template.content.firstElementChild;
      window.gasLocalTimes(row);
      const existing = rowOf(job.id);
      if (existing) {
        if (filter && job.status !== filter) removeRow(existing);
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
    },
    (id) => {
      deleted.add(id);
      const row = rowOf(id);
      if (row) removeRow(row);
    },
  );
})();
