#!/usr/bin/env node
// `pnpm exec gas-annotate`: the built CLI (dist/cli.mjs, from `pnpm build` or `pnpm --filter
// @gas/anntools build`) when it is newer than every source file, so an edit is never hidden behind
// an old build; otherwise the sources through tsx (a checkout that was never built, or was edited
// since). Images run dist/<target>/bin/gas-annotate, which has no tsx to fall back on.
import { existsSync, readdirSync, statSync } from 'node:fs';

const built = new URL('../dist/cli.mjs', import.meta.url);
const sources = new URL('../src/', import.meta.url);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs);
  }
  return newest;
}

if (existsSync(built) && statSync(built).mtimeMs >= newestSource(sources)) {
  await import(built.href);
} else {
  if (existsSync(built))
    process.stderr.write('gas-annotate: dist/cli.mjs is older than src/: running the sources through tsx (pnpm build)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
