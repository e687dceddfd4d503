import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { repoRoot } from './repo-root.ts';
import { testEnvironment } from './config.ts';

function sharedDataDir(): string {
  const fromEnv = testEnvironment.sharedData();
  return fromEnv ? resolve(fromEnv) : resolve(repoRoot(), '..', 'shared', 'data');
}

export function sharedDataPath(relative: string): string {
  if (isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
    throw new Error(`sharedDataPath takes a path inside the shared data folder, got ${JSON.stringify(relative)}`);
  }
  const dir = sharedDataDir();
  const path = join(dir, relative);
  if (!existsSync(path)) {
    throw new Error(
      `shared test data not found: ${path}\n` +
        `The real data sets live outside the repository in ../shared/data (or the folder named by GAS_SHARED_DATA); ` +
        `see ${join(dir, 'PROVENANCE.md')} (../shared/data/PROVENANCE.md) for where "${relative}" comes from and how to fetch it.`,
    );
  }
  return path;
}
