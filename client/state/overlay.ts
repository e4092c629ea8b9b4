/**
 * Whether React must render a new snapshot, or the frame only moved time. A scrolling view's
 * frame moves the picture's tiles and the overlay's parts placed in time by transforms (the
 * model its tiles, the views their time layers: client/views/timeLayer.ts); React renders only when something it shows changed: a tick that came
 * or went, a band of missing data that appeared or grew, the legend's scale, the header's
 * inputs, or the side panels' frame (four times a second while the view moves).
 */
import { timeAxisTickRun, timeMap, type SnapshotView, type Layout } from '../../shared/view.ts';
import type { HeatmapGeometry } from '../render/heatmap.ts';

/** What of a frame the overlay renders (the rest of FrameData is read by the model and the side panels). */
export interface OverlayFrame {
  readonly id: number;
  readonly view: Pick<SnapshotView, 'fromMs' | 'toMs' | 'utcOffsetMin'>;
  /** the span the overlay is placed by (FrameData.spanMs) */
  readonly spanMs: number;
  readonly yRange: readonly [number, number];
  readonly layout: Layout;
  readonly intervalMs: number;
  readonly columns: { readonly length: number };
  readonly geometry: Pick<HeatmapGeometry, 'groupSize' | 'colorScale'> | null;
  readonly missing: readonly (readonly [number, number])[];
  readonly split: readonly unknown[];
}

/**
 * What the overlay renders of a frame, as one string: equal for two frames of one view that
 * differ only in time when their ticks, bands and legend are the same. A band cut by the view's
 * left edge is keyed by its end only (its start is the view's, which moves every frame; it is
 * clipped to the plot, so moving it shows the same). A split view renders every frame (its
 * axes are not moved by the model).
 */
export function overlayKeyOf(frame: OverlayFrame | null): string {
  if (frame === null) return 'none';
  const { view, geometry } = frame;
  if (frame.split.length > 0) return `split ${frame.id}`;
  // where the ticks fall: their labels follow from the values, the step and the time zone (not formatted every frame)
  const run = timeAxisTickRun(view, frame.layout.plot);
  const ticks = `${run.firstMs}+${run.stepMs}×${run.count}`;
  const bands = frame.missing.map((run) => `${cutByLeftEdge(frame, run) ? '<' : run[0]}-${run[1]}`).join(',');
  const origin = timeOriginMs(view.fromMs, frame.spanMs);
  const scale = geometry ? `${geometry.colorScale.kind} ${geometry.colorScale.min} ${geometry.colorScale.max} ${geometry.groupSize}` : 'no picture';
  return [
    frame.spanMs,
    origin,
    frame.intervalMs,
    frame.yRange.join(' '),
    view.utcOffsetMin,
    frame.layout.widthCss,
    frame.layout.heightCss,
    frame.columns.length === 0 ? 'empty' : 'columns',
    scale,
    ticks,
    bands,
  ].join('|');
}

/** Whether a run of missing seqs starts at or before the view's first seq: its band starts at the view's left edge, which moves every frame. */
export function cutByLeftEdge(frame: Pick<OverlayFrame, 'view' | 'intervalMs'>, [first]: readonly [number, number]): boolean {
  return first <= Math.floor(frame.view.fromMs / frame.intervalMs);
}

/**
 * The parts of a snapshot React renders besides the frame, compared by identity (the model keeps
 * each the same object while it is the same). Not the exemplars: their region's left edge
 * follows a live view every frame, and the list follows it with the side panels (an answer or
 * a new exemplar from the server is published at once, as any message is).
 */
export interface RenderedParts {
  readonly panel: unknown;
  readonly state: unknown;
  readonly connection: unknown;
  readonly meta: unknown;
  readonly loadingHistory: boolean;
  readonly error: string | null;
  readonly skipped: unknown;
  readonly ended: boolean;
  readonly uncounted: unknown;
}

const RENDERED: readonly (keyof RenderedParts)[] = ['panel', 'state', 'connection', 'meta', 'loadingHistory', 'error', 'skipped', 'ended', 'uncounted'];

/** Whether `next` shows React anything `shown` did not: a part of it changed, or its frame's overlay did (keys from overlayKeyOf). */
export function rendersAnew(shown: RenderedParts, shownKey: string, next: RenderedParts, nextKey: string): boolean {
  return shownKey !== nextKey || RENDERED.some((part) => shown[part] !== next[part]);
}

/**
 * The time the overlay's parts placed in time are placed from (at the plot's left edge), not the
 * view's start: fixed while a moving view stays within one span-long period, so that React,
 * rendering for a later frame, writes the same positions (only what came or went is written to
 * the DOM) and the model's one transform a layer moves them to the view shown. `spanMs` is the
 * frame's (FrameData.spanMs): the same in every frame of a view, to the last bit.
 */
export function timeOriginMs(fromMs: number, spanMs: number): number {
  return Math.floor(fromMs / spanMs) * spanMs;
}

/** The x offset (CSS px) that moves what was placed for a view starting at `placedFromMs` to where a view of the same span starting at `fromMs` puts it. */
export function timeShiftCss(placedFromMs: number, fromMs: number, spanMs: number, plotWidthCss: number): number {
  return ((placedFromMs - fromMs) * plotWidthCss) / spanMs;
}

/** The time scale the overlay's parts placed in time are drawn on: from the frame's origin (timeOriginMs), a span long. */
export function placedTimeMap(frame: Pick<OverlayFrame, 'view' | 'spanMs' | 'layout'>): ReturnType<typeof timeMap> {
  const origin = timeOriginMs(frame.view.fromMs, frame.spanMs);
  return timeMap(origin, origin + frame.spanMs, frame.layout.plot);
}

/** The x offset (CSS px) of a layer placed for the frame `placed` (placedTimeMap) shown at a view of its span starting at `shownFromMs`. */
export function layerShiftCss(placed: Pick<OverlayFrame, 'view' | 'spanMs' | 'layout'>, shownFromMs: number): number {
  return timeShiftCss(timeOriginMs(placed.view.fromMs, placed.spanMs), shownFromMs, placed.spanMs, placed.layout.plot.width);
}
