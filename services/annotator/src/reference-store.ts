import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AnnotationPool, parseReferenceFile, readReferenceBytes, referenceFileName } from '@gas/anntools';
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
 * With worker threads, each worker holds its own gene-model index and shares the dbSNP tables.
 */
export class ReferenceStore {
  private readonly loaded = new Map<GenomeBuild, LoadedReference>();
  private workers: AnnotationPool | undefined;

  constructor(
    private readonly dir: string,
    private readonly workerThreads = 0,
  ) {}

  /** Worker threads annotating alongside the service's own thread, when configured. */
  get pool(): AnnotationPool | undefined {
    return this.workers;
  }

  async load(logger: Logger): Promise<void> {
    const files: Array<{ path: string; bytes: Buffer }> = [];
    for (const [build, name] of Object.entries(buildNames)) {
      const file = join(this.dir, referenceFileName(name));
      if (!existsSync(file)) {
        logger.warn({ build: name, file }, 'no reference data for this build; its jobs will fail until the file exists');
        continue;
      }
      const t0 = performance.now();
      const bytes = await readReferenceBytes(file);
      const ref = parseReferenceFile(bytes, file);
      files.push({ path: file, bytes });
      this.loaded.set(Number(build), ref);
      logger.info({ build: name, file, ...ref.manifest.counts, ms: Math.round(performance.now() - t0) }, 'reference data loaded');
      if (ref.missingFasta)
        logger.warn({ build: name, fasta: ref.missingFasta }, 'the FASTA named by the reference file is missing: no coding consequences');
    }
    if (this.workerThreads > 0) {
      const t0 = performance.now();
      this.workers = await AnnotationPool.start({ references: files, workers: this.workerThreads });
      logger.info({ workers: this.workerThreads, ms: Math.round(performance.now() - t0) }, 'annotation worker threads ready');
    }
  }

  async close(): Promise<void> {
    await this.workers?.close();
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
