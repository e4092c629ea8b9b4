/**
 * The bucket scheme and the kernel/user layout, mirrored from bpf/bpfheat.h.
 * A test parses that header and fails when a number here disagrees with it.
 */
export const BUCKETS_PER_OCTAVE = 8;
export const MAX_EXPONENT = 40;
export const SLOTS = 323;
export const SLOT_ZERO = 0;
export const SLOT_ONE = 1;
export const SLOT_OVERFLOW = 322;
/** the thresholds inside an octave, between its 8 buckets (the kernel program needs no count of them) */
export const THRESHOLDS_PER_EXPONENT = BUCKETS_PER_OCTAVE - 1;
/** the kernel's bucket placement splits each octave into 2^SPLIT_BITS equal parts (placementTable):
 * the SPLIT_BITS bits of v - 1 below its top bit pick the part */
export const SPLIT_BITS = 4;
export const SPLITS_PER_EXPONENT = 1 << SPLIT_BITS;

export const MAX_DEVICES = 16;
/** device_ids[i] = DEVICE_PRESENT | dev_t once the kernel has handed out index i */
export const DEVICE_PRESENT = 1n << 32n;
/** set in device_ids[i] once the device completed a request that carried no issue time stamp */
export const DEVICE_UNSTAMPED = 1n << 33n;
export const OPS = ['read', 'write', 'flush', 'discard', 'other'] as const;
export const METRICS = ['latency', 'size'] as const;
export const RING_COLUMNS = 8;
export const COLUMN_CELLS = 51680;
/** the kernel keeps the cells once per CPU up to this many CPUs (slices); later CPUs share them */
export const MAX_SLICES = 16;
/** the kernel keeps its per-CPU view of each device's statistics for CPUs below this */
export const MAX_CPUS = 1024;
export const START_ENTRIES = 65536;
export const STORE_ENTRIES = 65536;
/** per column: completions the kernel accounted that no program saw, per [device][op] */
export const UNSEEN_COUNTS = 80;

export const EXEMPLAR_RING_BYTES = 4194304;
export const COMM_LEN = 16;
export const EXEMPLAR_BYTES = 56;
/** per column: exemplars attempted per latency [slot], then dropped ones per [device][op][slot] */
export const EXEMPLAR_COUNTS = 26163;
export const CONTROL = { thresholdNs: 0, capPerBucket: 1 } as const;
export const CONTROL_COUNT = 2;

export const STATS = {
  missedStart: 0,
  startFailed: 1,
  ringOverrun: 2,
  deviceOverflow: 3,
  nextDevice: 4,
  partial: 5,
  unseen: 6,
  storeCollisions: 7,
} as const;
export const STAT_COUNT = 8;

/** bits of the BPF program's config.flags */
export const FLAGS = { startMap: 1, exemplars: 2, issueStore: 4 } as const;

export type Op = (typeof OPS)[number];
export type Metric = (typeof METRICS)[number];

export const METRIC_UNIT: Record<Metric, 'ns' | 'bytes'> = { latency: 'ns', size: 'bytes' };

/** Index of a cell in one column of the kernel's cells array: [metric][device][op][slot]. */
export function cellIndex(metric: number, device: number, op: number, slot: number): number {
  return ((metric * MAX_DEVICES + device) * OPS.length + op) * SLOTS + slot;
}
