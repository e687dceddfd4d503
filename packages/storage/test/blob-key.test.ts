import t from 'tap';
import { blobKey, InvalidBlobKeyError, sanitizeName } from '../src/index.ts';

t.test('sanitizeName', async (t) => {
  const cases: Array<[string, string]> = [
    ['sample.vcf', 'sample.vcf'],
    ['../../etc/passwd', 'passwd'],
    ['/etc/passwd', 'passwd'],
    ['a\\b', 'b'],
    ['C:\\Users\\ana\\Desktop\\trio.vcf.gz', 'trio.vcf.gz'],
    ['<script>.vcf', '_script_.vcf'],
    ['my sample (1).vcf', 'my_sample_1_.vcf'],
    ['résumé données.vcf', 'resume_donnees.vcf'],
    ['Ünïcödé-Ø.vcf', 'Unicode-_.vcf'],
    ['日本語.vcf', '_.vcf'],
    ['🧬🧬.vcf', '_.vcf'],
    ['ﬁle.vcf', 'file.vcf'],
    ['', 'input'],
    ['.', 'input'],
    ['..', 'input'],
    ['...', 'input'],
    ['../', 'input'],
    ['dir/', 'dir'],
    ['.hidden.vcf', 'hidden.vcf'],
    ['..\\..\\.bashrc', 'bashrc'],
    ['a\u0000b\u001f\u007fc.vcf', 'abc.vcf'],
    ['line\nbreak.vcf', 'linebreak.vcf'],
    ['a   b***c.vcf', 'a_b_c.vcf'],
    ['_-_.vcf', '_-_.vcf'],
    ['\u0000', 'input'],
  ];
  for (const [input, expected] of cases) {
    t.test(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, async (t) => {
      t.equal(sanitizeName(input), expected);
    });
  }

  t.test('caps at 128 characters, keeping the extension', async (t) => {
    const out = sanitizeName(`${'x'.repeat(300)}.vcf.gz`);
    t.equal(out.length, 128);
    t.ok(out.endsWith('.vcf.gz'));
    t.equal(sanitizeName('y'.repeat(500)), 'y'.repeat(128));
  });

  t.test('always yields one safe path segment', async (t) => {
    const nasty = ['../', '..\\', '/', '\\', '.', '..', ' ', '\t', '%2e%2e%2f', 'a/..', '~', '$HOME', '|', ':', '\u202e', '\ufeff'];
    for (const a of nasty) {
      for (const b of nasty) {
        const out = sanitizeName(a + b + a);
        t.match(out, /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/, `${JSON.stringify(a + b + a)} → ${JSON.stringify(out)}`);
        t.not(out, '..');
      }
    }
  });

  t.test('is idempotent', async (t) => {
    for (const name of ['../../etc/passwd', '<script>.vcf', 'résumé.vcf', '', 'z'.repeat(400) + '.vcf']) {
      t.equal(sanitizeName(sanitizeName(name)), sanitizeName(name));
    }
  });
});

t.test('blobKey', async (t) => {
  t.test('joins user, job and sanitized name', async (t) => {
    t.equal(blobKey('user_1', '01JABCDEF-xyz', '../../etc/passwd'), 'user_1/01JABCDEF-xyz/passwd');
    t.equal(blobKey('u', 'j', ''), 'u/j/input');
    t.equal(blobKey('u'.repeat(64), 'j', 'a.vcf'), `${'u'.repeat(64)}/j/a.vcf`);
  });

  const badIds = ['', '..', 'a/b', 'a\\b', 'a.b', 'a b', 'ü', 'x'.repeat(65), '\u0000'];
  for (const id of badIds) {
    t.test(`rejects user id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 8)}…(${id.length})` : id)}`, async (t) => {
      t.match(
        t.throws(() => blobKey(id, 'job', 'a.vcf'), InvalidBlobKeyError),
        { message: /user id/ },
      );
    });
    t.test(`rejects job id ${JSON.stringify(id.length > 20 ? `${id.slice(0, 8)}…(${id.length})` : id)}`, async (t) => {
      t.match(
        t.throws(() => blobKey('user', id, 'a.vcf'), InvalidBlobKeyError),
        { message: /job id/ },
      );
    });
  }
});
