/**
 * A query_range answer of native histograms read straight from its text.
 *
 * Reading a fleet per host is ~200 MB of JSON a day: JSON.parse builds an array and four strings
 * for each of the 4 million buckets, and collecting them cost more than the parse (in a profile,
 * 2.4 s of garbage collection, 1.6 s of parsing and 1.2 s of turning strings into slots for one
 * read). Prometheus writes the answer in one fixed shape, so this reads that shape with a cursor
 * and keeps only the counts; any text not in the shape (an error, another Prometheus's key
 * order) goes to JSON.parse and parseMatrix, which give the same series or the error.
 */
import { SLOTS, OPS, type Metric } from '../../shared/scheme.ts';
import { slotOfNativeBucket } from './exposition.ts';
import { histogramMetricOf, labelKey, parseMatrix, targetKey, type CumulativeSample, type SeriesSamples } from './prometheus-query.ts';

const HEAD = '{"status":"success","data":{"resultType":"matrix","result":[';

/** Thrown inside the scan when the text leaves the known shape: the caller parses it in full instead. */
class OffShape extends Error {}

const QUOTE = 34;
const BACKSLASH = 92;
const DOT = 46;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  /** Steps over `literal`, which must come next. */
  expect(literal: string): void {
    if (!this.text.startsWith(literal, this.pos)) throw new OffShape();
    this.pos += literal.length;
  }

  /** Steps over `literal` when it comes next. */
  accept(literal: string): boolean {
    if (!this.text.startsWith(literal, this.pos)) return false;
    this.pos += literal.length;
    return true;
  }

  /** The JSON object or array starting here, as text (strings and escapes respected). */
  balanced(): string {
    const start = this.pos;
    let depth = 0;
    for (let i = this.pos; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === QUOTE) {
        for (i++; i < this.text.length && this.text.charCodeAt(i) !== QUOTE; i++) if (this.text.charCodeAt(i) === BACKSLASH) i++;
      } else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) {
          this.pos = i + 1;
          return this.text.slice(start, this.pos);
        }
      }
    }
    throw new OffShape();
  }

  /** Steps past the closing quote of a string whose opening quote is already behind. */
  skipString(): void {
    const end = this.text.indexOf('"', this.pos);
    if (end < 0) throw new OffShape();
    this.pos = end + 1;
  }

  /**
   * A number up to `closing`, read from its digits: exact for a whole number of at most 15
   * digits; with `exact` false a fraction is read too, within a few ulps (a bucket's bound only
   * picks a slot). Any other form (exponent, fraction of a count, more digits) is read by Number.
   */
  number(closing: number, exact: boolean): number {
    const start = this.pos;
    let mantissa = 0;
    let scale = 1;
    let i = start;
    for (let c = this.text.charCodeAt(i); c >= ZERO && c <= NINE; c = this.text.charCodeAt(++i)) mantissa = mantissa * 10 + (c - ZERO);
    if (i === start) throw new OffShape();
    if (!exact && this.text.charCodeAt(i) === DOT) {
      for (let c = this.text.charCodeAt(++i); c >= ZERO && c <= NINE; c = this.text.charCodeAt(++i)) {
        mantissa = mantissa * 10 + (c - ZERO);
        scale *= 10;
      }
    }
    if (this.text.charCodeAt(i) === closing && (!exact || i - start < 16)) {
      this.pos = i + 1;
      return mantissa / scale;
    }
    const end = this.text.indexOf(String.fromCharCode(closing), i);
    const value = end < 0 ? NaN : Number(this.text.slice(start, end));
    if (!Number.isFinite(value)) throw new OffShape();
    this.pos = end + 1;
    return value;
  }
}

/** One sample's buckets, from the `[` of its bucket list; the cursor ends past the list's `]`. */
function scanBuckets(cursor: Cursor): Float64Array {
  const counts = new Float64Array(SLOTS);
  if (cursor.accept(']')) return counts;
  do {
    cursor.expect('[');
    const rule = cursor.number(COMMA, true);
    cursor.expect('"');
    cursor.skipString();
    cursor.expect(',"');
    const upper = cursor.number(QUOTE, false);
    cursor.expect(',"');
    counts[slotOfNativeBucket(rule, upper)]! += cursor.number(QUOTE, true);
    cursor.expect(']');
  } while (cursor.accept(','));
  cursor.expect(']');
  return counts;
}

/** The samples of one series, from the `[` of its histograms list. */
function scanSamples(cursor: Cursor): CumulativeSample[] {
  const samples: CumulativeSample[] = [];
  cursor.expect('[');
  if (cursor.accept(']')) return samples;
  do {
    cursor.expect('[');
    const seconds = cursor.number(COMMA, false);
    cursor.expect('{"count":"');
    cursor.skipString();
    cursor.expect(',"sum":"');
    cursor.skipString();
    const counts = cursor.accept(',"buckets":[') ? scanBuckets(cursor) : new Float64Array(SLOTS);
    cursor.expect('}]');
    samples.push({ timeMs: Math.round(seconds * 1000), counts });
  } while (cursor.accept(','));
  cursor.expect(']');
  return samples;
}

function scan(text: string, hostLabel: string, metricOf: (labels: Readonly<Record<string, string>>) => Metric | undefined): SeriesSamples[] {
  const cursor = new Cursor(text);
  cursor.expect(HEAD);
  const series: SeriesSamples[] = [];
  if (!cursor.accept(']')) {
    do {
      cursor.expect('{"metric":');
      const labels = JSON.parse(cursor.balanced()) as Record<string, string>;
      const metric = metricOf(labels);
      if (metric && cursor.accept(',"histograms":')) {
        const op = OPS.find((o) => o === labels.op) ?? 'other';
        series.push({ key: labelKey(labels), target: targetKey(labels), metric, host: labels[hostLabel] ?? '', device: labels.device ?? '', op, samples: scanSamples(cursor) });
      } else {
        // a float series, or not one of ours: left out, as parseMatrix leaves it out
        cursor.expect(',"');
        cursor.skipString();
        cursor.expect(':');
        cursor.balanced();
      }
      cursor.expect('}');
    } while (cursor.accept(','));
    cursor.expect(']');
  }
  cursor.expect('}}');
  if (cursor.pos !== text.length) throw new OffShape();
  return series;
}

/**
 * The histogram series of a query_range answer's text, each taken as the metric `metricOf` names
 * from its labels (left out when it names none); null when the text is not in the shape this reads.
 */
export function scanHistogramMatrix(text: string, hostLabel: string, metricOf: (labels: Readonly<Record<string, string>>) => Metric | undefined): SeriesSamples[] | null {
  try {
    return scan(text, hostLabel, metricOf);
  } catch (error) {
    if (error instanceof OffShape) return null;
    throw error;
  }
}

/**
 * The series of a query_range answer's text, as parseMatrix(JSON.parse(text)) gives them; throws
 * what those throw for an error answer or text that is not JSON.
 */
export function parseMatrixText(text: string, hostLabel: string): SeriesSamples[] {
  return scanHistogramMatrix(text, hostLabel, (labels) => histogramMetricOf(labels.__name__)) ?? parseMatrix(JSON.parse(text) as unknown, hostLabel);
}
