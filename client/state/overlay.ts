/**
 * Whether React must render a new snapshot, or the frame only moved time. A scrolling view's
 * frame moves the picture's tiles and the overlay's parts placed in time by transforms (the
 * model's timeLayers); React renders only when something it shows changed: a tick that came
 * or went, a band of missing data that appeared or grew, the legend's scale, the header's
 * inputs, or the side panels' frame (four times a second while the view moves).
 */
import { timeAxisTicks, type SnapshotView, type Layout } from '../../shared/view.ts';
import type { HeatmapGeometry } from '../render/heatmap.ts';

/** What of a frame the overlay renders (the rest of FrameData is read by the model and the side panels). */
export interface OverlayFrame {
  readonly id: number;
  readonly view: Pick<SnapshotView, 'fromMs' | 'toMs' | 'utcOffsetMin'>;
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
  const firstSeq = Math.floor(view.fromMs / frame.intervalMs);
  const ticks = timeAxisTicks(view, frame.layout.plot)
    .map((t) => `${t.value}:${t.label}`)
    .join(',');
  const bands = frame.missing.map(([first, last]) => `${first <= firstSeq ? '<' : first}-${last}`).join(',');
  const origin = timeOriginMs(view);
  const scale = geometry ? `${geometry.colorScale.kind} ${geometry.colorScale.min} ${geometry.colorScale.max} ${geometry.groupSize}` : 'no picture';
  return [
    placedSpanMs(view),
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
 * the DOM) and the model's one transform a layer moves them to the view shown.
 */
export function timeOriginMs(view: { readonly fromMs: number; readonly toMs: number }): number {
  const spanMs = placedSpanMs(view);
  return Math.floor(view.fromMs / spanMs) * spanMs;
}

/**
 * The span the overlay is placed by, in whole ms: a live view's start is its end less the span
 * in floating point, and its end less its start may then differ from the span in the last
 * bits, which moved every tick by that much and wrote it to the DOM.
 */
export function placedSpanMs(view: { readonly fromMs: number; readonly toMs: number }): number {
  return Math.max(1, Math.round(view.toMs - view.fromMs));
}

/** The x offset (CSS px) that moves what was placed for a view starting at `placedFromMs` to where a view of the same span starting at `fromMs` puts it. */
export function timeShiftCss(placedFromMs: number, fromMs: number, spanMs: number, plotWidthCss: number): number {
  return ((placedFromMs - fromMs) * plotWidthCss) / spanMs;
}
