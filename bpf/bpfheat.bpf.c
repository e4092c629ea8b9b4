// SPDX-License-Identifier: GPL-2.0
/* Block I/O latency and size histograms, tracex3-style: the issue time of each request
 * is kept in a map keyed by the request and consumed at completion; the latency and the
 * size land in per-column exponential histograms that user space reads through mmap. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpfheat.h"

/* Only the fields used, relocated against the running kernel's BTF (CO-RE). */
struct gendisk {
	int major;
	int first_minor;
} __attribute__((preserve_access_index));

struct request_queue {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	unsigned int __data_len;
	__u64 __sector;
} __attribute__((preserve_access_index));

#define REQ_OP_MASK 0xff
#define MINORBITS 20

const volatile struct bpfheat_config config = {};

/* ts is 0 between insert and issue; pid and comm are the task that queued the request */
struct start {
	__u64 ts;
	__u32 pid;
	char comm[BPFHEAT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFHEAT_START_ENTRIES);
	__type(key, __u64);
	__type(value, struct start);
} starts SEC(".maps");

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
	__uint(max_entries, BPFHEAT_CONTROLS);
	__type(key, __u32);
	__type(value, __u64);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFHEAT_EXEMPLAR_RING_BYTES);
} exemplars SEC(".maps");

/* kernel dev_t -> device index, handed out in order of first completion */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} devices SEC(".maps");

/* device index -> DEVICE_PRESENT | dev_t, for user space to name devices through mmap: after
 * it gives up root, older kernels refuse it every bpf() call on map fds */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BPFHEAT_MAX_DEVICES);
	__type(key, __u32);
	__type(value, __u64);
} device_ids SEC(".maps");

static __always_inline void count_stat(__u32 stat)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &stat);
	if (value)
		__sync_fetch_and_add(value, 1);
}

static __always_inline __u32 device_index(struct request *rq)
{
	struct gendisk *disk = rq->q->disk;
	__u32 dev = disk ? ((__u32)disk->major << MINORBITS) | (__u32)disk->first_minor : 0;
	__u32 *known = bpf_map_lookup_elem(&devices, &dev);
	if (known)
		return *known < BPFHEAT_MAX_DEVICES ? *known : BPFHEAT_MAX_DEVICES - 1;

	__u32 next_stat = BPFHEAT_STAT_NEXT_DEVICE;
	__u64 *next = bpf_map_lookup_elem(&stats, &next_stat);
	if (!next)
		return BPFHEAT_MAX_DEVICES - 1;
	__u32 index = __sync_fetch_and_add(next, 1);
	if (index > BPFHEAT_MAX_DEVICES - 1)
		index = BPFHEAT_MAX_DEVICES - 1;
	/* two CPUs may race on a new device: the loser takes the winner's index */
	if (!bpf_map_update_elem(&devices, &dev, &index, BPF_NOEXIST)) {
		__u64 *id = bpf_map_lookup_elem(&device_ids, &index);
		if (id)
			*id = BPFHEAT_DEVICE_PRESENT | dev;
	}
	known = bpf_map_lookup_elem(&devices, &dev);
	return known && *known < BPFHEAT_MAX_DEVICES ? *known : index;
}

static __always_inline __u32 op_index(struct request *rq)
{
	__u32 op = rq->cmd_flags & REQ_OP_MASK;
	return op < BPFHEAT_OPS - 1 ? op : BPFHEAT_OPS - 1; /* REQ_OP_READ..DISCARD are 0..3 */
}

static __always_inline void count_cell(__u32 base, __u32 slot)
{
	__u32 index = base + slot;
	__u64 *cell = bpf_map_lookup_elem(&cells, &index);
	if (cell)
		__sync_fetch_and_add(cell, 1);
}

static __always_inline __u64 control_value(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&control, &index);
	return value ? *value : 0;
}

static __always_inline long remember_task(__u64 key, __u64 ts, __u64 flags)
{
	struct start start = { .ts = ts, .pid = bpf_get_current_pid_tgid() >> 32 };
	bpf_get_current_comm(start.comm, sizeof(start.comm));
	return bpf_map_update_elem(&starts, &key, &start, flags);
}

/* With an I/O scheduler, requests are inserted by the submitting task and issued later,
 * often from a kworker: remember the submitter here, the time at issue. */
SEC("tp_btf/block_rq_insert")
int BPF_PROG(block_rq_insert, struct request *rq)
{
	if (remember_task((__u64)rq, 0, BPF_ANY))
		count_stat(BPFHEAT_STAT_START_FAILED);
	return 0;
}

/* Without an I/O scheduler nothing was inserted: one map update is the whole cost. */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
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
		count_stat(BPFHEAT_STAT_START_FAILED); /* a stale entry of a lost completion, replaced */
	return 0;
}

static __always_inline void emit_exemplar(struct request *rq, struct start *start, __u64 now,
					  __u64 latency, __u32 latency_slot, __u32 size, __u32 ring,
					  __u32 series)
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
	record->pid = start->pid;
	record->device = series / BPFHEAT_OPS;
	record->op = series % BPFHEAT_OPS;
	record->pad = 0;
	__builtin_memcpy(record->comm, start->comm, sizeof(record->comm));
	__builtin_memset(record->pad2, 0, sizeof(record->pad2));
	bpf_ringbuf_submit(record, 0);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq;
	__u32 size = rq->__data_len;
	if (nr_bytes < size) {
		count_stat(BPFHEAT_STAT_PARTIAL);
		return 0;
	}
	struct start *start = bpf_map_lookup_elem(&starts, &key);
	if (!start || start->ts == 0) {
		count_stat(BPFHEAT_STAT_MISSED_START);
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	__u64 latency = now > start->ts ? now - start->ts : 0;

	__u64 column = (now + config.phase_ns) / config.interval_ns;
	__u32 ring = column & (BPFHEAT_RING_COLUMNS - 1);
	__u64 *tag = bpf_map_lookup_elem(&column_tags, &ring);
	if (!tag || *tag != column) {
		count_stat(BPFHEAT_STAT_RING_OVERRUN);
		bpf_map_delete_elem(&starts, &key);
		return 0;
	}

	__u32 device = device_index(rq);
	if (device == BPFHEAT_MAX_DEVICES - 1)
		count_stat(BPFHEAT_STAT_DEVICE_OVERFLOW);
	__u32 op = op_index(rq);
	__u32 series = device * BPFHEAT_OPS + op;
	__u32 column_base = ring * BPFHEAT_COLUMN_CELLS;
	__u32 latency_slot = bpfheat_slot(latency, &config);
	count_cell(column_base + series * BPFHEAT_SLOTS, latency_slot);
	count_cell(column_base + (BPFHEAT_MAX_DEVICES * BPFHEAT_OPS + series) * BPFHEAT_SLOTS,
		   bpfheat_slot(size, &config));
	if (latency >= control_value(BPFHEAT_CONTROL_THRESHOLD_NS))
		emit_exemplar(rq, start, now, latency, latency_slot, size, ring, series);
	bpf_map_delete_elem(&starts, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
