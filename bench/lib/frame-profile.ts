/**
 * What a page's longest animation frames spent their time on, from a Chromium trace recorded
 * with the JS sampling profiler ('disabled-by-default-v8.cpu_profiler'): per frame, its busy
 * time, the renderer's own steps (style, layout, paint) and the JS functions by time (self, and
 * including what they called). A profile of a few frames, where a p95 on a shared machine only
 * says that something was slow.
 */

export interface ProfileTraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly id?: string;
  readonly args?: {
    name?: string;
    data?: {
      startTime?: number;
      cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] };
      timeDeltas?: number[];
    };
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
  const thread = mainThread(events);
  const onThread = events.filter((e) => `${e.pid}:${e.tid}` === thread);
  const frames: { from: number; to: number; busy: number }[] = [];
  let open: number | null = null;
  const tasks = onThread.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.dur !== undefined);
  for (const e of onThread) {
    if (e.name !== 'AnimationFrame') continue;
    if (e.ph === 'b') open = e.ts;
    else if (e.ph === 'e' && open !== null) {
      let busy = 0;
      for (const t of tasks) busy += Math.max(0, Math.min(t.ts + t.dur!, e.ts) - Math.max(t.ts, open));
      frames.push({ from: open, to: e.ts, busy });
      open = null;
    }
  }
  const { nodes, samples } = samplesOf(events, thread);
  const lines: string[] = [];
  for (const frame of [...frames].sort((a, b) => b.busy - a.busy).slice(0, count)) {
    lines.push(`    frame of ${ms(frame.busy)} ms busy (span ${ms(frame.to - frame.from)} ms)`);
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
