/**
 * The view of a heat map and the pure geometry, colour and unit functions that both the
 * browser's canvas and the SVG renderer use, so a downloaded file and the screen agree.
 *
 * No DOM, no Node APIs and no d3 here: the server imports this module too, and d3 is only a
 * development dependency.
 *
 * Coordinates: every "Css" number is a CSS pixel (SVG user unit). Values on the y axis are in
 * the metric's unit: nanoseconds for latency, bytes for size.
 */
import { SLOTS, type Metric } from './scheme.ts';
import { slotBounds, slotEdges } from './buckets.ts';
import { partitionPoint } from './search.ts';
import { histogramOf, type Column, type DeviceInfo, type Filter, type SourceKind } from './column.ts';

export type YScaleKind = 'log' | 'linear';
export type ColorScaleKind = 'linear' | 'sqrt' | 'log';
/** Colour a cell by its count, or by the time it stands for (count × the bucket's latency). */
export type ColorBy = 'count' | 'time';

export const Y_SCALES: readonly YScaleKind[] = ['log', 'linear'];
export const COLOR_SCALES: readonly ColorScaleKind[] = ['linear', 'sqrt', 'log'];
export const COLOR_BYS: readonly ColorBy[] = ['count', 'time'];

/** Everything that decides what a heat map shows; the same object drives the canvas and the SVG. */
export interface SnapshotView {
  /** time range [fromMs, toMs), wall clock in ms since the epoch */
  readonly fromMs: number;
  readonly toMs: number;
  /** y-axis range in the metric's unit (ns or bytes); null: fit to the cells in the time range */
  readonly yRange: readonly [number, number] | null;
  /** metric, devices (ids) and operations shown */
  readonly filter: Filter;
  readonly yScale: YScaleKind;
  readonly colorScale: ColorScaleKind;
  readonly colorBy: ColorBy;
  /** the colour maximum is this quantile of the visible non-empty cells (0 < q <= 1) */
  readonly colorQuantile: number;
  /** draw the p50, p99 and max line of every column */
  readonly percentiles: boolean;
  readonly host: string;
  readonly source: SourceKind;
  /** device names for the title; ids are those of Filter.devices and Series.device */
  readonly devices: readonly DeviceInfo[];
  /** offset of the time labels from UTC, in minutes (browsers pass -Date#getTimezoneOffset()) */
  readonly utcOffsetMin: number;
  /** size of the picture in CSS pixels (SVG user units) */
  readonly widthCss: number;
  readonly heightCss: number;
}

export const DEFAULT_COLOR_QUANTILE = 0.99;

/** A complete view from the fields that matter, with the dashboard's defaults for the rest. */
export function snapshotView(fields: Partial<SnapshotView> & Pick<SnapshotView, 'fromMs' | 'toMs'>): SnapshotView {
  return {
    yRange: null,
    filter: { metric: 'latency' },
    yScale: 'log',
    colorScale: 'sqrt',
    colorBy: 'count',
    colorQuantile: DEFAULT_COLOR_QUANTILE,
    percentiles: true,
    host: '',
    source: 'bpf',
    devices: [],
    utcOffsetMin: 0,
    widthCss: 1200,
    heightCss: 600,
    ...fields,
  };
}

// ---------------------------------------------------------------- units

function significant(x: number, digits = 3): string {
  if (x === 0) return '0';
  const rounded = Number(x.toPrecision(digits));
  return String(rounded);
}

const LATENCY_UNITS: readonly [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];
const BYTE_UNITS: readonly [number, string][] = [
  [2 ** 40, 'TiB'],
  [2 ** 30, 'GiB'],
  [2 ** 20, 'MiB'],
  [2 ** 10, 'KiB'],
  [1, 'B'],
];

function withUnit(value: number, units: readonly [number, string][]): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const magnitude = Math.abs(value);
  for (const [factor, unit] of units) {
    // 999.6 µs rounds to "1000 µs": move up a unit before rounding makes it one.
    if (magnitude >= factor * 0.9995 || factor === 1) return `${significant(value / factor)} ${unit}`;
  }
  return `${significant(value)} ${units[units.length - 1]![1]}`;
}

/** 850 ns, 12.3 µs, 4.1 ms, 1.2 s */
export function formatLatency(ns: number): string {
  return withUnit(ns, LATENCY_UNITS);
}

/** 512 B, 4 KiB, 1.5 MiB */
export function formatBytes(bytes: number): string {
  return withUnit(bytes, BYTE_UNITS);
}

export function formatValue(metric: Metric, value: number): string {
  return metric === 'latency' ? formatLatency(value) : formatBytes(value);
}

/** 0.25, 7, 1234, 12.3k, 4.5M: counts (or fractions of one, on a legend) for reading, not for arithmetic. */
export function formatCount(n: number): string {
  if (n < 10) return significant(n, 2);
  if (n < 10_000) return String(Math.round(n));
  if (n < 1e6) return `${significant(n / 1e3)}k`;
  if (n < 1e9) return `${significant(n / 1e6)}M`;
  return `${significant(n / 1e9)}G`;
}

/** What a colour stands for: counts, the time spent (latency) or the bytes moved (size). */
export function formatColorValue(view: Pick<SnapshotView, 'colorBy' | 'filter'>, value: number): string {
  if (view.colorBy === 'count') return formatCount(value);
  return formatValue(view.filter.metric, value);
}

/** The legend's title: what a colour counts, short enough for the legend's width. */
export function colorByLabel(view: Pick<SnapshotView, 'colorBy' | 'filter'>): string {
  if (view.colorBy === 'count') return 'I/Os per cell';
  return view.filter.metric === 'latency' ? 'time spent' : 'bytes moved';
}

/**
 * What one cell is, for the line under the plot: its width in time (a column, or the columns
 * summed into one drawn cell) by its height, one bucket, 9 % of the value. "cell = 25 s × 9 % of latency".
 */
export function cellLabel(cellMs: number, metric: Metric): string {
  return `cell = ${formatSpan(cellMs)} × 9 % of ${metric === 'latency' ? 'latency' : 'I/O size'}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function shifted(ms: number, utcOffsetMin: number): Date {
  return new Date(ms + utcOffsetMin * 60_000);
}

/** 2025-11-25 13:20:05 in the given UTC offset. */
export function formatDateTime(ms: number, utcOffsetMin: number): string {
  const d = shifted(ms, utcOffsetMin);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${formatClock(ms, utcOffsetMin, 1000)}`;
}

/** 13:20, 13:20:05 or 13:20:05.250, as precise as the step between labels needs. */
export function formatClock(ms: number, utcOffsetMin: number, stepMs: number): string {
  const d = shifted(ms, utcOffsetMin);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (stepMs >= 60_000 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0) return hm;
  const hms = `${hm}:${pad(d.getUTCSeconds())}`;
  return stepMs >= 1000 && d.getUTCMilliseconds() === 0 ? hms : `${hms}.${pad(d.getUTCMilliseconds(), 3)}`;
}

export function formatUtcOffset(utcOffsetMin: number): string {
  if (utcOffsetMin === 0) return 'UTC';
  const sign = utcOffsetMin < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMin);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "10 s", "5 min", "2 h": the length of a time range. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${significant(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${significant(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${significant(ms / 3_600_000)} h`;
  return `${significant(ms / 86_400_000)} d`;
}

export function sourceLabel(kind: SourceKind): string {
  switch (kind) {
    case 'bpf':
      return 'live eBPF trace';
    case 'synthetic':
      return 'SYNTHETIC data';
    case 'replay':
      return 'REPLAYED recording';
    case 'import':
      return 'IMPORTED trace';
    case 'prometheus':
      return 'read from PROMETHEUS';
  }
}

export function filterLabel(filter: Filter, devices: readonly DeviceInfo[]): string {
  const names = filter.devices && filter.devices.length > 0
    ? filter.devices.map((id) => devices.find((d) => d.id === id)?.name ?? `dev${id}`).join(', ')
    : 'all devices';
  const ops = filter.ops && filter.ops.length > 0 ? filter.ops.join(', ') : 'all ops';
  return `${filter.metric}, ${names}, ${ops}`;
}

/** bpfheat-myhost-latency-20251125T132005Z-20251125T132505Z.svg: host, metric and time range, safe in any file system. */
export function exportFileName(view: Pick<SnapshotView, 'host' | 'fromMs' | 'toMs' | 'filter'>): string {
  const stamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  const host = view.host.replace(/[^A-Za-z0-9._-]+/g, '_') || 'host';
  return `bpfheat-${host}-${view.filter.metric}-${stamp(view.fromMs)}-${stamp(view.toMs)}.svg`;
}

// ---------------------------------------------------------------- layout

export interface RectCss {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Layout {
  readonly widthCss: number;
  readonly heightCss: number;
  /** where cells are drawn */
  readonly plot: RectCss;
  /** the colour bar of the legend (its labels sit to its right) */
  readonly legendBar: RectCss;
  /** baseline of the first title line, or null when the picture has no title */
  readonly titleY: number | null;
}

export const LEGEND_WIDTH_CSS = 96;
const AXIS_Y_WIDTH_CSS = 64;
const AXIS_X_HEIGHT_CSS = 34;
const TITLE_HEIGHT_CSS = 44;

/** Where plot, axes and legend go in a picture of this size (the title row only in exports). */
export function layoutOf(widthCss: number, heightCss: number, withTitle: boolean): Layout {
  const top = withTitle ? TITLE_HEIGHT_CSS : 10;
  const plot: RectCss = {
    x: AXIS_Y_WIDTH_CSS,
    y: top,
    width: Math.max(10, widthCss - AXIS_Y_WIDTH_CSS - LEGEND_WIDTH_CSS),
    height: Math.max(10, heightCss - top - AXIS_X_HEIGHT_CSS),
  };
  const legendBar: RectCss = { x: plot.x + plot.width + 14, y: plot.y + 34, width: 14, height: Math.max(10, plot.height - 96) };
  return { widthCss, heightCss, plot, legendBar, titleY: withTitle ? 18 : null };
}

/** The rows of the legend's key under the colour bar (top of each swatch, in CSS px): one rule for the page and the SVG. */
export function legendKeyY(bar: RectCss): { readonly empty: number; readonly missing: number; line(k: number): number } {
  const below = bar.y + bar.height;
  return { empty: below + 8, missing: below + 22, line: (k) => below + 50 + k * 13 };
}

/** What a hatched stretch stands for, in the legend and the hover text. */
export const MISSING_LABEL = 'no data';
export const MISSING_HATCH_COLOR = '#3a4350';

// ---------------------------------------------------------------- scales

/** A one-dimensional map from a domain (ms or a value) onto a range (CSS or device pixels). */
export interface AxisMap {
  readonly kind: 'linear' | 'log';
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
}

/** Log-axis values below this are drawn at it: the zero slot is drawn just below 1. */
const LOG_FLOOR = 2 ** (-2 / 8);

function transform(kind: AxisMap['kind'], v: number): number {
  return kind === 'log' ? Math.log2(Math.max(v, LOG_FLOOR)) : v;
}

export function mapTo(map: AxisMap, v: number): number {
  const d0 = transform(map.kind, map.domain[0]);
  const d1 = transform(map.kind, map.domain[1]);
  const t = (transform(map.kind, v) - d0) / (d1 - d0);
  return map.range[0] + t * (map.range[1] - map.range[0]);
}

export function mapFrom(map: AxisMap, px: number): number {
  const t = (px - map.range[0]) / (map.range[1] - map.range[0]);
  const d0 = transform(map.kind, map.domain[0]);
  const d1 = transform(map.kind, map.domain[1]);
  const u = d0 + t * (d1 - d0);
  return map.kind === 'log' ? 2 ** u : u;
}

export function timeMap(fromMs: number, toMs: number, plot: RectCss): AxisMap {
  return { kind: 'linear', domain: [fromMs, toMs], range: [plot.x, plot.x + plot.width] };
}

export function valueMap(kind: YScaleKind, yRange: readonly [number, number], plot: RectCss): AxisMap {
  return { kind, domain: [yRange[0], yRange[1]], range: [plot.y + plot.height, plot.y] };
}

/** Edges of a slot as drawn: the slot's real-valued bounds. */
export function slotRange(slot: number): { low: number; high: number } {
  return slotEdges(slot);
}

/** The value a slot stands for when weighting counts by it: the geometric middle of its edges. */
export function slotMiddle(slot: number): number {
  const { low, high } = slotEdges(slot);
  return Math.sqrt(low * high);
}

/** Slots whose edges overlap [low, high], as an inclusive range (first > last when none). */
export function slotsIn(low: number, high: number): { first: number; last: number } {
  // the edges ascend with the slot: found by bisection (asked per drawing frame and side-panel update)
  const first = partitionPoint(0, SLOTS, (slot) => slotEdges(slot).high <= low);
  const last = partitionPoint(0, SLOTS, (slot) => slotEdges(slot).low < high) - 1;
  return { first, last };
}

const NICE_LATENCY = [1, 2, 5];

function niceDown(v: number, metric: Metric): number {
  if (metric === 'size') return 2 ** Math.floor(Math.log2(Math.max(v, 1)));
  const decade = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  let best = decade;
  for (const m of NICE_LATENCY) if (m * decade <= v) best = m * decade;
  return best;
}

function niceUp(v: number, metric: Metric): number {
  if (metric === 'size') return 2 ** Math.ceil(Math.log2(Math.max(v, 1)));
  const decade = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  for (const m of NICE_LATENCY) if (m * decade >= v) return m * decade;
  return 10 * decade;
}

/**
 * A round top for a linear axis, close above v: on a linear axis the empty band above the data
 * is as tall as it looks, so 1-2-5 (a 226 ms max drawn to 500 ms) wastes up to half the plot.
 * Latency: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten; size: a quarter of a power of two.
 */
const NICE_LINEAR = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
function niceUpLinear(v: number, metric: Metric): number {
  if (metric === 'size') {
    const quarter = 2 ** Math.max(0, Math.floor(Math.log2(Math.max(v, 1))) - 2);
    return Math.ceil(v / quarter) * quarter;
  }
  const decade = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  return NICE_LINEAR.find((m) => m * decade >= v)! * decade;
}

const EMPTY_RANGE: Record<Metric, readonly [number, number]> = { latency: [1_000, 1_000_000_000], size: [512, 2 ** 20] };

/** A y range that shows every non-empty slot of the histograms, widened to round values. */
export function fitYRange(histograms: readonly ArrayLike<number>[], metric: Metric, kind: YScaleKind): [number, number] {
  let lowest = SLOTS;
  let highest = -1;
  for (const histogram of histograms) {
    for (let slot = 0; slot < lowest; slot++) if (histogram[slot]! > 0) lowest = slot;
    for (let slot = SLOTS - 1; slot > highest; slot--) if (histogram[slot]! > 0) highest = slot;
  }
  if (highest < 0) return [...EMPTY_RANGE[metric]];
  if (kind === 'linear') return [0, niceUpLinear(slotEdges(highest).high, metric)];
  const high = niceUp(slotEdges(highest).high, metric);
  const low = Math.min(niceDown(slotEdges(lowest).low, metric), high / 2);
  return [Math.max(low, LOG_FLOOR), high];
}

// ---------------------------------------------------------------- ticks

export interface Tick {
  readonly value: number;
  readonly label: string;
}

const TIME_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Where the ticks of a time axis fall, without their labels: the first (ms), the step between them and how many. */
export interface TickRun {
  readonly firstMs: number;
  readonly stepMs: number;
  readonly count: number;
}

/** The round clock times in the label time zone that timeTicks labels, at most maxCount of them. */
export function timeTickRun(fromMs: number, toMs: number, maxCount: number, utcOffsetMin: number): TickRun {
  const span = toMs - fromMs;
  if (!(span > 0)) return { firstMs: fromMs, stepMs: 1, count: 0 };
  const stepMs = TIME_STEPS_MS.find((s) => span / s <= maxCount) ?? Math.ceil(span / maxCount / 86_400_000) * 86_400_000;
  const offsetMs = utcOffsetMin * 60_000;
  const firstMs = Math.ceil((fromMs + offsetMs) / stepMs) * stepMs - offsetMs;
  return { firstMs, stepMs, count: firstMs <= toMs ? Math.floor((toMs - firstMs) / stepMs) + 1 : 0 };
}

/** Ticks on round clock times in the label time zone, at most maxCount of them. */
export function timeTicks(fromMs: number, toMs: number, maxCount: number, utcOffsetMin: number): Tick[] {
  const { firstMs, stepMs, count } = timeTickRun(fromMs, toMs, maxCount, utcOffsetMin);
  return Array.from({ length: count }, (_, k) => {
    const ms = firstMs + k * stepMs;
    return { value: ms, label: stepMs >= 86_400_000 ? formatDateTime(ms, utcOffsetMin).slice(5, 10) : formatClock(ms, utcOffsetMin, stepMs) };
  });
}

function linearTicks(low: number, high: number, maxCount: number, metric: Metric): Tick[] {
  const span = high - low;
  if (!(span > 0)) return [];
  let step: number;
  if (metric === 'size' && span >= 4) {
    step = 2 ** Math.ceil(Math.log2(span / maxCount));
  } else {
    const raw = span / maxCount;
    const decade = 10 ** Math.floor(Math.log10(raw));
    step = ([1, 2, 5, 10].find((m) => m * decade >= raw) ?? 10) * decade;
  }
  const ticks: Tick[] = [];
  for (let k = Math.ceil(low / step); k * step <= high * (1 + 1e-12); k++) {
    const value = k * step;
    ticks.push({ value, label: formatValue(metric, value) });
  }
  return ticks;
}

function logTicks(low: number, high: number, maxCount: number, metric: Metric): Tick[] {
  const candidates: number[][] = [];
  if (metric === 'size') {
    for (const every of [1, 2, 3, 4, 5, 10]) {
      const values: number[] = [];
      for (let e = Math.ceil(Math.log2(Math.max(low, 1)) / every) * every; 2 ** e <= high; e += every) values.push(2 ** e);
      candidates.push(values);
    }
  } else {
    const firstDecade = Math.floor(Math.log10(Math.max(low, 1)));
    const lastDecade = Math.ceil(Math.log10(high));
    for (const multiples of [[1, 2, 5], [1, 3]]) {
      const values: number[] = [];
      for (let d = firstDecade; d <= lastDecade; d++) for (const m of multiples) values.push(m * 10 ** d);
      candidates.push(values.filter((v) => v >= low && v <= high));
    }
    for (const every of [1, 2, 3, 5]) {
      const values: number[] = [];
      for (let d = Math.ceil(firstDecade / every) * every; d <= lastDecade; d += every) values.push(10 ** d);
      candidates.push(values.filter((v) => v >= low && v <= high));
    }
  }
  const fits = candidates.find((values) => values.length <= maxCount && values.length >= 2);
  if (!fits) return linearTicks(low, high, Math.max(2, Math.min(maxCount, 5)), metric);
  return fits.map((value) => ({ value, label: formatValue(metric, value) }));
}

/** Ticks of the value axis: 1-2-5 steps (latency) or powers of two (size) on a log axis. */
export function valueTicks(kind: YScaleKind, low: number, high: number, maxCount: number, metric: Metric): Tick[] {
  return kind === 'log' ? logTicks(low, high, maxCount, metric) : linearTicks(low, high, maxCount, metric);
}

// ---------------------------------------------------------------- colour

/** Inferno from 0.25 to 1 (d3-scale-chromatic): its dark end is cut off so low counts stand out from empty cells. */
export const RAMP: readonly string[] = [
  '#57106e', '#6a176e', '#7d1e6d', '#902568', '#a32c61', '#b63458', '#c73e4c', '#d74b3f', '#e45a31',
  '#ef6c23', '#f68013', '#fb9606', '#fcac11', '#fac42a', '#f5db4c', '#f1f179', '#fcffa4',
];
/** Cells with no count: the plot background, darker and hueless, never a ramp colour. */
export const EMPTY_COLOR = '#12161c';
/** Cells above the colour maximum: outside the ramp, so clamping is visible. */
export const CLAMPED_COLOR = '#3fd8ff';
export const PERCENTILE_COLORS = { p50: '#ffffff', p99: '#7ee787', max: '#ff4fd8' } as const;
export const PERCENTILES = [
  { key: 'p50', q: 0.5 },
  { key: 'p99', q: 0.99 },
  { key: 'max', q: 1 },
] as const;
export type PercentileKey = (typeof PERCENTILES)[number]['key'];

/** Quantised colour levels: the canvas groups cells by level and sets each fill once. */
export const COLOR_LEVELS = 256;
/** The level of a clamped cell (above the colour maximum). */
export const CLAMPED_LEVEL = COLOR_LEVELS;

function hexToRgb(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

/** Colour of level 0..COLOR_LEVELS-1 (the ramp, interpolated) or CLAMPED_LEVEL, as #rrggbb. */
export function levelColor(level: number): string {
  if (level >= CLAMPED_LEVEL) return CLAMPED_COLOR;
  const position = (Math.max(0, level) / (COLOR_LEVELS - 1)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(position));
  const f = position - i;
  const a = hexToRgb(RAMP[i]!);
  const b = hexToRgb(RAMP[i + 1]!);
  const channel = (k: number): string => Math.round(a[k]! + f * (b[k]! - a[k]!)).toString(16).padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

/** All level colours, computed once: LEVEL_COLORS[level]. */
export const LEVEL_COLORS: readonly string[] = Array.from({ length: COLOR_LEVELS + 1 }, (_, level) => levelColor(level));

export interface ColorScale {
  readonly kind: ColorScaleKind;
  /** smallest positive visible value (the bottom of a log scale) */
  readonly min: number;
  /** the colour maximum: values above it are clamped */
  readonly max: number;
}

// A positive double's high 32 bits grow with its value: their top 16 (sign, exponent, 4 bits of
// mantissa) put it in one of 32,768 buckets that ascend by value, each spanning 1/16 of an octave.
const BITS = new Float64Array(1);
const BITS_WORDS = new Uint32Array(BITS.buffer);
const HIGH_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;
const VALUE_BUCKETS = 1 << 15;

/**
 * Buckets counted together in a ColorScaleCounts' blocks (2^BLOCK_BITS a block): the rank's
 * bucket is found over 128 blocks and the 256 buckets of one, not over all below it (~16,000 for
 * a 1-h view's p99 of counts). The price is a second sum per value added, kept in step while few
 * values change between scales (a scrolling view's newest groups), and otherwise left to one
 * pass over the counts at the next scale (BLOCKS_RESUMMED_ABOVE).
 */
const BLOCK_BITS = 8;

/**
 * Values added or taken out since the last scale beyond which a ColorScaleCounts stops keeping
 * its blocks in step and sums them from the counts at the next scale: a new picture's first
 * frame (a week's load, a zoom, a filter) adds every cell in view, over 100,000 values at 7 d,
 * where the pass over the buckets costs as much as keeping the blocks of about as many values.
 */
const BLOCKS_RESUMMED_ABOVE = VALUE_BUCKETS;

function valueBucket(value: number): number {
  BITS[0] = value;
  return BITS_WORDS[HIGH_WORD]! >>> 16;
}

/** Values of the rank's bucket a ColorScaleCounts keeps room for between scales, whatever the last one needed. */
const IN_BUCKET_KEPT = 4096;

/** Cell values as ColorScaleCounts counts them: the positive ones ascending, with the bucket of each (valueBucket). */
export interface BucketedValues {
  readonly sorted: Float64Array;
  /** ascending with the values */
  readonly buckets: Uint16Array;
}

export function bucketedValues(values: ArrayLike<number>): BucketedValues {
  let n = 0;
  for (let k = 0; k < values.length; k++) if (values[k]! > 0) n++;
  const sorted = new Float64Array(n);
  n = 0;
  for (let k = 0; k < values.length; k++) if (values[k]! > 0) sorted[n++] = values[k]!;
  sorted.sort();
  const buckets = new Uint16Array(n);
  for (let k = 0; k < n; k++) buckets[k] = valueBucket(sorted[k]!);
  return { sorted, buckets };
}

/**
 * colorScaleOf over parts that come and go: the counts per bucket of its radix selection are
 * kept (add, with sign −1 to take a part out), so a scale costs the scan of the counts and the
 * values of the rank's bucket alone, found by bisection in each part, which is kept sorted with
 * its buckets (bucketedValues). A moving view changes a few parts a frame (its newest column
 * groups), where both passes over every cell in view (~100,000 at 1 h) were a share of every
 * frame's script.
 */
export class ColorScaleCounts {
  private readonly counts = new Uint32Array(VALUE_BUCKETS);
  /** the counts summed per block of buckets (rankBucket) */
  private readonly blocks = new Uint32Array(VALUE_BUCKETS >>> BLOCK_BITS);
  /** values added or taken out since the last scale: above BLOCKS_RESUMMED_ABOVE, the blocks are out of step until it sums them */
  private changedSinceScale = 0;
  private positive = 0;
  private inBucket = new Float64Array(0);

  add(part: BucketedValues, sign: 1 | -1): void {
    const { buckets } = part;
    this.changedSinceScale += buckets.length;
    if (this.changedSinceScale > BLOCKS_RESUMMED_ABOVE) for (let k = 0; k < buckets.length; k++) this.counts[buckets[k]!]! += sign;
    else {
      for (let k = 0; k < buckets.length; k++) {
        this.counts[buckets[k]!]! += sign;
        this.blocks[buckets[k]! >>> BLOCK_BITS]! += sign;
      }
    }
    this.positive += sign * buckets.length;
  }

  private sumBlocks(): void {
    for (let block = 0, bucket = 0; block < this.blocks.length; block++) {
      let sum = 0;
      for (const end = bucket + (1 << BLOCK_BITS); bucket < end; bucket++) sum += this.counts[bucket]!;
      this.blocks[block] = sum;
    }
  }

  /** The colour scale of these parts' values taken together, colorScaleOf's: they must be the parts added and not taken out. */
  scaleOf(parts: readonly BucketedValues[], kind: ColorScaleKind, q: number): ColorScale {
    checkQuantile(q);
    if (this.positive === 0) return { kind, min: 0, max: 0 };
    if (this.changedSinceScale > BLOCKS_RESUMMED_ABOVE) this.sumBlocks();
    this.changedSinceScale = 0;
    const { bucket, rankInBucket } = rankBucket(this.counts, this.positive, q, this.blocks);
    const needed = this.counts[bucket]!;
    if (this.inBucket.length < needed || this.inBucket.length > Math.max(IN_BUCKET_KEPT, 4 * needed)) this.inBucket = new Float64Array(needed);
    let min = Infinity;
    let collected = 0;
    for (const { sorted, buckets } of parts) {
      const n = buckets.length;
      if (n === 0) continue;
      if (sorted[0]! < min) min = sorted[0]!;
      if (buckets[0]! > bucket || buckets[n - 1]! < bucket) continue;
      // the part's values of the rank's bucket, found by bisection: a part is not read through
      const end = firstBucketAbove(buckets, n, bucket);
      for (let k = firstBucketAbove(buckets, end, bucket - 1); k < end; k++) this.inBucket[collected++] = sorted[k]!;
    }
    if (collected !== needed) throw new Error(`ColorScaleCounts.scaleOf: the parts hold ${collected} values of the quantile's bucket where the counts hold ${needed}: pass exactly the parts added and not taken out`);
    return { kind, min, max: rankAmong(this.inBucket, collected, rankInBucket) };
  }
}

/**
 * The first of buckets[0..n) above `bucket` (n when none is): partitionPoint's bisection written
 * out for this one array type: through partitionPoint, each of a 1-h view's ~1,200 parts made
 * two new closures, and every step of its bisection a call through one.
 */
function firstBucketAbove(buckets: Uint16Array, n: number, bucket: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (buckets[mid]! <= bucket) low = mid + 1;
    else high = mid;
  }
  return low;
}

function checkQuantile(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`colour quantile ${q} is not within 0..1: give a fraction such as 0.99`);
}

/**
 * The bucket holding the nearest-rank q-quantile of `positive` values counted per bucket, and the
 * quantile's rank among that bucket's values; `blocks`, when given, the same counts summed per
 * block of buckets.
 */
function rankBucket(counts: Uint32Array, positive: number, q: number, blocks?: Uint32Array): { bucket: number; rankInBucket: number } {
  const rank = Math.min(positive, Math.max(1, Math.ceil(q * positive))) - 1;
  let bucket = 0;
  let below = 0;
  if (blocks) {
    let block = 0;
    while (below + blocks[block]! <= rank) below += blocks[block++]!;
    bucket = block << BLOCK_BITS;
  }
  while (below + counts[bucket]! <= rank) below += counts[bucket++]!;
  return { bucket, rankInBucket: rank - below };
}

/** The counts per bucket of colorScaleOf, zeroed after each call. */
const oneShotCounts = new Uint32Array(VALUE_BUCKETS);

/**
 * The value of rank `rank` (0-based) among the first `count` of `values`, reordering them: the
 * values of the quantile's bucket, however the caller found them (colorScaleOf, ColorScaleCounts).
 * Most of a sparse view's are one value: then no selection is run.
 */
function rankAmong(values: Float64Array, count: number, rank: number): number {
  let low = Infinity;
  let high = -Infinity;
  for (let k = 0; k < count; k++) {
    const value = values[k]!;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return low === high ? low : select(values.subarray(0, count), rank);
}

/** Hoare's selection: the k-th smallest element (0-based), reordering the array. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * The colour scale of a set of cell values: min the smallest positive value, max the quantile
 * (nearest rank) of the positive ones, so that one hot cell among many does not wash out the
 * rest; both 0 when none is positive. A radix selection, without copying the values: one pass
 * counts them per bucket (valueBucket), the bucket holding the rank is found in the counts, and a
 * second pass collects the values of that bucket alone (some hundreds of ~70,000 cells of a busy
 * view; most of them in a sparse one of low counts, where they are mostly one value: then no
 * selection is run) and selects among them. Exactly the value sorting would give.
 * ColorScaleCounts keeps the counts for parts that come and go.
 */
export function colorScaleOf(values: ArrayLike<number>, kind: ColorScaleKind, quantile: number): ColorScale {
  checkQuantile(quantile);
  let positive = 0;
  let min = Infinity;
  try {
    for (let k = 0; k < values.length; k++) {
      const value = values[k]!;
      if (!(value > 0)) continue;
      oneShotCounts[valueBucket(value)]!++;
      positive++;
      if (value < min) min = value;
    }
    if (positive === 0) return { kind, min: 0, max: 0 };
    const { bucket, rankInBucket } = rankBucket(oneShotCounts, positive, quantile);
    const inBucket = new Float64Array(oneShotCounts[bucket]!);
    let collected = 0;
    for (let k = 0; k < values.length; k++) {
      const value = values[k]!;
      if (value > 0 && valueBucket(value) === bucket) inBucket[collected++] = value;
    }
    return { kind, min, max: rankAmong(inBucket, collected, rankInBucket) };
  } finally {
    oneShotCounts.fill(0);
  }
}

/** Position of a value on the scale: 0..1 inside it, above 1 when clamped, -1 for an empty cell. */
export function colorPosition(scale: ColorScale, value: number): number {
  if (!(value > 0)) return -1;
  if (scale.max <= 0) return 1;
  const ratio = value / scale.max;
  if (ratio > 1) return ratio;
  switch (scale.kind) {
    case 'linear':
      return ratio;
    case 'sqrt':
      return Math.sqrt(ratio);
    case 'log':
      return scale.max > scale.min ? Math.log(value / scale.min) / Math.log(scale.max / scale.min) : 1;
  }
}

/** The value at a position 0..1 of the scale: the inverse of colorPosition, for legend labels. */
export function colorValueAt(scale: ColorScale, position: number): number {
  switch (scale.kind) {
    case 'linear':
      return position * scale.max;
    case 'sqrt':
      return position * position * scale.max;
    case 'log':
      return scale.min * (scale.max / Math.max(scale.min, Number.MIN_VALUE)) ** position;
  }
}

/** Colour level of a value: -1 empty, 0..COLOR_LEVELS-1 on the ramp, CLAMPED_LEVEL above the maximum. */
export function colorLevel(scale: ColorScale, value: number): number {
  const position = colorPosition(scale, value);
  if (position < 0) return -1;
  if (position > 1) return CLAMPED_LEVEL;
  return Math.round(Math.max(0, position) * (COLOR_LEVELS - 1));
}

/** The value a cell is coloured by. */
export function cellValue(colorBy: ColorBy, count: number, slot: number): number {
  return colorBy === 'count' ? count : count * slotMiddle(slot);
}

// ---------------------------------------------------------------- cells and statistics

/** Columns that overlap [fromMs, toMs), ascending by seq. */
export function columnsInRange(columns: readonly Column[], fromMs: number, toMs: number): Column[] {
  return columns.filter((c) => c.startMs < toMs && c.startMs + c.intervalMs > fromMs).sort((a, b) => a.seq - b.seq);
}

/** The view with a concrete y range: the fitted one when the view leaves it open. */
export function resolveYRange(view: SnapshotView, histograms: readonly ArrayLike<number>[]): [number, number] {
  if (view.yRange) return [view.yRange[0], view.yRange[1]];
  return fitYRange(histograms, view.filter.metric, view.yScale);
}

/** Summary statistics of a region: count and the bucket holding min, p50, p90, p99 and max. */
export interface RegionStats {
  readonly count: number;
  /** slots (−1 when the region is empty); the true value lies within the slot's bounds */
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The slots of nearest-rank quantiles of a histogram's slots first..last (clamped to the
 * histogram), read in place in one walk: slots[k] is the slot of quantiles[k] (ascending; 0 < q
 * <= 1, so Number.MIN_VALUE is the lowest non-empty slot and 1 the highest), −1 when the range
 * is empty; returns the count in the range. The rule of quantileSlot (shared/column.ts). Writes
 * into the caller's `slots` and allocates nothing: the side panels' statistics (regionStats) and
 * each drawn cell group's percentile lines (percentileSlotsOf, client/render/heatmap.ts) both
 * take several quantiles of a histogram, often.
 */
export function nearestRankSlots(histogram: ArrayLike<number>, first: number, last: number, quantiles: readonly number[], slots: Int32Array): number {
  const from = Math.max(0, first);
  const to = Math.min(last, histogram.length - 1);
  let count = 0;
  let lowest = -1;
  let highest = -1;
  for (let slot = from; slot <= to; slot++) {
    const n = histogram[slot]!;
    if (!(n > 0)) continue;
    count += n;
    if (lowest < 0) lowest = slot;
    highest = slot;
  }
  let next = 0;
  if (count > 0) {
    let rank = Math.max(1, Math.ceil(quantiles[0]! * count));
    let seen = 0;
    for (let slot = lowest; slot <= highest && next < quantiles.length; slot++) {
      seen += histogram[slot]!;
      while (next < quantiles.length && seen >= rank) {
        slots[next++] = slot;
        if (next < quantiles.length) rank = Math.max(1, Math.ceil(quantiles[next]! * count));
      }
    }
  }
  for (; next < quantiles.length; next++) slots[next] = count > 0 ? highest : -1;
  return count;
}

/** The quantiles of RegionStats, in its order: min, p50, p90, p99, max. */
const REGION_QUANTILES = [Number.MIN_VALUE, 0.5, 0.9, 0.99, 1];
const regionSlots = new Int32Array(REGION_QUANTILES.length);

/**
 * Statistics of the slots first..last of a histogram (the region's value range), read in place:
 * the side panels take them from several kept sums four times a second while a view moves.
 */
export function regionStats(histogram: ArrayLike<number>, first = 0, last = SLOTS - 1): RegionStats {
  const count = nearestRankSlots(histogram, first, last, REGION_QUANTILES, regionSlots);
  return { count, min: regionSlots[0]!, p50: regionSlots[1]!, p90: regionSlots[2]!, p99: regionSlots[3]!, max: regionSlots[4]! };
}

/** Block I/O moves whole sectors: every request size is a multiple of this. */
const SECTOR_BYTES = 512;

/**
 * "12.3 µs – 13.4 µs": the bounds of a slot, the error bound of a bucket statistic. A size
 * bucket is named by the whole 512-byte sectors it can hold, so 4 KiB I/Os read "4 KiB", not
 * "3.67 KiB – 4 KiB" (the bucket (3756, 4096] holds no other sector multiple).
 */
export function formatSlotRange(metric: Metric, slot: number): string {
  if (slot < 0) return '–';
  const { low, high } = slotEdges(slot);
  if (slot === 0) return `0 ${metric === 'latency' ? 'ns' : 'B'}`;
  if (slot === SLOTS - 1) return `> ${formatValue(metric, low)}`;
  if (metric === 'size') {
    const { lower, upper } = slotBounds(slot);
    const first = (Math.floor(lower / SECTOR_BYTES) + 1) * SECTOR_BYTES;
    const last = Math.floor(upper / SECTOR_BYTES) * SECTOR_BYTES;
    if (first === last) return formatBytes(first);
    if (first < last) return `${formatBytes(first)} – ${formatBytes(last)}`;
  }
  return `${formatValue(metric, low)} – ${formatValue(metric, high)}`;
}

/** A filtered histogram per column, in the order given: what both renderers colour. */
export function histogramsOf(columns: readonly Column[], filter: Filter): Float64Array[] {
  return columns.map((c) => histogramOf(c, filter));
}

/** Axis ticks with their positions for a layout: one rule for the canvas overlay and the SVG. */
export interface PlacedTick extends Tick {
  readonly px: number;
}

export function axisTicks(
  view: Pick<SnapshotView, 'fromMs' | 'toMs' | 'yScale' | 'utcOffsetMin' | 'filter'>,
  plot: RectCss,
  yRange: readonly [number, number],
): { x: PlacedTick[]; y: PlacedTick[] } {
  return { x: timeAxisTicks(view, plot), y: valueAxisTicks(view, plot, yRange) };
}

/** The time axis's ticks (axisTicks.x). */
export function timeAxisTicks(view: Pick<SnapshotView, 'fromMs' | 'toMs' | 'utcOffsetMin'>, plot: RectCss): PlacedTick[] {
  const xMap = timeMap(view.fromMs, view.toMs, plot);
  return timeTicks(view.fromMs, view.toMs, timeTickCount(plot), view.utcOffsetMin).map((t) => ({ ...t, px: mapTo(xMap, t.value) }));
}

/** Where the time axis's ticks fall (timeAxisTicks), without labelling them: what changes when a tick comes or goes. */
export function timeAxisTickRun(view: Pick<SnapshotView, 'fromMs' | 'toMs' | 'utcOffsetMin'>, plot: RectCss): TickRun {
  return timeTickRun(view.fromMs, view.toMs, timeTickCount(plot), view.utcOffsetMin);
}

/** At most one time tick per 110 CSS px of plot (a clock label's width), at least two. */
function timeTickCount(plot: RectCss): number {
  return Math.max(2, Math.floor(plot.width / 110));
}

/** The value axis's ticks (axisTicks.y). */
export function valueAxisTicks(view: Pick<SnapshotView, 'yScale' | 'filter'>, plot: RectCss, yRange: readonly [number, number]): PlacedTick[] {
  const yMap = valueMap(view.yScale, yRange, plot);
  return valueTicks(view.yScale, yRange[0], yRange[1], Math.max(2, Math.floor(plot.height / 36)), view.filter.metric).map((t) => ({ ...t, px: mapTo(yMap, t.value) }));
}

/**
 * Labels along the legend's colour bar: position 0 (bottom) to 1 (top, the colour maximum).
 * With `cellSeconds`, per second of a cell instead of per cell: every cell of a picture is as
 * wide, so the colours stand for rates as they stand for counts, and only the labels change.
 */
export function legendTicks(scale: ColorScale, view: Pick<SnapshotView, 'colorBy' | 'filter'>, cellSeconds = 1): { position: number; label: string }[] {
  if (scale.max <= 0) return [];
  return [0, 0.25, 0.5, 0.75, 1].map((position) => ({
    position,
    label: formatColorValue(view, colorValueAt(scale, position) / cellSeconds),
  }));
}

/** The legend's title for rates: what a colour counts per second of a cell. */
export function perSecondLabel(view: Pick<SnapshotView, 'colorBy' | 'filter'>): string {
  if (view.colorBy === 'count') return 'I/Os per second';
  return view.filter.metric === 'latency' ? 'time spent /s' : 'bytes moved /s';
}
