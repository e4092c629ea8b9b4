import { describe, expect, it } from 'vitest';
import { parseMatrix, QueryAnswerError } from './prometheus-query.ts';
import { parseMatrixText } from './prometheus-scan.ts';
import { parseSumMatrix, parseSumMatrixText } from './prometheus-sums.ts';
import { seededRandom } from '../../test/random.ts';

const LATENCY = 'bpfheat_io_latency_nanoseconds';

/** A bucket as Prometheus writes it: bounds of schema 3 index i, and a count. */
function bucket(index: number, count: string): [number, string, string, string] {
  return [0, String(2 ** ((index - 1) / 8)), String(2 ** (index / 8)), count];
}

function answerOf(result: unknown[]): string {
  return JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } });
}

const series = (labels: Record<string, string>, samples: unknown[]): unknown => ({ metric: { __name__: LATENCY, device: 'sda', op: 'read', ...labels }, histograms: samples });
const sample = (seconds: number, buckets: unknown[]): unknown => [seconds, { count: '0', sum: '0', ...(buckets.length > 0 ? { buckets } : {}) }];

describe('parseMatrixText', () => {
  it.each([
    ['an empty result', answerOf([])],
    ['buckets across octaves, the zero bucket, a bound Prometheus rounds differently from 2 ** (i / 8)', answerOf([series({ instance: 'a:1' }, [sample(1796145000, [[3, '-0.5', '0.5', '2'], bucket(80, '62'), bucket(81, '63'), bucket(177, '1')])])])],
    ['several series and samples, fractional times, an empty histogram', answerOf([series({ instance: 'a:1' }, [sample(1.5, [bucket(100, '7')]), sample(3, [])]), series({ instance: 'b:2', op: 'write' }, [sample(1.5, [bucket(90, '1')])])])],
    ['counts past 2^53, in exponent form and with a fraction', answerOf([series({ instance: 'a:1' }, [sample(1, [bucket(100, '9007199254740993'), bucket(101, '1e+21'), bucket(102, '2.5'), bucket(103, '123456789012345')])])])],
    ['label values with quotes, brackets and backslashes', answerOf([series({ instance: 'a"]}{[\\', job: '{"x":[1]}' }, [sample(1, [bucket(100, '3')])])])],
    ['a float series and a histogram not of ours among ours', answerOf([{ metric: { __name__: 'up', instance: 'a' }, values: [[1, '1']] }, { metric: { __name__: 'other' }, histograms: [sample(1, [bucket(5, '1')])] }, series({ instance: 'a:1' }, [sample(1, [bucket(100, '4')])])])],
    ['another key order (off the shape: read in full)', JSON.stringify({ data: { result: [series({ instance: 'a:1' }, [sample(1, [bucket(100, '4')])])], resultType: 'matrix' }, status: 'success' })],
    ['indented text (off the shape: read in full)', JSON.stringify(JSON.parse(answerOf([series({ instance: 'a:1' }, [sample(1, [bucket(100, '4')])])])), null, 2)],
  ])('gives what JSON.parse and parseMatrix give: %s', (_name, text) => {
    expect(parseMatrixText(text, 'instance')).toEqual(parseMatrix(JSON.parse(text), 'instance'));
  });

  it('throws what parseMatrix throws for an error answer, and a SyntaxError for text that is not JSON', () => {
    expect(() => parseMatrixText(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }), 'instance')).toThrow(new QueryAnswerError('parse error at char 3'));
    expect(() => parseMatrixText('<html>502 Bad Gateway</html>', 'instance')).toThrow(SyntaxError);
    expect(() => parseMatrixText(answerOf([series({}, [sample(1, [bucket(100, '4')])])]).slice(0, -5), 'instance')).toThrow(SyntaxError);
  });
});

/**
 * Random query_range answers of the shapes Prometheus writes, and off them: counts that are not
 * counts (NaN, Inf, negative, blank, hex), bounds past the float range and below it, label values
 * with quotes, backslashes, line separators and emoji, a warnings key after the data, indented
 * text, series without a name or of another kind.
 */
function randomAnswers(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const counts = ['0', '1', '7', '123456789012345', '9007199254740993', '1e+06', '1e+21', '2.5', 'NaN', '+Inf', '-Inf', '-3', '', ' 5', '5 ', '0x10', '00012', '3.0', '1E3'];
  const upper = (i: number): string => (random() < 0.8 ? String(2 ** (i / 8)) : pick([(2 ** (i / 8)).toExponential(), String(-(2 ** (i / 8))), '1e+25', '1e+400', '1e-07', '1e-400', '+Inf', 'NaN', '5.']));
  const labelValues = ['a', 'a"b', 'a\\"]}', '\\', 'x\u2028y', '\u{1F600}', '{"k":[1]}', 'a,b=c', ''];
  const histogram = (): unknown => {
    const buckets = Array.from({ length: Math.floor(random() * 4) }, () => {
      const i = Math.floor(random() * 200) - 20;
      return [pick([0, 0, 0, 1, 3]), String(2 ** ((i - 1) / 8)), upper(i), random() < 0.7 ? String(Math.floor(random() * 100)) : pick(counts)];
    });
    return { count: '1', sum: pick(['0', '1.5', 'NaN', '-2']), ...(buckets.length > 0 || random() < 0.2 ? { buckets } : {}) };
  };
  const sample = (): unknown => [pick([1, 1.5, 1796145000.123, 1796145000, 1e9 + 0.001]), histogram()];
  const series = (): unknown => {
    const labels: Record<string, string> = { __name__: pick([LATENCY, LATENCY, 'bpfheat_io_size_bytes', 'other']), instance: pick(labelValues), device: pick(['sda', 'n"v']), op: pick(['read', 'write', 'x']) };
    if (random() < 0.1) delete labels.__name__;
    const kind = random();
    if (kind < 0.1) return { metric: labels, values: [[1, '1']] };
    if (kind < 0.15) return { metric: labels, values: [[1, '1']], histograms: [sample()] };
    if (kind < 0.2) return { histograms: [sample()], metric: labels };
    return { metric: labels, histograms: Array.from({ length: Math.floor(random() * 3) }, sample) };
  };
  return Array.from({ length: count }, () => {
    const body: Record<string, unknown> = { status: 'success', data: { resultType: 'matrix', result: Array.from({ length: Math.floor(random() * 3) }, series) } };
    if (random() < 0.05) body.warnings = ['w'];
    return JSON.stringify(body, null, random() < 0.05 ? 1 : undefined);
  });
}

/** What a parse gives, or the class and message it throws. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    return { threw: (error as Error).constructor.name, message: (error as Error).message };
  }
}

describe('parseMatrixText and parseSumMatrixText on random answers', () => {
  it.each([1, 2, 3, 4])('give what JSON.parse and the full parsers give (seed %i, 500 answers)', (seed) => {
    let read = 0;
    for (const text of randomAnswers(seed, 500)) {
      const scanned = outcome(() => parseMatrixText(text, 'instance'));
      expect(scanned, text).toEqual(outcome(() => parseMatrix(JSON.parse(text), 'instance')));
      if (Array.isArray(scanned) && scanned.length > 0) read++;
      // a sum answer's series without a sample are of no step: the cursor may leave them out
      const sums = (parse: () => ReturnType<typeof parseSumMatrix>) => outcome(() => parse().filter((s) => s.values.size > 0));
      expect(sums(() => parseSumMatrixText(text, 'latency')), text).toEqual(sums(() => parseSumMatrix(JSON.parse(text), 'latency')));
    }
    // the answers are not mostly refused: the cursor's reading is compared, not only its errors
    expect(read).toBeGreaterThan(100);
  });
});
