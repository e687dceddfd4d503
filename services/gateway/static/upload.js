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
  // The genome build the file's header points to (the rules of anntools' genome-build.ts, with its
  // tables from the page): the start of the file is read here, inflated when it is gzip (the first
  // BGZF block is enough), and the build is chosen for the user, saying why.
  const hints = JSON.parse(form.dataset.buildHints || '{"lengths":{},"names":[]}');
  const hintLine = form.querySelector('.build-hint');
  const canonical = (name) => {
    const c = /^chr/i.test(name) ? name.slice(3) : name;
    return /^(m|mt)$/i.test(c) ? 'MT' : c;
  };
  async function headText(file) {
    const blob = file.slice(0, 64 * 1024);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return new TextDecoder('latin1').decode(bytes);
    const reader = blob.stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const parts = [];
    let have = 0;
    try {
      while (have < 256 * 1024) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        have += value.length;
      }
    } catch {
      // The slice ends inside the stream, or a second BGZF block follows: what came out is the head.
    }
    reader.cancel().catch(() => undefined);
    const all = new Uint8Array(have);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder('latin1').decode(all);
  }
  function detectBuild(text) {
    const lines = [];
    for (const line of text.replace(/^(\uFEFF|\u00EF\u00BB\u00BF)/, '').split('\n')) {
      if (!line.startsWith('##')) break;
      lines.push(line.replace(/\r$/, ''));
    }
    const matches = { GRCh37: 0, GRCh38: 0 };
    const assemblies = [];
    for (const line of lines) {
      const m = /^##contig=<(.*)>$/.exec(line);
      if (!m) continue;
      const id = /(?:^|,)ID=([^,]+)/.exec(m[1]);
      const length = Number((/(?:^|,)length=(\d+)/.exec(m[1]) || [])[1]);
      const assembly = /(?:^|,)assembly=([^,]+)/.exec(m[1]);
      if (assembly) assemblies.push(assembly[1]);
      if (!id || !length) continue;
      const name = canonical(id[1]);
      const l37 = hints.lengths.GRCh37 && hints.lengths.GRCh37[name];
      const l38 = hints.lengths.GRCh38 && hints.lengths.GRCh38[name];
      if (name === 'MT' && length === 16571) matches.GRCh37++;
      else if (l37 === l38) continue;
      else if (length === l37) matches.GRCh37++;
      else if (length === l38) matches.GRCh38++;
    }
    if (matches.GRCh37 && !matches.GRCh38) return { build: 'GRCh37', basis: 'contig lengths' };
    if (matches.GRCh38 && !matches.GRCh37) return { build: 'GRCh38', basis: 'contig lengths' };
    if (matches.GRCh37 && matches.GRCh38) return null;
    const found = [];
    const named = (text, basis) => {
      const builds = hints.names.filter(([, source]) => new RegExp(source, 'i').test(text)).map(([b]) => b);
      if (builds.length === 1) found.push({ build: builds[0], basis });
    };
    for (const line of lines) {
      const m = /^##(reference|assembly)=(.*)$/i.exec(line);
      if (m) named(m[2], `##${m[1].toLowerCase()} line`);
    }
    for (const a of assemblies) named(a, 'contig assembly');
    for (const line of lines) {
      for (const m of line.matchAll(/(?:reference_sequence=|--reference[= ]|\s-R\s+)([^\s,"]+)/g)) named(m[1], 'command line reference');
    }
    return found.length > 0 && found.every((f) => f.build === found[0].build) ? found[0] : null;
  }
  async function suggestBuild() {
    const f = input.files[0];
    hintLine.hidden = true;
    if (!f) return;
    let found;
    try {
      found = detectBuild(await headText(f));
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
