// SPDX-License-Identifier: GPL-2.0
/* Block I/O latency and size histograms. By default the latency is read at completion from the
 * time stamp the kernel itself puts on each request at issue (rq->io_start_time_ns), so no
 * program runs at issue; with exemplars on, the submitting task is remembered when the request is
 * made (block_io_start) in a direct-mapped store, which also times the requests of devices that
 * carry no stamp once user space attaches the issue program for them. With
 * --start-map (config.flags) the issue time of each request is kept in a hash map keyed by the
 * request and consumed at completion, tracex3-style. The latency and the size land in per-column
 * exponential histograms that user space reads through mmap. */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bpfheat.h"

/* Only the fields used, relocated against the running kernel's BTF (CO-RE). */
struct disk_stats {
	unsigned long ios[4];
} __attribute__((preserve_access_index));

struct block_device {
	struct disk_stats *bd_stats; /* per-CPU */
} __attribute__((preserve_access_index));

struct gendisk {
	int major;
	int first_minor;
	struct block_device *part0;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct blk_mq_ctx {
	unsigned int cpu;
} __attribute__((preserve_access_index));

struct blk_mq_hw_ctx {
	unsigned short nr_ctx;
	struct blk_mq_ctx **ctxs;
} __attribute__((preserve_access_index));

struct request_queue {
	struct gendisk *disk;
	struct blk_mq_ctx *queue_ctx; /* per-CPU */
} __attribute__((preserve_access_index));

struct request {
	struct request_queue *q;
	struct blk_mq_ctx *mq_ctx;
	struct blk_mq_hw_ctx *mq_hctx;
	unsigned int cmd_flags;
	unsigned int rq_flags;
	unsigned int __data_len;
	__u64 __sector;
	__u64 start_time_ns; /* set at allocation on queues that keep I/O statistics */
	__u64 io_start_time_ns;
	unsigned short stats_sectors; /* set at issue with io_start_time_ns */
} __attribute__((preserve_access_index));

#define REQ_OP_MASK 0xff
#define REQ_OP_FLUSH 2
#define REQ_OP_DISCARD 3
/* passthrough operations start here: the kernel stamps none, and accounts them only with
 * iostats_passthrough (RQF_IO_STAT set), in its read or write group by the op's direction */
#define REQ_OP_DRV_IN 34
#define MINORBITS 20
/* rq_flags: the kernel accounts a completion in its I/O statistics when IO_STAT is set and
 * FLUSH_SEQ is not (blk_account_io_done) */
#define RQF_FLUSH_SEQ (1U << 1)
#define RQF_IO_STAT (1U << 8)

const volatile struct bpfheat_config config = {};

/* ts is 0 between insert and issue; pid and comm are the task that queued the request; bytes:
 * the data a write in a flush sequence completed before its final completion, which has none */
struct start {
	__u64 ts;
	__u32 pid;
	char comm[BPFHEAT_COMM_LEN];
	__u32 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFHEAT_START_ENTRIES);
	__type(key, __u64);
	__type(value, struct start);
} starts SEC(".maps");

/* The default mode's issue-side store: slot = the request's address over 256, holding that
 * address to check against. The task's pid and name are read from its task_struct only for an
 * exemplar: copying them for every request would cost more than the rest of the issue program. */
struct issued {
	__u64 rq;   /* address_of(request) */
	__u64 ts;   /* issue time, only for devices whose requests carry no stamp; 0 once consumed */
	__u64 task; /* the submitting task_struct's address */
	__u64 bytes; /* the data a write in a flush sequence completed, for its final completion; 0 once taken */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFHEAT_STORE_ENTRIES);
	__type(key, __u32);
	__type(value, struct issued);
} store SEC(".maps");

/* [slice][ring column][cell]: user space sets max_entries to config.slices slices before load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_RING_COLUMNS * BPFHEAT_COLUMN_CELLS);
	__type(key, __u32);
	__type(value, __u64);
} cells SEC(".maps");

/* column_tags[ring] is the column that ring slot may take; user space advances it
 * by BPFHEAT_RING_COLUMNS after it has read and zeroed the slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_RING_COLUMNS);
	__type(key, __u32);
	__type(value, __u64);
} column_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_STATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_RING_COLUMNS * BPFHEAT_EXEMPLAR_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} exemplar_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_RING_COLUMNS * BPFHEAT_UNSEEN_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} unseen_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_CONTROLS);
	__type(key, __u32);
	__type(value, __u64);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFHEAT_EXEMPLAR_RING_BYTES);
} exemplars SEC(".maps");

/* device index -> PRESENT | UNSTAMPED? | dev_t, for user space to name devices through mmap:
 * after it gives up root, older kernels refuse it every bpf() call on map fds */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_MAX_DEVICES);
	__type(key, __u32);
	__type(value, __u64);
} device_ids SEC(".maps");

/* The verifier allows no arithmetic on a kernel pointer, but the difference of two pointers is a
 * number: addresses are kept as their distance from this variable. */
__u8 address_base;

static __always_inline __u64 address_of(const void *pointer)
{
	return (__u64)pointer - (__u64)&address_base;
}

/* device index -> its gendisk (address_of), claimed with compare-and-swap: a scan of a few pointers instead
 * of a hash lookup per event */
__u64 device_disks[BPFHEAT_MAX_DEVICES];
/* device index -> address of the kernel's per-CPU I/O statistics of the whole disk */
__u64 device_stats[BPFHEAT_MAX_DEVICES];
__u8 device_unstamped[BPFHEAT_MAX_DEVICES];
/* bpfheat_column's recent column: written by completions whenever a column begins, so kept on a
 * cache line of its own (a section of its own, 64-byte aligned), away from the read-mostly
 * globals every issue and completion reads */
__u64 recent_column SEC(".data.recent_column") __attribute__((aligned(64)));
/* set once any device is: until then the issue program does not look its device up */
__u8 any_unstamped;
/* cpu -> the offset of that CPU's copy of per-CPU data (0: not learned yet) */
__u64 cpu_offsets[BPFHEAT_MAX_CPUS];

/* One CPU's view of one device's kernel statistics, a cache line of its own: where this CPU's copy
 * of the counters is (0: not known yet), and what each group's counter must read at the next
 * completion seen on this CPU if none went unseen, plus one (0: not known). */
struct device_on_cpu {
	__u64 counters;
	__u64 expected[BPFHEAT_IO_STAT_GROUPS];
	__u64 pad[4];
};

/* [cpu][device]: user space sets max_entries to its possible CPUs' share before load. Not a
 * per-CPU map, whose values are only 8-byte aligned: each entry is one line, so the check reads
 * one line of its own besides the kernel's counter. It read three lines of globals and per-CPU
 * data before, which cost a completion 20-45 ns more under a one-at-a-time load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFHEAT_MAX_CPUS * BPFHEAT_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct device_on_cpu);
} devices_on_cpus SEC(".maps");

static __always_inline void count_stat(__u32 stat, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &stat);
	if (value)
		__sync_fetch_and_add(value, n);
}

static __always_inline void register_device(__u32 index, struct gendisk *disk)
{
	__u32 dev = ((__u32)disk->major << MINORBITS) | (__u32)disk->first_minor;
	__u64 stats_address = 0;
	bpf_probe_read_kernel(&stats_address, sizeof(stats_address), &disk->part0->bd_stats);
	device_stats[index] = stats_address;
	__u64 *id = bpf_map_lookup_elem(&device_ids, &index);
	if (id)
		*id = BPFHEAT_DEVICE_PRESENT | dev;
	count_stat(BPFHEAT_STAT_NEXT_DEVICE, 1);
}

/* The device's index, handed out in order of first sight; the last index is shared by every
 * device past the first MAX_DEVICES - 1 (shared is set then). */
static __always_inline __u32 device_index(struct request *rq, bool *shared)
{
	__u64 disk = address_of(rq->q->disk);
	*shared = false;
	for (__u32 i = 0; i < BPFHEAT_MAX_DEVICES - 1; i++) {
		__u64 known = device_disks[i];
		if (known == disk)
			return i;
		if (known)
			continue;
		/* two CPUs may race for a free index: the loser sees the winner's disk and goes on */
		known = __sync_val_compare_and_swap(&device_disks[i], 0, disk);
		if (known == 0) {
			register_device(i, rq->q->disk);
			return i;
		}
		if (known == disk)
			return i;
	}
	*shared = true;
	count_stat(BPFHEAT_STAT_DEVICE_OVERFLOW, 1);
	__u32 last = BPFHEAT_MAX_DEVICES - 1;
	__u64 *id = bpf_map_lookup_elem(&device_ids, &last);
	if (id && !*id) {
		/* user space names the shared index "other" once more devices were seen than fit */
		*id = BPFHEAT_DEVICE_PRESENT;
		count_stat(BPFHEAT_STAT_NEXT_DEVICE, BPFHEAT_MAX_DEVICES);
	}
	return last;
}

static __always_inline __u32 op_index(struct request *rq)
{
	__u32 op = rq->cmd_flags & REQ_OP_MASK;
	return op < BPFHEAT_OPS - 1 ? op : BPFHEAT_OPS - 1; /* REQ_OP_READ..DISCARD are 0..3 */
}

/* Per-CPU data of CPU c lives at the pointer + offset(c). The offset is learned from the block
 * layer's per-CPU software queues (ctx = queue_ctx + offset(ctx->cpu)): first from the request's
 * own, else from the hardware queue's list. */
static __always_inline __u64 cpu_offset(struct request *rq, __u32 cpu)
{
	if (cpu >= BPFHEAT_MAX_CPUS)
		return 0;
	if (cpu_offsets[cpu])
		return cpu_offsets[cpu];
	__u64 base = 0;
	__u64 ctxs = 0;
	__u16 nr_ctx = 0;
	bpf_probe_read_kernel(&base, sizeof(base), &rq->q->queue_ctx);
	bpf_probe_read_kernel(&ctxs, sizeof(ctxs), &rq->mq_hctx->ctxs);
	bpf_probe_read_kernel(&nr_ctx, sizeof(nr_ctx), &rq->mq_hctx->nr_ctx);
	for (__u32 i = 0; i < 64 && i < nr_ctx; i++) {
		__u64 ctx = 0;
		__u32 ctx_cpu = 0;
		if (bpf_probe_read_kernel(&ctx, sizeof(ctx), (void *)(ctxs + i * sizeof(ctx))) || !ctx)
			break;
		bpf_probe_read_kernel(&ctx_cpu, sizeof(ctx_cpu),
				      (void *)(ctx + bpf_core_field_offset(struct blk_mq_ctx, cpu)));
		if (ctx_cpu == cpu && base) {
			cpu_offsets[cpu] = ctx - base;
			return ctx - base;
		}
	}
	return 0;
}

/* The kernel's statistics group of an accounted completion (op_stat_group), or -1 when the
 * kernel does not count it or it is a group not checked here. */
static __always_inline int stat_group(struct request *rq)
{
	if ((rq->rq_flags & (RQF_IO_STAT | RQF_FLUSH_SEQ)) != RQF_IO_STAT)
		return -1;
	__u32 op = rq->cmd_flags & REQ_OP_MASK;
	return op == REQ_OP_DISCARD ? 2 : (op & 1); /* REQ_OP_DRV_IN/OUT: 34/35 by direction */
}

/* Casts an address to a pointer to a kernel type the verifier lets the program load from
 * directly (a load that cannot fault the kernel: a bad address reads 0); the call itself is
 * replaced by a move when the program is loaded (Linux 6.2). */
extern void *bpf_rdonly_cast(const void *object, __u32 btf_id) __ksym;

/* This CPU's copy of the kernel's completed-I/O counter of a device's statistics group, or 0
 * when it cannot be read. A direct load, not bpf_probe_read_kernel: the helper call costs more
 * than the rest of the check. The group is a constant offset in each branch: the verifier allows
 * no variable offset into a kernel structure. */
static __always_inline unsigned long kernel_completions(__u64 stats_address, int group)
{
	struct disk_stats *mine = bpf_rdonly_cast((void *)stats_address, bpf_core_type_id_kernel(struct disk_stats));
	if (group == 0)
		return mine->ios[0];
	if (group == 1)
		return mine->ios[1];
	return mine->ios[2];
}

/* Every accounted completion seen on this CPU is compared with the kernel's own counter of its
 * device and group on this CPU, which the kernel raises right after this tracepoint: what it
 * counted beyond what was seen here are completions no program saw (the kernel ran none for
 * them). Returns how many, to be counted in the current column. It is read at every completion,
 * not every few: the last completions before tracing stops must be checked too. */
static __always_inline __u64 unseen_before(struct request *rq, __u32 device, int group)
{
	if (device >= BPFHEAT_MAX_DEVICES || group < 0 || group >= BPFHEAT_IO_STAT_GROUPS)
		return 0;
	__u32 cpu = bpf_get_smp_processor_id();
	__u32 index = cpu * BPFHEAT_MAX_DEVICES + device;
	struct device_on_cpu *mine = bpf_map_lookup_elem(&devices_on_cpus, &index);
	if (!mine)
		return 0;
	__u64 *expect = &mine->expected[group];
	if (!mine->counters) {
		__u64 offset = cpu_offset(rq, cpu);
		if (!offset || !device_stats[device]) {
			*expect = 0; /* not comparable now: start again from the next completion */
			return 0;
		}
		mine->counters = device_stats[device] + offset;
	}
	/* 0 is a value too: a fresh device's first completion on this CPU */
	unsigned long counted = kernel_completions(mine->counters, group);
	__u64 unseen = *expect && counted > *expect ? counted - *expect : 0;
	/* a completion nested in this one (an interrupt) may have read the counter already */
	*expect = (*expect > counted ? *expect : counted) + 1;
	return unseen;
}

/* This CPU's slice of the cells: no other CPU writes it, and this program does not run nested in
 * itself on one CPU (the kernel skips such runs), so a plain increment is exact. */
static __always_inline void count_cell(__u32 cpu, __u32 base, __u32 slot)
{
	bool own = cpu < config.slices;
	__u32 slice = own ? cpu : cpu % (config.slices ? config.slices : 1);
	__u32 index = slice * (BPFHEAT_RING_COLUMNS * BPFHEAT_COLUMN_CELLS) + base + slot;
	__u64 *cell = bpf_map_lookup_elem(&cells, &index);
	if (!cell)
		return;
	if (own)
		*cell += 1;
	else
		__sync_fetch_and_add(cell, 1);
}

static __always_inline __u64 control_value(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&control, &index);
	return value ? *value : 0;
}

/* --start-map: the seed's design, one LRU hash entry per request in flight */

static __always_inline long remember_task(__u64 key, __u64 ts, __u64 flags)
{
	struct start start = { .ts = ts, .pid = bpf_get_current_pid_tgid() >> 32 };
	bpf_get_current_comm(start.comm, sizeof(start.comm));
	return bpf_map_update_elem(&starts, &key, &start, flags);
}

/* With an I/O scheduler, requests are inserted by the submitting task and issued later,
 * often from a kworker: remember the submitter here, the time at issue. */
SEC("tp_btf/block_rq_insert")
int BPF_PROG(start_rq_insert, struct request *rq)
{
	if (remember_task((__u64)rq, 0, BPF_ANY))
		count_stat(BPFHEAT_STAT_START_FAILED, 1);
	return 0;
}

/* Without an I/O scheduler nothing was inserted: one map update is the whole cost. */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(start_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq;
	__u64 now = bpf_ktime_get_ns();
	long err = remember_task(key, now, BPF_NOEXIST);
	if (!err)
		return 0;
	struct start *known = bpf_map_lookup_elem(&starts, &key);
	if (known && known->ts == 0)
		known->ts = now; /* inserted by its submitter: keep that task */
	else if (remember_task(key, now, BPF_ANY))
		count_stat(BPFHEAT_STAT_START_FAILED, 1); /* a stale entry of a lost completion, replaced */
	return 0;
}

/* default mode: the direct-mapped store, for exemplars and for devices without stamps */

static __always_inline struct issued *store_slot(struct request *rq)
{
	/* A queue's requests are allocated side by side, at least 256 bytes apart (a request and its
	 * driver's data, rounded up to cache lines): the address over 256 gives each its own slot and keeps a queue's slots on a page or two. A hash of the
	 * address scattered them over the whole store, a TLB miss per request (under virtualisation,
	 * half the issue program's time). */
	__u32 slot = (address_of(rq) >> 8) & (BPFHEAT_STORE_ENTRIES - 1);
	return bpf_map_lookup_elem(&store, &slot);
}

/* The request's entry in the store, or NULL when another request has taken its slot since. */
static __always_inline struct issued *issued_entry(struct request *rq)
{
	struct issued *entry = store_slot(rq);
	return entry && entry->rq == address_of(rq) ? entry : NULL;
}

static __always_inline bool device_unstamped_at_issue(struct request *rq)
{
	if (config.flags & BPFHEAT_FLAG_ISSUE_STORE)
		return true;
	if (!any_unstamped)
		return false;
	__u64 disk = address_of(rq->q->disk);
	for (__u32 i = 0; i < BPFHEAT_MAX_DEVICES; i++) {
		if (device_disks[i] == disk)
			return device_unstamped[i];
		if (!device_disks[i])
			break;
	}
	return false;
}

/* Fires once per request made from a bio (blk_account_io_start), in the submitter's context,
 * with or without an I/O scheduler: the one issue-side program of the default mode. The slot is
 * written whole without being read first: a store does not wait for a line gone cold, a read did
 * (20-70 ns a request on this machine). It is read first only once the store keeps issue times (a
 * device without stamps, or --issue-store), to count a slot taken from a request whose time or
 * size was not consumed yet. */
SEC("tp_btf/block_io_start")
int BPF_PROG(store_io_start, struct request *rq)
{
	struct issued *entry = store_slot(rq);
	if (!entry)
		return 0;
	__u64 address = address_of(rq);
	if (((config.flags & BPFHEAT_FLAG_ISSUE_STORE) || any_unstamped) && entry->rq != address &&
	    (entry->ts || entry->bytes))
		count_stat(BPFHEAT_STAT_STORE_COLLISIONS, 1);
	entry->rq = address;
	entry->ts = 0;
	entry->task = bpf_get_current_task();
	entry->bytes = 0;
	return 0;
}

/* Attached by user space only once a device turned out to carry no issue stamp: the issue time of
 * that device's requests, taken where the kernel would have stamped it. */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(time_rq_issue, struct request *rq)
{
	if (!device_unstamped_at_issue(rq))
		return 0;
	struct issued *entry = store_slot(rq);
	if (!entry)
		return 0;
	if (entry->rq != address_of(rq)) {
		/* made before tracing began, not from a bio, or its slot taken since: the issuing task stands in */
		if (entry->ts || entry->bytes)
			count_stat(BPFHEAT_STAT_STORE_COLLISIONS, 1);
		entry->rq = address_of(rq);
		entry->task = bpf_get_current_task();
		entry->bytes = 0;
	}
	entry->ts = bpf_ktime_get_ns();
	return 0;
}

/* pid, comm: the task kept in the start map; else task: the issuing task_struct, whose pid and name
 * are read now (the name it has at completion) */
static __always_inline void emit_exemplar(struct request *rq, __u32 pid, const char *comm,
					  __u64 task, __u64 now, __u64 latency, __u32 latency_slot,
					  __u32 size, __u32 ring, __u32 series)
{
	__u32 base = ring * BPFHEAT_EXEMPLAR_COUNTS;
	__u32 attempted = base + latency_slot;
	__u64 *attempts = bpf_map_lookup_elem(&exemplar_counts, &attempted);
	if (!attempts)
		return;
	struct bpfheat_exemplar *record = NULL;
	if (__sync_fetch_and_add(attempts, 1) < control_value(BPFHEAT_CONTROL_CAP_PER_BUCKET))
		record = bpf_ringbuf_reserve(&exemplars, sizeof(*record), 0);
	if (!record) {
		__u32 dropped = base + (1 + series) * BPFHEAT_SLOTS + latency_slot;
		__u64 *count = bpf_map_lookup_elem(&exemplar_counts, &dropped);
		if (count)
			__sync_fetch_and_add(count, 1);
		return;
	}
	record->ts_ns = now;
	record->latency_ns = latency;
	record->sector = rq->__sector;
	record->bytes = size;
	if (!comm && task)
		bpf_probe_read_kernel(&pid, sizeof(pid),
				      (void *)(task + bpf_core_field_offset(struct task_struct, tgid)));
	record->pid = pid;
	record->device = series / BPFHEAT_OPS;
	record->op = series % BPFHEAT_OPS;
	record->pad = 0;
	if (comm)
		bpf_probe_read_kernel(record->comm, sizeof(record->comm), comm);
	else if (!task || bpf_probe_read_kernel(record->comm, sizeof(record->comm),
						(void *)(task + bpf_core_field_offset(struct task_struct, comm))))
		__builtin_memset(record->comm, 0, sizeof(record->comm));
	__builtin_memset(record->pad2, 0, sizeof(record->pad2));
	/* nothing waits on the ring: user space reads it from its memory on the column timer, so a
	 * wake-up (an irq_work) would be for no one */
	bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);
}

static __always_inline void count_unseen(__u64 unseen, __u32 ring, bool ring_ok, __u32 device,
					 int group)
{
	if (!unseen)
		return;
	count_stat(BPFHEAT_STAT_UNSEEN, unseen);
	if (!ring_ok || group < 0 || group >= BPFHEAT_IO_STAT_GROUPS)
		return;
	__u32 op = group == 2 ? REQ_OP_DISCARD : group; /* STAT_READ, STAT_WRITE are REQ_OP_READ, WRITE */
	__u32 index = ring * BPFHEAT_UNSEEN_COUNTS + device * BPFHEAT_OPS + op;
	__u64 *count = bpf_map_lookup_elem(&unseen_counts, &index);
	if (count)
		__sync_fetch_and_add(count, unseen);
}

/* A write with data in a flush sequence (REQ_PREFLUSH/REQ_FUA on a volatile write cache)
 * completes twice: its data (RQF_FLUSH_SEQ set; the kernel does not account it), then after the
 * flushes with no data left (flag cleared; accounted). It is counted once, at the second, with the
 * size remembered here where the kernel's stamp left none (stats_sectors), timed from its issue. */
static __always_inline void remember_flushed_data(struct request *rq, __u32 size)
{
	/* a stamped request keeps its size itself: nothing is left in the store for a later request */
	if (bpf_core_field_exists(rq->stats_sectors) && rq->stats_sectors)
		return;
	__u64 key = (__u64)rq;
	if (config.flags & BPFHEAT_FLAG_START_MAP) {
		struct start *started = bpf_map_lookup_elem(&starts, &key);
		if (started)
			started->bytes = size;
		return;
	}
	if (!(config.flags & BPFHEAT_FLAG_EXEMPLARS))
		return;
	struct issued *entry = issued_entry(rq);
	if (entry)
		entry->bytes = size;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u32 size = rq->__data_len;
	if ((rq->rq_flags & RQF_FLUSH_SEQ) && (rq->cmd_flags & REQ_OP_MASK) != REQ_OP_FLUSH) {
		remember_flushed_data(rq, size);
		return 0;
	}
	if (nr_bytes < size) {
		count_stat(BPFHEAT_STAT_PARTIAL, 1);
		return 0;
	}
	/* the final completion of a flush sequence's write: its data is done, its size kept at issue */
	if (!size && bpf_core_field_exists(rq->stats_sectors))
		size = (__u32)rq->stats_sectors << 9;
	__u64 now = bpf_ktime_get_ns();
	__u64 column = bpfheat_column(now, &recent_column, &config);
	__u32 ring = column & (BPFHEAT_RING_COLUMNS - 1);
	__u64 *tag = bpf_map_lookup_elem(&column_tags, &ring);
	bool ring_ok = tag && *tag == column;

	bool shared;
	__u32 device = device_index(rq, &shared);
	int group = shared ? -1 : stat_group(rq);
	count_unseen(unseen_before(rq, device, group), ring, ring_ok, device, group);

	__u64 key = (__u64)rq;
	__u64 start = 0;
	__u32 pid = 0;
	const char *comm = NULL;
	__u64 task = 0;
	struct start *started = NULL;
	struct issued *entry = NULL;
	if (config.flags & BPFHEAT_FLAG_START_MAP) {
		started = bpf_map_lookup_elem(&starts, &key);
		if (started) {
			start = started->ts;
			pid = started->pid;
			comm = started->comm;
			if (!size)
				size = started->bytes;
		}
	} else {
		if (bpf_core_field_exists(rq->io_start_time_ns) && !(config.flags & BPFHEAT_FLAG_ISSUE_STORE))
			start = rq->io_start_time_ns;
		if (!start && (config.flags & BPFHEAT_FLAG_EXEMPLARS)) {
			entry = issued_entry(rq);
			if (entry) {
				/* consumed, so that a later request at this address is never timed from it */
				start = entry->ts;
				entry->ts = 0;
				if (!size && entry->bytes) {
					size = entry->bytes;
					entry->bytes = 0;
				}
			}
		}
		/* a request without data (an empty flush, or one whose flush the queue dropped) is
		 * never issued itself, so it never has a stamp: only requests with data tell, and only
		 * those completed without error (a driver may fail a request it never issued) */
		if (!start && size > 0 && !error && (rq->cmd_flags & REQ_OP_MASK) < REQ_OP_DRV_IN && !shared &&
		    device < BPFHEAT_MAX_DEVICES && !device_unstamped[device]) {
			/* this device's requests carry no stamp: time them from the store from now on */
			device_unstamped[device] = 1;
			any_unstamped = 1;
			__u64 *id = bpf_map_lookup_elem(&device_ids, &device);
			if (id)
				*id |= BPFHEAT_DEVICE_UNSTAMPED;
		}
	}
	/* a write without data that asks for a flush is never issued itself (the flush it waits for
	 * is): timed from when it was made, as the kernel's own accounting times it */
	if (!start && !size && bpf_core_field_exists(rq->start_time_ns))
		start = rq->start_time_ns;
	if (!start) {
		count_stat(BPFHEAT_STAT_MISSED_START, 1);
		goto done;
	}
	if (!ring_ok) {
		count_stat(BPFHEAT_STAT_RING_OVERRUN, 1);
		goto done;
	}
	__u64 latency = now > start ? now - start : 0;
	__u32 op = op_index(rq);
	__u32 series = device * BPFHEAT_OPS + op;
	__u32 column_base = ring * BPFHEAT_COLUMN_CELLS;
	__u32 latency_slot = bpfheat_slot(latency, &config);
	__u32 cpu = bpf_get_smp_processor_id();
	count_cell(cpu, column_base + series * BPFHEAT_SLOTS, latency_slot);
	count_cell(cpu, column_base + (BPFHEAT_MAX_DEVICES * BPFHEAT_OPS + series) * BPFHEAT_SLOTS,
		   bpfheat_slot(size, &config));
	if (latency >= control_value(BPFHEAT_CONTROL_THRESHOLD_NS)) {
		if (!started && !entry && (config.flags & BPFHEAT_FLAG_EXEMPLARS))
			entry = issued_entry(rq);
		if (entry)
			task = entry->task;
		emit_exemplar(rq, pid, comm, task, now, latency, latency_slot, size, ring, series);
	}
done:
	if (started)
		bpf_map_delete_elem(&starts, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
