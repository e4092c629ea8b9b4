/**
 * --import FILE: columns built from per-event trace data another tool wrote.
 *
 * Two formats, one event per line:
 *   text  "time latency", separated by blanks: the input of Brendan Gregg's trace2heatmap.pl.
 *         Further fields are ignored; a first line with letters in it is a header and skipped,
 *         as trace2heatmap.pl does; lines starting with # and blank lines are skipped.
 *   csv   comma-separated with a header line naming the columns; fields may be "quoted".
 *         The time and latency columns are --time-column / --latency-column, or by default the
 *         first named time, timestamp or ts, and latency, lat or duration (any case, with or
 *         without a unit suffix).
 * The format is --import-format, or else csv for a *.csv file or one whose first line has a comma.
 *
 * Units: --time-unit and --latency-unit (s, ms, us, ns); a CSV header may carry them instead
 * ("latency_us", "lat(ms)", "time[s]"); else time in seconds (trace2heatmap.pl's default) and
 * latency in microseconds. Numbers are decimals (1e-3 notation too) converted exactly, with
 * BigInt, then rounded to the nearest nanosecond (halves up): a latency is placed with slotOf on
 * that integer, as the kernel places its own; an event lands in column floor(time / interval).
 * Times are unix time unless --time-base MS says which unix ms time 0 stands for (a trace
 * timed from boot or from its own start).
 */
import { extname } from 'node:path';
import { slotOf } from '../../shared/buckets.ts';
import type { Column } from '../../shared/column.ts';
import { plural } from '../base/words.ts';

export const TIME_UNITS = ['s', 'ms', 'us', 'ns'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];
export const IMPORT_FORMATS = ['text', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const UNIT_NS: Record<TimeUnit, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };
export const DEFAULT_TIME_UNIT: TimeUnit = 's';
export const DEFAULT_LATENCY_UNIT: TimeUnit = 'us';
/** An import may make at most this many columns (a day at 100 ms); beyond, a coarser --interval is needed. */
export const MAX_IMPORT_COLUMNS = 1_000_000;
/** How many malformed lines are named one by one; the rest are counted. */
export const MAX_REPORTED_LINES = 10;
/** The largest time (ns since 1970) a Date holds; --time-base is added first. */
const MAX_DATE_NS = 8_640_000_000_000_000_000_000n;

export interface ImportOptions {
  /** null: decide from the file name and content */
  readonly format: ImportFormat | null;
  /** null: from the CSV header, else the defaults */
  readonly timeUnit: TimeUnit | null;
  readonly latencyUnit: TimeUnit | null;
  readonly timeColumn: string | null;
  readonly latencyColumn: string | null;
  readonly intervalMs: number;
  /** unix ms that time 0 of the trace stands for */
  readonly timeBaseMs: number;
}

export interface BadLine {
  readonly line: number;
  readonly reason: string;
}

export interface ImportResult {
  readonly format: ImportFormat;
  readonly timeUnit: TimeUnit;
  readonly latencyUnit: TimeUnit;
  /** the CSV columns read, or null for text */
  readonly timeColumn: string | null;
  readonly latencyColumn: string | null;
  /** consecutive columns, first to last event, empty ones included; one series: latency, device 0, op other */
  readonly columns: Column[];
  /** events placed */
  readonly events: number;
  /** the first MAX_REPORTED_LINES malformed lines */
  readonly badLines: readonly BadLine[];
  readonly badCount: number;
}

/** A file that cannot be imported at all; the message names the file, the cause and the fix. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

// ---------------------------------------------------------------- numbers

const DECIMAL = /^\+?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;

/**
 * A non-negative decimal in `unit`, in nanoseconds, exactly, rounded to the nearest integer
 * (halves up); null when the text is not such a number. "12.5" us is 12500n, "1.5e-3" s is 1500000n.
 */
export function toNanoseconds(text: string, unit: TimeUnit): bigint | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const whole = m[1]!;
  const fraction = m[2] ?? '';
  if (whole.length === 0 && fraction.length === 0) return null;
  if (whole.length + fraction.length > 40) return null;
  const digits = BigInt(whole + fraction || '0');
  // value = digits * 10^(exponent - fraction.length) * unitNs
  const exponent = Number(m[3] ?? '0') - fraction.length;
  const scaled = digits * UNIT_NS[unit];
  if (exponent >= 0) return scaled * 10n ** BigInt(exponent);
  const divisor = 10n ** BigInt(-exponent);
  return (2n * scaled + divisor) / (2n * divisor);
}

function unitOfName(name: string): TimeUnit | null {
  const m = /(?:[_\s.-]|\(|\[)(s|secs?|ms|msecs?|us|µs|usecs?|ns|nsecs?)[)\]]?$/i.exec(name.trim());
  if (!m) return null;
  const unit = m[1]!.toLowerCase();
  if (unit.startsWith('ms')) return 'ms';
  if (unit.startsWith('us') || unit === 'µs') return 'us';
  if (unit.startsWith('ns')) return 'ns';
  return 's';
}

function baseName(name: string): string {
  return name
    .trim()
    .replace(/(?:[_\s.-]|\(|\[)(s|secs?|ms|msecs?|us|µs|usecs?|ns|nsecs?)[)\]]?$/i, '')
    .toLowerCase();
}

const TIME_NAMES = ['time', 'timestamp', 'ts'];
const LATENCY_NAMES = ['latency', 'lat', 'duration'];

// ---------------------------------------------------------------- lines

/** The fields of one CSV line (RFC 4180 quoting, no line breaks inside fields); null if a quote is unbalanced. */
export function splitCsvLine(line: string): string[] | null {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}

/** A line as the formats read it: without its line end and outer blanks; null for a blank or # line. */
function meaningful(line: string): string | null {
  const trimmed = line.trim();
  return trimmed === '' || trimmed.startsWith('#') ? null : trimmed;
}

/** The lines of a text with their 1-based numbers, skipping blank and # lines. */
function* meaningfulLines(text: string): Generator<[number, string]> {
  let start = 0;
  let number = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    number++;
    const line = meaningful(text.slice(start, end));
    start = end + 1;
    if (line !== null) yield [number, line];
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 30 ? `${text.slice(0, 30)}…` : text);
}

export function detectFormat(text: string, fileName: string): ImportFormat {
  for (const [, line] of meaningfulLines(text)) return formatOf(line, fileName);
  return 'text';
}

/** The format of a file from its name, else from its first meaningful line. */
function formatOf(firstLine: string, fileName: string): ImportFormat {
  if (extname(fileName).toLowerCase() === '.csv') return 'csv';
  return firstLine.includes(',') ? 'csv' : 'text';
}

// ---------------------------------------------------------------- binning

class Binner {
  private readonly bins = new Map<number, Map<number, number>>();
  private readonly intervalNs: bigint;
  private readonly baseNs: bigint;
  private minSeq = Infinity;
  private maxSeq = -Infinity;
  events = 0;

  constructor(
    private readonly intervalMs: number,
    timeBaseMs: number,
  ) {
    this.intervalNs = BigInt(intervalMs) * 1_000_000n;
    this.baseNs = BigInt(timeBaseMs) * 1_000_000n;
  }

  add(timeNs: bigint, latencyNs: bigint): void {
    const seq = Number((timeNs + this.baseNs) / this.intervalNs);
    // latencies beyond 2^53 ns (104 days) are all in the overflow slot anyway
    const slot = slotOf(latencyNs > 9_007_199_254_740_991n ? Number.MAX_SAFE_INTEGER : Number(latencyNs));
    let column = this.bins.get(seq);
    if (!column) {
      column = new Map();
      this.bins.set(seq, column);
      if (seq < this.minSeq) this.minSeq = seq;
      if (seq > this.maxSeq) this.maxSeq = seq;
    }
    column.set(slot, (column.get(slot) ?? 0) + 1);
    this.events++;
  }

  get span(): number {
    return this.events === 0 ? 0 : this.maxSeq - this.minSeq + 1;
  }

  columns(): Column[] {
    const columns: Column[] = [];
    for (let seq = this.minSeq; seq <= this.maxSeq; seq++) {
      const bin = this.bins.get(seq);
      const startMs = seq * this.intervalMs;
      if (!bin) {
        columns.push({ seq, startMs, intervalMs: this.intervalMs, series: [] });
        continue;
      }
      const slots = [...bin.keys()].sort((a, b) => a - b);
      const counts = slots.map((s) => bin.get(s)!);
      columns.push({ seq, startMs, intervalMs: this.intervalMs, series: [{ metric: 'latency', device: 0, op: 'other', slots, counts }] });
    }
    return columns;
  }
}

// ---------------------------------------------------------------- the import

interface Layout {
  readonly timeField: number;
  readonly latencyField: number;
  readonly split: (line: string) => string[] | null;
  readonly timeUnit: TimeUnit;
  readonly latencyUnit: TimeUnit;
  readonly timeColumn: string | null;
  readonly latencyColumn: string | null;
  /** the header's line number, or 0 */
  readonly headerLine: number;
}

function findColumn(header: readonly string[], wanted: string | null, defaults: readonly string[], what: string, flag: string, name: string): number {
  const names = header.map((h) => h.trim());
  if (wanted !== null) {
    const exact = names.findIndex((h) => h === wanted);
    const index = exact >= 0 ? exact : names.findIndex((h) => h.toLowerCase() === wanted.toLowerCase());
    if (index < 0) throw new ImportError(`${name}: the CSV header has no column "${wanted}" (${flag}); it has ${names.map((h) => `"${h}"`).join(', ')}`);
    return index;
  }
  const index = names.findIndex((h) => defaults.includes(baseName(h)));
  if (index < 0) {
    throw new ImportError(
      `${name}: no ${what} column in the CSV header (looked for ${defaults.join(', ')}); it has ${names.map((h) => `"${h}"`).join(', ')}: name the ${what} column with ${flag}`,
    );
  }
  return index;
}

function csvLayout(headerLine: number, line: string, name: string, options: ImportOptions): Layout {
  const header = splitCsvLine(line);
  if (!header) throw new ImportError(`${name} line ${headerLine}: the CSV header has an unbalanced quote`);
  const timeField = findColumn(header, options.timeColumn, TIME_NAMES, 'time', '--time-column', name);
  const latencyField = findColumn(header, options.latencyColumn, LATENCY_NAMES, 'latency', '--latency-column', name);
  if (timeField === latencyField) throw new ImportError(`${name}: the time and the latency column are both "${header[timeField]!.trim()}": name them with --time-column and --latency-column`);
  const timeColumn = header[timeField]!.trim();
  const latencyColumn = header[latencyField]!.trim();
  return {
    timeField,
    latencyField,
    split: splitCsvLine,
    timeUnit: options.timeUnit ?? unitOfName(timeColumn) ?? DEFAULT_TIME_UNIT,
    latencyUnit: options.latencyUnit ?? unitOfName(latencyColumn) ?? DEFAULT_LATENCY_UNIT,
    timeColumn,
    latencyColumn,
    headerLine,
  };
}

const BLANKS = /\s+/;

function textLayout(number: number, line: string, options: ImportOptions): Layout {
  if (options.timeColumn !== null || options.latencyColumn !== null) {
    throw new ImportError('--time-column and --latency-column name CSV columns; the text format is always "time latency": add --import-format csv if the file is CSV');
  }
  // trace2heatmap.pl skips a first line with letters in it: a header. "1e3 5" is numbers, not one.
  const fields = line.split(BLANKS);
  const numeric = fields.length >= 2 && toNanoseconds(fields[0]!, 's') !== null && toNanoseconds(fields[1]!, 's') !== null;
  return {
    timeField: 0,
    latencyField: 1,
    split: (text) => text.split(BLANKS),
    timeUnit: options.timeUnit ?? DEFAULT_TIME_UNIT,
    latencyUnit: options.latencyUnit ?? DEFAULT_LATENCY_UNIT,
    timeColumn: null,
    latencyColumn: null,
    headerLine: !numeric && /[a-zA-Z]/.test(line) ? number : 0,
  };
}

function reasonsOf(bad: readonly BadLine[], count: number): string {
  const named = bad.map((b) => `line ${b.line}: ${b.reason}`).join('; ');
  return count > bad.length ? `${named}; and ${count - bad.length} more` : named;
}

/**
 * Builds the columns of a trace one line at a time, so a file of any length costs only the
 * columns it makes: the layout (format, header, units) comes from the first meaningful line.
 */
export class TraceReader {
  private layout: Layout | null = null;
  private format: ImportFormat | null;
  private readonly binner: Binner;
  private readonly badLines: BadLine[] = [];
  private badCount = 0;
  private readonly maxTimeNs: bigint;

  constructor(
    private readonly name: string,
    private readonly options: ImportOptions,
  ) {
    this.format = options.format;
    this.binner = new Binner(options.intervalMs, options.timeBaseMs);
    this.maxTimeNs = MAX_DATE_NS - BigInt(options.timeBaseMs) * 1_000_000n;
  }

  /** One line of the file (without its line end) and its 1-based number. */
  line(text: string, number: number): void {
    const line = meaningful(text);
    if (line === null) return;
    if (this.layout === null) {
      this.format ??= formatOf(line, this.name);
      this.layout = this.format === 'csv' ? csvLayout(number, line, this.name, this.options) : textLayout(number, line, this.options);
    }
    const layout = this.layout;
    if (number === layout.headerLine) return;
    const fields = layout.split(line);
    if (!fields) return this.bad(number, 'a quote is not closed');
    const need = Math.max(layout.timeField, layout.latencyField) + 1;
    if (fields.length < need) {
      const what = this.format === 'csv' ? `${need} comma-separated fields` : 'two numbers, time and latency';
      return this.bad(number, `expected ${what}, found ${fields.length === 1 ? 'one field' : `${fields.length} fields`}`);
    }
    const timeText = fields[layout.timeField]!.trim();
    const latencyText = fields[layout.latencyField]!.trim();
    const timeNs = toNanoseconds(timeText, layout.timeUnit);
    if (timeNs === null) return this.bad(number, `time ${quote(timeText)} is not a number >= 0`);
    const latencyNs = toNanoseconds(latencyText, layout.latencyUnit);
    if (latencyNs === null) return this.bad(number, `latency ${quote(latencyText)} is not a number >= 0`);
    if (timeNs > this.maxTimeNs) return this.bad(number, `time ${quote(timeText)} ${layout.timeUnit} is past the last date JavaScript knows (year 275760)`);
    this.binner.add(timeNs, latencyNs);
    if (this.binner.span > MAX_IMPORT_COLUMNS) {
      throw new ImportError(
        `${this.name}: its events span more than ${MAX_IMPORT_COLUMNS.toLocaleString('en')} columns of ${this.options.intervalMs} ms (line ${number} is far from the others): choose a larger --interval, or check --time-unit (now ${layout.timeUnit})`,
      );
    }
  }

  private bad(line: number, reason: string): void {
    this.badCount++;
    if (this.badLines.length < MAX_REPORTED_LINES) this.badLines.push({ line, reason });
  }

  /** The columns, once every line was read; throws ImportError when no line was usable. */
  finish(): ImportResult {
    const layout = this.layout;
    if (layout === null) throw new ImportError(`${this.name} is empty: there is nothing to import`);
    const format = this.format!;
    if (this.binner.events === 0) {
      const why = this.badCount > 0 ? `${this.badCount} malformed: ${reasonsOf(this.badLines, this.badCount)}` : 'only a header, comments or blank lines';
      const expected = format === 'csv' ? 'CSV rows with a time and a latency' : '"time latency" lines (trace2heatmap.pl\'s input) or CSV with a header';
      throw new ImportError(`${this.name} has no usable line (${why}): --import reads ${expected}; see bpfheat --help`);
    }
    return {
      format,
      timeUnit: layout.timeUnit,
      latencyUnit: layout.latencyUnit,
      timeColumn: layout.timeColumn,
      latencyColumn: layout.latencyColumn,
      columns: this.binner.columns(),
      events: this.binner.events,
      badLines: this.badLines,
      badCount: this.badCount,
    };
  }
}

/** Builds the columns of a trace held in a string. Pure: text in, columns and the malformed lines out. */
export function importTrace(text: string, name: string, options: ImportOptions): ImportResult {
  const reader = new TraceReader(name, options);
  let start = 0;
  let number = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    reader.line(text.slice(start, end), ++number);
    start = end + 1;
  }
  return reader.finish();
}

/** The malformed-line report: a count, and the first lines by number with the reason. */
export function badLinesNote(name: string, result: Pick<ImportResult, 'badLines' | 'badCount' | 'events'>): string | null {
  if (result.badCount === 0) return null;
  const lines = result.badCount === 1 ? 'line' : 'lines';
  return `note: ${name}: ${result.badCount} malformed ${lines} skipped (${plural(result.events, 'event')} read): ${reasonsOf(result.badLines, result.badCount)}`;
}
