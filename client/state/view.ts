/**
 * What the user is looking at: the extent (time × value range, live or fixed), the display
 * choices (metric, filters, scales), and the zoom stack. Pure data and transitions; the URL
 * codec below makes a link reopen the same picture.
 */
import { METRICS, OPS, type Metric, type Op } from '../../shared/scheme.ts';
import { COLOR_BYS, COLOR_SCALES, Y_SCALES, type ColorBy, type ColorScaleKind, type YScaleKind } from '../../shared/view.ts';

/** The part of a view a zoom changes. */
export interface Extent {
  /** follow the newest column: the range is [newest end - spanMs, newest end) */
  readonly live: boolean;
  readonly spanMs: number;
  /** the range when not live */
  readonly fromMs: number;
  readonly toMs: number;
  /** value range (ns or bytes); null: fit to the data */
  readonly yRange: readonly [number, number] | null;
}

export interface Display {
  readonly metric: Metric;
  /** device names; empty: all */
  readonly devices: readonly string[];
  /** hosts (of a source that shows several, --source prometheus); empty: all, summed */
  readonly hosts: readonly string[];
  /** empty: all */
  readonly ops: readonly Op[];
  readonly yScale: YScaleKind;
  readonly colorScale: ColorScaleKind;
  readonly colorBy: ColorBy;
  readonly percentiles: boolean;
  /** the legend in I/Os (or time, bytes) per second instead of per cell: for long windows, where a cell is many seconds */
  readonly perSecond: boolean;
  /** one heat map per device (small multiples on shared axes) instead of their sum */
  readonly split: boolean;
}

export interface ViewState {
  readonly extent: Extent;
  readonly display: Display;
  /** extents to go back to, the most recent last */
  readonly stack: readonly Extent[];
}

export const DEFAULT_SPAN_MS = 5 * 60_000;
export const SPAN_PRESETS_MS = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 6 * 3_600_000];
/** Narrowest zoom in time: below a few ms the float64 epoch milliseconds stop being exact enough to place labels. */
const MIN_SPAN_MS = 10;

export const DEFAULT_EXTENT: Extent = { live: true, spanMs: DEFAULT_SPAN_MS, fromMs: 0, toMs: 0, yRange: null };
export const DEFAULT_DISPLAY: Display = {
  metric: 'latency',
  devices: [],
  hosts: [],
  ops: [],
  yScale: 'log',
  colorScale: 'sqrt',
  colorBy: 'count',
  percentiles: true,
  perSecond: false,
  split: false,
};

export function initialState(extent: Extent = DEFAULT_EXTENT, display: Display = DEFAULT_DISPLAY): ViewState {
  return { extent, display, stack: [] };
}

/** The time range an extent shows, given the end of the newest column (or the clock, without one). */
export function timeRange(extent: Extent, newestEndMs: number | null, nowMs: number): { fromMs: number; toMs: number } {
  if (!extent.live) return { fromMs: extent.fromMs, toMs: extent.toMs };
  const toMs = newestEndMs ?? nowMs;
  return { fromMs: toMs - extent.spanMs, toMs };
}

/**
 * Zoom to a time × value rectangle. The zoomed view stays live when it reaches the newest
 * column (within half an interval, the slack of a hand-drawn rectangle) and is fixed otherwise.
 */
export function zoomTo(
  state: ViewState,
  fromMs: number,
  toMs: number,
  yRange: readonly [number, number] | null,
  newestEndMs: number | null,
  intervalMs: number,
): ViewState {
  fromMs = Math.round(fromMs);
  toMs = Math.round(toMs);
  const span = Math.max(MIN_SPAN_MS, toMs - fromMs);
  if (yRange) yRange = [roundValue(yRange[0]), roundValue(yRange[1])];
  const live = newestEndMs !== null && toMs >= newestEndMs - intervalMs / 2;
  const extent: Extent = live
    ? { live: true, spanMs: span, fromMs: 0, toMs: 0, yRange }
    : { live: false, spanMs: span, fromMs, toMs: fromMs + span, yRange };
  return { ...state, extent, stack: [...state.stack, state.extent] };
}

/** Whole ns or bytes are finer than any bucket above 8, and keep URLs short. */
function roundValue(v: number): number {
  return v >= 8 ? Math.round(v) : Math.round(v * 1000) / 1000;
}

export function back(state: ViewState): ViewState {
  if (state.stack.length === 0) return state;
  return { ...state, extent: state.stack[state.stack.length - 1]!, stack: state.stack.slice(0, -1) };
}

export function reset(state: ViewState): ViewState {
  if (state.stack.length === 0 && sameExtent(state.extent, DEFAULT_EXTENT)) return state;
  return { ...state, extent: DEFAULT_EXTENT, stack: [] };
}

/** Freeze the range now shown; scrolling stops until resume. */
export function pause(state: ViewState, fromMs: number, toMs: number): ViewState {
  if (!state.extent.live) return state;
  return { ...state, extent: { ...state.extent, live: false, fromMs, toMs } };
}

/** Follow the newest column again, keeping the width. */
export function resume(state: ViewState): ViewState {
  if (state.extent.live) return state;
  return { ...state, extent: { ...state.extent, live: true, spanMs: state.extent.toMs - state.extent.fromMs } };
}

/** Twice as wide in time around the middle (a live view keeps its right edge on now); pushes onto the stack. */
export function zoomOut(state: ViewState, fromMs: number, toMs: number): ViewState {
  const span = (toMs - fromMs) * 2;
  const extent: Extent = state.extent.live
    ? { ...state.extent, spanMs: span }
    : { ...state.extent, fromMs: fromMs - span / 4, toMs: toMs + span / 4, spanMs: span };
  return { ...state, extent, stack: [...state.stack, state.extent] };
}

/** Half as wide in time around the middle (a live view keeps its right edge on now); the keyboard's way in. */
export function zoomIn(state: ViewState, fromMs: number, toMs: number): ViewState {
  const span = Math.max(MIN_SPAN_MS, (toMs - fromMs) / 2);
  const extent: Extent = state.extent.live
    ? { ...state.extent, spanMs: span }
    : { ...state.extent, fromMs: fromMs + span / 2, toMs: fromMs + span / 2 + span, spanMs: span };
  return { ...state, extent, stack: [...state.stack, state.extent] };
}

export function setSpan(state: ViewState, spanMs: number): ViewState {
  return { ...state, extent: { live: true, spanMs, fromMs: 0, toMs: 0, yRange: state.extent.yRange }, stack: [...state.stack, state.extent] };
}

export function setDisplay(state: ViewState, change: Partial<Display>): ViewState {
  const display = { ...state.display, ...change };
  if (!change.metric || change.metric === state.display.metric) return { ...state, display };
  // A value range in ns means nothing in bytes: a metric change refits the y axis, here and in
  // every view Back returns to, which keep their time ranges.
  const refit = (extent: Extent): Extent => ({ ...extent, yRange: null });
  return { ...state, display, extent: refit(state.extent), stack: state.stack.map(refit) };
}

function sameExtent(a: Extent, b: Extent): boolean {
  return a.live === b.live && a.spanMs === b.spanMs && a.fromMs === b.fromMs && a.toMs === b.toMs && a.yRange?.[0] === b.yRange?.[0] && a.yRange?.[1] === b.yRange?.[1];
}

// ---------------------------------------------------------------- URL

/**
 * URL parameters (all optional; defaults are left out):
 *   from, to   ISO times of a fixed range (e.g. 2025-11-25T13:20:05.000Z); without them the view is live
 *   span       width of a live view in seconds
 *   ymin, ymax value range in ns (latency) or bytes (size)
 *   metric     latency | size
 *   dev        device names, comma-separated
 *   op         read,write,flush,discard,other
 *   y          log | linear
 *   color      linear | sqrt | log
 *   by         count | time
 *   lines      0 hides the percentile lines
 *   rate       1: the legend per second
 *   split      1: one heat map per device
 * Other parameters (e.g. the access token) are kept as they are.
 */
const OWN_PARAMS = ['from', 'to', 'span', 'ymin', 'ymax', 'metric', 'dev', 'host', 'op', 'y', 'color', 'by', 'lines', 'rate', 'split'];

function oneOf<T extends string>(value: string | null, choices: readonly T[], fallback: T): T {
  return choices.find((c) => c === value) ?? fallback;
}

function positive(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function time(value: string | null): number | null {
  if (!value) return null;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** The link names a time range or a span of its own: the page opens on that, whatever the data. */
export function urlChoosesExtent(search: string): boolean {
  const p = new URLSearchParams(search);
  return p.has('span') || (p.has('from') && p.has('to'));
}

export function stateFromUrl(search: string): ViewState {
  const p = new URLSearchParams(search);
  const from = time(p.get('from'));
  const to = time(p.get('to'));
  const ymin = positive(p.get('ymin'));
  const ymax = positive(p.get('ymax'));
  const yRange: readonly [number, number] | null = ymin !== null && ymax !== null && ymax > ymin ? [ymin, ymax] : null;
  const spanS = positive(p.get('span'));
  const spanMs = spanS !== null && spanS > 0 ? Math.max(MIN_SPAN_MS, spanS * 1000) : DEFAULT_SPAN_MS;
  const extent: Extent =
    from !== null && to !== null && to > from
      ? { live: false, spanMs: to - from, fromMs: from, toMs: to, yRange }
      : { live: true, spanMs, fromMs: 0, toMs: 0, yRange };
  const list = (name: string): string[] => (p.get(name) ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const display: Display = {
    metric: oneOf(p.get('metric'), METRICS, DEFAULT_DISPLAY.metric),
    devices: list('dev'),
    hosts: list('host'),
    ops: list('op').flatMap((op) => OPS.filter((o) => o === op)),
    yScale: oneOf(p.get('y'), Y_SCALES, DEFAULT_DISPLAY.yScale),
    colorScale: oneOf(p.get('color'), COLOR_SCALES, DEFAULT_DISPLAY.colorScale),
    colorBy: oneOf(p.get('by'), COLOR_BYS, DEFAULT_DISPLAY.colorBy),
    percentiles: p.get('lines') !== '0',
    perSecond: p.get('rate') === '1',
    split: p.get('split') === '1',
  };
  // A link to a zoom opens as a zoom: Back leads to the live view it was made from.
  const zoomed = !extent.live || extent.yRange !== null;
  return { extent, display, stack: zoomed ? [DEFAULT_EXTENT] : [] };
}

/** The query string of the page on all the hosts, summed: `search` without ?host=. */
export function allHostsSearch(search: string): string {
  const p = new URLSearchParams(search);
  p.delete('host');
  const text = p.toString();
  return text ? `?${text}` : '';
}

/** The query string of a state, keeping parameters that are not ours (a token). */
export function stateToUrl(state: ViewState, currentSearch: string): string {
  const p = new URLSearchParams(currentSearch);
  for (const name of OWN_PARAMS) p.delete(name);
  const { extent, display } = state;
  if (extent.live) {
    if (extent.spanMs !== DEFAULT_SPAN_MS) p.set('span', String(extent.spanMs / 1000));
  } else {
    p.set('from', new Date(extent.fromMs).toISOString());
    p.set('to', new Date(extent.toMs).toISOString());
  }
  if (extent.yRange) {
    p.set('ymin', String(extent.yRange[0]));
    p.set('ymax', String(extent.yRange[1]));
  }
  if (display.metric !== DEFAULT_DISPLAY.metric) p.set('metric', display.metric);
  if (display.devices.length > 0) p.set('dev', display.devices.join(','));
  if (display.hosts.length > 0) p.set('host', display.hosts.join(','));
  if (display.ops.length > 0) p.set('op', display.ops.join(','));
  if (display.yScale !== DEFAULT_DISPLAY.yScale) p.set('y', display.yScale);
  if (display.colorScale !== DEFAULT_DISPLAY.colorScale) p.set('color', display.colorScale);
  if (display.colorBy !== DEFAULT_DISPLAY.colorBy) p.set('by', display.colorBy);
  if (!display.percentiles) p.set('lines', '0');
  if (display.perSecond) p.set('rate', '1');
  if (display.split) p.set('split', '1');
  const text = p.toString();
  return text ? `?${text}` : '';
}

/**
 * A live view ends at the last whole device pixel of time before now, so that it moves by whole
 * pixels and the renderer can shift the picture instead of drawing it again; the newest part of
 * a pixel shows once the pixel is complete. A paused view is left as it is.
 */
export function wholePixels(range: { fromMs: number; toMs: number }, live: boolean, widthPx: number): { fromMs: number; toMs: number } {
  if (!live) return range;
  const spanMs = range.toMs - range.fromMs;
  const msPerPixel = spanMs / widthPx;
  const toMs = Math.floor(range.toMs / msPerPixel) * msPerPixel;
  return { fromMs: toMs - spanMs, toMs };
}
