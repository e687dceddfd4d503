// The upload form with a progress bar. With an S3 store the file goes straight to the bucket on a
// ticket from the gateway (one presigned POST, or presigned parts for big files) and the ticket is
// then redeemed for the job; otherwise it is posted to the JSON API. Both carry the session's CSRF
// token. Without this script the form posts to /upload itself.
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
    n < 1024
      ? `${n} B`
      : n < 1048576
        ? `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`
        : n < 1073741824
          ? `${(n / 1048576).toFixed(1)} MB`
          : `${(n / 1073741824).toFixed(1)} GB`;
  const showError = (text, upgrade) => {
    error.textContent = text;
    error.hidden = !text;
    if (upgrade) {
      const a = document.createElement('a');
      a.href = '/subscribe';
      a.textContent = 'See the plans';
      error.append(' ', a);
    }
  };
  const describe = () => {
    const f = input.files[0];
    chosen.textContent = f ? `${f.name} (${size(f.size)})` : '';
    showError(
      f && f.size > limit
        ? `This file is ${size(f.size)}; your plan accepts up to ${size(limit)}. Upgrade to premium for larger files.`
        : '',
    );
  };
  // The genome build the file's header points to: the start of the file goes to the gateway, which
  // runs the same detection as its check of the upload, and the build it names is chosen for the
  // user, saying why.
  const hintLine = form.querySelector('.build-hint');
  async function headerBuild(file) {
    const res = await fetch('/upload/build-hint', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': csrf },
      body: file.slice(0, 64 * 1024),
    });
    if (!res.ok) throw new Error(`build hint: HTTP ${res.status}`);
    const found = await res.json();
    return found.build ? found : null;
  }
  async function suggestBuild() {
    const f = input.files[0];
    hintLine.hidden = true;
    if (!f) return;
    let found;
    try {
      found = await headerBuild(f);
    } catch {
      return; // An unreadable file: the server says what is wrong with it.
    }
    if (input.files[0] !== f) return; // another file was chosen meanwhile
    const radio = found && form.querySelector(`input[name=genome_build][value="${found.build}"]`);
    if (radio) {
      radio.checked = true;
      hintLine.textContent = `The file's header says ${found.build} (${found.basis}), so ${found.build} is selected.`;
    } else if (found) {
      hintLine.textContent = `The file's header says ${found.build === 'NCBI36' ? 'NCBI36/hg18' : found.build} (${found.basis}); GAS has no reference for it, so annotations will not match.`;
    } else {
      hintLine.textContent = "The file's header does not say which genome build it is: check the choice above.";
    }
    hintLine.hidden = false;
  }
  input.addEventListener('change', describe);
  input.addEventListener('change', suggestBuild);
  ['dragenter', 'dragover'].forEach((t) =>
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    }),
  );
  ['dragleave', 'drop'].forEach((t) => drop.addEventListener(t, () => drop.classList.remove('over')));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length > 0) {
      input.files = e.dataTransfer.files;
      describe();
      void suggestBuild();
    }
  });

  class UploadError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  /** One request with upload progress (fetch has none); resolves with the finished XHR. */
  function send(method, url, body, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.upload.addEventListener('progress', (p) => p.lengthComputable && onProgress(p.loaded));
      xhr.addEventListener('load', () => resolve(xhr));
      xhr.addEventListener('error', () =>
        reject(new UploadError(0, 'the upload did not reach the server; check the connection and try again')),
      );
      xhr.send(body);
    });
  }

  async function problem(status, text) {
    let detail = `the upload failed (HTTP ${status})`;
    try {
      detail = JSON.parse(text).detail || detail;
    } catch {
      // Not a problem+json body (a proxy's error page): the status says enough.
    }
    return new UploadError(status, detail);
  }

  async function api(path, body) {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw await problem(res.status, text);
    return JSON.parse(text);
  }

  async function throughGateway(file, build, progress) {
    const data = new FormData();
    // The build goes before the file: the server reads fields in order and checks them first.
    data.append('genome_build', build);
    data.append('file', file, file.name);
    const xhr = await send('POST', '/api/v1/jobs', data, { 'X-CSRF-Token': csrf }, progress);
    if (xhr.status !== 201 && xhr.status !== 200) throw await problem(xhr.status, xhr.responseText);
    return JSON.parse(xhr.responseText);
  }

  async function straightToStorage(file, build, progress, ticket) {
    const parts = [];
    if (ticket.method === 'post') {
      const data = new FormData();
      for (const [k, v] of Object.entries(ticket.fields)) data.append(k, v);
      data.append('file', file, file.name);
      const xhr = await send('POST', ticket.url, data, {}, progress);
      if (xhr.status >= 300) throw new UploadError(xhr.status, `the storage refused the file (HTTP ${xhr.status})`);
    } else {
      let done = 0;
      for (const part of ticket.parts) {
        const start = (part.part_number - 1) * ticket.part_size;
        const blob = file.slice(start, start + ticket.part_size);
        const xhr = await send('PUT', part.url, blob, {}, (n) => progress(done + n));
        if (xhr.status >= 300) throw new UploadError(xhr.status, `the storage refused part ${part.part_number} (HTTP ${xhr.status})`);
        parts.push({ part_number: part.part_number, etag: xhr.getResponseHeader('ETag') });
        done += blob.size;
      }
    }
    return api('/api/v1/uploads/complete', { ticket: ticket.ticket, parts });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = input.files[0];
    if (!file) return showError('Choose a VCF file first.');
    const build = form.querySelector('input[name=genome_build]:checked').value;
    const progress = (loaded) => (bar.value = Math.round((100 * loaded) / file.size));
    showError('');
    bar.value = 0;
    bar.hidden = false;
    button.disabled = true;
    try {
      // The plan's limit is checked here, before a byte is sent; the answer says where the file goes.
      const ticket = await api('/api/v1/uploads', { file_name: file.name, size: file.size, genome_build: build });
      const job =
        ticket.method === 'stream' ? await throughGateway(file, build, progress) : await straightToStorage(file, build, progress, ticket);
      location.assign(`/jobs/${job.id}`);
    } catch (err) {
      bar.hidden = true;
      button.disabled = false;
      const detail = err instanceof UploadError ? err.message : String(err);
      showError(`${detail.charAt(0).toUpperCase()}${detail.slice(1)}.`, err.status === 413 && /upgrade/.test(detail));
    }
  });
})();
