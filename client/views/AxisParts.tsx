/** The axis pieces the summed heat map and the split view draw alike. */
import { memo, useMemo } from 'react';
import type { RectCss } from '../../shared/view.ts';

interface Tick {
  readonly value: number;
  readonly px: number;
  readonly label: string;
}

/** The tick marks and labels of a time axis, at the ticks' own x. */
const TimeTicks = memo(function TimeTicks({ ticks, bottom }: { ticks: readonly Tick[]; bottom: number }) {
  return ticks.map((t) => (
    <g key={t.value} transform={`translate(${t.px} ${bottom})`}>
      <line y2={5} />
      <text y={17} textAnchor="middle">
        {t.label}
      </text>
    </g>
  ));
});

/** The time axis under the plot; its domain is in data-domain for tests. */
export function TimeAxis({ fromMs, toMs, plot, ticks }: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly Tick[] }) {
  const bottom = plot.y + plot.height;
  return (
    <g className="axis axis-x" data-domain={`${fromMs},${toMs}`}>
      <line x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      <TimeTicks ticks={ticks} bottom={bottom} />
    </g>
  );
}

/**
 * The time axis of a view that scrolls: its ticks are rendered once while the same ones are in
 * view at the same scale, and moved with the picture by one transform a frame (re-rendering
 * them every frame was a good part of React's time per scrolling frame). As TimeAxis otherwise.
 */
export function ScrollingTimeAxis({ fromMs, toMs, plot, ticks }: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly Tick[] }) {
  const bottom = plot.y + plot.height;
  const spanMs = toMs - fromMs;
  const key = `${spanMs}|${plot.x}|${plot.width}|${bottom}|${ticks.map((t) => `${t.value}:${t.label}`).join(',')}`;
  // the ticks as placed when this set of them came into view, and the view's start then (key
  // stands for the ticks and the scale: the ticks array itself is new every frame)
  const anchored = useMemo(() => ({ fromMs, ticks }), [key]);
  const dx = ((anchored.fromMs - fromMs) * plot.width) / spanMs;
  return (
    <g className="axis axis-x" data-domain={`${fromMs},${toMs}`}>
      <line x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      <g transform={`translate(${dx} 0)`}>
        <TimeTicks ticks={anchored.ticks} bottom={bottom} />
      </g>
    </g>
  );
}

/** Value ticks to the left of x. */
export function ValueTicks({ x, ticks }: { x: number; ticks: readonly Tick[] }) {
  return ticks.map((t) => (
    <g key={t.value} transform={`translate(${x} ${t.px})`}>
      <line x2={-5} />
      <text x={-8} y={4} textAnchor="end">
        {t.label}
      </text>
    </g>
  ));
}
