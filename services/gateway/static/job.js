'use strict';
(function () {
  const card = document.querySelector('section.job[data-job]');
  if (!card) return;
  const id = card.dataset.job;
  const cell = card.querySelector('dd.status');
  window.gasLive((job) => {
    if (job.id !== id) return;
    if (job.status === 'COMPLETED' || job.status === 'FAILED') {
      // The finished page has downloads, summary and log: load it once, and again when the
      // annotated files move to or come back from cold storage.
      if (card.dataset.status !== job.status || (card.dataset.resultState || '') !== (job.resultState || '')) location.reload();
      return;
    }
    cell.innerHTML = job.statusHtml;
    window.gasLocalTimes(cell);
    card.dataset.status = job.status;
  });
})();
