/**
 * A page's animation frames in a Chromium trace: each frame's busy time and span, the user-timing
 * marks made in it (which frames painted, which updated the side panels), how many frames an
 * input took to be drawn; and what the longest frames spent their time on, from a trace recorded
 * with the JS sampling profiler ('disabled-by-default-v8.cpu_profiler'): per frame, its busy
 * time, the renderer's own steps (style, layout, paint) and the JS functions by time (self, and
 * including what they called). A profile of a few frames, where a p95 on a shared machine only
 * says that something was slow.
 */
import { quantile } from './report.ts';

export interface ProfileTraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly id?: string;
  readonly cat?: string;
  readonly args?: {
    name?: string;
    beginData?: { dirtyObjects?: number };
    endData?: { layoutRoots?: { nodeName?: string }[] };
    data?: {
      type?: string;
      startTime?: number;
      cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] };
      timeDeltas?: number[];
    };
  };
}

/** One animation frame of the page's main thread; times in µs of the trace's clock. */
export interface AnimationFrame {
  /** the start of the frame's first task */
  readonly from: number;
  /** the end of its rendering update */
  readonly to: number;
  /** ms the thread's tasks ran in it (a task inside another counted once) */
  readonly busyMs: number;
  /** ms from `from` to `to`, the wait for the frame's turn included */
  readonly spanMs: number;
  /** the user-timing marks (performance.mark) made in it */
  readonly marks: readonly string[];
}

/** The animation frames of a trace's page, and the page's main thread (pid:tid). */
export interface PageFrames {
  readonly thread: string;
  readonly frames: readonly AnimationFrame[];
}

/**
 * The animation frames of the page's main thread in a Chromium trace (the "AnimationFrame"
 * events behind the Long Animation Frames API): of the renderer main thread with the most frames
 * when the trace holds more than one page.
 */
export function animationFrames(trace: { traceEvents: readonly ProfileTraceEvent[] }): PageFrames {
  const events = [...trace.traceEvents].sort((a, b) => a.ts - b.ts);
  const thread = mainThread(events);
  const onThread = events.filter((e) => `${e.pid}:${e.tid}` === thread);
  const tasks = onThread.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.dur !== undefined);
  const marks = onThread.filter((e) => e.cat === 'blink.user_timing' && (e.ph === 'I' || e.ph === 'R' || e.ph === 'n'));
  const frames: AnimationFrame[] = [];
  let open: number | null = null;
  for (const e of onThread) {
    if (e.name !== 'AnimationFrame') continue;
    if (e.ph === 'b') open = e.ts;
    else if (e.ph === 'e' && open !== null) {
      const from = open;
      frames.push({ from, to: e.ts, busyMs: busyMs(tasks, from, e.ts), spanMs: (e.ts - from) / 1000, marks: marks.filter((m) => m.ts >= from && m.ts <= e.ts).map((m) => m.name) });
      open = null;
    }
  }
  return { thread, frames };
}

/** Time (ms) the tasks (ascending by start; a task inside another is counted once) ran within [from, to] (µs). */
export function busyMs(tasks: readonly ProfileTraceEvent[], from: number, to: number): number {
  let busy = 0;
  let until = from;
  for (const task of tasks) {
    const start = Math.max(task.ts, until);
    const end = Math.min(task.ts + task.dur!, to);
    if (end > start) busy += end - start;
    until = Math.max(until, Math.min(task.ts + task.dur!, to));
  }
  return busy / 1000;
}

/**
 * From `atUs` (an input's dispatch) to the end of the first frame that made the mark: ms, and
 * the frames it took (the one the input fell in, up to and with the marked one); null when no
 * frame after `atUs` made it.
 */
export function untilMarked(frames: readonly AnimationFrame[], atUs: number, mark: string): { ms: number; frames: number } | null {
  const after = frames.filter((f) => f.to >= atUs);
  const marked = after.findIndex((f) => f.marks.includes(mark));
  if (marked < 0) return null;
  return { ms: (after[marked]!.to - atUs) / 1000, frames: marked + 1 };
}

/** When (µs) the page's main thread first dispatched a DOM event of one of these types, or null. */
export function firstDispatch(trace: { traceEvents: readonly ProfileTraceEvent[] }, thread: string, types: readonly string[]): number | null {
  const dispatched = trace.traceEvents.filter((e) => e.name === 'EventDispatch' && `${e.pid}:${e.tid}` === thread && types.includes(e.args?.data?.type ?? ''));
  return dispatched.length > 0 ? Math.min(...dispatched.map((e) => e.ts)) : null;
}

/** The main thread's own work in a frame, from the trace's timeline events (no profiler needed). */
export interface FrameWork {
  /** ms of JavaScript: timers, animation-frame callbacks, events, messages and microtasks (one inside another counted once) */
  readonly scriptMs: number;
  /** ms of style recalculation (UpdateLayoutTree) */
  readonly styleMs: number;
  /** ms of layout */
  readonly layoutMs: number;
  /** ms of the frame's busy time in none of these (nor pre-paint, paint, GC): the thread waiting, or not given a core */
  readonly otherMs: number;
  /** the layouts run in the frame: the objects they found dirty and the node each began from (#document: the whole page) */
  readonly layouts: readonly { readonly dirtyObjects: number; readonly root: string }[];
}

/** The events whose time is the page's JavaScript (a script's own events nest inside them). */
const SCRIPT_EVENTS = ['FunctionCall', 'TimerFire', 'FireAnimationFrame', 'EventDispatch', 'RunMicrotasks'];

/** What the page's main thread (`thread`, pid:tid) did in each frame: script, style and layout, and where its layouts began. */
export function frameWork(trace: { traceEvents: readonly ProfileTraceEvent[] }, thread: string, frames: readonly AnimationFrame[]): FrameWork[] {
  const onThread = [...trace.traceEvents].filter((e) => `${e.pid}:${e.tid}` === thread && e.ph === 'X' && e.dur !== undefined).sort((a, b) => a.ts - b.ts);
  const named = (names: readonly string[]): ProfileTraceEvent[] => onThread.filter((e) => names.includes(e.name));
  const script = named(SCRIPT_EVENTS);
  const style = named(['UpdateLayoutTree']);
  const layout = named(['Layout']);
  const accounted = named([...SCRIPT_EVENTS, ...RENDER_STEPS]);
  return frames.map((frame) => ({
    scriptMs: busyMs(script, frame.from, frame.to),
    styleMs: busyMs(style, frame.from, frame.to),
    layoutMs: busyMs(layout, frame.from, frame.to),
    otherMs: frame.busyMs - busyMs(accounted, frame.from, frame.to),
    layouts: layout
      .filter((e) => e.ts >= frame.from && e.ts < frame.to)
      .map((e) => ({ dirtyObjects: e.args?.beginData?.dirtyObjects ?? 0, root: e.args?.endData?.layoutRoots?.[0]?.nodeName ?? 'unknown' })),
  }));
}

/** The work of a kind of frame, summed up: medians and p95s (ms) over its frames, and how many of their layouts were of the whole page. */
export interface WorkSummary {
  readonly frames: number;
  readonly scriptMs: { readonly p50: number; readonly p95: number };
  readonly styleMs: { readonly p50: number; readonly p95: number };
  readonly layoutMs: { readonly p50: number; readonly p95: number };
  readonly otherMs: { readonly p50: number; readonly p95: number };
  readonly layouts: number;
  /** layouts that began from the document (nothing inside was a boundary the invalidation stopped at) */
  readonly wholePageLayouts: number;
  /** the median of the objects a layout found dirty */
  readonly dirtyObjectsP50: number;
}

export function summarizeWork(work: readonly FrameWork[]): WorkSummary {
  const spread = (values: readonly number[]) => ({ p50: quantile(values, 0.5), p95: quantile(values, 0.95) });
  const layouts = work.flatMap((w) => w.layouts);
  return {
    frames: work.length,
    scriptMs: spread(work.map((w) => w.scriptMs)),
    styleMs: spread(work.map((w) => w.styleMs)),
    layoutMs: spread(work.map((w) => w.layoutMs)),
    otherMs: spread(work.map((w) => w.otherMs)),
    layouts: layouts.length,
    wholePageLayouts: layouts.filter((l) => l.root === '#document').length,
    dirtyObjectsP50: quantile(layouts.map((l) => l.dirtyObjects), 0.5),
  };
}

interface ProfileNode {
  readonly id: number;
  readonly parent?: number;
  readonly callFrame: { readonly functionName: string; readonly url?: string; readonly lineNumber?: number };
}

/** The renderer's steps of a frame, as the trace names them. */
const RENDER_STEPS = ['UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'Commit', 'HitTest', 'MajorGC', 'MinorGC'];

/** One JS sample: when, and the node it hit (a leaf of the call tree). */
interface Sample {
  readonly ts: number;
  readonly node: number;
}

function mainThread(events: readonly ProfileTraceEvent[]): string {
  const threads = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const frames = new Map<string, number>();
  for (const e of events) if (e.name === 'AnimationFrame' && threads.has(`${e.pid}:${e.tid}`)) frames.set(`${e.pid}:${e.tid}`, (frames.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  return [...frames.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

/** The sampled call tree and samples of the profile taken on the thread. */
function samplesOf(events: readonly ProfileTraceEvent[], thread: string): { nodes: Map<number, ProfileNode>; samples: Sample[] } {
  const nodes = new Map<number, ProfileNode>();
  const samples: Sample[] = [];
  const profile = events.find((e) => e.name === 'Profile' && `${e.pid}:${e.tid}` === thread);
  if (!profile) return { nodes, samples };
  let ts = profile.args?.data?.startTime ?? profile.ts;
  for (const chunk of events.filter((e) => e.name === 'ProfileChunk' && e.id === profile.id)) {
    for (const node of chunk.args?.data?.cpuProfile?.nodes ?? []) nodes.set(node.id, node);
    const ids = chunk.args?.data?.cpuProfile?.samples ?? [];
    const deltas = chunk.args?.data?.timeDeltas ?? [];
    ids.forEach((node, k) => {
      ts += deltas[k] ?? 0;
      samples.push({ ts, node });
    });
  }
  return { nodes, samples };
}

function nameOf(node: ProfileNode): string {
  const { functionName, url = '', lineNumber = 0 } = node.callFrame;
  const file = url.slice(url.lastIndexOf('/') + 1);
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

const ms = (us: number): string => (us / 1000).toFixed(1);

/** The `count` frames of the most busy time, each with where its time went; printable text. */
export function longestFrames(trace: { traceEvents: ProfileTraceEvent[] }, count: number): string {
  const events = [...trace.traceEvents].sort((a, b) => a.ts - b.ts);
  const { thread, frames } = animationFrames({ traceEvents: events });
  const onThread = events.filter((e) => `${e.pid}:${e.tid}` === thread);
  const { nodes, samples } = samplesOf(events, thread);
  const lines: string[] = [];
  for (const frame of [...frames].sort((a, b) => b.busyMs - a.busyMs).slice(0, count)) {
    lines.push(`    frame of ${frame.busyMs.toFixed(1)} ms busy (span ${frame.spanMs.toFixed(1)} ms)${frame.marks.length > 0 ? ` marks: ${frame.marks.join(', ')}` : ''}`);
    const steps = new Map<string, number>();
    for (const e of onThread) {
      if (e.ph !== 'X' || e.dur === undefined || !RENDER_STEPS.includes(e.name)) continue;
      const overlap = Math.min(e.ts + e.dur, frame.to) - Math.max(e.ts, frame.from);
      if (overlap > 0) steps.set(e.name, (steps.get(e.name) ?? 0) + overlap);
    }
    lines.push(`      renderer: ${[...steps.entries()].map(([name, us]) => `${name} ${ms(us)}`).join(', ') || 'none'}`);
    const inFrame = samples.filter((s) => s.ts >= frame.from && s.ts <= frame.to);
    const interval = inFrame.length > 1 ? (inFrame.at(-1)!.ts - inFrame[0]!.ts) / (inFrame.length - 1) : 0;
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    for (const sample of inFrame) {
      const leaf = nodes.get(sample.node);
      if (!leaf) continue;
      self.set(nameOf(leaf), (self.get(nameOf(leaf)) ?? 0) + interval);
      const seen = new Set<string>();
      for (let node: ProfileNode | undefined = leaf; node; node = node.parent === undefined ? undefined : nodes.get(node.parent)) {
        const name = nameOf(node);
        if (seen.has(name) || !node.callFrame.url) continue;
        seen.add(name);
        total.set(name, (total.get(name) ?? 0) + interval);
      }
    }
    const top = (m: Map<string, number>, n: number): string =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([name, us]) => `${ms(us)} ${name}`)
        .join('; ');
    lines.push(`      JS self: ${top(self, 8) || 'no samples'}`);
    lines.push(`      JS with callees: ${top(total, 14) || 'no samples'}`);
  }
  return lines.join('\n');
}
