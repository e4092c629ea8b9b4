import { describe, expect, it } from 'vitest';
import { SLOTS } from '../../shared/scheme.ts';
import { slotOf } from '../../shared/buckets.ts';
import { regionStats } from '../../shared/view.ts';
import { formatByProcess, formatHeading, formatSampleNote, formatTextHistogram, TEXT_UNITS, textRows } from './textHistogram.ts';

function histogram(entries: [number, number][]): Float64Array {
  const h = new Float64Array(SLOTS);
  for (const [value, count] of entries) h[slotOf(value)]! += count;
  return h;
}

describe('formatTextHistogram', () => {
  it('prints only the header for an empty histogram', () => {
    expect(formatTextHistogram(new Float64Array(SLOTS), TEXT_UNITS.usecs)).toBe(
      '                   usecs           : count    distribution\n',
    );
  });

  // bounds are the integer byte bounds floor(2^(i/8)) in KiB, e.g. 4466 B = 4.361 KiB
  it('prints the bitehist layout from the lowest to the highest non-empty bucket', () => {
    const text = formatTextHistogram(histogram([[4096, 10], [8192, 5]]), TEXT_UNITS.kbytes);
    expect(text).toBe(
      [
        '                  kbytes           : count    distribution',
        '           3.668 -> 4                : 10       |****************************************|',
        '               4 -> 4.361            : 0        |                                        |',
        '           4.361 -> 4.756            : 0        |                                        |',
        '           4.756 -> 5.187            : 0        |                                        |',
        '           5.187 -> 5.656            : 0        |                                        |',
        '           5.656 -> 6.168            : 0        |                                        |',
        '           6.168 -> 6.727            : 0        |                                        |',
        '           6.727 -> 7.336            : 0        |                                        |',
        '           7.336 -> 8                : 5        |********************                    |',
        '',
      ].join('\n'),
    );
  });

  it('scales latency to milliseconds with -m and shows the overflow bucket as inf', () => {
    const text = formatTextHistogram(histogram([[2 ** 41, 1]]), TEXT_UNITS.msecs);
    expect(text.split('\n')[0]).toContain('msecs');
    expect(text).toContain('1099511.628 -> inf');
  });

  it('shows the zero bucket as 0 -> 0', () => {
    expect(formatTextHistogram(histogram([[0, 3]]), TEXT_UNITS.usecs)).toContain('               0 -> 0                : 3 ');
  });
});

describe('formatByProcess', () => {
  const exemplar = (pid: number, comm: string, latencyNs: number) => ({ timeMs: 0, latencyNs, bytes: 4096, device: 0, op: 'read' as const, sector: 0, pid, comm });

  it('prints one bitesize block per process, busiest first', () => {
    const text = formatByProcess([exemplar(7, 'fio', 100_000), exemplar(9, 'dd', 100_000), exemplar(9, 'dd', 100_500)], 'latency', TEXT_UNITS.usecs);
    const blocks = text.split('\nPID: ').slice(1);
    expect(blocks.map((b) => b.split('\n')[0])).toEqual(['9    CMD: dd', '7    CMD: fio']);
    expect(blocks[0]).toContain(': 2        |****************************************|');
  });

  it('bins sizes in bytes for the size metric', () => {
    const text = formatByProcess([exemplar(1, 'a', 5)], 'size', TEXT_UNITS.kbytes);
    expect(text).toContain('3.668 -> 4 ');
  });

  it('prints nothing without exemplars', () => {
    expect(formatByProcess([], 'latency', TEXT_UNITS.usecs)).toBe('');
  });
});

/** biolatency's rule (bpftrace hist(), bcc's log2l): 0 is its own row, then v lands in [2^k, 2^(k+1)). */
function biolatencyRows(values: readonly number[]): Map<number, number> {
  const rows = new Map<number, number>();
  for (const v of values) {
    const k = v === 0 ? -1 : Math.floor(Math.log2(v));
    rows.set(k, (rows.get(k) ?? 0) + 1);
  }
  return rows;
}

/** The counts of `--text --log2` rows, keyed by the power of two that is the row's upper bound. */
function log2Counts(values: readonly number[]): Map<number, number> {
  const h = new Float64Array(SLOTS);
  for (const v of values) h[slotOf(v)]! += 1;
  return new Map(textRows(h, 'log2').filter((r) => r.count > 0).map((r) => [Math.log2(r.upper), r.count]));
}

describe('--text --log2 rows', () => {
  it('are exact powers of two: every 8th bucket bound, 8 buckets a row', () => {
    const h = new Float64Array(SLOTS);
    h.fill(1);
    const rows = textRows(h, 'log2');
    expect(rows[0]).toEqual({ lower: -1, upper: 1, count: 2 });
    for (let e = 0; e < 40; e++) expect(rows[e + 1]).toEqual({ lower: 2 ** e, upper: 2 ** (e + 1), count: 8 });
    expect(rows[41]).toEqual({ lower: 2 ** 40, upper: Infinity, count: 1 });
    expect(rows).toHaveLength(42);
  });

  // Latencies of a disk under load, in ns, none a power of two (those sit on a row's edge,
  // upper-inclusive here as in OpenTelemetry, lower-inclusive in biolatency).
  const latenciesNs = [3, 700, 1_500, 9_999, 48_000, 65_000, 120_000, 130_000, 131_000, 250_000, 900_000, 1_100_000, 4_000_000, 4_100_000, 17_000_000, 160_000_000];

  it('count what biolatency counts in the same unit, row for row, on fixed input', () => {
    const ours = log2Counts(latenciesNs);
    // our row (2^e, 2^(e+1)] is biolatency's row [2^e, 2^(e+1)) for values that are not powers of two
    const theirs = new Map([...biolatencyRows(latenciesNs)].map(([k, count]) => [k + 1, count]));
    expect(ours).toEqual(theirs);
  });

  it('match biolatency’s usecs rows, but for I/Os within 2.4 % above one of its bounds (1000 is not a power of two)', () => {
    // biolatency bins floor(ns / 1000) µs in [2^k, 2^(k+1)); our rows are powers of two of ns,
    // (1.024, 2.048] µs, (2.048, 4.096] µs, …: the row of upper bound 2^(k+11) ns stands for biolatency's row k.
    const micro = latenciesNs.filter((ns) => ns >= 1000);
    const withinBound = (ns: number) => {
      const k = Math.floor(Math.log2(ns / 1000));
      return ns >= 1000 * 2 ** k && ns <= 1024 * 2 ** k;
    };
    expect(micro.filter(withinBound)).toEqual([65_000, 130_000, 131_000, 4_100_000]);
    const asBiolatency = (values: number[], shift: number) => new Map([...biolatencyRows(values.map((ns) => Math.floor(ns / 1000)))].map(([k, c]) => [k + shift, c]));
    const outside = micro.filter((ns) => !withinBound(ns));
    expect(log2Counts(outside)).toEqual(asBiolatency(outside, 11));
    // 65 µs is in biolatency's row 64 -> 127 but ours is (32.768, 65.536] µs: one row lower
    const inside = micro.filter(withinBound);
    expect(log2Counts(inside)).toEqual(asBiolatency(inside, 10));
  });

  it('prints biolatency’s ~15 rows where the fine layout prints ~100', () => {
    const h = new Float64Array(SLOTS);
    for (const v of latenciesNs) h[slotOf(v)]! += 1;
    const fine = formatTextHistogram(h, TEXT_UNITS.usecs).trimEnd().split('\n');
    const log2 = formatTextHistogram(h, TEXT_UNITS.usecs, 'log2').trimEnd().split('\n');
    const { min, max } = regionStats(h);
    expect(fine.length - 1).toBe(max - min + 1);
    expect(log2.slice(0, 4)).toEqual([
      '                   usecs           : count    distribution',
      '           0.002 -> 0.004            : 1        |*************                           |',
      '           0.004 -> 0.008            : 0        |                                        |',
      '           0.008 -> 0.016            : 0        |                                        |',
    ]);
    expect(log2).toContain('          65.536 -> 131.072          : 3        |****************************************|');
    expect(log2.at(-1)).toBe('      134217.728 -> 268435.456       : 1        |*************                           |');
    expect(log2).toHaveLength(1 + 27);
  });

  it('for sizes, rows of powers of two of KiB', () => {
    const h = new Float64Array(SLOTS);
    h[slotOf(4096)]! += 3;
    h[slotOf(131072)]! += 1;
    const text = formatTextHistogram(h, TEXT_UNITS.kbytes, 'log2');
    expect(text).toContain('               2 -> 4                : 3 ');
    expect(text).toContain('              64 -> 128              : 1 ');
  });
});

describe('the interval heading and the --by-process note', () => {
  it('names the devices, the total and the interval', () => {
    const startMs = new Date(2026, 11, 1, 14, 3, 12).getTime();
    expect(formatHeading({ startMs, intervalMs: 1000, devices: ['loop3', 'vda'], everyDevice: true, total: 41234 })).toBe('14:03:12  all devices (loop3, vda)  total 41234 I/Os in 1 s');
    expect(formatHeading({ startMs, intervalMs: 250, devices: ['loop3'], everyDevice: false, total: 1 })).toBe('14:03:12  device loop3  total 1 I/O in 250 ms');
    expect(formatHeading({ startMs, intervalMs: 2000, devices: [], everyDevice: true, total: 0 })).toBe('14:03:12  all devices (none yet)  total 0 I/Os in 2 s');
  });

  it('says when the processes are a sample, and how to see every I/O', () => {
    expect(formatSampleNote(120, 120, 0, true)).toBe('every I/O shown (120)');
    expect(formatSampleNote(242, 80672, 5000, true)).toBe(
      'a sample: 242 of 80672 I/Os (those over the exemplar threshold, 5000 more over the threshold dropped by the exemplar cap); for every I/O, run with --threshold 0 --exemplar-rate 100000',
    );
    expect(formatSampleNote(242, 80672, 0, false)).toBe('a sample: 242 of 80672 I/Os (those over the exemplar threshold); a recording holds only the exemplars it captured');
  });
});
