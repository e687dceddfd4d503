// The upload form with a progress bar: posts the file to the JSON API with the session's CSRF
// token and goes to the new job's page. Without this script the form posts to /upload itself.
'use strict';
(function () {
  const form = document.querySelector('form.upload');
  if (!form) return;
  const input = form.querySelector('input[type=file]');
  const drop = form.querySelector('.drop');
  const chosen = form.querySelector('.chosen');
  const bar = form.querySelector('.upload-progress');
  const error = form.querySelector('.upload-error');
  const button = form.querySelector('button[type=submit]');
  const limit = Number(form.dataset.limit);
  const csrf = document.querySelector('meta[name=csrf-token]').content;

  // As the server writes sizes (formatBytes), so the two messages agree.
  const size = (n) =>
    n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MB` : `${(n / 1073741824).toFixed(1)} GB`;
  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  const describe = () => {
    const f = input.files[0];
    chosen.textContent = f ? `${f.name} (${size(f.size)})` : '';
    showError(f && f.size > limit ? `This file is ${size(f.size)}; your plan accepts up to ${size(limit)}. Upgrade to premium for larger files.` : '');
  };
  input.addEventListener('change', describe);
  ['dragenter', 'dragover'].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); }));
  ['dragleave', 'drop'].forEach((t) => drop.addEventListener(t, () => drop.classList.remove('over')));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length > 0) {
      input.files = e.dataTransfer.files;
      describe();
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const file = input.files[0];
    if (!file) return showError('Choose a VCF file first.');
    const data = new FormData();
    // The build goes before the file: the server reads fields in order and checks them first.
    data.append('genome_build', form.querySelector('input[name=genome_build]:checked').value);
    data.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/jobs');
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (p) => {
      if (p.lengthComputable) bar.value = Math.round((100 * p.loaded) / p.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 201 || xhr.status === 200) {
        location.assign(`/jobs/${xhr.response.id}`);
        return;
      }
      bar.hidden = true;
      button.disabled = false;
      const detail = xhr.response && xhr.response.detail ? xhr.response.detail : `the upload failed (HTTP ${xhr.status})`;
      showError(`${detail.charAt(0).toUpperCase()}${detail.slice(1)}.`);
      if (xhr.status === 413 && /upgrade/.test(detail)) {
        const a = document.createElement('a');
        a.href = '/subscribe';
        a.textContent = 'See the plans';
        error.append(' ', a);
      }
    });
    xhr.addEventListener('error', () => {
      bar.hidden = true;
      button.disabled = false;
      showError('The upload did not reach the server. Check the connection and try again.');
    });
    showError('');
    bar.value = 0;
    bar.hidden = false;
    button.disabled = true;
    xhr.send(data);
  });
})();
