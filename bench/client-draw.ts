/**
 * Client drawing: the dashboard in Debian's Chromium (Playwright), with a window of 1 hour,
 * 24 hours and 7 days of one-second columns, measuring how long the window takes to be drawn
 * whole, the time per frame while the live view scrolls and while the user brushes a zoom
 * rectangle, the frame after the zoom, and the JS heap.
 *
 *   node --import tsx bench/client-draw.ts [--width 1920] [--height 1080] [--dpr 1] [--windows 1h,24h,7d] [--client-dir DIR] [--trace DIR]
 *
 * The client is built into a temporary directory (vite), or taken as built in --client-dir (to
 * compare two builds on the same machine in one sitting), and served by bench/bench-server.ts
 * with the window's synthetic history (and its roll-ups; for 7 days the server keeps 24 h of
 * columns, as bpfheat does by default, and the week in its roll-ups). The page opens the window
 * with its URL (?span=3600, ?span=86400, ?span=604800) and loads it as it does against the
 * binary: the default WebSocket backfill (15 min), then history requests at the step its width
 * needs (1 s, 10-s roll-ups, 1-min roll-ups). Loaded: a frame with nothing missing in the
 * window has been drawn and nothing waits to be fetched or drawn, timed from the navigation.
 *
 * Time per frame: Chromium's own animation-frame records from a performance trace (the
 * "AnimationFrame" events behind the Long Animation Frames API, emitted for every frame that
 * renders) on the page's main thread. The figure is the frame's busy time: the time of the tasks
 * the thread ran from the start of the frame's first task to the end of its rendering update,
 * so it holds input handling, requestAnimationFrame callbacks (the canvas draw), React's
 * updates, style, layout and paint. The span of the frame (first task to rendering update) is
 * printed beside it: it also holds the time the thread sat idle waiting for the frame's turn,
 * which a task that starts a frame early (a WebSocket message, the benchmark's own
 * page.evaluate) stretches to up to a vsync interval. Rasterisation and compositing run on
 * other threads and are in neither.
 *   scrolling  the live view moves one column per new column: the server publishes 50 held-back
 *              columns at 10 per second and every frame that follows is counted
 *   brushing   pointer down in the heat map, 40 moves one frame apart (the d3 brush follows),
 *              with no new columns arriving; the zoom frame after release is shown apart
 * The page marks the frames that paint the heat map (a part of a new picture painted over
 * several frames included: those are drawing frames too) and those that give the side panels a
 * new frame (user-timing marks, client/state/marks.ts): scrolling is judged on the worse of the
 * two kinds' p95 (the p95 over all frames moves by a rank when one kind becomes more frequent), and
 * the zoom is timed from the release to the end of the frame that painted the zoomed view, with
 * the frames that took, beside its longest frame (which alone rewards spreading work over frames).
 * DOM changes per scrolling frame: the MutationObserver records of the page while it scrolls,
 * per frame: what React and the browser's style and layout work on, counted, not timed.
 * Pixels painted per column received while scrolling, and the whole-picture repaints among
 * them: the page counts the device pixels of the heat map it paints (client/testing.ts), counts
 * of work that neither the machine's load nor the frame rate moves; and the same per drawing
 * frame (the p95, and the most in one frame), from the marks of the frames that paint.
 * Recolouring: after the scroll, the held live view is switched to another colour scale, which
 * recolours it a part a frame as a live colour maximum that moved does (the scroll itself has no
 * recolouring once the page's history is in): the busy time and work of the frames that paint a
 * part, after the switch's own frame; then it is switched back.
 * JS heap: used size after a forced garbage collection (CDP Runtime.getHeapUsage).
 *
 * `--trace DIR` keeps the traces of scrolling and of the zoom (DIR/<window>-scroll.json,
 * DIR/<window>-zoom.json), with the JS sampling profiler's samples in them, and prints what the
 * longest frames spent their time on (bench/lib/frame-profile.ts): the counts of work per frame
 * that a loaded machine cannot blur as it blurs a p95. The profiler slows the page: such a run's
 * figures are printed as profiled, not judged.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { atMost, heading, info, machineLine, numberOption, printFigures, quantile, say, sleep, table, type Figure } from './lib/report.ts';
import { isMain, onCleanup, runMain } from './lib/cleanup.ts';
import { startTool, type Tool } from './lib/system.ts';
import { animationFrames, firstDispatch, frameWork, longestFrames, summarizeWork, untilMarked, type AnimationFrame, type FrameWork, type ProfileTraceEvent, type WorkSummary } from './lib/frame-profile.ts';
import { DRAW_MARK, DRAW_PART_MARK, PANELS_MARK } from '../client/state/marks.ts';

export interface ClientDrawOptions {
  readonly widthCss: number;
  readonly heightCss: number;
  readonly dpr: number;
  /** the windows to measure, by label (default: all) */
  readonly windows?: readonly string[];
  /** a client built already (default: this checkout's, built now) */
  readonly clientDir?: string;
  /** a directory to keep the scrolling and zoom traces in, and to print their longest frames' profiles */
  readonly traceDir?: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const PART = 'Client drawing';
const DAY = 86_400;
const SCROLL_COLUMNS = 50;
const SCROLL_RATE = 10;
const BRUSH_MOVES = 40;
/** the colour scale the recolouring switches the page to (and then back to the one it had) */
const RECOLOUR_TO = 'linear';
const LOAD_TIMEOUT_MS = 120_000;
/** how long a drawn view may take to be drawn again after a change (a recolouring, a zoom) */
const IDLE_TIMEOUT_MS = 20_000;

interface Scenario {
  readonly label: string;
  readonly spanS: number;
  readonly frameTargetMs: number;
}

const SCENARIOS: readonly Scenario[] = [
  { label: '1 h', spanS: 3600, frameTargetMs: 8 },
  { label: '24 h', spanS: DAY, frameTargetMs: 8 },
  { label: '7 d', spanS: 7 * DAY, frameTargetMs: 8 },
];
const LOAD_TARGET_S = 3;

/** `--client-dir DIR`: a built client to measure instead of this checkout's. */
function clientDirOption(argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const k = argv.indexOf('--client-dir');
  if (k < 0) return undefined;
  const dir = argv[k + 1] ?? '';
  if (existsSync(join(dir, 'index.html'))) return dir;
  process.stderr.write(`bench:client: --client-dir needs a built client (a directory with index.html, from vite build), got "${dir}"\n`);
  process.exit(2);
}

/** `--trace DIR`: where to keep the traces (made if need be). */
function traceDirOption(argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const k = argv.indexOf('--trace');
  if (k < 0) return undefined;
  const dir = argv[k + 1];
  if (!dir || dir.startsWith('--')) {
    process.stderr.write('bench:client: --trace needs a directory to write the traces into, e.g. --trace /tmp/traces\n');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The scenarios of `--windows 1h,24h` (labels without spaces); all without the option. */
function windowsOption(argv: readonly string[] = process.argv.slice(2)): string[] | undefined {
  const k = argv.indexOf('--windows');
  if (k < 0) return undefined;
  const known = SCENARIOS.map((s) => s.label.replace(' ', ''));
  const asked = (argv[k + 1] ?? '').split(',');
  const unknown = asked.find((label) => !known.includes(label));
  if (unknown === undefined) return asked;
  process.stderr.write(`bench:client: --windows takes a comma-separated list of ${known.join(', ')}, got "${unknown}"\n`);
  process.exit(2);
}
const ZOOM_TARGET_MS = 50;
const HEAP_TARGET_MB = 150;

interface FrameStats {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  /** columns (or roll-ups) drawn once loaded, and their step */
  readonly cells: number;
  readonly stepMs: number;
  readonly loadS: number;
  /** the window was drawn with nothing missing before the load timed out */
  readonly complete: boolean;
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  /** the frames' busy time, and their span */
  readonly scrolling: FrameStats;
  readonly scrollingSpan: FrameStats;
  /** the scrolling frames that painted the heat map (a part of a new picture included), and those that only gave the side panels a frame (marks.ts) */
  readonly scrollingDraw: FrameStats;
  readonly scrollingPanels: FrameStats;
  /** the main thread's script, style and layout in each of the two kinds (frameWork): what a panel frame spends beside React is mostly layout */
  readonly drawWork: WorkSummary;
  readonly panelWork: WorkSummary;
  /** DOM changes per scrolling frame (countDomChanges) */
  readonly scrollDomPerFrame: number;
  /** device pixels of the heat map painted while scrolling, per column received; null for a client that does not count them */
  readonly scrollPaintedPerColumn: number | null;
  /** whole pictures begun while scrolling; null for a client that does not count them */
  readonly scrollWholePictures: number | null;
  /** React's renders of the page while scrolling, per column received; null for a client that does not count them */
  readonly scrollRendersPerColumn: number | null;
  /** device pixels painted by the drawing frames while scrolling: the most in one frame, and the p95; null for a client that does not mark them */
  readonly scrollPaintedPerFrame: { readonly max: number; readonly p95: number } | null;
  /** the live view recoloured (its colour scale switched from this one, no column arriving) */
  readonly recolourFrom: string;
  /** the frames that painted a part after the switch's own (which also renders the toolbar and legend), their work, and the pixels each part painted */
  readonly recolourParts: FrameStats;
  readonly recolourWork: WorkSummary;
  readonly recolourPxPerPart: number | null;
  /** the parts painted (the page's painting marks) and the frames of the trace that painted one, the switch's own included: the two agree when no part is lost or merged */
  readonly recolourPartsPainted: number;
  readonly recolourPartFramesTraced: number;
  /** busy time of the frame the switch's change event fell in */
  readonly recolourSwitchMs: number | null;
  readonly brushing: FrameStats;
  readonly brushingSpan: FrameStats;
  readonly zoomMs: number | null;
  readonly zoomSpanMs: number | null;
  /** from the button's release to the end of the frame that painted the zoomed view, and the frames that took (null: not painted) */
  readonly zoomDrawn: { readonly ms: number; readonly frames: number } | null;
  /** the client's own measure of its last frame task, when it exposes one */
  readonly clientLastFrameMs: number | null;
}

function frameStats(durations: readonly number[]): FrameStats {
  return {
    count: durations.length,
    p50: quantile(durations, 0.5),
    p95: quantile(durations, 0.95),
    max: durations.length > 0 ? Math.max(...durations) : Number.NaN,
  };
}

const TRACE_CATEGORIES = ['devtools.timeline', 'blink.user_timing', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame'];

/** What a traced action gave: its animation frames with the main thread's work in each, and when the page first saw a mouse button released and a control changed (null: not in it). */
interface Traced {
  readonly frames: readonly AnimationFrame[];
  readonly work: readonly FrameWork[];
  readonly releasedAt: number | null;
  readonly changedAt: number | null;
}

/** The action's animation frames; with `keep`, the trace (with JS samples) is written there and its longest frames are profiled. */
async function traced(browser: Browser, page: Page, action: () => Promise<void>, keep?: string): Promise<Traced> {
  const categories = keep ? [...TRACE_CATEGORIES, 'disabled-by-default-v8.cpu_profiler'] : TRACE_CATEGORIES;
  await browser.startTracing(page, { categories });
  try {
    await action();
  } catch (error) {
    await browser.stopTracing();
    throw error;
  }
  const trace = await browser.stopTracing();
  const parsed = JSON.parse(trace.toString('utf8')) as { traceEvents: ProfileTraceEvent[] };
  if (keep) {
    writeFileSync(keep, trace);
    say(`  trace: ${keep}`);
    say(longestFrames(parsed, 5));
  }
  const { thread, frames } = animationFrames(parsed);
  return { frames, work: frameWork(parsed, thread, frames), releasedAt: firstDispatch(parsed, thread, ['mouseup', 'pointerup']), changedAt: firstDispatch(parsed, thread, ['change']) };
}

interface Hooks {
  ready: boolean;
  idle: boolean;
  fetching: boolean;
  seqs(): number[];
  missing(): [number, number][];
  frame(): { intervalMs: number; plot: { x: number; y: number; width: number; height: number } } | null;
  columns(): unknown[];
  lastFrameMs: number;
  /** absent from a client built before they were counted (--client-dir) */
  paintedPxTotal?: number;
  wholePictures?: number;
  reactRenders?: number;
}

export interface HookState {
  readonly ready: boolean;
  readonly idle: boolean;
  /** the window is drawn whole: nothing missing in it, nothing being fetched */
  readonly complete: boolean;
  /** the newest column the page holds */
  readonly newest: number;
  readonly lastFrameMs: number | null;
  /** device pixels the page has painted since it opened, null when the client does not count them */
  readonly paintedPxTotal: number | null;
  /** whole pictures the page has begun to paint since it opened, null when the client does not count them */
  readonly wholePictures: number | null;
  /** React's renders of the page since it opened, null when the client does not count them */
  readonly reactRenders: number | null;
}

function hooks(page: Page): Promise<HookState> {
  return page.evaluate(() => {
    const h = (window as unknown as { __bpfheat?: Hooks }).__bpfheat;
    if (!h) return { ready: false, idle: false, complete: false, newest: 0, lastFrameMs: null, paintedPxTotal: null, wholePictures: null, reactRenders: null };
    return { ready: h.ready, idle: h.idle, complete: h.frame() !== null && !h.fetching && h.missing().length === 0, newest: h.seqs().at(-1) ?? 0, lastFrameMs: h.lastFrameMs, paintedPxTotal: h.paintedPxTotal ?? null, wholePictures: h.wholePictures ?? null, reactRenders: h.reactRenders ?? null };
  });
}

/**
 * Polls the page's test hooks until `test` holds: how every page bench waits. When the time is
 * up it throws, naming `awaited`, or without one returns the state for the caller to report.
 */
export async function waitFor(page: Page, test: (h: HookState) => boolean, timeoutMs: number, awaited?: string): Promise<HookState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await hooks(page);
    if (test(h)) return h;
    if (Date.now() > deadline) {
      if (awaited !== undefined) throw new Error(`waited ${timeoutMs / 1000} s for ${awaited}: the page is still busy (a slower machine: raise the timeout)`);
      return h;
    }
    await sleep(50);
  }
}

/**
 * The DOM changes (nodes added or removed, attributes and text set: MutationObserver records)
 * since the last call, which starts counting anew: React's and the browser's work per frame
 * follows them, and unlike a time they do not depend on what else the machine runs.
 */
function countDomChanges(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = window as unknown as { __domChanges?: { count: number; observer: MutationObserver } };
    const counted = w.__domChanges?.count ?? 0;
    w.__domChanges?.observer.disconnect();
    const state = { count: 0, observer: new MutationObserver((records) => (state.count += records.length)) };
    state.observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    w.__domChanges = state;
    return counted;
  });
}

/** Resolves after the page has rendered a frame (and the task after it has run). */
function nextFrame(page: Page): Promise<void> {
  return page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
}

async function measure(browser: Browser, page: Page, server: Tool, url: string, scenario: Scenario, traceDir?: string): Promise<ScenarioResult> {
  const keep = (part: string): string | undefined => (traceDir ? join(traceDir, `${scenario.label.replace(' ', '')}-${part}.json`) : undefined);
  const started = performance.now();
  await page.goto(`${url}?span=${scenario.spanS}`);
  const loaded = await waitFor(page, (h) => h.ready && h.idle && h.complete, LOAD_TIMEOUT_MS);
  const loadS = (performance.now() - started) / 1000;
  const drawn = await page.evaluate(() => {
    const h = (window as unknown as { __bpfheat: Hooks }).__bpfheat;
    return { stepMs: h.frame()?.intervalMs ?? 0, cells: h.columns().length };
  });
  say(`  ${scenario.label}: drawn whole in ${loadS.toFixed(2)} s${loaded.complete ? '' : ' (timed out: parts still missing)'}: ${drawn.cells.toLocaleString('en-US')} columns at a ${drawn.stepMs / 1000}-s step`);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  await cdp.detach();

  // scrolling: held-back columns arrive at SCROLL_RATE per second; each moves the live view
  const before = await hooks(page);
  await watchPaintedPx(page);
  await countDomChanges(page);
  const scrolling = await traced(browser, page, async () => {
    server.send(`scroll ${SCROLL_COLUMNS}`);
    await waitFor(page, (h) => h.newest >= before.newest + SCROLL_COLUMNS && h.idle, (SCROLL_COLUMNS / SCROLL_RATE) * 1000 + 20_000, 'the scrolled columns drawn');
    await nextFrame(page);
  }, keep('scroll'));
  const scrollDomChanges = await countDomChanges(page);
  const after = await hooks(page);
  const clientLastFrameMs = after.lastFrameMs;
  const scrollPaintedPx = before.paintedPxTotal === null || after.paintedPxTotal === null ? null : after.paintedPxTotal - before.paintedPxTotal;
  const scrollWholePictures = before.wholePictures === null || after.wholePictures === null ? null : after.wholePictures - before.wholePictures;
  const scrollRenders = before.reactRenders === null || after.reactRenders === null ? null : after.reactRenders - before.reactRenders;
  const scrollPaintedPerFrame = await paintedPerFrame(page);

  // recolouring: the held live view's colour scale switched, which recolours it a part a frame, each put as painted (as a live view's maximum that moved by more than 10% does)
  await watchPaintedPx(page);
  const colourSelect = page.getByLabel('Colour');
  const recolourFrom = await colourSelect.inputValue();
  if (recolourFrom === RECOLOUR_TO) throw new Error(`the page opened with the ${RECOLOUR_TO} colour scale: the recolouring needs another one to switch from`);
  const recolour = await traced(browser, page, async () => {
    await colourSelect.selectOption(RECOLOUR_TO);
    await waitFor(page, (h) => h.idle, IDLE_TIMEOUT_MS, 'the recoloured view drawn');
    await nextFrame(page);
  }, keep('recolour'));
  const recolourPx = await paintedList(page);
  await colourSelect.selectOption(recolourFrom);
  await waitFor(page, (h) => h.idle, IDLE_TIMEOUT_MS, 'the view drawn back in its colour scale');

  // brushing: a drag across the heat map, one move per frame; no column arrives meanwhile
  const plot = await page.evaluate(() => (window as unknown as { __bpfheat: Hooks }).__bpfheat.frame()?.plot ?? null);
  const none: Traced = { frames: [], work: [], releasedAt: null, changedAt: null };
  let brushing = none;
  let zoom = none;
  if (plot) {
    const x0 = plot.x + plot.width * 0.3;
    const y0 = plot.y + plot.height * 0.2;
    const x1 = plot.x + plot.width * 0.7;
    const y1 = plot.y + plot.height * 0.8;
    await page.mouse.move(x0, y0);
    await nextFrame(page);
    brushing = await traced(browser, page, async () => {
      await page.mouse.down();
      for (let k = 1; k <= BRUSH_MOVES; k++) {
        await page.mouse.move(x0 + ((x1 - x0) * k) / BRUSH_MOVES, y0 + ((y1 - y0) * k) / BRUSH_MOVES);
        await nextFrame(page);
      }
    });
    zoom = await traced(browser, page, async () => {
      await page.mouse.up();
      await waitFor(page, (h) => h.idle, IDLE_TIMEOUT_MS, 'the zoomed view drawn');
      await nextFrame(page);
    }, keep('zoom'));
  }
  // a frame that painted part of a new picture is a drawing frame: among the heaviest while scrolling
  const painted = (f: AnimationFrame): boolean => f.marks.includes(DRAW_MARK) || f.marks.includes(DRAW_PART_MARK);
  const panels = (f: AnimationFrame): boolean => f.marks.includes(PANELS_MARK) && !painted(f);
  const scrollingDraw = frameStats(busy(scrolling.frames.filter(painted)));
  // the switch's own frame (the one its change event fell in) renders the toolbar and the legend
  // too, and may paint the first part: the part frames timed are the drawing frames after it
  const switchFrame = recolour.changedAt === null ? -1 : recolour.frames.findIndex((f) => f.to >= recolour.changedAt!);
  const recolourDrawing = switchFrame < 0 ? [] : recolour.frames.flatMap((f, k) => (k >= switchFrame && painted(f) ? [k] : []));
  const partFrames = recolourDrawing.filter((k) => k > switchFrame);
  const workOf = (kind: (f: AnimationFrame) => boolean): WorkSummary => summarizeWork(scrolling.work.filter((_, k) => kind(scrolling.frames[k]!)));
  return {
    scenario,
    cells: drawn.cells,
    stepMs: drawn.stepMs,
    loadS,
    complete: loaded.complete,
    heapUsedMB: heap.usedSize / 1e6,
    heapTotalMB: heap.totalSize / 1e6,
    scrolling: frameStats(busy(scrolling.frames)),
    scrollingSpan: frameStats(scrolling.frames.map((f) => f.spanMs)),
    scrollingDraw,
    scrollingPanels: frameStats(busy(scrolling.frames.filter(panels))),
    drawWork: workOf(painted),
    panelWork: workOf(panels),
    scrollDomPerFrame: scrollDomChanges / Math.max(1, scrolling.frames.length),
    scrollPaintedPerColumn: scrollPaintedPx === null ? null : scrollPaintedPx / SCROLL_COLUMNS,
    scrollWholePictures,
    scrollRendersPerColumn: scrollRenders === null ? null : scrollRenders / SCROLL_COLUMNS,
    scrollPaintedPerFrame,
    recolourFrom,
    recolourParts: frameStats(partFrames.map((k) => recolour.frames[k]!.busyMs)),
    recolourWork: summarizeWork(partFrames.map((k) => recolour.work[k]!)),
    recolourPxPerPart: recolourPx.length > 0 ? quantile(recolourPx, 0.5) : null,
    recolourPartsPainted: recolourPx.length,
    recolourPartFramesTraced: recolourDrawing.length,
    recolourSwitchMs: switchFrame < 0 ? null : recolour.frames[switchFrame]!.busyMs,
    brushing: frameStats(busy(brushing.frames)),
    brushingSpan: frameStats(brushing.frames.map((f) => f.spanMs)),
    zoomMs: zoom.frames.length > 0 ? Math.max(...busy(zoom.frames)) : null,
    zoomSpanMs: zoom.frames.length > 0 ? Math.max(...zoom.frames.map((f) => f.spanMs)) : null,
    zoomDrawn: zoom.releasedAt === null ? null : untilMarked(zoom.frames, zoom.releasedAt, DRAW_MARK),
    clientLastFrameMs,
  };
}

/**
 * Starts collecting the device pixels each drawing frame paints, from the painting marks' detail
 * (client/state/marks.ts) as they are made: an observer, since the page clears its marks from
 * the performance timeline as it makes them (a page left open would keep them all).
 */
async function watchPaintedPx(page: Page): Promise<void> {
  await page.evaluate((names) => {
    const w = window as unknown as { __paintedPx?: (number | null)[]; __paintedPxObserver?: PerformanceObserver };
    // the last call's observer stops: each mark is counted once, in the newest list
    w.__paintedPxObserver?.disconnect();
    const painted: (number | null)[] = [];
    w.__paintedPx = painted;
    w.__paintedPxObserver = new PerformanceObserver((list) => {
      for (const mark of list.getEntries()) if (names.includes(mark.name)) painted.push(((mark as PerformanceMark).detail as { paintedPx?: number } | null)?.paintedPx ?? null);
    });
    w.__paintedPxObserver.observe({ type: 'mark' });
  }, [DRAW_MARK, DRAW_PART_MARK]);
}

/** Device pixels painted by each drawing frame since watchPaintedPx, in order (none for a client whose marks carry none, built before 176e967). */
async function paintedList(page: Page): Promise<number[]> {
  const painted = await page.evaluate(() => (window as unknown as { __paintedPx: (number | null)[] }).__paintedPx);
  return painted.filter((px): px is number => px !== null);
}

/** Device pixels painted by each drawing frame since watchPaintedPx: the most in one frame and the p95, null when the client's marks carry none. */
async function paintedPerFrame(page: Page): Promise<{ max: number; p95: number } | null> {
  const counted = await paintedList(page);
  if (counted.length === 0) return null;
  return { max: Math.max(...counted), p95: quantile(counted, 0.95) };
}

function busy(frames: readonly AnimationFrame[]): number[] {
  return frames.map((f) => f.busyMs);
}

function buildClient(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpfheat-bench-client-'));
  onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

export async function benchClientDraw(options: ClientDrawOptions): Promise<Figure[]> {
  heading('Client drawing (Chromium, Playwright)');
  say(`machine: ${machineLine()}`);
  let version = 'unknown';
  try {
    version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    say(`skipped: no ${CHROMIUM} (apt-get install chromium)`);
    return SCENARIOS.map((s) => atMost(PART, `frame while scrolling, ${s.label} window (p95)`, null, 'ms', s.frameTargetMs, `< ${s.frameTargetMs} ms`));
  }
  say(`browser: ${version}, headless, viewport ${options.widthCss}×${options.heightCss} CSS px at device-pixel ratio ${options.dpr}`);
  const clientDir = options.clientDir ?? buildClient();
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  onCleanup('close Chromium', () => browser.close());
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => options.windows?.includes(s.label.replace(' ', '')) ?? true)) {
      // a server per window: the window's history (columns for at most a day, as bpfheat keeps by default; roll-ups for all of it)
      const prefill = scenario.spanS + 600;
      const server = await startTool(
        `bench-server (${scenario.label})`,
        process.execPath,
        ['--import', 'tsx', SERVER, '--interval', '1000', '--prefill', String(prefill), '--history', String(Math.min(prefill + 3600, DAY + 3600)), '--backlog', '300', '--scroll-rate', String(SCROLL_RATE), '--client-dir', clientDir],
        /^bench-server: \S+/m,
        { stdin: true, timeoutMs: 300_000 },
      );
      const url = /^bench-server: (\S+)/m.exec(server.output())![1]!;
      const context = await browser.newContext({ viewport: { width: options.widthCss, height: options.heightCss }, deviceScaleFactor: options.dpr });
      try {
        results.push(await measure(browser, await context.newPage(), server, url, scenario, options.traceDir));
      } finally {
        await context.close();
        await server.stop();
      }
    }
  } finally {
    await browser.close();
  }

  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
  say();
  say(
    table(
      ['window', 'drawn from', 'load s', 'heap MB', 'scroll frames', 'p50 ms', 'p95 ms', 'max ms', 'span p95', 'drawing frames', 'p95 ms', 'panel frames', 'p95 ms', 'DOM changes/frame', 'React renders/column', 'px painted/column', 'px/drawing frame p95', 'max', 'whole repaints', 'brush frames', 'p50 ms', 'p95 ms', 'max ms', 'span p95', 'zoom frame ms', 'span', 'release → drawn ms', 'frames', 'client lastFrameMs'],
      results.map((r) => [
        r.scenario.label,
        `${r.cells.toLocaleString('en-US')} × ${r.stepMs / 1000} s`,
        `${r.loadS.toFixed(2)}${r.complete ? '' : ' (incomplete)'}`,
        r.heapUsedMB.toFixed(0),
        r.scrolling.count,
        ms(r.scrolling.p50),
        ms(r.scrolling.p95),
        ms(r.scrolling.max),
        ms(r.scrollingSpan.p95),
        r.scrollingDraw.count,
        ms(r.scrollingDraw.p95),
        r.scrollingPanels.count,
        ms(r.scrollingPanels.p95),
        r.scrollDomPerFrame.toFixed(1),
        r.scrollRendersPerColumn === null ? '—' : r.scrollRendersPerColumn.toFixed(2),
        r.scrollPaintedPerColumn === null ? '—' : Math.round(r.scrollPaintedPerColumn).toLocaleString('en-US'),
        r.scrollPaintedPerFrame === null ? '—' : Math.round(r.scrollPaintedPerFrame.p95).toLocaleString('en-US'),
        r.scrollPaintedPerFrame === null ? '—' : r.scrollPaintedPerFrame.max.toLocaleString('en-US'),
        r.scrollWholePictures ?? '—',
        r.brushing.count,
        ms(r.brushing.p50),
        ms(r.brushing.p95),
        ms(r.brushing.max),
        ms(r.brushingSpan.p95),
        r.zoomMs === null ? '—' : ms(r.zoomMs),
        r.zoomSpanMs === null ? '—' : ms(r.zoomSpanMs),
        r.zoomDrawn === null ? '—' : ms(r.zoomDrawn.ms),
        r.zoomDrawn === null ? '—' : r.zoomDrawn.frames,
        r.clientLastFrameMs === null ? '—' : ms(r.clientLastFrameMs),
      ]),
    ),
  );
  say();
  say(
    table(
      ['window', 'scrolling frames', 'count', 'script p50 ms', 'p95', 'style p50 ms', 'p95', 'layout p50 ms', 'p95', 'other p50 ms', 'p95', 'layouts', 'of the whole page', 'dirty objects p50'],
      results.flatMap((r) =>
        (
          [
            ['drawing', r.drawWork],
            ['panels', r.panelWork],
          ] as const
        ).map(([kind, w]) => [r.scenario.label, kind, w.frames, ms(w.scriptMs.p50), ms(w.scriptMs.p95), ms(w.styleMs.p50), ms(w.styleMs.p95), ms(w.layoutMs.p50), ms(w.layoutMs.p95), ms(w.otherMs.p50), ms(w.otherMs.p95), w.layouts, w.wholePageLayouts, Number.isFinite(w.dirtyObjectsP50) ? w.dirtyObjectsP50 : '—']),
      ),
    ),
  );
  say();
  say(
    table(
      ['window', 'recolouring: switched from', 'parts painted', 'drawing frames traced', 'part frames', 'busy p50 ms', 'p95', 'max', 'script p50 ms', 'p95', 'other p50 ms', 'p95', 'px/part p50', "the switch's frame ms"],
      results.map((r) => [r.scenario.label, r.recolourFrom, r.recolourPartsPainted, r.recolourPartFramesTraced, r.recolourParts.count, ms(r.recolourParts.p50), ms(r.recolourParts.p95), ms(r.recolourParts.max), ms(r.recolourWork.scriptMs.p50), ms(r.recolourWork.scriptMs.p95), ms(r.recolourWork.otherMs.p50), ms(r.recolourWork.otherMs.p95), r.recolourPxPerPart === null ? '—' : Math.round(r.recolourPxPerPart).toLocaleString('en-US'), r.recolourSwitchMs === null ? '—' : ms(r.recolourSwitchMs)]),
    ),
  );
  say(`(recolouring: the live view, no column arriving, switched from the colour scale it opened with (switched from) to the ${RECOLOUR_TO} one, which recolours it a part a frame, each part put on the tiles as it is painted, as when a live view's colour maximum moves by more than 10%; parts painted: the page's painting marks; drawing frames traced: the frames of the trace that painted, from the one the change event fell in (the two agree when no part is lost); part frames: the drawing frames after the switch's own, which also renders the toolbar and legend, timed)`);
  say("(the main thread's work in each kind of scrolling frame, from the trace's timeline events: script (timers, animation-frame callbacks with React's renders, events, microtasks), style recalculation and layout; other: the busy time in none of those nor pre-paint, paint or GC (the thread waiting inside a task, or not given a core: on a loaded machine the longest frames' excess); a layout of the whole page began from the document: no element inside stopped the invalidation of what changed)");
  say(`(frame: the main thread's busy time in each rendered frame (its tasks: input, canvas, React, style, layout, paint); span: from the frame's first task to the end of its rendering update, waits included; both from Chromium's trace; drawing frames: those that painted the heat map, or part of a new picture painted over several frames, panel frames: those that only gave the side panels a new frame (user-timing marks); release → drawn: from the mouse button's release to the end of the frame that painted the zoomed view, and the frames that took, the release's own included; DOM changes: MutationObserver records while scrolling, per frame; React renders: renders of the page (its heat-map panel, rendered with every snapshot and hover) while scrolling, per column received (${SCROLL_RATE} a second: the side panels' 4 renders a second alone are ${(4 / SCROLL_RATE).toFixed(2)} a column); px painted/column: device pixels of the heat map painted while scrolling (parts of pictures included), per column received (the plot is ~1.3 million), whatever the frame rate; px/drawing frame: the same per drawing frame, its p95 and the most in one; whole repaints: pictures painted whole (in one frame or over several) while scrolling, each the whole plot; heap: JS heap used after GC)`);

  const figures: Figure[] = [];
  for (const r of results) {
    const label = `${r.scenario.label} window`;
    const target = r.scenario.frameTargetMs;
    // judged on the worse of the two kinds of frame: more frames of either kind move a p95 taken over all of them without any frame getting faster
    const worse = Math.max(finite(r.scrollingDraw.p95) ?? -Infinity, finite(r.scrollingPanels.p95) ?? -Infinity);
    figures.push(atMost(PART, `frame while scrolling, ${label} (busy p95 of the worse kind: drawing ${ms(r.scrollingDraw.p95)} ms over ${r.scrollingDraw.count} frames, panels ${ms(r.scrollingPanels.p95)} ms over ${r.scrollingPanels.count}; all ${r.scrolling.count} frames p95 ${ms(r.scrolling.p95)}, p50 ${ms(r.scrolling.p50)}; span p95 ${ms(r.scrollingSpan.p95)} ms)`, Number.isFinite(worse) ? worse : null, 'ms', target, `< ${target} ms`, 1));
    figures.push(info(PART, `device pixels painted per column received while scrolling, ${label} (a count of work, whatever else the machine runs)`, r.scrollPaintedPerColumn, 'px', 0));
    figures.push(info(PART, `React renders per column received while scrolling, ${label} (${SCROLL_RATE} columns a second; the side panels render 4 times a second, ${(4 / SCROLL_RATE).toFixed(2)} a column; a frame that only moved time renders none)`, r.scrollRendersPerColumn, 'renders', 2));
    figures.push(info(PART, `device pixels painted in one drawing frame while scrolling, the most, ${label} (p95 ${r.scrollPaintedPerFrame === null ? '—' : Math.round(r.scrollPaintedPerFrame.p95).toLocaleString('en-US')}; a count of work)`, r.scrollPaintedPerFrame?.max ?? null, 'px', 0));
    figures.push(info(PART, `whole-picture repaints while scrolling ${SCROLL_COLUMNS} columns, ${label} (each the whole plot, in one frame or over several)`, r.scrollWholePictures, 'pictures', 0));
    figures.push(info(PART, `frame painting a part of a live view's recolouring, ${label} (busy p95 over ${r.recolourParts.count} part frames; p50 ${ms(r.recolourParts.p50)} ms; script p50 ${ms(r.recolourWork.scriptMs.p50)} ms; ${r.recolourPxPerPart === null ? '—' : Math.round(r.recolourPxPerPart).toLocaleString('en-US')} px a part)`, finite(r.recolourParts.p95), 'ms', 1));
    figures.push(atMost(PART, `frame while brushing, ${label} (busy p95; p50 ${ms(r.brushing.p50)} ms; span p95 ${ms(r.brushingSpan.p95)} ms)`, finite(r.brushing.p95), 'ms', target, `< ${target} ms`, 1));
    figures.push(atMost(PART, `the frame after a zoom, ${label} (busy, the longest; span ${r.zoomSpanMs === null ? '—' : ms(r.zoomSpanMs)} ms)`, r.zoomMs, 'ms', ZOOM_TARGET_MS, `< ${ZOOM_TARGET_MS} ms`, 1));
    figures.push(info(PART, `release → zoomed picture drawn, ${label} (over ${r.zoomDrawn?.frames ?? '—'} frames)`, r.zoomDrawn?.ms ?? null, 'ms', 1));
    figures.push(atMost(PART, `drawn whole after the page opens, ${label}${r.complete ? '' : ' (incomplete)'}`, r.loadS, 's', LOAD_TARGET_S, `< ${LOAD_TARGET_S} s`, 2));
    figures.push(atMost(PART, `JS heap, ${label}`, r.heapUsedMB, 'MB', HEAP_TARGET_MB, `< ${HEAP_TARGET_MB} MB`));
  }
  // the sampling profiler slows the page it profiles: such a run's figures are for reading, not judging
  return options.traceDir ? figures.map(profiled) : figures;
}

function profiled(figure: Figure): Figure {
  return { ...figure, target: '—', met: null, note: 'profiled (--trace), not judged' };
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchClientDraw({ widthCss: numberOption('width', 1920), heightCss: numberOption('height', 1080), dpr: numberOption('dpr', 1), windows: windowsOption(), clientDir: clientDirOption(), traceDir: traceDirOption() });
    heading('summary');
    printFigures(figures);
  });
}
