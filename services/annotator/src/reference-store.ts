import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadReferenceFile, referenceFileName } from '@gas/anntools';
import type { LoadedReference } from '@gas/anntools';
import { GenomeBuild } from '@gas/proto';
import type { Logger } from '@gas/runtime';

export const buildNames: Partial<Record<GenomeBuild, string>> = {
  [GenomeBuild.GRCH37]: 'GRCh37',
  [GenomeBuild.GRCH38]: 'GRCh38',
};

/**
 * The reference files this annotator serves, loaded once at startup (readiness waits for them) and
 * shared by every job. A build without a file is reported, and its jobs fail with that reason.
 */
export class ReferenceStore {
  private readonly loaded = new Map<GenomeBuild, LoadedReference>();

  constructor(private readonly dir: string) {}

  async load(logger: Logger): Promise<void> {
    for (const [build, name] of Object.entries(buildNames) as Array<[string, string]>) {
      const file = join(this.dir, referenceFileName(name));
      if (!existsSync(file)) {
        logger.warn({ build: name, file }, 'no reference data for this build; its jobs will fail until the file exists');
        continue;
      }
      const t0 = performance.now();
      const ref = await loadReferenceFile(file);
      this.loaded.set(Number(build) as GenomeBuild, ref);
      logger.info({ build: name, file, ...ref.manifest.counts, ms: Math.round(performance.now() - t0) }, 'reference data loaded');
    }
  }

  get(build: GenomeBuild): LoadedReference | undefined {
    return this.loaded.get(build);
  }

  /** The message a job for a build without reference data fails with. */
  missingReason(build: GenomeBuild): string {
    const name = buildNames[build] ?? `build ${build}`;
    return `no reference data for ${name} on this annotator (expected ${join(this.dir, referenceFileName(name))}; build it with "gas-annotate build-db")`;
  }

  builds(): string[] {
    return [...this.loaded.keys()].map((b) => buildNames[b] ?? String(b));
  }
}
