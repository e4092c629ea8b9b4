/** The axis pieces the summed heat map and the split view draw alike. */
import { memo, useRef } from 'react';
import type { PlacedTick, RectCss } from '../../shared/view.ts';
import { anchorTicks, type AnchoredTicks } from './scrolling-ticks.ts';

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

/** The time axis under the plot, its ticks moved by dx; its domain is in data-domain for tests. */
function TimeAxisAt({ fromMs, toMs, plot, ticks, dx }: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly Tick[]; dx: number }) {
  const bottom = plot.y + plot.height;
  return (
    <g className="axis axis-x" data-domain={`${fromMs},${toMs}`}>
      <line x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      <g transform={`translate(${dx} 0)`}>
        <TimeTicks ticks={ticks} bottom={bottom} />
      </g>
    </g>
  );
}

/** The time axis of a view that does not scroll (the split view's bands). */
export function TimeAxis(props: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly PlacedTick[] }) {
  return <TimeAxisAt {...props} dx={0} />;
}

/**
 * The time axis of a view that scrolls: its ticks are rendered once while the same ones are in
 * view at the same scale, and moved with the picture by one transform a frame (anchorTicks).
 */
export function ScrollingTimeAxis({ fromMs, toMs, plot, ticks }: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly PlacedTick[] }) {
  // kept across renders without causing one: the placement is derived from the props each render
  const kept = useRef<AnchoredTicks | null>(null);
  const { anchored, dx } = anchorTicks(kept.current, fromMs, toMs, plot, ticks);
  kept.current = anchored;
  return <TimeAxisAt fromMs={fromMs} toMs={toMs} plot={plot} ticks={anchored.ticks} dx={dx} />;
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
