/** One line of a samtools `.fai` index. Offsets are in uncompressed bytes, also for bgzip files. */
export interface FaiEntry {
  readonly name: string;
  /** Number of bases. */
  readonly length: number;
  /** Byte offset of the first base. */
  readonly offset: number;
  /** Bases on every full line. */
  readonly lineBases: number;
  /** Bytes of every full line including its terminator (\n or \r\n). */
  readonly lineWidth: number;
}

export function parseFai(text: string, what: string): FaiEntry[] {
  const entries: FaiEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const cols = line.split('\t');
    // FASTQ indexes add a sixth column (quality offset); it is not needed for sequence.
    const nums = cols.slice(1, 5).map((c) => (/^\d+$/.test(c) ? Number(c) : NaN));
    const [length, offset, lineBases, lineWidth] = nums;
    if (
      cols.length < 5 ||
      cols[0] === '' ||
      length === undefined ||
      offset === undefined ||
      lineBases === undefined ||
      lineWidth === undefined ||
      nums.some((n) => !Number.isSafeInteger(n)) ||
      (length > 0 && (lineBases === 0 || lineWidth <= lineBases))
    ) {
      throw new Error(`${what}:${i + 1}: not a valid .fai line (name, length, offset, linebases, linewidth): ${JSON.stringify(line)}`);
    }
    entries.push({ name: cols[0]!, length, offset, lineBases, lineWidth });
  }
  return entries;
}

interface OpenRecord {
  name: string;
  offset: number;
  length: number;
  lineBases: number;
  lineWidth: number;
  /** A line shorter than lineBases was seen, so it must have been the last. */
  sawShortLine: boolean;
  sawBlankLine: boolean;
}

/**
 * Builds the `.fai` entries from the file bytes fed in order, with the same layout rules as
 * `samtools faidx`: within a record every line but the last has the same length, because random
 * access computes offsets from that geometry.
 */
export class FaiBuilder {
  private readonly entries: FaiEntry[] = [];
  private readonly seen = new Set<string>();
  private pos = 0;
  private atLineStart = true;
  private inHeader = false;
  private nameParts: Buffer[] = [];
  private nameDone = false;
  private lineBytes = 0;
  private lastWasCR = false;
  private current: OpenRecord | undefined;

  constructor(private readonly what: string) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.atLineStart && chunk[i] === 62 /* > */) {
        this.finishRecord();
        this.inHeader = true;
        this.nameParts = [];
        this.nameDone = false;
        i++;
      }
      const nl = chunk.indexOf(10, i);
      const end = nl < 0 ? chunk.length : nl;
      if (this.inHeader) {
        if (!this.nameDone) this.takeName(chunk.subarray(i, end));
      } else if (end > i) {
        this.lineBytes += end - i;
        this.lastWasCR = chunk[end - 1] === 13;
      }
      if (nl < 0) {
        this.atLineStart = false;
        this.pos += chunk.length;
        return;
      }
      this.endLine(this.pos + nl + 1, true);
      i = nl + 1;
    }
    this.pos += chunk.length;
  }

  finish(): FaiEntry[] {
    if (!this.atLineStart) this.endLine(this.pos, false);
    this.finishRecord();
    return this.entries;
  }

  private takeName(part: Buffer): void {
    let stop = part.length;
    for (let k = 0; k < part.length; k++) {
      const c = part[k];
      if (c === 32 || c === 9 || c === 13) {
        stop = k;
        this.nameDone = true;
        break;
      }
    }
    this.nameParts.push(Buffer.from(part.subarray(0, stop)));
  }

  private endLine(nextLineOffset: number, terminated: boolean): void {
    this.atLineStart = true;
    if (this.inHeader) {
      this.inHeader = false;
      const name = Buffer.concat(this.nameParts).toString('latin1');
      if (name === '') throw new Error(`${this.what}: a header line at byte ${nextLineOffset} has no sequence name`);
      if (this.seen.has(name)) throw new Error(`${this.what}: sequence name ${name} appears twice`);
      this.seen.add(name);
      this.current = { name, offset: nextLineOffset, length: 0, lineBases: 0, lineWidth: 0, sawShortLine: false, sawBlankLine: false };
      return;
    }
    const bytes = this.lineBytes;
    const cr = this.lastWasCR;
    this.lineBytes = 0;
    this.lastWasCR = false;
    const bases = bytes - (cr ? 1 : 0);
    const rec = this.current;
    if (!rec) {
      if (bases === 0) return;
      throw new Error(`${this.what}: sequence data before the first '>' header`);
    }
    if (bases === 0) {
      rec.sawBlankLine = true;
      return;
    }
    const width = bytes + (terminated ? 1 : 0);
    const where = `${this.what}: sequence ${rec.name}`;
    if (rec.sawBlankLine) {
      throw new Error(`${where} has a blank line inside it; random access needs lines of one length`);
    }
    if (rec.lineBases === 0) {
      rec.lineBases = bases;
      // An unterminated single line never needs a line width for offsets; keep it consistent.
      rec.lineWidth = terminated ? width : bases + 1;
    } else if (rec.sawShortLine || bases > rec.lineBases || (terminated && width - bases !== rec.lineWidth - rec.lineBases)) {
      throw new Error(`${where} has lines of different lengths; random access needs every line but the last to be ${rec.lineBases} bases`);
    } else if (bases < rec.lineBases) {
      rec.sawShortLine = true;
    }
    rec.length += bases;
  }

  private finishRecord(): void {
    const rec = this.current;
    if (!rec) return;
    this.entries.push({ name: rec.name, length: rec.length, offset: rec.offset, lineBases: rec.lineBases, lineWidth: rec.lineWidth });
    this.current = undefined;
  }
}
