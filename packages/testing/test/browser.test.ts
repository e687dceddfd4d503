import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import type { Browser } from 'playwright-core';
import { DESKTOP, PHONE, freePort, launchBrowser, newPage, pageErrors, repoRoot, screenshot } from '../src/index.ts';
import type { Viewport } from '../src/index.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Each page names its icon: otherwise Chromium asks for /favicon.ico, and the 404 lands in
// pageErrors as a console error, late and only sometimes.
const PAGES: Record<string, { type: string; body: string }> = {
  '/': {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Browser test page</title>
  <link rel="icon" href="data:,">
  <style>
    body { font-family: sans-serif; margin: 2rem; }
    button { font-size: 1.2rem; padding: 0.5rem 1rem; }
  </style>
</head>
<body>
  <h1>Browser test page</h1>
  <p id="status">waiting</p>
  <button id="go" type="button">Change the text</button>
  <script src="/app.js"></script>
</body>
</html>`,
  },
  '/app.js': {
    type: 'text/javascript; charset=utf-8',
    body: `document.getElementById('go').addEventListener('click', () => {
  document.getElementById('status').textContent = 'clicked';
});`,
  },
  '/broken.html': {
    type: 'text/html; charset=utf-8',
    body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title><link rel="icon" href="data:,"></head>
<body><p>broken</p>
<script>console.error('logged by the page'); notDefinedAnywhere();</script>
</body></html>`,
  },
};

function startPageServer(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const page = PAGES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': page.type }).end(page.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

t.test('browser helpers', async (t) => {
  const port = await freePort();
  const server: Server = await startPageServer(port);
  const baseUrl = `http://127.0.0.1:${port}`;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const browser: Browser = await launchBrowser();
  t.teardown(() => browser.close());

  const sizes: Array<[string, Viewport]> = [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ];
  for (const [name, viewport] of sizes) {
    t.test(`runs the page's script at ${name} size (${viewport.width}x${viewport.height}) and screenshots it`, async (t) => {
      const page = await newPage(browser, viewport);
      try {
        await page.goto(`${baseUrl}/`);
        t.equal(await page.locator('#status').textContent(), 'waiting');
        await page.getByRole('button', { name: 'Change the text' }).click();
        t.equal(await page.locator('#status').textContent(), 'clicked');
        t.equal(await page.evaluate<number>('window.innerWidth'), viewport.width);

        const path = await screenshot(page, import.meta.url, `${name} after click`);
        const dir = join(repoRoot(), '.artifacts', 'screenshots', 'browser.test');
        t.equal(path.startsWith(`${dir}/`), true, `${path} is under ${dir}`);
        t.match(path, new RegExp(`/\\d\\d-${name}-after-click\\.png$`));
        t.equal(existsSync(path), true);
        t.strictSame(readFileSync(path).subarray(0, 8), PNG_SIGNATURE);
        t.strictSame(pageErrors(page), []);
      } finally {
        await page.close();
      }
    });
  }

  t.test('numbers the screenshots of a test file in the order they were taken', async (t) => {
    const page = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${baseUrl}/`);
      const first = await screenshot(page, import.meta.url, 'Ordering: first!');
      const second = await screenshot(page, import.meta.url, 'ordering / second');
      const n = (p: string) => Number(/\/(\d\d)-[^/]+$/.exec(p)?.[1]);
      t.equal(n(second), n(first) + 1);
      t.match(first, /-ordering-first\.png$/);
      t.match(second, /-ordering-second\.png$/);
    } finally {
      await page.close();
    }
  });

  t.test('reports script errors and console errors of the page', async (t) => {
    const page = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${baseUrl}/broken.html`);
      const errors = pageErrors(page);
      t.equal(errors.length, 2, 'two errors', { errors });
      t.ok(
        errors.some((e) => /console\.error: logged by the page/.test(e)),
        'the console error',
        { errors },
      );
      t.ok(
        errors.some((e) => /notDefinedAnywhere is not defined/.test(e)),
        'the script error',
        { errors },
      );
    } finally {
      await page.close();
    }
  });
});

// The test process is told to stop while its browser is open, as the runner's timeout or a Ctrl-C
// would: Chromium and its profile must go with it.
const ABANDONS_BROWSER = `
import { launchBrowser } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
await launchBrowser();
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('a browser left open by a test', async (t) => {
  t.test('is killed, and its profile removed, when the test process gets SIGTERM', async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ABANDONS_BROWSER], {
      cwd: repoRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        if (c.toString().includes('ready')) resolve();
      });
      child.once('exit', () => reject(new Error(`fixture exited early: ${stderr}`)));
    });

    const ps = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)], { encoding: 'utf8' });
    const line = ps.split('\n').find((l) => l.includes('--user-data-dir='));
    t.ok(line, 'Chromium runs under the test process', { ps });
    if (!line) return;
    const chromiumPid = Number(line.trim().split(/\s+/)[0]);
    const profile = /--user-data-dir=(\S+)/.exec(line)?.[1] ?? '';
    t.equal(existsSync(profile), true, profile);

    try {
      child.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig))),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000)),
      ]);
      if (exited === 'timeout') child.kill('SIGKILL');
      t.equal(exited, 'SIGTERM', 'the test process died of its SIGTERM');
      for (let i = 0; i < 50 && alive(chromiumPid); i++) await new Promise((r) => setTimeout(r, 100));
      t.equal(alive(chromiumPid), false, 'Chromium is gone');
      t.equal(existsSync(profile), false, `profile ${profile} is removed`);
    } finally {
      // Should the assertions fail, this run must not be the one that leaves Chromium behind.
      if (alive(chromiumPid)) process.kill(-chromiumPid, 'SIGKILL');
    }
  });
});
