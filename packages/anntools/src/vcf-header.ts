// The VCF header: checked line by line, passed through, and extended with the INFO fields the
// engine adds. VCF 3.3 (older GAS inputs) through 4.3 share the eight fixed columns.
import { VcfFormatError } from './vcf-error.ts';
import { CSQ_HEADER } from './vep-csq.ts';

export const ENGINE_NAME = 'gas-anntools-0.3';

export const INFO_HEADERS = [
  '##INFO=<ID=GAS_REGION,Number=A,Type=String,Description="Region class per ALT (ANNOVAR precedence: exonic, splicing, ncRNA_exonic, ncRNA_splicing, ncRNA_intronic, UTR5, UTR3, intronic, upstream, downstream, intergenic; equal ranks joined by &)">',
  '##INFO=<ID=GAS_GENE,Number=A,Type=String,Description="Genes at that region class per ALT, joined by &; for intergenic the flanking genes">',
  '##INFO=<ID=GAS_DETAIL,Number=A,Type=String,Description="Per ALT: transcript:strand:exonN|intronN|dist:N entries joined by &; for intergenic GENE(dist:N) on each side">',
  '##INFO=<ID=GAS_RSID,Number=A,Type=String,Description="dbSNP rsIDs matching each ALT (allele-aware where the source has alleles), joined by &">',
  '##INFO=<ID=GAS_FUNC,Number=A,Type=String,Description="Most severe exonic function per ALT over coding transcripts (synonymous, missense, stop_gained, stop_lost, start_lost, frameshift, inframe_insertion, inframe_deletion, inframe_delins, stop_retained, unknown); needs the FASTA">',
  '##INFO=<ID=GAS_SO,Number=A,Type=String,Description="Sequence Ontology term of that most severe consequence">',
  '##INFO=<ID=GAS_IMPACT,Number=A,Type=String,Description="Impact of that consequence (HIGH, MODERATE, LOW, MODIFIER), as Ensembl VEP assigns it">',
  '##INFO=<ID=GAS_AACHANGE,Number=A,Type=String,Description="Per coding transcript: GENE:TRANSCRIPT:c.HGVS:p.HGVS, joined by &">',
  '##INFO=<ID=GAS_SKIP,Number=A,Type=String,Description="Why an ALT was not annotated (symbolic_allele, missing_allele, overlapping_deletion, breakend, reference_allele, vcf33_indel, outside_chromosome)">',
];

const FILEFORMAT = /^##fileformat=VCFv(\d+)(\.\d+)?\s*$/;
const COLUMNS = '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO';

/** Reads header lines from the first chunks until the #CHROM line; hands back the rest as data. */
export class VcfHeaderReader {
  done = false;
  /** VCF 3.x: its I/D indel alleles are accepted and passed through. */
  vcf33 = false;
  /** Lines read so far (meta lines, blank lines and the #CHROM line). */
  lines = 0;
  /** `##` lines. */
  metaLines = 0;
  private bytes = 0;
  /** The `##` lines read so far (the build check reads its contigs). */
  meta = '';
  private columns = '';

  constructor(private readonly maxBytes: number) {}

  /** Consumes header lines of `chunk`; returns the bytes after the #CHROM line (empty until then). */
  feed(chunk: Buffer): Buffer {
    const text = chunk.toString('latin1');
    let at = 0;
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      const next = nl < 0 ? text.length : nl + 1;
      let end = nl < 0 ? text.length : nl;
      if (end > at && text.charCodeAt(end - 1) === 13) end--;
      const line = text.slice(at, end);
      this.bytes += next - at;
      at = next;
      const lineNo = ++this.lines;
      if (this.bytes > this.maxBytes) throw new VcfFormatError(lineNo, 'header', `the header is larger than ${this.maxBytes} bytes`);
      if (lineNo === 1) {
        const m = FILEFORMAT.exec(line);
        if (!m) throw new VcfFormatError(1, 'header', 'the first line must be "##fileformat=VCFv4.x" (this does not look like a VCF file)');
        this.vcf33 = m[1] === '3';
      }
      if (line.startsWith('##')) {
        this.metaLines++;
        this.meta += line + '\n';
        continue;
      }
      if (line.startsWith('#')) {
        if (!line.startsWith(COLUMNS)) {
          throw new VcfFormatError(
            lineNo,
            'header',
            'the column header must start with #CHROM POS ID REF ALT QUAL FILTER INFO, tab-separated',
          );
        }
        this.columns = line;
        this.done = true;
        return chunk.subarray(at);
      }
      if (line === '') continue;
      throw new VcfFormatError(lineNo, 'header', 'data line before the #CHROM header line');
    }
    return chunk.subarray(chunk.length);
  }

  /** The header to write: the input's, the engine line, the INFO declarations (CSQ's with `csq`), the #CHROM line. */
  output(engine: string, build: string | null, csq = false): Buffer {
    const ours = build
      ? `##GAS_engine=${engine};build=${build}\n${INFO_HEADERS.join('\n')}\n${csq ? CSQ_HEADER + '\n' : ''}`
      : `##GAS_engine=gas-count\n`;
    return Buffer.from(this.meta + ours + this.columns + '\n', 'latin1');
  }

  /** At the end of the input: a header that never finished is an error. */
  finish(): void {
    if (this.lines === 0) throw new VcfFormatError(1, 'header', 'the file is empty');
    if (!this.done) throw new VcfFormatError(this.lines + 1, 'header', 'no #CHROM header line');
  }
}
