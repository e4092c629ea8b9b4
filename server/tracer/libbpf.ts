/**
 * A small typed binding to libbpf.so.1 (and the two libc calls we need), through koffi.
 * Only the calls bpfheat uses; every failure becomes a LibbpfError naming the call and errno.
 * This is the only module that imports koffi.
 */
import koffi, { type LibraryHandle } from 'koffi';

export class LibbpfError extends Error {
  override readonly name = 'LibbpfError';
  constructor(
    readonly call: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`${call} failed: ${detail} (errno ${errno})`);
  }
}

/** Opaque handles: each is a koffi pointer, branded so one cannot be passed as another. */
export type BpfObject = { readonly __brand: 'bpf_object' };
export type BpfMap = { readonly __brand: 'bpf_map' };
export type BpfProgram = { readonly __brand: 'bpf_program' };
export type BpfLink = { readonly __brand: 'bpf_link' };

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const BPF_STATS_RUN_TIME = 0;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
const SIGPROF = 27;
/** glibc's sigset_t: 1024 bits */
const SIGSET_BYTES = 128;

/* struct bpf_prog_info from linux/bpf.h (UAPI: offsets never move); a test checks them with offsetof */
export const PROG_INFO_SIZE = 232;
export const PROG_INFO_RUN_TIME_NS_OFFSET = 192;
export const PROG_INFO_RUN_CNT_OFFSET = 200;
export const PROG_INFO_RECURSION_MISSES_OFFSET = 208;

function loadLibrary(name: string, hint: string): LibraryHandle {
  try {
    return koffi.load(name);
  } catch {
    throw new LibbpfError(`loading ${name}`, 0, hint);
  }
}

function bind() {
  const libbpf = loadLibrary('libbpf.so.1', 'libbpf is not installed: run `npm run setup` or `apt-get install libbpf1`');
  const libc = loadLibrary('libc.so.6', 'the C library could not be loaded');
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_map');
  koffi.opaque('bpf_program');
  koffi.opaque('bpf_link');
  return {
    openFile: libbpf.func('bpf_object *bpf_object__open_file(const char *path, void *opts)'),
    load: libbpf.func('int bpf_object__load(bpf_object *obj)'),
    close: libbpf.func('void bpf_object__close(bpf_object *obj)'),
    findMap: libbpf.func('bpf_map *bpf_object__find_map_by_name(bpf_object *obj, const char *name)'),
    findProgram: libbpf.func('bpf_program *bpf_object__find_program_by_name(bpf_object *obj, const char *name)'),
    mapFd: libbpf.func('int bpf_map__fd(bpf_map *map)'),
    mapValueSize: libbpf.func('uint32_t bpf_map__value_size(bpf_map *map)'),
    maxEntries: libbpf.func('uint32_t bpf_map__max_entries(bpf_map *map)'),
    setMaxEntries: libbpf.func('int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)'),
    setInitialValue: libbpf.func('int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    programFd: libbpf.func('int bpf_program__fd(bpf_program *prog)'),
    setAutoload: libbpf.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    attach: libbpf.func('bpf_link *bpf_program__attach(bpf_program *prog)'),
    destroyLink: libbpf.func('int bpf_link__destroy(bpf_link *link)'),
    getError: libbpf.func('long libbpf_get_error(const void *ptr)'),
    strerror: libbpf.func('int libbpf_strerror(int err, _Out_ uint8_t *buf, size_t size)'),
    setPrint: libbpf.func('void *libbpf_set_print(void *fn)'),
    lookupElem: libbpf.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ uint8_t *value)'),
    enableStats: libbpf.func('int bpf_enable_stats(int type)'),
    objGetInfo: libbpf.func('int bpf_obj_get_info_by_fd(int fd, _Inout_ uint8_t *info, _Inout_ uint32_t *info_len)'),
    mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t offset)'),
    munmap: libc.func('int munmap(void *addr, size_t len)'),
    pageSize: libc.func('int getpagesize()'),
    closeFd: libc.func('int close(int fd)'),
    errnoLocation: libc.func('int *__errno_location()'),
    signalMask: libc.func('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)'),
  };
}

type Bindings = ReturnType<typeof bind>;
let bindings: Bindings | null = null;

/** Binds on first use, so importing this module has no effect until bpfheat traces. */
function lib(): Bindings {
  if (!bindings) {
    bindings = bind();
    if (!process.env.BPFHEAT_DEBUG) bindings.setPrint(null);
  }
  return bindings;
}

function describe(errno: number): string {
  const buf = Buffer.alloc(256);
  lib().strerror(errno, buf, buf.length);
  return buf.toString('utf8', 0, buf.indexOf(0) >= 0 ? buf.indexOf(0) : buf.length);
}

function check(call: string, result: number): number {
  if (result < 0) throw new LibbpfError(call, -result, describe(-result));
  return result;
}

function checkPointer<T>(call: string, pointer: unknown): T {
  const err = Number(lib().getError(pointer));
  if (pointer === null || err !== 0) {
    const errno = err !== 0 ? -err : 2;
    throw new LibbpfError(call, errno, describe(errno));
  }
  return pointer as T;
}

function lastErrno(): number {
  return koffi.decode(lib().errnoLocation(), 'int') as number;
}

export function openObject(path: string): BpfObject {
  return checkPointer('bpf_object__open_file', lib().openFile(path, null));
}

/**
 * Loads (verifies) the object's programs with SIGPROF blocked on this thread. The verifier gives up
 * with EAGAIN when a signal is pending, and a profiler (`node --cpu-prof`) sends SIGPROF every
 * millisecond or so, more often than libbpf's five attempts at a program of bpfheat's size can
 * finish: the profiler's samples wait until the load is done instead.
 */
export function loadObject(obj: BpfObject): void {
  const blocked = new Uint8Array(SIGSET_BYTES);
  blocked[(SIGPROF - 1) >> 3] = 1 << ((SIGPROF - 1) & 7);
  const before = new Uint8Array(SIGSET_BYTES);
  check('pthread_sigmask', -lib().signalMask(SIG_BLOCK, blocked, before));
  try {
    check('bpf_object__load', lib().load(obj));
  } finally {
    lib().signalMask(SIG_SETMASK, before, null);
  }
}

export function closeObject(obj: BpfObject): void {
  lib().close(obj);
}

export function findMap(obj: BpfObject, name: string): BpfMap {
  const map = lib().findMap(obj, name);
  if (!map) throw new LibbpfError('bpf_object__find_map_by_name', 2, `the BPF object has no map "${name}"`);
  return map as BpfMap;
}

export function findProgram(obj: BpfObject, name: string): BpfProgram {
  const prog = lib().findProgram(obj, name);
  if (!prog) throw new LibbpfError('bpf_object__find_program_by_name', 2, `the BPF object has no program "${name}"`);
  return prog as BpfProgram;
}

export function mapFd(map: BpfMap): number {
  return check('bpf_map__fd', lib().mapFd(map));
}

export function mapValueSize(map: BpfMap): number {
  return lib().mapValueSize(map);
}

/** A map's size: entries, or data bytes for a ring buffer. */
export function maxEntries(map: BpfMap): number {
  return lib().maxEntries(map);
}

/** Sizes a map before load. */
export function setMaxEntries(map: BpfMap, entries: number): void {
  check('bpf_map__set_max_entries', lib().setMaxEntries(map, entries));
}

/** Sets a global-data map's contents (.rodata) before load. */
export function setInitialValue(map: BpfMap, data: Uint8Array): void {
  check('bpf_map__set_initial_value', lib().setInitialValue(map, data, data.byteLength));
}

/** Before load: whether the program is loaded with the object (one the kernel could not load would fail them all). */
export function setAutoload(prog: BpfProgram, autoload: boolean): void {
  check('bpf_program__set_autoload', lib().setAutoload(prog, autoload));
}

export function programFd(prog: BpfProgram): number {
  return check('bpf_program__fd', lib().programFd(prog));
}

export function attachProgram(prog: BpfProgram): BpfLink {
  return checkPointer('bpf_program__attach', lib().attach(prog));
}

export function destroyLink(link: BpfLink): void {
  lib().destroyLink(link);
}

/** Looks up one element; returns false when the key is absent. */
export function lookupElem(fd: number, key: Uint8Array, value: Uint8Array): boolean {
  const result = lib().lookupElem(fd, key, value);
  if (result === -2) return false;
  check('bpf_map_lookup_elem', result);
  return true;
}


export interface MappedMemory {
  readonly buffer: ArrayBuffer;
  unmap(): void;
}

/** Maps `bytes` of a map's memory from `offset` (both in whole pages), shared with the kernel. */
function mapShared(fd: number, bytes: number, prot: number, offset: number): MappedMemory {
  const page = lib().pageSize();
  const length = Math.ceil(bytes / page) * page;
  const pointer = lib().mmap(null, length, prot, MAP_SHARED, fd, offset);
  if (koffi.address(pointer) === 0xffffffffffffffffn) {
    const errno = lastErrno();
    throw new LibbpfError('mmap', errno, describe(errno));
  }
  const buffer = koffi.view(pointer, length);
  let mapped = true;
  return {
    buffer,
    unmap() {
      if (!mapped) return;
      mapped = false;
      lib().munmap(pointer, length);
    },
  };
}

/** Maps a BPF_F_MMAPABLE array read-write, zero-copy. */
export function mmapMap(fd: number, bytes: number): MappedMemory {
  return mapShared(fd, bytes, PROT_READ | PROT_WRITE, 0);
}

/** server/tracer/ring.ts's RingMemory, which this file cannot import (it imports nothing of the project), and unmap. */
export interface MappedRing {
  /** the consumer position: user space writes it */
  readonly consumer: BigUint64Array;
  /** the producer position */
  readonly producer: BigUint64Array;
  /** 2 × size bytes: the data, twice */
  readonly data: Uint8Array;
  readonly size: number;
  unmap(): void;
}

/**
 * Maps a BPF ring buffer of `size` data bytes as the kernel lays it out (server/tracer/ring.ts):
 * the consumer position's page read-write, the producer position's page and the data (mapped
 * twice) read-only, which is all the kernel allows there.
 */
export function mmapRing(fd: number, size: number): MappedRing {
  const page = lib().pageSize();
  const consumer = mapShared(fd, page, PROT_READ | PROT_WRITE, 0);
  let produced: MappedMemory;
  try {
    produced = mapShared(fd, page + 2 * size, PROT_READ, page);
  } catch (error) {
    consumer.unmap();
    throw error;
  }
  return {
    consumer: new BigUint64Array(consumer.buffer, 0, 1),
    producer: new BigUint64Array(produced.buffer, 0, 1),
    data: new Uint8Array(produced.buffer, page, 2 * size),
    size,
    unmap() {
      produced.unmap();
      consumer.unmap();
    },
  };
}

/** Turns on the kernel's BPF run-time statistics until the returned fd is closed. */
export function enableRunTimeStats(): number {
  return check('bpf_enable_stats', lib().enableStats(BPF_STATS_RUN_TIME));
}

export function closeFd(fd: number): void {
  lib().closeFd(fd);
}

export interface ProgramRunStats {
  readonly runTimeNs: number;
  readonly runCount: number;
  readonly recursionMisses: number;
}

export function programRunStats(fd: number): ProgramRunStats {
  const info = new Uint8Array(PROG_INFO_SIZE);
  const length = new Uint32Array([PROG_INFO_SIZE]);
  check('bpf_obj_get_info_by_fd', lib().objGetInfo(fd, info, length));
  const view = new DataView(info.buffer);
  return {
    runTimeNs: Number(view.getBigUint64(PROG_INFO_RUN_TIME_NS_OFFSET, true)),
    runCount: Number(view.getBigUint64(PROG_INFO_RUN_CNT_OFFSET, true)),
    recursionMisses: Number(view.getBigUint64(PROG_INFO_RECURSION_MISSES_OFFSET, true)),
  };
}
