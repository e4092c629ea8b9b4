/* What the kernel program and user space must agree on: constants and layouts.
 * Every number is a literal so that the TypeScript mirror (shared/scheme.ts) can be
 * checked against this file by a test; the _Static_asserts keep the derived ones honest. */
#ifndef BPFHEAT_H
#define BPFHEAT_H

/* OpenTelemetry exponential histogram, scale 3 (= Prometheus native schema 3):
 * bucket i holds v with 2^(i/8) < v <= 2^((i+1)/8). */
#define BPFHEAT_BUCKETS_PER_OCTAVE 8
#define BPFHEAT_MAX_EXPONENT 40
/* slot 0: v = 0; slot 1: v = 1 (bucket -1); slot i + 2: bucket i; last slot: v > 2^40 */
#define BPFHEAT_SLOTS 323
#define BPFHEAT_SLOT_ZERO 0
#define BPFHEAT_SLOT_ONE 1
#define BPFHEAT_SLOT_OVERFLOW 322
/* bucket placement splits each octave into 2^SPLIT_BITS equal parts, narrower than any bucket:
 * the SPLIT_BITS bits of v - 1 below its top bit pick the part */
#define BPFHEAT_SPLIT_BITS 4
#define BPFHEAT_SPLITS_PER_EXPONENT 16

#define BPFHEAT_MAX_DEVICES 16 /* the last index collects every device past the first 15 */
#define BPFHEAT_DEVICE_PRESENT (1ULL << 32) /* device_ids[i] = PRESENT | dev_t once index i is used */
#define BPFHEAT_DEVICE_UNSTAMPED (1ULL << 33) /* the device completed a request without an issue time stamp */
#define BPFHEAT_OPS 5          /* read, write, flush, discard, other */
#define BPFHEAT_METRICS 2      /* latency (ns), size (bytes) */
#define BPFHEAT_RING_COLUMNS 8 /* power of two: user space may lag six columns */
/* cells of one column, laid out [metric][device][op][slot] */
#define BPFHEAT_COLUMN_CELLS 51680
/* the cells are kept once per CPU (a slice: [RING_COLUMNS][COLUMN_CELLS]) so that counting takes no
 * atomic operation; CPUs from this one on share the slices, atomically */
#define BPFHEAT_MAX_SLICES 16
#define BPFHEAT_START_ENTRIES 65536
/* the issue-side store of the default mode: direct-mapped by the request's address */
#define BPFHEAT_STORE_ENTRIES 65536
/* per-CPU memory offsets learned from the block layer's per-CPU contexts, and each CPU's view of the
 * devices' statistics counters, for CPUs below this */
#define BPFHEAT_MAX_CPUS 1024
/* groups of the kernel's own I/O statistics (/sys/block/<dev>/stat) checked against what was seen:
 * read, write, discard (the kernel's STAT_READ, STAT_WRITE, STAT_DISCARD) */
#define BPFHEAT_IO_STAT_GROUPS 3
/* per column: completions the kernel accounted that no program saw, per [device][op] */
#define BPFHEAT_UNSEEN_COUNTS 80

/* exemplars: outlier I/Os sent to user space through a ring buffer */
#define BPFHEAT_EXEMPLAR_RING_BYTES 4194304
#define BPFHEAT_COMM_LEN 16
#define BPFHEAT_EXEMPLAR_BYTES 56 /* sizeof(struct bpfheat_exemplar) */
/* per column: exemplars attempted per latency [slot] (for the cap, which is per bucket so that the
 * sparse slow buckets keep all theirs), then dropped ones per [device][op][slot] */
#define BPFHEAT_EXEMPLAR_COUNTS 26163
/* indexes into the control array, which user space may write while tracing */
#define BPFHEAT_CONTROL_THRESHOLD_NS 0  /* exemplar when latency >= this */
#define BPFHEAT_CONTROL_CAP_PER_BUCKET 1 /* at most this many exemplars per latency bucket and column */
#define BPFHEAT_CONTROLS 2

/* indexes into the stats array */
#define BPFHEAT_STAT_MISSED_START 0    /* completion whose issue was not seen (before attach, or evicted) */
#define BPFHEAT_STAT_START_FAILED 1    /* issue whose start time could not be stored */
#define BPFHEAT_STAT_RING_OVERRUN 2    /* completion whose column user space had not released */
#define BPFHEAT_STAT_DEVICE_OVERFLOW 3 /* completion counted under the shared last device index */
#define BPFHEAT_STAT_NEXT_DEVICE 4     /* next device index to hand out */
#define BPFHEAT_STAT_PARTIAL 5         /* partial completions, counted at their final completion */
#define BPFHEAT_STAT_UNSEEN 6          /* completions the kernel accounted that no program saw */
#define BPFHEAT_STAT_STORE_COLLISIONS 7 /* a store slot taken from a request whose issue time or size was not yet consumed */
#define BPFHEAT_STATS 8

/* bits of config.flags */
#define BPFHEAT_FLAG_START_MAP 1 /* time requests with the start map (issue program), not the kernel's stamps */
#define BPFHEAT_FLAG_EXEMPLARS 2 /* remember each request's issuing task for exemplars */
#define BPFHEAT_FLAG_ISSUE_STORE 4 /* time every device from the issue-side store, as devices without the kernel's stamp */

struct bpfheat_exemplar {
	__u64 ts_ns; /* completion, monotonic */
	__u64 latency_ns;
	__u64 sector;
	__u32 bytes;
	__u32 pid; /* thread group id of the task that issued or inserted the request */
	__u16 device;
	__u8 op;
	__u8 pad;
	char comm[BPFHEAT_COMM_LEN];
	__u8 pad2[4];
};

/* read-only configuration, written by user space before load */
struct bpfheat_config {
	__u64 interval_ns;
	__u64 phase_ns; /* (monotonic + phase) / interval aligns columns to wall-clock multiples */
	__u64 flags;    /* BPFHEAT_FLAG_* */
	__u64 slices;   /* per-CPU slices of the cells map, 1..BPFHEAT_MAX_SLICES */
	/* bucket placement (bpfheat_slot), one entry per octave e and part m of it, packed as
	 *   bits 3..63: the one threshold inside the part (1 << 60 when none is)
	 *   bits 0..2:  how many of the octave's 7 thresholds the part's start is already past */
	__u64 placement[BPFHEAT_MAX_EXPONENT][BPFHEAT_SPLITS_PER_EXPONENT];
};

_Static_assert(BPFHEAT_SLOTS == BPFHEAT_BUCKETS_PER_OCTAVE * BPFHEAT_MAX_EXPONENT + 3, "slot count");
_Static_assert(BPFHEAT_SLOT_OVERFLOW == BPFHEAT_SLOTS - 1, "overflow slot");
_Static_assert(BPFHEAT_SPLITS_PER_EXPONENT == 1 << BPFHEAT_SPLIT_BITS, "parts of an octave");
_Static_assert(BPFHEAT_COLUMN_CELLS ==
		       BPFHEAT_METRICS * BPFHEAT_MAX_DEVICES * BPFHEAT_OPS * BPFHEAT_SLOTS,
	       "column cells");
_Static_assert(BPFHEAT_EXEMPLAR_COUNTS == BPFHEAT_SLOTS * (1 + BPFHEAT_MAX_DEVICES * BPFHEAT_OPS), "exemplar counts");
_Static_assert(sizeof(struct bpfheat_exemplar) == BPFHEAT_EXEMPLAR_BYTES, "exemplar record layout");
_Static_assert(BPFHEAT_UNSEEN_COUNTS == BPFHEAT_MAX_DEVICES * BPFHEAT_OPS, "unseen counts");
_Static_assert((BPFHEAT_STORE_ENTRIES & (BPFHEAT_STORE_ENTRIES - 1)) == 0, "store is a power of two");
_Static_assert((BPFHEAT_RING_COLUMNS & (BPFHEAT_RING_COLUMNS - 1)) == 0, "ring is a power of two");

/* Exact bucket placement without floating point: find the power of two with shifts
 * (clang 14 crashes on __builtin_clzll for BPF), then count the integer thresholds
 * floor(2^(e + k/8)), k = 1..7, that v exceeds. Comparing with all seven took seven loads and
 * branches per value; instead the SPLIT_BITS (4) bits of v - 1 below its top bit pick a sixteenth of the
 * octave, narrower than any bucket (the narrowest, the first, is 2^(1/8) - 1 = 0.09 of 2^e), so
 * at most one threshold falls inside it (shared/buckets.ts checks that as it builds the table):
 * one load gives the count before the part and the threshold within it, packed so that one
 * compare says whether v is past it. */
static __always_inline __u32 bpfheat_log2(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

static __always_inline __u32 bpfheat_slot(__u64 v, const volatile struct bpfheat_config *config)
{
	if (v == 0)
		return BPFHEAT_SLOT_ZERO;
	if (v == 1)
		return BPFHEAT_SLOT_ONE;
	/* v - 1 in [2^e, 2^(e+1)) means v in (2^e, 2^(e+1)]: buckets 8e .. 8e+7 */
	__u32 e = bpfheat_log2(v - 1);
	if (e >= BPFHEAT_MAX_EXPONENT)
		return BPFHEAT_SLOT_OVERFLOW;
	__u64 d = v - 1;
	/* below 2^SPLIT_BITS each part holds at most one value: shifted up, the other parts are never
	 * picked */
	__u32 part = (e >= BPFHEAT_SPLIT_BITS ? d >> (e - BPFHEAT_SPLIT_BITS) : d << (BPFHEAT_SPLIT_BITS - e)) &
		     (BPFHEAT_SPLITS_PER_EXPONENT - 1);
	__u64 packed = config->placement[e][part];
	/* v > threshold is d >= threshold; with 3 low bits of 1s the count (< 8) in the low bits never
	 * decides the compare */
	return e * BPFHEAT_BUCKETS_PER_OCTAVE + (__u32)(packed & 7) + (((d << 3) | 7) >= packed) + 2;
}

/* The column a completion at monotonic time now falls in: (now + phase) / interval, exactly.
 * *recent holds the column of a recent completion: most completions fall in it, and checking that
 * costs a multiply where finding the column costs a 64-bit division. One word, so a CPU reads
 * either an old column or a new one, and checks whichever it read. */
static __always_inline __u64 bpfheat_column(__u64 now, __u64 *recent, const volatile struct bpfheat_config *config)
{
	__u64 aligned = now + config->phase_ns;
	__u64 column = *recent;
	/* unsigned: also false when aligned is before the column's start */
	if (aligned - column * config->interval_ns < config->interval_ns)
		return column;
	column = aligned / config->interval_ns;
	*recent = column;
	return column;
}

#endif
