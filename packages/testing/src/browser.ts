import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { trackChild, trackTempDir, untrackChild, untrackTempDir } from './cleanup-registry.ts';
import { repoRoot } from './repo-root.ts';
import { testEnvironment } from './config.ts';

export interface Viewport {
  width: number;
  height: number;
}

export const DESKTOP: Readonly<Viewport> = Object.freeze({ width: 1280, height: 800 });
export const PHONE: Readonly<Viewport> = Object.freeze({ width: 390, height: 844 });

// No sandbox (tests run as root in containers, where Chromium refuses to start with one), and
// nothing that phones home or updates itself, so a run neither needs the network nor varies with it.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

function chromiumPath(): string {
  return testEnvironment.chromium();
}

interface LaunchedInternals {
  process: ChildProcess;
  tempDirs: string[];
}

// Playwright keeps the ChildProcess on its server-side Browser and only exposes it publicly for
// launchServer(), which would put a WebSocket between every test and the browser. The in-process
// client reaches that object the same way its own ElectronApplication.process() does.
function internalsOf(browser: Browser): LaunchedInternals {
  type Impl = { options?: { artifactsDir?: string; browserProcess?: { process?: ChildProcess } } };
  const connection = (browser as unknown as { _connection?: { toImpl?: (x: unknown) => Impl | undefined } })._connection;
  const options = connection?.toImpl?.(browser)?.options;
  const child = options?.browserProcess?.process;
  if (!child?.pid) {
    throw new Error(
      'cannot find the Chromium process behind the playwright-core Browser (its internals changed?); ' +
        'without it a failing test could leave Chromium running, so packages/testing/src/browser.ts needs updating',
    );
  }
  const tempDirs: string[] = [];
  if (options?.artifactsDir) tempDirs.push(options.artifactsDir);
  const profile = child.spawnargs.find((a) => a.startsWith('--user-data-dir='));
  if (profile) tempDirs.push(profile.slice('--user-data-dir='.length));
  return { process: child, tempDirs };
}

// Chromium is a tree of processes in a group of its own (Playwright spawns it detached). Killed
// alone, as the cleanup registry kills its children, the main process leaves its GPU, network and
// storage helpers writing into the profile for a moment, and the registry's removal of the profile
// right after loses that race. Playwright itself kills the group, never through this method.
function killWholeGroup(child: ChildProcess): void {
  const killLeader = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number): boolean => {
    if (child.pid === undefined) return killLeader(signal);
    try {
      process.kill(-child.pid, signal ?? 'SIGTERM');
      return true;
    } catch {
      return killLeader(signal);
    }
  };
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}; install it with \`apt-get install -y chromium\` ` +
        '(./gas and .ci/run do this) or set GAS_CHROMIUM to a Chromium executable. ' +
        'Playwright must not download its own browser.',
    );
  }
  const browser = await chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
    // Playwright's own SIGTERM/SIGHUP handlers close the browser but swallow the signal, and their
    // presence makes the cleanup registry defer to them: the test process would then keep running.
    // The registry kills Chromium on signals and on exit instead.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  let internals: LaunchedInternals;
  try {
    internals = internalsOf(browser);
  } catch (err) {
    await browser.close();
    throw err;
  }
  killWholeGroup(internals.process);
  trackChild(internals.process);
  for (const dir of internals.tempDirs) trackTempDir(dir);
  browser.once('disconnected', () => {
    untrackChild(internals.process);
    for (const dir of internals.tempDirs) untrackTempDir(dir);
  });
  return browser;
}

const errorsByPage = new WeakMap<Page, string[]>();

// Narrower than the smallest tablet: pages get a phone's touch input and honour the viewport meta
// tag, as on a real phone (without that tag a phone lays the page out 980 px wide).
const PHONE_MAX_WIDTH = 599;

export async function newPage(browser: Browser, viewport: Readonly<Viewport>): Promise<Page> {
  const phone = viewport.width <= PHONE_MAX_WIDTH;
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    isMobile: phone,
    hasTouch: phone,
  });
  const page = await context.newPage();
  // Tests hold only the page; closing it should not leave its context (cookies, storage) behind.
  page.once('close', () => void context.close().catch(() => {}));
  const errors: string[] = [];
  errorsByPage.set(page, errors);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const { url, lineNumber } = msg.location();
    errors.push(`console.error: ${msg.text()}${url ? ` (${url}:${lineNumber + 1})` : ''}`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.stack ?? err.message}`));
  return page;
}

// The live array, so an assertion after the last step sees errors that arrived late.
export function pageErrors(page: Page): readonly string[] {
  const errors = errorsByPage.get(page);
  if (!errors) throw new Error('pageErrors() only knows pages created with newPage() from @gas/testing');
  return errors;
}

const shotsTaken = new Map<string, number>();

function slug(step: string): string {
  const s = step
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s || 'step';
}

// testFile: the test's import.meta.url or import.meta.filename.
export async function screenshot(page: Page, testFile: string, step: string): Promise<string> {
  const file = testFile.startsWith('file:') ? fileURLToPath(testFile) : testFile;
  const dir = join(repoRoot(), '.artifacts', 'screenshots', basename(file, extname(file)));
  const taken = shotsTaken.get(dir);
  if (taken === undefined) {
    // Shots left by an earlier run would interleave with this run's numbering and mislead whoever
    // reads the folder after a failure.
    await rm(dir, { recursive: true, force: true });
  }
  const n = (taken ?? 0) + 1;
  shotsTaken.set(dir, n);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${String(n).padStart(2, '0')}-${slug(step)}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
