/**
 * The live tracer: open → configure → load → map → attach → read columns, with one cleanup
 * path (links destroyed, memory unmapped, object closed). Reading is driven from outside
 * (sources/bpf.ts owns the timer); this module only knows the kernel side.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  COLUMN_CELLS,
  CONTROL,
  DEVICE_PRESENT,
  DEVICE_UNSTAMPED,
  CONTROL_COUNT,
  EXEMPLAR_COUNTS,
  EXEMPLAR_RING_BYTES,
  FLAGS,
  MAX_DEVICES,
  MAX_EXPONENT,
  MAX_CPUS,
  MAX_SLICES,
  RING_COLUMNS,
  STATS,
  STAT_COUNT,
  SPLITS_PER_EXPONENT,
  UNSEEN_COUNTS,
} from '../../shared/scheme.ts';
import { placementTable } from '../../shared/buckets.ts';
import { columnWith, type Column, type DeviceInfo, type Series } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import * as bpf from './libbpf.ts';
import { UserError } from '../base/errors.ts';
import { columnAt, columnStartMs, makeClock, type ColumnClock } from './clock.ts';
import { deviceOpCounts, seriesFromCounters } from './counters.ts';
import { dropsFromCounters, ExemplarRecords } from './exemplars.ts';
import { RingReader } from './ring.ts';
import { stackedOn, stackingTable } from './stacking.ts';

export const OBJECT_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../bpf/.output/bpfheat.bpf.o');
const CONFIG_BYTES = 32 + MAX_EXPONENT * SPLITS_PER_EXPONENT * 8;

/** How the kernel side times requests. */
export interface TracerMode {
  /** the seed's design: an issue program keeps each request's start time in a hash map */
  readonly startMap: boolean;
  /** remember each request's issuing task at insert/issue, for exemplars */
  readonly exemplars: boolean;
  /** time every device from the issue-side store, as devices without the kernel's stamp are (needs exemplars, no start map) */
  readonly issueStore?: boolean;
}

export const DEFAULT_MODE: TracerMode = { startMap: false, exemplars: true };

/** Times the requests of devices without the kernel's issue stamp, in the default mode with
 * exemplars on: attached only once such a device is seen, so that no program runs at issue otherwise. */
const UNSTAMPED_ISSUE_PROGRAM = 'time_rq_issue';

/** The programs a mode attaches at open; the others stay loaded and idle. */
export function programsFor(mode: TracerMode): readonly string[] {
  if (mode.startMap) return ['start_rq_insert', 'start_rq_issue', 'block_rq_complete'];
  if (mode.issueStore) return ['store_io_start', UNSTAMPED_ISSUE_PROGRAM, 'block_rq_complete'];
  if (mode.exemplars) return ['store_io_start', 'block_rq_complete'];
  return ['block_rq_complete'];
}

/** Every program of the BPF object. */
const ALL_PROGRAMS = ['start_rq_insert', 'start_rq_issue', 'store_io_start', UNSTAMPED_ISSUE_PROGRAM, 'block_rq_complete'];

/** The programs a mode loads: those it attaches at open, and the one it may attach later. */
export function programsLoadedFor(mode: TracerMode): readonly string[] {
  const later = !mode.startMap && mode.exemplars && !mode.issueStore ? [UNSTAMPED_ISSUE_PROGRAM] : [];
  return [...programsFor(mode), ...later];
}

/**
 * What this kernel lacks for a mode, as the one line to say, or null. btf: the kernel's BTF
 * (/sys/kernel/btf/vmlinux), where every tracepoint and kfunc the programs use is named.
 */
export function missingKernelFeature(btf: Uint8Array, mode: TracerMode): string | null {
  const names = (name: string) => Buffer.from(btf.buffer, btf.byteOffset, btf.byteLength).includes(`\0${name}\0`);
  if (!names('bpf_rdonly_cast')) {
    return 'this kernel has no bpf_rdonly_cast (Linux 6.2), which the completion program reads the kernel\'s I/O counters with: bpfheat needs Linux 6.2 or later';
  }
  if (programsFor(mode).includes('store_io_start') && !names('btf_trace_block_io_start')) {
    return 'this kernel has no block_io_start tracepoint (Linux 6.5), where exemplars take the submitting task: run with --exemplars off, or with --start-map';
  }
  return null;
}

export interface TracerCounters {
  readonly missedStart: number;
  readonly startFailed: number;
  readonly ringOverrun: number;
  readonly deviceOverflow: number;
  readonly partial: number;
  readonly unseen: number;
  readonly storeCollisions: number;
}

export interface ProgramHandle {
  readonly name: string;
  readonly fd: number;
}

/** Capability bits from linux/capability.h */
/** the verifier's answer when a signal arrived while it checked a program */
const EAGAIN = 11;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

export interface Environment {
  readonly capabilities: bigint;
  readonly btfPath: string;
  readonly objectPath: string;
}

export function currentEnvironment(): Environment {
  return { capabilities: effectiveCapabilities(), btfPath: '/sys/kernel/btf/vmlinux', objectPath: OBJECT_PATH };
}

/** Fails fast, with the fix, on what would otherwise be an obscure libbpf error. */
export function preflight({ capabilities, btfPath, objectPath }: Environment): void {
  const has = (cap: bigint) => (capabilities >> cap) & 1n;
  if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
    throw new UserError('tracing needs root (CAP_BPF and CAP_PERFMON): run it with sudo, or try --source synthetic for demo data');
  }
  if (!existsSync(btfPath)) {
    throw new UserError(
      `this kernel has no BTF (${btfPath} is missing): bpfheat needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, as most distribution kernels since 2020 are; or try --source synthetic`,
    );
  }
  if (!existsSync(objectPath)) {
    throw new UserError(`the BPF object ${objectPath} is not built: run \`npm run setup\` (or \`make -C bpf\`)`);
  }
}

/** How many CPU numbers the kernel may use (the highest possible CPU's + 1; 1 when the list is unreadable). */
export function possibleCpuCount(possibleCpus = readFileSync('/sys/devices/system/cpu/possible', 'utf8')): number {
  const last = Math.max(...possibleCpus.trim().split(',').map((range) => Number(range.split('-').at(-1))));
  return Number.isInteger(last) && last >= 0 ? last + 1 : 1;
}

function configBytes(clock: ColumnClock, mode: TracerMode, slices: number): Uint8Array {
  const bytes = new Uint8Array(CONFIG_BYTES);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, clock.intervalNs, true);
  view.setBigUint64(8, clock.phaseNs, true);
  const flags = (mode.startMap ? FLAGS.startMap : 0) | (mode.exemplars ? FLAGS.exemplars : 0) | (mode.issueStore ? FLAGS.issueStore : 0);
  view.setBigUint64(16, BigInt(flags), true);
  view.setBigUint64(24, BigInt(slices), true);
  placementTable().forEach((entry, k) => view.setBigUint64(32 + k * 8, entry, true));
  return bytes;
}

function deviceName(devT: number): string {
  const major = devT >>> 20;
  const minor = devT & 0xfffff;
  try {
    return basename(readlinkSync(`/sys/dev/block/${major}:${minor}`));
  } catch {
    return `${major}:${minor}`;
  }
}

export class Tracer {
  private readonly links: bpf.BpfLink[] = [];
  private readonly mappings: { unmap(): void }[] = [];
  private readonly cellWords: Uint32Array;
  private readonly tags: BigUint64Array;
  private readonly stats: BigUint64Array;
  private readonly exemplarCounts: BigUint64Array;
  private readonly unseenCounts: BigUint64Array;
  private readonly control: BigUint64Array;
  private readonly exemplarRing: RingReader;
  private readonly deviceIds: BigUint64Array;
  /** the cells map's fd, for reading counters through the syscall path instead of mmap */
  readonly cellsFd: number;
  /** the fd of the kernel program's [cpu][device] view of each device's statistics, for tests of the check for unseen completions */
  readonly devicesOnCpusFd: number;
  private names: DeviceInfo[] = [];
  /** what each device is stacked on, read at open while still root */
  private readonly stacking = stackingTable();
  private closed = false;
  /** counters() after close(): read just before the memory is unmapped */
  private finalCounters: TracerCounters | null = null;
  private readonly exemplarRecords: ExemplarRecords;
  /** no program attaches after detach(): the columns read after it are final */
  private detached = false;
  private attached: ProgramHandle[] = [];

  private constructor(
    private readonly obj: bpf.BpfObject,
    readonly clock: ColumnClock,
    /** the first column the tracer owns: it began before attach, so it is partial */
    readonly firstColumn: bigint,
    readonly mode: TracerMode,
    /** copies of the cells, one per CPU (bpf/bpfheat.h BPFHEAT_MAX_SLICES) */
    readonly slices: number,
  ) {
    try {
      this.cellsFd = bpf.mapFd(bpf.findMap(obj, 'cells'));
      this.devicesOnCpusFd = bpf.mapFd(bpf.findMap(obj, 'devices_on_cpus'));
      this.cellWords = new Uint32Array(this.map('cells', slices * RING_COLUMNS * COLUMN_CELLS * 8));
      this.tags = new BigUint64Array(this.map('column_tags', RING_COLUMNS * 8));
      this.stats = new BigUint64Array(this.map('stats', STAT_COUNT * 8));
      this.exemplarCounts = new BigUint64Array(this.map('exemplar_counts', RING_COLUMNS * EXEMPLAR_COUNTS * 8));
      this.unseenCounts = new BigUint64Array(this.map('unseen_counts', RING_COLUMNS * UNSEEN_COUNTS * 8));
      this.control = new BigUint64Array(this.map('control', CONTROL_COUNT * 8));
      this.setExemplarThreshold(Number.MAX_SAFE_INTEGER);
      const ring = bpf.mmapRing(bpf.mapFd(bpf.findMap(obj, 'exemplars')), EXEMPLAR_RING_BYTES);
      this.mappings.push(ring);
      this.exemplarRing = new RingReader(ring);
      this.exemplarRecords = new ExemplarRecords(clock, (line) => process.stderr.write(line));
      this.deviceIds = new BigUint64Array(this.map('device_ids', MAX_DEVICES * 8));
      for (let k = 0n; k < BigInt(RING_COLUMNS); k++) this.release(firstColumn + k - BigInt(RING_COLUMNS));
      for (const name of programsFor(mode)) this.attach(name);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Opens, configures, loads and attaches the BPF object; throws UserError with the fix on failure. */
  static open(intervalMs: number, mode: TracerMode = DEFAULT_MODE, environment = currentEnvironment()): Tracer {
    preflight(environment);
    if (mode.issueStore && (mode.startMap || !mode.exemplars)) {
      throw new UserError('--issue-store times requests from the store that exemplars fill: run it without --start-map and without --exemplars off / --threshold off');
    }
    const { objectPath, btfPath } = environment;
    const missing = missingKernelFeature(readFileSync(btfPath), mode);
    if (missing) throw new UserError(missing);
    const clock = makeClock(intervalMs, process.hrtime.bigint(), BigInt(Date.now()) * 1_000_000n);
    const cpus = possibleCpuCount();
    // one slice of counters per CPU, up to MAX_SLICES
    const slices = Math.min(cpus, MAX_SLICES);
    let obj: bpf.BpfObject;
    try {
      obj = bpf.openObject(objectPath);
    } catch (error) {
      throw explain(error, 'opening the BPF object');
    }
    try {
      const rodata = bpf.findMap(obj, '.rodata');
      if (bpf.mapValueSize(rodata) !== CONFIG_BYTES) {
        throw new UserError(`the BPF object's configuration is ${bpf.mapValueSize(rodata)} bytes, not ${CONFIG_BYTES}: rebuild it with \`make -C bpf\``);
      }
      const ringBytes = bpf.maxEntries(bpf.findMap(obj, 'exemplars'));
      if (ringBytes !== EXEMPLAR_RING_BYTES) {
        throw new UserError(`the BPF object's exemplar ring is ${ringBytes} bytes, not ${EXEMPLAR_RING_BYTES}: rebuild it with \`make -C bpf\``);
      }
      bpf.setInitialValue(rodata, configBytes(clock, mode, slices));
      bpf.setMaxEntries(bpf.findMap(obj, 'cells'), slices * RING_COLUMNS * COLUMN_CELLS);
      bpf.setMaxEntries(bpf.findMap(obj, 'devices_on_cpus'), Math.min(cpus, MAX_CPUS) * MAX_DEVICES);
      const loaded = programsLoadedFor(mode);
      for (const name of ALL_PROGRAMS) bpf.setAutoload(bpf.findProgram(obj, name), loaded.includes(name));
      bpf.loadObject(obj);
    } catch (error) {
      bpf.closeObject(obj);
      throw explain(error, 'loading the BPF program');
    }
    try {
      return new Tracer(obj, clock, columnAt(clock, process.hrtime.bigint()), mode, slices);
    } catch (error) {
      throw explain(error, 'attaching the BPF programs');
    }
  }

  private attach(name: string): void {
    const prog = bpf.findProgram(this.obj, name);
    this.links.push(bpf.attachProgram(prog));
    this.attached.push({ name, fd: bpf.programFd(prog) });
  }

  /** The programs attached so far, with their fds for run-time statistics. */
  get programs(): readonly ProgramHandle[] {
    return this.attached;
  }

  /**
   * Starts timing the requests of devices without the kernel's issue stamp from the issue-side
   * store (exemplars on, no start map). Linux 6.18 lets the process attach the loaded program after
   * it gave up root (test/attach-after-drop.kernel.test.ts); a kernel that refuses throws the
   * LibbpfError, for the caller to say. False when the mode cannot, or tracing has stopped.
   */
  timeUnstampedDevices(): boolean {
    if (this.mode.startMap) return true;
    if (!this.mode.exemplars || this.detached) return false;
    if (this.attached.some((p) => p.name === UNSTAMPED_ISSUE_PROGRAM)) return true;
    this.attach(UNSTAMPED_ISSUE_PROGRAM);
    return true;
  }

  private map(name: string, bytes: number): ArrayBuffer {
    const memory = bpf.mmapMap(bpf.mapFd(bpf.findMap(this.obj, name)), bytes);
    this.mappings.push(memory);
    return memory.buffer;
  }

  /** Lets the kernel reuse a column's ring slot for the column RING_COLUMNS later. */
  private release(column: bigint): void {
    this.tags[Number(column & BigInt(RING_COLUMNS - 1))] = column + BigInt(RING_COLUMNS);
  }

  /** The kernel's current column. */
  currentColumn(): bigint {
    return columnAt(this.clock, process.hrtime.bigint());
  }

  /** Where each slice's copy of a column begins, in cells of the cells map. */
  columnCells(column: bigint): number[] {
    const ring = Number(column & BigInt(RING_COLUMNS - 1));
    return Array.from({ length: this.slices }, (_, slice) => (slice * RING_COLUMNS + ring) * COLUMN_CELLS);
  }

  /** The maps' memory is unmapped once closed: reading it would crash the process, not throw. */
  private mustBeOpen(reading: string): void {
    if (this.closed) throw new Error(`${reading} after the tracer was closed`);
  }

  /** Reads a column's counters, zeroes them and hands the ring slot back to the kernel. */
  takeColumn(column: bigint): Column {
    this.mustBeOpen('taking a column');
    const ring = Number(column & BigInt(RING_COLUMNS - 1));
    const firstCells = this.columnCells(column);
    const series = seriesFromCounters(this.cellWords, firstCells);
    const drops = dropsFromCounters(this.exemplarCounts, ring * EXEMPLAR_COUNTS);
    const unseen = deviceOpCounts(this.unseenCounts, ring * UNSEEN_COUNTS);
    for (const first of firstCells) this.cellWords.fill(0, first * 2, (first + COLUMN_CELLS) * 2);
    this.exemplarCounts.fill(0n, ring * EXEMPLAR_COUNTS, (ring + 1) * EXEMPLAR_COUNTS);
    this.unseenCounts.fill(0n, ring * UNSEEN_COUNTS, (ring + 1) * UNSEEN_COUNTS);
    this.release(column);
    const intervalMs = Number(this.clock.intervalNs / 1_000_000n);
    const startMs = columnStartMs(this.clock, column);
    return columnWith({ seq: startMs / intervalMs, startMs, intervalMs, series }, drops, unseen);
  }

  /** Exemplars the kernel sent since the last call, oldest first; none after close(). */
  takeExemplars(): Exemplar[] {
    const taken: Exemplar[] = [];
    if (this.closed) return taken;
    this.exemplarRing.consume((data, offset, length) => this.exemplarRecords.add(taken, data, offset, length));
    return taken;
  }

  /** Takes effect at the next completion: no reload. Nothing to steer after close(). */
  setExemplarThreshold(ns: number): void {
    if (!this.closed) this.control[CONTROL.thresholdNs] = BigInt(Math.max(0, Math.round(ns)));
  }

  /** At most this many exemplars per latency bucket and column: the slow, sparse buckets keep every one. */
  setExemplarCap(perBucket: number): void {
    if (!this.closed) this.control[CONTROL.capPerBucket] = BigInt(Math.max(0, Math.round(perBucket)));
  }

  /** Names for every device index in these series; rereads the kernel's device table when one is new. */
  devicesFor(series: readonly Series[]): readonly DeviceInfo[] {
    if (series.some((s) => !this.names.some((d) => d.id === s.device))) this.names = this.readDevices();
    return this.names;
  }

  devices(): readonly DeviceInfo[] {
    return this.names;
  }

  /** Names of the devices that completed a request without the kernel's issue time stamp. */
  unstampedDevices(): string[] {
    this.mustBeOpen('reading the device table');
    const names: string[] = [];
    for (let id = 0; id < MAX_DEVICES - 1; id++) {
      const value = this.deviceIds[id]!;
      if ((value & DEVICE_PRESENT) !== 0n && (value & DEVICE_UNSTAMPED) !== 0n) names.push(deviceName(Number(value & 0xffffffffn)));
    }
    return names;
  }

  /** Read through mmap, not bpf(): kernels before 6.5 refuse an unprivileged process every bpf() call. */
  private readDevices(): DeviceInfo[] {
    this.mustBeOpen('reading the device table');
    const shared = Number(this.stats[STATS.nextDevice]) > MAX_DEVICES; // the last index holds every later device
    const devices: DeviceInfo[] = [];
    for (let id = 0; id < MAX_DEVICES; id++) {
      const value = this.deviceIds[id]!;
      if ((value & DEVICE_PRESENT) === 0n) continue;
      const name = id === MAX_DEVICES - 1 && shared ? 'other' : deviceName(Number(value & 0xffffffffn));
      const on = name === 'other' ? [] : (this.stacking.get(name) ?? stackedOn(name));
      devices.push(on.length > 0 ? { id, name, stackedOn: on } : { id, name });
    }
    return devices;
  }

  /** The kernel's counts; after close(), the last ones read before it. */
  counters(): TracerCounters {
    if (this.finalCounters) return this.finalCounters;
    const read = (stat: number) => Number(this.stats[stat]);
    return {
      missedStart: read(STATS.missedStart),
      startFailed: read(STATS.startFailed),
      ringOverrun: read(STATS.ringOverrun),
      deviceOverflow: read(STATS.deviceOverflow),
      partial: read(STATS.partial),
      unseen: read(STATS.unseen),
      storeCollisions: read(STATS.storeCollisions),
    };
  }

  /** Stops counting: every column the kernel can still write to is final after this. */
  detach(): void {
    this.detached = true;
    for (const link of this.links.splice(0)) bpf.destroyLink(link);
    this.attached = [];
  }

  close(): void {
    if (this.closed) return;
    this.detach();
    if (this.stats) this.finalCounters = this.counters();
    this.closed = true;
    for (const memory of this.mappings.splice(0)) memory.unmap();
    bpf.closeObject(this.obj);
  }
}

function explain(error: unknown, step: string): Error {
  if (error instanceof UserError) return error;
  if (error instanceof bpf.LibbpfError) {
    if (error.errno === 1 || error.errno === 13) {
      return new UserError(`${step} was refused (${error.message}): run as root, outside a container that drops CAP_BPF`);
    }
    if (error.errno === EAGAIN) {
      return new UserError(`${step} failed: the kernel's verifier was interrupted by a signal on each of libbpf's attempts (${error.message}): run it again, without a tool that signals the process many times a second`);
    }
    return new UserError(`${step} failed: ${error.message}; run with BPFHEAT_DEBUG=1 to see libbpf's log`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
