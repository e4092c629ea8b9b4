/**
 * A seeded, deterministic source of realistic block-I/O columns, for demos and for tests that
 * cannot be root. It never touches the kernel, and says so: its kind is 'synthetic' and its
 * devices are named synth-*, so a synthetic picture is never mistaken for a real one.
 *
 * Determinism: the content of a column is a pure function of (seed, seq, interval, fraction):
 * `syntheticColumn` draws from a generator seeded by the seed and the seq alone, so the same
 * seed gives the same column at the same wall-clock time, whenever the source was started.
 *
 * What it draws, per device and operation, per column (Poisson counts, then one latency and one
 * size per I/O):
 *   - a bimodal body (a fast mode and a slow one: cache hits and media reads),
 *   - a heavy tail (Pareto above a few ms),
 *   - occasional outlier bursts: in some 10-s windows of wall-clock time one device stalls for
 *     0.3-2 s and a few dozen I/Os take tens to hundreds of ms.
 *
 * Timing: columns are aligned to wall-clock multiples of the interval (seq = startMs / intervalMs)
 * and emitted once the clock has passed their end, all of them and in order, even after an event
 * loop stall (no gaps). On start the source first emits the recent past (PREFILL: 2 minutes, at most
 * 2,000 columns) so that a fresh dashboard is not empty. stop() emits the current, partial column
 * (its rates scaled by the part of the interval that has passed), then no more.
 */
import { METRICS, OPS, SLOTS, type Op } from '../../shared/scheme.ts';
import { slotOf } from '../../shared/buckets.ts';
import type { Column, DeviceInfo, Series } from '../../shared/column.ts';
import type { ColumnSink, Source } from './source.ts';

export interface SyntheticOptions {
  readonly seed: number;
  readonly intervalMs: number;
  /** how much past to emit on start, in ms (default PREFILL_MS, at most PREFILL_MAX_COLUMNS columns) */
  readonly prefillMs?: number;
  /** the wall clock; tests may pass their own */
  readonly now?: () => number;
}

export const PREFILL_MS = 2 * 60_000;
export const PREFILL_MAX_COLUMNS = 2000;
/** At most this many overdue columns are emitted in one turn of the event loop; the rest follow at once. */
const CATCH_UP_BATCH = 1000;

/** Lognormal latency mode: median in ns and sigma of ln(latency). */
interface Mode {
  readonly weight: number;
  readonly medianNs: number;
  readonly sigma: number;
}

interface OpProfile {
  readonly op: Op;
  /** I/Os per second */
  readonly rate: number;
  readonly modes: readonly Mode[];
  /** share of I/Os in the Pareto tail, its start in ns and its shape */
  readonly tail: { readonly share: number; readonly fromNs: number; readonly alpha: number };
  /** sizes in bytes with their weights */
  readonly sizes: readonly (readonly [number, number])[];
}

interface DeviceProfile {
  readonly name: string;
  readonly ops: readonly OpProfile[];
  /** latency of I/Os caught in an outlier burst: median ns, sigma; and their rate per second */
  readonly burst: { readonly medianNs: number; readonly sigma: number; readonly rate: number };
}

const K = 1024;
const US = 1000;
const MS = 1_000_000;

/** A busy NVMe disk (cache hits and flash reads, ~12k IOPS) and a spinning disk (track cache and seeks, ~120 IOPS). */
const PROFILES: readonly DeviceProfile[] = [
  {
    name: 'synth-nvme0n1',
    ops: [
      {
        op: 'read',
        rate: 9000,
        modes: [
          { weight: 0.7, medianNs: 85 * US, sigma: 0.22 },
          { weight: 0.3, medianNs: 420 * US, sigma: 0.3 },
        ],
        tail: { share: 0.004, fromNs: 2 * MS, alpha: 1.6 },
        sizes: [[4 * K, 0.6], [16 * K, 0.15], [128 * K, 0.25]],
      },
      {
        op: 'write',
        rate: 3500,
        modes: [
          { weight: 0.93, medianNs: 30 * US, sigma: 0.25 },
          { weight: 0.07, medianNs: 1.4 * MS, sigma: 0.3 },
        ],
        tail: { share: 0.003, fromNs: 4 * MS, alpha: 1.5 },
        sizes: [[4 * K, 0.5], [64 * K, 0.3], [K * K, 0.2]],
      },
      {
        op: 'flush',
        rate: 20,
        modes: [{ weight: 1, medianNs: 2.2 * MS, sigma: 0.35 }],
        tail: { share: 0, fromNs: 0, alpha: 1 },
        sizes: [[0, 1]],
      },
    ],
    burst: { medianNs: 25 * MS, sigma: 0.6, rate: 120 },
  },
  {
    name: 'synth-sda',
    ops: [
      {
        op: 'read',
        rate: 70,
        modes: [
          { weight: 0.25, medianNs: 180 * US, sigma: 0.3 },
          { weight: 0.75, medianNs: 7 * MS, sigma: 0.4 },
        ],
        tail: { share: 0.01, fromNs: 25 * MS, alpha: 1.8 },
        sizes: [[64 * K, 0.5], [256 * K, 0.5]],
      },
      {
        op: 'write',
        rate: 45,
        modes: [
          { weight: 0.85, medianNs: 150 * US, sigma: 0.3 },
          { weight: 0.15, medianNs: 9 * MS, sigma: 0.4 },
        ],
        tail: { share: 0.01, fromNs: 30 * MS, alpha: 1.8 },
        sizes: [[4 * K, 0.4], [128 * K, 0.6]],
      },
    ],
    burst: { medianNs: 220 * MS, sigma: 0.5, rate: 40 },
  },
];

export const SYNTHETIC_DEVICES: readonly DeviceInfo[] = PROFILES.map((p, id) => ({ id, name: p.name }));

/** Outlier bursts are decided per window of wall-clock time, so they look the same at any interval. */
const BURST_WINDOW_MS = 10_000;
const BURST_CHANCE = 0.3;

// ---------------------------------------------------------------- random numbers

/** 32-bit integer hash (Murmur3's finaliser), to derive independent seeds from (seed, key). */
function mix(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed from a seq, which may exceed 32 bits (ms since 1970 / 1 ms does). */
function seedOf(seed: number, key: number, salt: number): number {
  const high = Math.floor(key / 2 ** 32);
  return mix(mix(mix(seed, salt), key >>> 0), high >>> 0);
}

/** sfc32-style small fast generator: uniform floats in [0, 1). */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(seed: number) {
    this.a = seed;
    this.b = mix(seed, 1);
    this.c = mix(seed, 2);
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  normal(): number {
    // Box-Muller; 1 - u keeps log away from 0
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

// ---------------------------------------------------------------- columns

function pick<T>(random: Random, weighted: readonly (readonly [T, number])[]): T {
  let u = random.next();
  for (const [value, weight] of weighted) {
    if (u < weight) return value;
    u -= weight;
  }
  return weighted[weighted.length - 1]![0];
}

function latencyOf(random: Random, profile: OpProfile): number {
  if (random.next() < profile.tail.share) {
    // Pareto: fromNs / U^(1/alpha), capped at 10 s
    return Math.min(10_000 * MS, Math.round(profile.tail.fromNs / (1 - random.next()) ** (1 / profile.tail.alpha)));
  }
  let u = random.next();
  let mode = profile.modes[profile.modes.length - 1]!;
  for (const m of profile.modes) {
    if (u < m.weight) {
      mode = m;
      break;
    }
    u -= m.weight;
  }
  return Math.max(1, Math.round(mode.medianNs * Math.exp(mode.sigma * random.normal())));
}

/** The part of [startMs, endMs) that lies in an outlier burst of this device, in ms. */
function burstOverlapMs(seed: number, device: number, startMs: number, endMs: number): number {
  let overlap = 0;
  for (let w = Math.floor(startMs / BURST_WINDOW_MS); w * BURST_WINDOW_MS < endMs; w++) {
    const random = new Random(seedOf(seed, w, 0xb0b0 + device));
    if (random.next() >= BURST_CHANCE) continue;
    const lengthMs = 300 + random.next() * 1700;
    const from = w * BURST_WINDOW_MS + random.next() * (BURST_WINDOW_MS - lengthMs);
    overlap += Math.max(0, Math.min(endMs, from + lengthMs) - Math.max(startMs, from));
  }
  return overlap;
}

const LATENCY = METRICS.indexOf('latency');
const SIZE = METRICS.indexOf('size');

/** Sparse series (ascending slots, counts > 0) from dense counts laid out [metric][device][op][slot]. */
function seriesOf(dense: Float64Array, deviceCount: number): Series[] {
  const series: Series[] = [];
  for (let m = 0; m < METRICS.length; m++) {
    for (let device = 0; device < deviceCount; device++) {
      for (let o = 0; o < OPS.length; o++) {
        const base = ((m * deviceCount + device) * OPS.length + o) * SLOTS;
        const slots: number[] = [];
        const counts: number[] = [];
        for (let slot = 0; slot < SLOTS; slot++) {
          const count = dense[base + slot]!;
          if (count === 0) continue;
          slots.push(slot);
          counts.push(count);
        }
        if (slots.length > 0) series.push({ metric: METRICS[m]!, device, op: OPS[o]!, slots, counts });
      }
    }
  }
  return series;
}

/**
 * Column `seq` of the synthetic source with this seed: a pure function. `fraction` (0..1] scales the
 * rates, for the partial last column.
 */
export function syntheticColumn(seed: number, seq: number, intervalMs: number, fraction = 1): Column {
  const startMs = seq * intervalMs;
  const deviceCount = PROFILES.length;
  const dense = new Float64Array(METRICS.length * deviceCount * OPS.length * SLOTS);
  const base = (metric: number, device: number, op: number): number => ((metric * deviceCount + device) * OPS.length + op) * SLOTS;
  const seconds = (intervalMs / 1000) * fraction;
  PROFILES.forEach((device, d) => {
    const random = new Random(seedOf(seed, seq, d));
    for (const profile of device.ops) {
      const o = OPS.indexOf(profile.op);
      const n = random.poisson(profile.rate * seconds);
      for (let k = 0; k < n; k++) {
        dense[base(LATENCY, d, o) + slotOf(latencyOf(random, profile))]! += 1;
        dense[base(SIZE, d, o) + slotOf(pick(random, profile.sizes))]! += 1;
      }
    }
    const burstMs = burstOverlapMs(seed, d, startMs, startMs + intervalMs * fraction);
    if (burstMs > 0) {
      const n = random.poisson((device.burst.rate * burstMs) / 1000);
      const o = OPS.indexOf('read');
      for (let k = 0; k < n; k++) {
        const ns = Math.round(device.burst.medianNs * Math.exp(device.burst.sigma * random.normal()));
        dense[base(LATENCY, d, o) + slotOf(Math.max(1, ns))]! += 1;
        dense[base(SIZE, d, o) + slotOf(4 * K)]! += 1;
      }
    }
  });
  return { seq, startMs, intervalMs, series: seriesOf(dense, deviceCount) };
}

export function createSyntheticSource(options: SyntheticOptions): Source {
  const { seed, intervalMs } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);
  const now = options.now ?? Date.now;
  const prefillColumns = Math.min(PREFILL_MAX_COLUMNS, Math.floor((options.prefillMs ?? PREFILL_MS) / intervalMs));
  let sink: ColumnSink | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  /** the next seq to emit */
  let next = 0;
  let stopped = false;

  function emitDue(): void {
    timer = null;
    if (!sink || stopped) return;
    const due = Math.floor(now() / intervalMs); // columns below this seq have ended
    let emitted = 0;
    while (next < due && emitted < CATCH_UP_BATCH) {
      sink.column(syntheticColumn(seed, next, intervalMs));
      next++;
      emitted++;
    }
    // Wake just after the end of the column in progress (or at once, when still catching up).
    const wait = next < due ? 0 : (next + 1) * intervalMs - now() + 1;
    timer = setTimeout(emitDue, Math.max(0, wait));
  }

  return {
    kind: 'synthetic',
    intervalMs,
    devices: () => SYNTHETIC_DEVICES,
    selfStats: () => null,
    async start(target: ColumnSink): Promise<void> {
      if (sink) throw new Error('the synthetic source is already started');
      sink = target;
      sink.devices?.(SYNTHETIC_DEVICES);
      // The pre-filled past goes out before start() resolves (at most 2,000 columns: well under a second).
      const due = Math.floor(now() / intervalMs);
      for (next = due - prefillColumns; next < due; next++) sink.column(syntheticColumn(seed, next, intervalMs));
      emitDue();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (!sink) return;
      const t = now();
      // Whatever ended but was not yet emitted, then the column in progress, partial.
      while (next < Math.floor(t / intervalMs)) sink.column(syntheticColumn(seed, next++, intervalMs));
      const fraction = (t - next * intervalMs) / intervalMs;
      if (fraction > 0) sink.column(syntheticColumn(seed, next++, intervalMs, Math.min(1, fraction)));
      sink = null;
    },
  };
}
