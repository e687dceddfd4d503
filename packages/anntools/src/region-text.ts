// The region part of the output: GAS_REGION, GAS_GENE and GAS_DETAIL in the VCF's INFO, and the
// region, genes and detail cells of the TSV. Sorted inputs put long runs of variants in one intron,
// exon or intergenic gap, so the text of a run is built once and copied for each variant in it.
import type { Flank, RegionAnnotation, RegionClassifier } from './annotation/region.ts';
import type { ByteWriter } from './byte-writer.ts';

const DOT = 46;
const AMP = 38;
const COMMA = 44;
const TAB = 9;
const COLON = 58;
const CLOSE = 41;
const REGION_KEY = Buffer.from('GAS_REGION=', 'latin1');
const GENE_KEY = Buffer.from(';GAS_GENE=', 'latin1');
const DETAIL_KEY = Buffer.from(';GAS_DETAIL=', 'latin1');
const RSID_KEY_TEXT = ';GAS_RSID=';
const RSID_KEY = Buffer.from(RSID_KEY_TEXT, 'latin1');

/** `items` joined by `&`. */
function writeJoined(w: ByteWriter, items: readonly string[]): void {
  for (let i = 0; i < items.length; i++) {
    if (i > 0) w.byte(AMP);
    w.str(items[i]!);
  }
}

// Each writer writes one value; `empty` is what stands for "nothing" ('.' in INFO, '' in the TSV).
function writeClasses(w: ByteWriter, r: RegionAnnotation | null): void {
  if (!r) return w.byte(DOT);
  writeJoined(w, r.classes);
}

function writeGenes(w: ByteWriter, r: RegionAnnotation | null, empty: boolean): void {
  if (!r) return empty ? undefined : w.byte(DOT);
  if (r.classes[0] === 'intergenic') {
    w.str(r.left?.gene ?? 'NONE');
    w.byte(AMP);
    return w.str(r.right?.gene ?? 'NONE');
  }
  if (r.genes.length === 0) return empty ? undefined : w.byte(DOT);
  writeJoined(w, r.genes);
}

function writeDetail(w: ByteWriter, r: RegionAnnotation | null, empty: boolean): void {
  if (!r) return empty ? undefined : w.byte(DOT);
  if (r.classes[0] === 'intergenic') {
    writeFlank(w, r.left);
    w.byte(AMP);
    return writeFlank(w, r.right);
  }
  for (let i = 0; i < r.hits.length; i++) {
    const h = r.hits[i]!;
    if (i > 0) w.byte(AMP);
    w.str(h.transcript.id);
    w.byte(COLON);
    w.str(h.transcript.strand);
    w.byte(COLON);
    if (h.exon !== undefined) {
      w.str('exon');
      w.int(h.exon);
    } else if (h.intron !== undefined) {
      w.str('intron');
      w.int(h.intron);
    } else {
      w.str('dist:');
      w.int(h.distance!);
    }
  }
}

function writeFlank(w: ByteWriter, f: Flank | undefined): void {
  if (!f) return w.str('NONE');
  w.str(f.gene);
  w.str('(dist:');
  w.int(f.distance);
  w.byte(CLOSE);
}

/** Text that is the same for every base of a run. */
interface CachedText {
  /** The kept annotation whose text this is, or null for an intergenic gap's. */
  region: RegionAnnotation | null;
  /** For a gap: its flanking genes ('' for none, so the field always holds a string). */
  left: string;
  right: string;
  /** The whole text; for a gap, the text before the left distance, between the two, and after. */
  parts: Uint8Array[];
}

const NOTHING: CachedText = { region: null, left: '', right: '', parts: [] };

/** Writes the region output of annotations from one RegionClassifier. */
export class RegionText {
  private info: CachedText = NOTHING;
  private infoGap: CachedText = NOTHING;
  private cells: CachedText = NOTHING;
  private cellsGap: CachedText = NOTHING;

  constructor(private readonly classifier: RegionClassifier) {}

  /**
   * `GAS_REGION=…;GAS_GENE=…;GAS_DETAIL=…;GAS_RSID=` for the ALTs of one record: the key of the
   * field that always follows is part of the text, so a run's cached text is one copy.
   */
  writeInfo(w: ByteWriter, alleles: ReadonlyArray<{ region: RegionAnnotation | null }>, altCount: number): void {
    const r = altCount === 1 ? alleles[0]!.region : null;
    if (r !== null) {
      if (r === this.info.region) return w.copy(this.info.parts[0]!);
      if (isGap(r)) {
        if (!sameGap(this.infoGap, r))
          this.infoGap = gapText(r, `GAS_REGION=intergenic;GAS_GENE=${flankGenes(r)};GAS_DETAIL=`, RSID_KEY_TEXT);
        return writeGap(w, this.infoGap, r);
      }
    }
    const from = w.size;
    w.copy(REGION_KEY);
    for (let i = 0; i < altCount; i++) {
      if (i > 0) w.byte(COMMA);
      writeClasses(w, alleles[i]!.region);
    }
    w.copy(GENE_KEY);
    for (let i = 0; i < altCount; i++) {
      if (i > 0) w.byte(COMMA);
      writeGenes(w, alleles[i]!.region, false);
    }
    w.copy(DETAIL_KEY);
    for (let i = 0; i < altCount; i++) {
      if (i > 0) w.byte(COMMA);
      writeDetail(w, alleles[i]!.region, false);
    }
    w.copy(RSID_KEY);
    if (r !== null && r === this.classifier.keptAnnotation) this.info = { ...NOTHING, region: r, parts: [w.copyFrom(from)] };
  }

  /** The TSV's region, genes and detail cells of one allele, each followed by a tab. */
  writeCells(w: ByteWriter, r: RegionAnnotation | null): void {
    if (r !== null) {
      if (r === this.cells.region) return w.copy(this.cells.parts[0]!);
      if (isGap(r)) {
        if (!sameGap(this.cellsGap, r)) this.cellsGap = gapText(r, `intergenic\t${flankGenes(r)}\t`, '\t');
        return writeGap(w, this.cellsGap, r);
      }
    }
    const from = w.size;
    if (r) w.str(r.region);
    w.byte(TAB);
    writeGenes(w, r, true);
    w.byte(TAB);
    writeDetail(w, r, true);
    w.byte(TAB);
    if (r !== null && r === this.classifier.keptAnnotation) this.cells = { ...NOTHING, region: r, parts: [w.copyFrom(from)] };
  }
}

function isGap(r: RegionAnnotation): boolean {
  return r.classes[0] === 'intergenic';
}

function flankGenes(r: RegionAnnotation): string {
  return `${r.left?.gene ?? 'NONE'}&${r.right?.gene ?? 'NONE'}`;
}

function sameGap(c: CachedText, r: RegionAnnotation): boolean {
  return c.parts.length === 3 && c.left === (r.left ? r.left.gene : '') && c.right === (r.right ? r.right.gene : '');
}

/** The detail of a gap, `L(dist:d)&R(dist:d)` as writeDetail writes it, cut around the distances. */
function gapText(r: RegionAnnotation, head: string, tail: string): CachedText {
  const open = (f: Flank | undefined): string => (f ? `${f.gene}(dist:` : 'NONE');
  const close = (f: Flank | undefined): string => (f ? ')' : '');
  const parts = [head + open(r.left), `${close(r.left)}&${open(r.right)}`, close(r.right) + tail];
  return {
    region: null,
    left: r.left ? r.left.gene : '',
    right: r.right ? r.right.gene : '',
    parts: parts.map((p) => Buffer.from(p, 'latin1')),
  };
}

function writeGap(w: ByteWriter, c: CachedText, r: RegionAnnotation): void {
  w.copy(c.parts[0]!);
  if (r.left) w.int(r.left.distance);
  w.copy(c.parts[1]!);
  if (r.right) w.int(r.right.distance);
  w.copy(c.parts[2]!);
}
