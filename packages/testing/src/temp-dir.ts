import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTempDir, untrackTempDir } from './cleanup-registry.ts';

export interface TempDir {
  path: string;
  cleanup(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const safePrefix = prefix.replace(/[^A-Za-z0-9._-]/g, '_');
  const path = await mkdtemp(join(tmpdir(), safePrefix.endsWith('-') ? safePrefix : `${safePrefix}-`));
  trackTempDir(path);
  return {
    path,
    async cleanup() {
      await rm(path, { recursive: true, force: true });
      untrackTempDir(path);
    },
  };
}
