/** The axis pieces the summed heat map and the split view draw alike. */
import { memo } from 'react';
import type { PlacedTick, RectCss } from '../../shared/view.ts';
import type { AppModel, FrameData } from '../state/model.ts';
import { useTimeLayer } from './timeLayer.ts';

interface Tick {
  readonly value: number;
  readonly px: number;
  readonly label: string;
}

/** The same ticks at the same places: a render for a later frame of a scrolling view (its ticks placed from a fixed origin) mostly has them. */
function sameTicks(a: { ticks: readonly Tick[]; bottom: number }, b: { ticks: readonly Tick[]; bottom: number }): boolean {
  return a.bottom === b.bottom && a.ticks.length === b.ticks.length && a.ticks.every((t, k) => t.value === b.ticks[k]!.value && t.px === b.ticks[k]!.px && t.label === b.ticks[k]!.label);
}

/** The tick marks and labels of a time axis, at the ticks' own x; rendered again only when one of them changed. */
const TimeTicks = memo(function TimeTicks({ ticks, bottom }: { ticks: readonly Tick[]; bottom: number }) {
  return ticks.map((t) => (
    <g key={t.value} transform={`translate(${t.px} ${bottom})`} data-ms={t.value}>
      <line y2={5} />
      <text y={17} textAnchor="middle">
        {t.label}
      </text>
    </g>
  ));
}, sameTicks);

/**
 * The time axis under the plot; the domain its ticks were placed for is in data-domain for tests
 * (a scrolling one's ticks are moved on from it by the model until React renders them again: at
 * idle it is the picture's). A scrolling one's ticks are a time layer (useTimeLayer).
 */
function TimeAxisAt(props: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly Tick[]; ticksRef?: (g: SVGGElement | null) => void }) {
  const { fromMs, toMs, plot, ticks } = props;
  const bottom = plot.y + plot.height;
  return (
    <g className="axis axis-x" data-domain={`${fromMs},${toMs}`}>
      <line x1={plot.x} x2={plot.x + plot.width} y1={bottom} y2={bottom} />
      <g className="time-ticks" ref={props.ticksRef}>
        <TimeTicks ticks={ticks} bottom={bottom} />
      </g>
    </g>
  );
}

/** The time axis of a view that does not scroll (the split view's bands). */
export function TimeAxis(props: { fromMs: number; toMs: number; plot: RectCss; ticks: readonly PlacedTick[] }) {
  return <TimeAxisAt {...props} />;
}

/**
 * The time axis of a view that scrolls: rendered when its ticks change, and between those
 * renders moved with the picture after every frame the model shows (a frame that only moved
 * time renders nothing in React).
 */
export function ScrollingTimeAxis({ model, frame, ticks }: { model: AppModel; frame: FrameData; ticks: readonly PlacedTick[] }) {
  const ticksRef = useTimeLayer(model, frame);
  return <TimeAxisAt fromMs={frame.view.fromMs} toMs={frame.view.toMs} plot={frame.layout.plot} ticks={ticks} ticksRef={ticksRef} />;
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
