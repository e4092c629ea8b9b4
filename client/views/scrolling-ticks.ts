/**
 * A scrolling time axis's ticks: placed once while the same ticks are in view at the same scale,
 * then moved with the picture by one offset (re-rendering them every frame was a good part of
 * React's time per scrolling frame).
 */
import type { PlacedTick, RectCss } from '../../shared/view.ts';

export interface AnchoredTicks {
  /** the ticks and the scale they were placed at (the ticks array itself is new every frame) */
  readonly key: string;
  /** the view's start when they were placed */
  readonly fromMs: number;
  readonly ticks: readonly PlacedTick[];
}

/** The ticks to render (the kept ones while `ticks` are the same at the same scale, else these) and the x offset (CSS px) that puts them where `ticks` are. */
export function anchorTicks(kept: AnchoredTicks | null, fromMs: number, toMs: number, plot: RectCss, ticks: readonly PlacedTick[]): { anchored: AnchoredTicks; dx: number } {
  const spanMs = toMs - fromMs;
  const key = `${spanMs}|${plot.x}|${plot.width}|${plot.y + plot.height}|${ticks.map((t) => `${t.value}:${t.label}`).join(',')}`;
  const anchored = kept !== null && kept.key === key ? kept : { key, fromMs, ticks };
  return { anchored, dx: ((anchored.fromMs - fromMs) * plot.width) / spanMs };
}
