import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { repoRoot, sharedDataPath } from '../src/index.ts';

t.test('repoRoot', async (t) => {
  t.test('finds the workspace root', async (t) => {
    t.ok(existsSync(join(repoRoot(), 'pnpm-workspace.yaml')));
  });
});

t.test('sharedDataPath', async (t) => {
  t.test('finds a shared VCF', async (t) => {
    const path = sharedDataPath('vcf/gas_anntools/free_1.vcf');
    t.ok(path.endsWith('/shared/data/vcf/gas_anntools/free_1.vcf'), path);
    t.match(readFileSync(path, 'utf8').slice(0, 200), /^##fileformat=VCF/);
  });

  t.test('names the missing file and points to PROVENANCE.md', async (t) => {
    const err = t.throws(() => sharedDataPath('vcf/nope/missing.vcf'));
    t.match(err, { message: /vcf\/nope\/missing\.vcf/ });
    t.match(err, { message: /\.\.\/shared\/data\/PROVENANCE\.md/ });
  });

  t.test('refuses paths that leave the data folder', async (t) => {
    t.throws(() => sharedDataPath('../data/PROVENANCE.md'), /inside the shared data folder/);
  });

  t.test('honours GAS_SHARED_DATA', async (t) => {
    const saved = process.env['GAS_SHARED_DATA'];
    process.env['GAS_SHARED_DATA'] = join(repoRoot(), 'packages');
    try {
      t.equal(sharedDataPath('testing/package.json'), join(repoRoot(), 'packages', 'testing', 'package.json'));
    } finally {
      if (saved === undefined) delete process.env['GAS_SHARED_DATA'];
      else process.env['GAS_SHARED_DATA'] = saved;
    }
  });
});
