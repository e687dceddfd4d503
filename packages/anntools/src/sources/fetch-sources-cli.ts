// Argument handling and output of `gas-annotate fetch-sources`; cli.ts hands it the arguments.
import { parseArgs } from 'node:util';
import { isBuildName, sourceCatalogue } from './catalogue.ts';
import type { SourceEntry } from './catalogue.ts';
import { fetchSources } from './fetch-sources.ts';
import { BASE_URL_ENV } from './mirror.ts';
import { DBSNP_SUBSETS } from './prepare-dbsnp.ts';
import type { DbSnpSubset } from './prepare-dbsnp.ts';
import { formatBytes } from './progress.ts';

export const FETCH_SOURCES_USAGE_LINE =
  'gas-annotate fetch-sources --build GRCh37|GRCh38 --dir DIR [--only genes,dbsnp,fasta|ID,...] [--dbsnp-subset common|all] [--build-db OUT.gasref] [--base-url URL] [--list]';

const HELP = [
  `usage: ${FETCH_SOURCES_USAGE_LINE}`,
  "  Downloads the public reference sources of one build into DIR, verifies them against the publishers' checksums,",
  '  makes them readable by build-db, records them in DIR/SOURCES.json and, with --build-db, builds the .gasref.',
  '  --only          kinds (genes, dbsnp, fasta) or source ids (see --list); default: genes, fasta and dbsnp',
  '  --dbsnp-subset  common (default: records flagged COMMON) or all (too large for a .gasref today)',
  `  --base-url      fetch every file from a mirror laid out as <base>/<host>/<path> (default: $${BASE_URL_ENV})`,
  '  --list          print the sources of the build (or of both) and exit',
  '',
].join('\n');

function describe(e: SourceEntry): string {
  const checksum =
    e.checksum.type === 'none'
      ? `none (${e.checksum.why})`
      : `${e.checksum.type === 'md5-list' ? 'md5' : 'BSD sum'} from ${e.checksum.url}`;
  return [
    `${e.build} ${e.id}${e.isDefault ? ` (default for ${e.kind})` : ''}: ${e.title}`,
    `  url:      ${e.url} (${e.approxSize})`,
    `  checksum: ${checksum}`,
    `  format:   ${e.format}`,
    `  terms:    ${e.terms}`,
  ].join('\n');
}

/** `mirrorBaseUrl` is the value of $GAS_SOURCES_BASE_URL (read by cli.ts, the CLI's entry). */
export async function fetchSourcesCommand(argv: string[], mirrorBaseUrl?: string): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        build: { type: 'string' },
        dir: { type: 'string' },
        only: { type: 'string' },
        'dbsnp-subset': { type: 'string' },
        'build-db': { type: 'string' },
        'base-url': { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    process.stderr.write(`gas-annotate fetch-sources: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.build !== undefined && !isBuildName(values.build)) {
    process.stderr.write(`gas-annotate fetch-sources: --build must be GRCh37 or GRCh38, got "${values.build}"\n`);
    return 2;
  }
  if (values.list) {
    const builds = values.build ? [values.build] : (Object.keys(sourceCatalogue) as (keyof typeof sourceCatalogue)[]);
    process.stdout.write(builds.flatMap((b) => sourceCatalogue[b].map(describe)).join('\n') + '\n');
    return 0;
  }
  const subset = values['dbsnp-subset'] ?? 'common';
  if (!values.build || !values.dir || !DBSNP_SUBSETS.includes(subset as DbSnpSubset)) {
    process.stderr.write(HELP);
    return 2;
  }
  const t0 = performance.now();
  try {
    const r = await fetchSources({
      build: values.build,
      dir: values.dir,
      only: values.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      dbsnpSubset: subset as DbSnpSubset,
      buildDb: values['build-db'],
      baseUrl: values['base-url'] ?? (mirrorBaseUrl || undefined),
      say: (m) => process.stderr.write(`gas-annotate: ${m}\n`),
    });
    for (const s of r.sources) {
      const check = s.checksum.algorithm === 'none' ? 'no published checksum' : `${s.checksum.algorithm} ${s.checksum.expected} verified`;
      process.stdout.write(`${s.file}: ${formatBytes(s.bytes)}, ${check}${s.prepared ? ` → ${s.prepared.file}` : ''}\n`);
    }
    process.stdout.write(`${r.manifestPath} updated\n`);
    if (r.reference) {
      const c = r.reference.counts;
      process.stdout.write(
        `${values['build-db']}: ${r.reference.build}, ${c.transcripts} transcripts (${c.codingTranscripts} coding) of ${c.genes} genes, ${c.rsids} dbSNP entries\n`,
      );
    }
    process.stdout.write(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`gas-annotate fetch-sources: ${(err as Error).message}\n`);
    return 1;
  }
}
