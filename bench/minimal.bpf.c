// SPDX-License-Identifier: GPL-2.0
/* The floor bpfheat's BPF cost is compared with: the least a map-based block-latency
 * histogram can do with libbpf. One hash map of start times keyed by the request, one
 * per-CPU array of log2 microsecond slots (biolatency's layout), nothing else: no device,
 * operation, size, column or exemplar work. Loaded only by bench/minimal-tracer.ts. */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SLOTS 27

struct request;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} min_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} min_hist SEC(".maps");

/* floor(log2(v)) by shifts: clang 14 crashes on __builtin_clzll for BPF */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;
	shift = (v > 0xffffffff) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (__u32)(v >> 1);
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(min_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq;
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&min_start, &key, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(min_rq_complete, struct request *rq)
{
	__u64 key = (__u64)rq;
	__u64 *start = bpf_map_lookup_elem(&min_start, &key);
	if (!start)
		return 0;
	__u64 us = (bpf_ktime_get_ns() - *start) / 1000;
	__u32 slot = us ? log2_u64(us) + 1 : 0;
	if (slot >= SLOTS)
		slot = SLOTS - 1;
	__u64 *count = bpf_map_lookup_elem(&min_hist, &slot);
	if (count)
		*count += 1;
	bpf_map_delete_elem(&min_start, &key);
	return 0;
}

/* Does nothing: its run time per call is what the kernel's accounting and the trampoline cost
 * any program here, the floor under every figure. Not counted in the per-I/O sums. */
SEC("tp_btf/block_rq_issue")
int BPF_PROG(empty_probe)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
