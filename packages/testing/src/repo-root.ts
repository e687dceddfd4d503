import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testEnvironment } from './config.ts';

let cached: string | undefined;

export function repoRoot(): string {
  const fromEnv = testEnvironment.repoRoot();
  if (fromEnv) return resolve(fromEnv);
  if (cached) return cached;
  // Start from this module rather than the cwd: tests are run from the root, a package folder or
  // an IDE, but this file always lives inside the repository.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the repository root: no pnpm-workspace.yaml above packages/testing (set GAS_REPO_ROOT)');
    dir = parent;
  }
}
