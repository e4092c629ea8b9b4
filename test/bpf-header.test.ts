/**
 * The kernel side and the TypeScript side agree: every constant of bpf/bpfheat.h equals its
 * mirror in shared/scheme.ts, and the C slot function (built for the host from the same
 * header) places every value exactly as slotOf does, at each bucket boundary and ±1, and the C
 * column function (which checks a cached column before it divides) gives columnAt's column
 * whatever the cached column is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as scheme from '../shared/scheme.ts';
import { floorBound, placementTable, slotOf } from '../shared/buckets.ts';
import { columnAt, type ColumnClock } from '../server/tracer/clock.ts';
import { PROG_INFO_RECURSION_MISSES_OFFSET, PROG_INFO_RUN_CNT_OFFSET, PROG_INFO_RUN_TIME_NS_OFFSET, PROG_INFO_SIZE } from '../server/tracer/libbpf.ts';

const BPF_DIR = fileURLToPath(new URL('../bpf/', import.meta.url));

function headerDefines(): Map<string, number> {
  const text = readFileSync(`${BPF_DIR}/bpfheat.h`, 'utf8');
  return new Map([...text.matchAll(/^#define BPFHEAT_(\w+) (\d+)\b/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('bpf/bpfheat.h and shared/scheme.ts', () => {
  const defines = headerDefines();
  const camel = (name: string) => name.toLowerCase().replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

  it.each([
    ['BUCKETS_PER_OCTAVE', scheme.BUCKETS_PER_OCTAVE],
    ['MAX_EXPONENT', scheme.MAX_EXPONENT],
    ['SLOTS', scheme.SLOTS],
    ['SLOT_ZERO', scheme.SLOT_ZERO],
    ['SLOT_ONE', scheme.SLOT_ONE],
    ['SLOT_OVERFLOW', scheme.SLOT_OVERFLOW],
    ['SPLIT_BITS', scheme.SPLIT_BITS],
    ['SPLITS_PER_EXPONENT', scheme.SPLITS_PER_EXPONENT],
    ['MAX_DEVICES', scheme.MAX_DEVICES],
    ['OPS', scheme.OPS.length],
    ['METRICS', scheme.METRICS.length],
    ['RING_COLUMNS', scheme.RING_COLUMNS],
    ['COLUMN_CELLS', scheme.COLUMN_CELLS],
    ['MAX_SLICES', scheme.MAX_SLICES],
    ['MAX_CPUS', scheme.MAX_CPUS],
    ['START_ENTRIES', scheme.START_ENTRIES],
    ['STORE_ENTRIES', scheme.STORE_ENTRIES],
    ['UNSEEN_COUNTS', scheme.UNSEEN_COUNTS],
    ['STATS', scheme.STAT_COUNT],
    ['EXEMPLAR_RING_BYTES', scheme.EXEMPLAR_RING_BYTES],
    ['COMM_LEN', scheme.COMM_LEN],
    ['EXEMPLAR_BYTES', scheme.EXEMPLAR_BYTES],
    ['EXEMPLAR_COUNTS', scheme.EXEMPLAR_COUNTS],
    ['CONTROLS', scheme.CONTROL_COUNT],
  ])('%s agrees', (name, value) => expect(defines.get(name)).toBe(value));

  it('agrees on every stats index', () => {
    const stats = [...defines].filter(([name]) => name.startsWith('STAT_')).map(([name, value]) => [camel(name.slice(5)), value]);
    expect(Object.fromEntries(stats)).toEqual(scheme.STATS);
  });

  it.each([
    ['PRESENT', scheme.DEVICE_PRESENT],
    ['UNSTAMPED', scheme.DEVICE_UNSTAMPED],
  ])('agrees on the device flag %s', (name, value) => {
    const flag = new RegExp(`^#define BPFHEAT_DEVICE_${name} \\(1ULL << (\\d+)\\)`, 'm').exec(readFileSync(`${BPF_DIR}/bpfheat.h`, 'utf8'));
    expect(flag && 1n << BigInt(flag[1]!)).toBe(value);
  });

  it('agrees on every config flag', () => {
    const flags = [...defines].filter(([name]) => name.startsWith('FLAG_')).map(([name, value]) => [camel(name.slice(5)), value]);
    expect(Object.fromEntries(flags)).toEqual(scheme.FLAGS);
  });

  it('agrees on every control index', () => {
    const controls = [...defines].filter(([name]) => name.startsWith('CONTROL_')).map(([name, value]) => [camel(name.slice(8)), value]);
    expect(Object.fromEntries(controls)).toEqual(scheme.CONTROL);
  });

  it('lays cells out [metric][device][op][slot]', () => {
    expect(scheme.cellIndex(1, 0, 0, 0)).toBe(scheme.MAX_DEVICES * scheme.OPS.length * scheme.SLOTS);
    expect(scheme.cellIndex(0, 1, 0, 0)).toBe(scheme.OPS.length * scheme.SLOTS);
    expect(scheme.cellIndex(scheme.METRICS.length - 1, scheme.MAX_DEVICES - 1, scheme.OPS.length - 1, scheme.SLOTS - 1)).toBe(scheme.COLUMN_CELLS - 1);
  });
});

describe('C bpfheat_slot and TypeScript slotOf', () => {
  let oracle: string;
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', BPF_DIR, '.output/slot-oracle']);
    oracle = `${BPF_DIR}/.output/slot-oracle`;
  });

  it('agree at every bucket boundary, one below and one above, up to 2^41', () => {
    const values = new Set<bigint>([0n, 1n, 2n, 3n]);
    for (let i = 0; i <= (scheme.MAX_EXPONENT + 1) * scheme.BUCKETS_PER_OCTAVE; i++) {
      const bound = floorBound(i);
      for (const v of [bound - 1n, bound, bound + 1n]) if (v >= 0n) values.add(v);
    }
    expect(slotsFromC(values)).toEqual([...values].map((v) => slotOf(Number(v))));
  });

  it('agree at both ends of every sixteenth of an octave the kernel looks up, and at every value below 2^13', () => {
    const values = new Set<bigint>();
    for (let v = 0n; v < 1n << 13n; v++) values.add(v);
    const bits = BigInt(scheme.SPLIT_BITS);
    for (let e = bits; e < BigInt(scheme.MAX_EXPONENT); e++) {
      for (let m = 0n; m < BigInt(scheme.SPLITS_PER_EXPONENT); m++) {
        const start = (1n << e) + (m << (e - bits)); // v - 1 at the part's start
        values.add(start + 1n);
        values.add(start + (1n << (e - bits)));
      }
    }
    expect(slotsFromC(values)).toEqual([...values].map((v) => slotOf(Number(v))));
  });

  function slotsFromC(values: ReadonlySet<bigint>): number[] {
    const input = [...placementTable(), ...values].join('\n');
    const slots = execFileSync(oracle, { input, encoding: 'utf8' }).trim().split('\n').map(Number);
    expect(slots).toHaveLength(values.size);
    return slots;
  }
});

describe('C bpfheat_column and TypeScript columnAt', () => {
  const INTERVAL = 250_000_000n;
  let oracle: string;
  beforeAll(() => {
    execFileSync('make', ['-s', '-C', BPF_DIR, '.output/column-oracle']);
    oracle = `${BPF_DIR}/.output/column-oracle`;
  });

  /** Each sequence starts from its cached column and runs its times in order, the cache carried
   * from one to the next; the columns the C function gives, one list per sequence. */
  function fromC(clock: ColumnClock, sequences: readonly { cached: bigint; times: readonly bigint[] }[]): bigint[][] {
    const input = [`${clock.intervalNs} ${clock.phaseNs}`, ...sequences.map((s) => [s.cached, ...s.times].join(' '))].join('\n');
    const lines = execFileSync(oracle, { input: `${input}\n`, encoding: 'utf8' }).trimEnd().split('\n');
    return lines.map((line) => line.split(' ').map(BigInt));
  }

  /** aligned = k·I − 1, k·I, k·I + 1, with the cached column at 0, k − 1, k, k + 1 and k + 1000 */
  function boundaryCases(clock: ColumnClock): { cached: bigint; times: bigint[] }[] {
    const cases: { cached: bigint; times: bigint[] }[] = [];
    for (const k of [1n, 2n, 4_000n, 7_000_000n, 70_000_000_000n]) {
      for (const cached of [0n, k - 1n, k, k + 1n, k + 1000n]) {
        for (const aligned of [k * INTERVAL - 1n, k * INTERVAL, k * INTERVAL + 1n]) {
          if (aligned >= clock.phaseNs) cases.push({ cached, times: [aligned - clock.phaseNs] });
        }
      }
    }
    return cases;
  }

  it.each([
    { name: 'no phase', phaseNs: 0n },
    { name: 'a phase', phaseNs: 123_456_789n },
    { name: 'a phase of one interval less 1 ns', phaseNs: INTERVAL - 1n },
  ])('agree at every column boundary and ±1 ns, whatever column is cached ($name)', ({ phaseNs }) => {
    const clock: ColumnClock = { intervalNs: INTERVAL, phaseNs, offsetNs: 0n };
    const cases = boundaryCases(clock);
    expect(fromC(clock, cases)).toEqual(cases.map((c) => c.times.map((t) => columnAt(clock, t))));
  });

  it('agree on a clock read going back by 1 ns across a boundary, and on idle gaps of several columns', () => {
    const clock: ColumnClock = { intervalNs: INTERVAL, phaseNs: 98_765_432n, offsetNs: 0n };
    const boundary = 4_000n * INTERVAL - clock.phaseNs;
    const times = [boundary - 2n, boundary, boundary - 1n, boundary, boundary + 1n, boundary - 1n, boundary + 5n * INTERVAL, boundary + 5n * INTERVAL - 1n, boundary + 9n * INTERVAL + 7n];
    const columns = fromC(clock, [{ cached: 0n, times }, { cached: 4_000n, times }]);
    const want = times.map((t) => columnAt(clock, t));
    expect(want.slice(0, 4)).toEqual([3_999n, 4_000n, 3_999n, 4_000n]);
    expect(columns).toEqual([want, want]);
  });
});

describe('struct bpf_prog_info offsets used by the binding', () => {
  it('match offsetof() from linux/bpf.h', () => {
    const source = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\nint main(void) { printf("%zu %zu %zu %zu", sizeof(struct bpf_prog_info), offsetof(struct bpf_prog_info, run_time_ns), offsetof(struct bpf_prog_info, run_cnt), offsetof(struct bpf_prog_info, recursion_misses)); return 0; }\n`;
    const binary = `${BPF_DIR}/.output/prog-info-offsets`;
    execFileSync('clang', ['-x', 'c', '-o', binary, '-'], { input: source });
    expect(execFileSync(binary, { encoding: 'utf8' })).toBe(`${PROG_INFO_SIZE} ${PROG_INFO_RUN_TIME_NS_OFFSET} ${PROG_INFO_RUN_CNT_OFFSET} ${PROG_INFO_RECURSION_MISSES_OFFSET}`);
  });
});
