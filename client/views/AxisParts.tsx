/** The axis pieces the summed heat map and the split view draw alike. */
import type { RectCss } from '../../shared/view.ts';

interface Tick {
  readonly value: number;
  readonly px: number;
  readonly label: string;
}

/** The time axis under the plot; its domain is in data-domain for tests. */
export function TimeAxis({ fromMs, toMs, plot, ticks }: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly Tick[] }) {
  const bottom = plot.y + plot.height;
  return (
    <g className="axis axis-x" data-domain={`${fromMs},${toMs}`}>
      <line x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      {ticks.map((t) => (
        <g key={t.value} transform={`translate(${t.px} ${bottom})`}>
          <line y2={5} />
          <text y={17} textAnchor="middle">
            {t.label}
          </text>
        </g>
      ))}
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
