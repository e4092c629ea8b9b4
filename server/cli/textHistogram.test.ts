import { describe, expect, it } from 'vitest';
import { SLOTS } from '../../shared/scheme.ts';
import { slotOf } from '../../shared/buckets.ts';
import { formatByProcess, formatTextHistogram, TEXT_UNITS } from './textHistogram.ts';

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
