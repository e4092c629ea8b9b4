import { describe, expect, it } from 'vitest';
import { parseMatrix, QueryAnswerError } from './prometheus-query.ts';
import { parseMatrixText } from './prometheus-scan.ts';

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
