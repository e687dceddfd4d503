import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, sharedDataPath } from '../src/index.ts';

describe('repoRoot', () => {
  it('finds the workspace root', () => {
    assert.ok(existsSync(join(repoRoot(), 'pnpm-workspace.yaml')));
  });
});

describe('sharedDataPath', () => {
  it('finds a shared VCF', () => {
    const path = sharedDataPath('vcf/gas_anntools/free_1.vcf');
    assert.ok(path.endsWith('/shared/data/vcf/gas_anntools/free_1.vcf'), path);
    assert.match(readFileSync(path, 'utf8').slice(0, 200), /^##fileformat=VCF/);
  });

  it('names the missing file and points to PROVENANCE.md', () => {
    assert.throws(
      () => sharedDataPath('vcf/nope/missing.vcf'),
      (err: Error) => {
        assert.match(err.message, /vcf\/nope\/missing\.vcf/);
        assert.match(err.message, /\.\.\/shared\/data\/PROVENANCE\.md/);
        return true;
      },
    );
  });

  it('refuses paths that leave the data folder', () => {
    assert.throws(() => sharedDataPath('../data/PROVENANCE.md'), /inside the shared data folder/);
  });

  it('honours GAS_SHARED_DATA', () => {
    const saved = process.env['GAS_SHARED_DATA'];
    process.env['GAS_SHARED_DATA'] = join(repoRoot(), 'packages');
    try {
      assert.equal(sharedDataPath('testing/package.json'), join(repoRoot(), 'packages', 'testing', 'package.json'));
    } finally {
      if (saved === undefined) delete process.env['GAS_SHARED_DATA'];
      else process.env['GAS_SHARED_DATA'] = saved;
    }
  });
});
