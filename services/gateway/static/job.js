'use strict';
(function () {
  const card = document.querySelector('section.job[data-job]');
  if (!card) return;
  const id = card.dataset.job;
  const cell = card.querySelector('dd.status');
  let deleted = false;

  // Deleted in another tab or on another device: its files are gone, so the page stops offering
  // them (downloads, the preview's filter, the delete link) and says so. What it shows stays readable.
  function showDeleted() {
    deleted = true;
    card.dataset.status = 'DELETED';
    document.querySelectorAll('.downloads, .retention, .result-state, form#preview, section.delete-job').forEach((el) => el.remove());
    const note = document.createElement('div');
    note.className = 'callout error job-deleted';
    note.setAttribute('role', 'alert');
    const title = document.createElement('strong');
    title.textContent = 'This job was deleted.';
    const link = document.createElement('a');
    link.href = '/jobs';
    link.textContent = 'Back to your jobs';
    note.append(title, ' Its input and results are gone and can no longer be downloaded. ', link);
    card.prepend(note);
  }

  window.gasLive(
    (job) => {
      if (deleted || job.id !== id) return;
      if (job.status === 'COMPLETED' || job.status === 'FAILED') {
        // The finished page has downloads, summary and log: load it once, and again when the
        // annotated files move to or come back from cold storage.
        if (card.dataset.status !== job.status || (card.dataset.resultState || '') !== (job.resultState || '')) location.reload();
        return;
      }
      cell.innerHTML = job.statusHtml;
      window.gasLocalTimes(cell);
      card.dataset.status = job.status;
    },
    (deletedId) => {
      if (!deleted && deletedId === id) showDeleted();
    },
  );
})();
