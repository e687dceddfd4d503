// Download names: the user's own file name (any script) in `filename*`, an ASCII stand-in in
// `filename`, while the blob keys stay sanitised.
import t from 'tap';
import { blobKey } from '@gas/storage';
import { contentDisposition, downloadName } from '../src/download-name.ts';

/** What a browser does with the header: `filename*` when present, else `filename`. */
function parse(header: string): { type: string; filename: string; ascii: string } {
  const type = header.split(';')[0]!;
  const ascii = /; filename="([^"]*)"/.exec(header)?.[1] ?? '';
  const ext = /; filename\*=UTF-8''([!#$&+\-.^_`|~0-9A-Za-z%]+)$/.exec(header)?.[1];
  return { type, ascii, filename: ext === undefined ? ascii : decodeURIComponent(ext) };
}

t.test('a non-ASCII name with spaces travels whole in filename*, with an ASCII fallback', async (t) => {
  const h = contentDisposition('attachment', '名前 with spaces.annot.vcf');
  t.equal(h, `attachment; filename="__ with spaces.annot.vcf"; filename*=UTF-8''%E5%90%8D%E5%89%8D%20with%20spaces.annot.vcf`);
  t.equal(parse(h).filename, '名前 with spaces.annot.vcf');
  t.equal(parse(contentDisposition('inline', 'Ärger.summary.json')).ascii, 'Arger.summary.json', 'accents fall back to the base letter');
});

t.test("characters outside RFC 8187's attr-char are percent-encoded; quotes never end the ASCII name early", async (t) => {
  const name = `it's "odd" (1) * 100%\\x.vcf`;
  const h = contentDisposition('attachment', name);
  t.equal(parse(h).filename, name);
  t.equal(parse(h).ascii, `it's _odd_ (1) * 100__x.vcf`);
  t.notMatch(h.split("filename*=UTF-8''")[1]!, /['()*" ]/);
});

t.test('a plain ASCII name needs no filename*', async (t) => {
  t.equal(contentDisposition('attachment', 'free_1.annot.vcf'), 'attachment; filename="free_1.annot.vcf"');
  t.equal(contentDisposition('attachment', ''), 'attachment; filename="download"');
});

t.test("download names: the user's stem and the stored file's ending; keys stay safe", async (t) => {
  const input = '名前 with spaces.vcf';
  const inputKey = blobKey('u1', 'J1', input);
  t.equal(inputKey, 'u1/J1/_with_spaces.vcf', 'the key is the sanitised name');
  t.equal(downloadName(input, inputKey), input, 'the input downloads under its own name');
  t.equal(downloadName(input, 'u1/J1/_with_spaces.annot.vcf'), '名前 with spaces.annot.vcf');
  t.equal(downloadName('Probe Ü.vcf.gz', 'u1/J1/Probe_U.count.log'), 'Probe Ü.count.log');
  t.equal(downloadName('my.sample.VCF', 'u1/J1/my.sample.annot.tsv'), 'my.sample.annot.tsv');
  // An ending the annotator may add later (compressed results) is carried over as it is.
  t.equal(downloadName('x y.vcf', 'u1/J1/x_y.annot.vcf.gz'), 'x y.annot.vcf.gz');
  t.equal(downloadName('a.vcf', 'u1/J1/other.annot.vcf'), 'other.annot.vcf', 'a key of another shape keeps its name');
  t.equal(downloadName('', 'u1/J1/input.annot.vcf'), 'input.annot.vcf');
});
