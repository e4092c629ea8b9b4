import { describe, expect, it } from 'vitest';
import { animationFrames, busyMs, firstDispatch, frameWork, longestFrames, summarizeWork, untilMarked, type ProfileTraceEvent } from './frame-profile.ts';

const MAIN = { pid: 1, tid: 10 };
const OTHER = { pid: 2, tid: 20 };

function threadName(at: { pid: number; tid: number }): ProfileTraceEvent {
  return { name: 'thread_name', ph: 'M', ts: 0, ...at, args: { name: 'CrRendererMain' } };
}
function frame(at: { pid: number; tid: number }, from: number, to: number): ProfileTraceEvent[] {
  return [
    { name: 'AnimationFrame', ph: 'b', ts: from, ...at },
    { name: 'AnimationFrame', ph: 'e', ts: to, ...at },
  ];
}
function task(at: { pid: number; tid: number }, ts: number, dur: number): ProfileTraceEvent {
  return { name: 'RunTask', ph: 'X', ts, dur, ...at };
}
function mark(at: { pid: number; tid: number }, name: string, ts: number): ProfileTraceEvent {
  return { name, cat: 'blink.user_timing', ph: 'I', ts, ...at };
}

/**
 * Two pages' main threads; the page of more frames is the one measured. Its first frame
 * (1000–5000 µs) ran a task of 2 ms with a task of 1 ms inside it and a task of 1 ms reaching
 * past its end; its second (5000–9000 µs) the rest of that task and a marked draw.
 */
const trace: ProfileTraceEvent[] = [
  threadName(MAIN),
  threadName(OTHER),
  ...frame(MAIN, 1000, 5000),
  ...frame(MAIN, 5000, 9000),
  ...frame(OTHER, 0, 100_000),
  task(MAIN, 1000, 2000),
  task(MAIN, 1500, 1000),
  task(MAIN, 4500, 1000),
  task(MAIN, 7000, 500),
  task(OTHER, 0, 90_000),
  mark(MAIN, 'bpfheat:draw', 7200),
  mark(OTHER, 'bpfheat:draw', 2000),
  { name: 'EventDispatch', ph: 'X', ts: 4600, dur: 10, ...MAIN, args: { data: { type: 'mouseup' } } },
  { name: 'EventDispatch', ph: 'X', ts: 10, dur: 10, ...OTHER, args: { data: { type: 'mouseup' } } },
];

describe('animationFrames', () => {
  const { thread, frames } = animationFrames({ traceEvents: trace });
  it('takes the renderer main thread with the most frames', () => {
    expect(thread).toBe('1:10');
    expect(frames.map((f) => [f.from, f.to])).toEqual([
      [1000, 5000],
      [5000, 9000],
    ]);
  });
  it('counts a task inside another once, and a task across frames in each by its part', () => {
    expect(frames.map((f) => f.busyMs)).toEqual([2.5, 1]);
    expect(frames.map((f) => f.spanMs)).toEqual([4, 4]);
  });
  it("gives each frame the marks made on its thread within it", () => {
    expect(frames.map((f) => f.marks)).toEqual([[], ['bpfheat:draw']]);
  });
});

describe('busyMs', () => {
  const tasks = [task(MAIN, 0, 10_000), task(MAIN, 2000, 3000), task(MAIN, 4000, 8000), task(MAIN, 20_000, 1000)];
  it.each([
    [0, 30_000, 13],
    [0, 5000, 5],
    [11_000, 19_000, 1],
    [12_000, 19_000, 0],
    [10_000, 12_000, 2],
  ])('[%i, %i] µs: %f ms', (from, to, ms) => {
    expect(busyMs(tasks, from, to)).toBe(ms);
  });
});

describe('untilMarked', () => {
  const { frames } = animationFrames({ traceEvents: trace });
  it('times from the input to the end of the marked frame, counting the input\'s own frame', () => {
    expect(untilMarked(frames, 4600, 'bpfheat:draw')).toEqual({ ms: 4.4, frames: 2 });
    expect(untilMarked(frames, 6000, 'bpfheat:draw')).toEqual({ ms: 3, frames: 1 });
  });
  it('is null when no frame after the input made the mark', () => {
    expect(untilMarked(frames, 9500, 'bpfheat:draw')).toBeNull();
    expect(untilMarked(frames, 0, 'bpfheat:panels')).toBeNull();
  });
});

describe('firstDispatch', () => {
  it("finds the event's first dispatch on the page's thread only", () => {
    expect(firstDispatch({ traceEvents: trace }, '1:10', ['mouseup', 'pointerup'])).toBe(4600);
    expect(firstDispatch({ traceEvents: trace }, '1:10', ['keydown'])).toBeNull();
  });
});

describe('frameWork', () => {
  const work = (name: string, ts: number, dur: number, args?: ProfileTraceEvent['args']): ProfileTraceEvent => ({ name, ph: 'X', ts, dur, ...MAIN, args });
  // the first frame (1000–5000 µs): an animation-frame callback of 1 ms with a call inside it and
  // a microtask after it, the mouseup's 10 µs, style, and a layout of the whole page; the second a partial layout and
  // a timer reaching past its end; the other page's layout is not this page's
  const worked = [
    ...trace,
    work('FireAnimationFrame', 1100, 1000),
    work('FunctionCall', 1200, 500),
    work('RunMicrotasks', 2100, 400),
    work('UpdateLayoutTree', 2600, 200),
    work('Layout', 2900, 700, { beginData: { dirtyObjects: 13 }, endData: { layoutRoots: [{ nodeName: '#document' }] } }),
    work('Layout', 5100, 100, { beginData: { dirtyObjects: 4 }, endData: { layoutRoots: [{ nodeName: "svg class='heatmap-overlay'" }] } }),
    work('TimerFire', 8500, 1000),
    { ...work('Layout', 2000, 3000, { beginData: { dirtyObjects: 99 } }), ...OTHER },
  ];
  const { thread, frames } = animationFrames({ traceEvents: worked });
  const [first, second] = frameWork({ traceEvents: worked }, thread, frames);
  it('times script once where one script event runs inside another, and each step by its part in the frame', () => {
    expect(first).toMatchObject({ scriptMs: 1.41, styleMs: 0.2, layoutMs: 0.7 });
    expect(second).toMatchObject({ scriptMs: 0.5, styleMs: 0, layoutMs: 0.1 });
  });
  it('leaves what the busy time holds beyond them as other: the tasks with nothing of the page inside', () => {
    // busy 2.5 and 1 ms (animationFrames' test above)
    expect(first!.otherMs).toBeCloseTo(2.5 - 1.41 - 0.2 - 0.7, 9);
    expect(second!.otherMs).toBeCloseTo(1 - 0.5 - 0.1, 9);
  });
  it("names where each of the frame's layouts began and how many objects it found dirty", () => {
    expect(first!.layouts).toEqual([{ dirtyObjects: 13, root: '#document' }]);
    expect(second!.layouts).toEqual([{ dirtyObjects: 4, root: "svg class='heatmap-overlay'" }]);
  });
});

describe('summarizeWork', () => {
  const frameOf = (scriptMs: number, layoutMs: number, roots: readonly string[]) => ({ scriptMs, styleMs: 0.1, layoutMs, otherMs: 1, layouts: roots.map((root, k) => ({ dirtyObjects: 4 + k, root })) });
  it('takes the median and the p95 of each step over the frames, and counts the layouts of the whole page', () => {
    const work = [frameOf(1, 0.5, ['#document']), frameOf(3, 0.2, ['div class="summary"', '#document']), frameOf(2, 0, [])];
    expect(summarizeWork(work)).toEqual({
      frames: 3,
      scriptMs: { p50: 2, p95: 3 },
      styleMs: { p50: 0.1, p95: 0.1 },
      layoutMs: { p50: 0.2, p95: 0.5 },
      otherMs: { p50: 1, p95: 1 },
      layouts: 3,
      wholePageLayouts: 2,
      dirtyObjectsP50: 4,
    });
  });
  it('has no figures, not zeros, for no frames', () => {
    expect(summarizeWork([])).toMatchObject({ frames: 0, layouts: 0, scriptMs: { p50: NaN, p95: NaN } });
  });
});

describe('longestFrames', () => {
  it('profiles the busiest frame from samples split over chunks', () => {
    const node = (id: number, functionName: string, parent?: number) => ({ id, parent, callFrame: { functionName, url: 'http://x/app.js', lineNumber: id } });
    const profiled: ProfileTraceEvent[] = [
      ...trace,
      { name: 'Profile', ph: 'P', ts: 0, ...MAIN, id: '0x1', args: { data: { startTime: 1000 } } },
      // one sample every 500 µs from 1500 µs: prepare inside draw, then draw alone; the second chunk adds a node
      { name: 'ProfileChunk', ph: 'P', ts: 0, ...MAIN, id: '0x1', args: { data: { cpuProfile: { nodes: [node(1, 'draw'), node(2, 'prepare', 1)], samples: [2, 2] }, timeDeltas: [500, 500] } } },
      { name: 'ProfileChunk', ph: 'P', ts: 0, ...MAIN, id: '0x1', args: { data: { cpuProfile: { nodes: [node(3, 'paint', 1)], samples: [3, 1] }, timeDeltas: [500, 500] } } },
    ];
    const text = longestFrames({ traceEvents: profiled }, 1);
    expect(text).toContain('frame of 2.5 ms busy (span 4.0 ms)');
    expect(text).toMatch(/JS self: 1\.0 prepare app\.js:3; 0\.5 paint app\.js:4; 0\.5 draw app\.js:2/);
    expect(text).toMatch(/JS with callees: 2\.0 draw app\.js:2; 1\.0 prepare app\.js:3; 0\.5 paint app\.js:4/);
    expect(text).not.toContain('bpfheat:draw');
  });
});
