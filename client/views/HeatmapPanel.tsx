/**
 * The heat map: an element for the picture of the cells (canvas tiles the model's frame task
 * makes and draws, never React: client/render/surface.ts), and over it one SVG for axes, legend,
 * missing-data bands, the brush, the hover mark and the mark of the exemplar hovered in the
 * selection panel. Hovering moves only the overlay; the picture is not redrawn. What is placed in
 * time (the time axis's ticks, the bands, the hover and exemplar marks) is in layers the model
 * moves with the picture between renders (useTimeLayer, client/state/overlay.ts).
 */
import { flushSync } from 'react-dom';
import { memo, useEffect, useRef, useState, type PointerEvent, type RefObject } from 'react';
import { brush, select, type D3BrushEvent } from 'd3';
import {
  CLAMPED_COLOR,
  EMPTY_COLOR,
  MISSING_HATCH_COLOR,
  MISSING_LABEL,
  PERCENTILES,
  PERCENTILE_COLORS,
  RAMP,
  cellLabel,
  cellValue,
  colorByLabel,
  formatClock,
  formatColorValue,
  formatCount,
  formatSlotRange,
  formatSpan,
  legendKeyY,
  legendTicks,
  perSecondLabel,
  mapFrom,
  mapTo,
  timeAxisTicks,
  timeMap,
  valueAxisTicks,
  valueMap,
  type ColorBy,
  type ColorScale,
  type PlacedTick,
  type RectCss,
  type YScaleKind,
} from '../../shared/view.ts';
import type { Metric } from '../../shared/scheme.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { cellRectPx, groupAtPx, slotAtPx, slotRowPx, type DrawnGroup } from '../render/heatmap.ts';
import type { AppModel, FrameData, Snapshot } from '../state/model.ts';
import { cutByLeftEdge, layerShiftCss, placedTimeMap } from '../state/overlay.ts';
import { exemplarCell } from './drilldown.ts';
import { countRender } from './renders.ts';
import { missingReason } from './missing.ts';
import { SplitAxes, SplitCanvases } from './SplitView.tsx';
import { ScrollingTimeAxis, ValueTicks } from './AxisParts.tsx';
import { useTimeLayer } from './timeLayer.ts';

interface CellHover {
  readonly kind: 'cell';
  /** the start of the view the group was found in (its x0Px are that frame's) */
  readonly fromMs: number;
  readonly xCss: number;
  readonly yCss: number;
  readonly group: DrawnGroup;
  readonly slot: number;
}

/** The pointer over a hatched stretch: seqs first..last the page holds no column for. */
interface MissingHover {
  readonly kind: 'missing';
  readonly xCss: number;
  readonly yCss: number;
  readonly run: readonly [number, number];
}

type Hover = CellHover | MissingHover;

const HATCH_ID = 'missing-hatch';
const PLOT_CLIP_ID = 'plot-clip';
const MARKS_CLIP_ID = 'marks-clip';
/** How far beyond its cell an exemplar's mark reaches (outline 2 px out with a 2-px stroke; dot of 3 px with a 1-px stroke). */
const MARK_MARGIN_CSS = 4;

/** Brushes smaller than this (CSS px) are clicks, not zooms. */
const MIN_BRUSH_CSS = 4;

function useBrush(model: AppModel, frame: FrameData | null, target: RefObject<SVGGElement | null>) {
  const plot = frame?.layout.plot;
  useEffect(() => {
    const g = target.current;
    if (!g || !plot) return;
    const b = brush<unknown>()
      .extent([
        [plot.x, plot.y],
        [plot.x + plot.width, plot.y + plot.height],
      ])
      .on('end', (event: D3BrushEvent<unknown>) => {
        // the region under the brush in the picture shown now, which may have moved since React rendered
        const f = model.shownFrame;
        if (!event.sourceEvent || !event.selection || !f) return;
        const [[x0, y0], [x1, y1]] = event.selection as [[number, number], [number, number]];
        select(g).call(b.move, null);
        if (Math.abs(x1 - x0) < MIN_BRUSH_CSS || Math.abs(y1 - y0) < MIN_BRUSH_CSS) return;
        const xMap = timeMap(f.view.fromMs, f.view.toMs, f.layout.plot);
        const yMap = valueMap(f.view.yScale, f.yRange, f.layout.plot);
        model.zoomToCss(x0, y0, x1, y1, { x: (px) => mapFrom(xMap, px), y: (px) => mapFrom(yMap, px) });
      });
    const selection = select(g);
    selection.call(b);
    return () => {
      selection.on('.brush', null);
      selection.selectAll('*').remove();
    };
  }, [model, target, plot?.x, plot?.y, plot?.width, plot?.height]);
}

function Axes({ model, frame }: { model: AppModel; frame: FrameData }) {
  const { plot } = frame.layout;
  const bottom = plot.y + plot.height;
  return (
    <g className="axes" aria-hidden="true">
      <text className="cell-size muted" x={plot.x} y={bottom + 30}>
        {cellLabel((frame.geometry?.groupSize ?? 1) * frame.intervalMs, frame.view.filter.metric)}
      </text>
      <ScrollingTimeAxis model={model} frame={frame} ticks={placedTicks(frame)} />
      <ValueAxis plot={plot} low={frame.yRange[0]} high={frame.yRange[1]} yScale={frame.view.yScale} metric={frame.view.filter.metric} />
    </g>
  );
}

/** The time axis's ticks of a frame, on the placed time scale. */
function placedTicks(frame: FrameData): PlacedTick[] {
  const xMap = placedTimeMap(frame);
  return timeAxisTicks(frame.view, frame.layout.plot).map((t) => ({ ...t, px: mapTo(xMap, t.value) }));
}

/** The value axis: rendered again only when it changes, not with every frame of a scrolling view. */
const ValueAxis = memo(function ValueAxis({ plot, low, high, yScale, metric }: { plot: RectCss; low: number; high: number; yScale: YScaleKind; metric: Metric }) {
  const bottom = plot.y + plot.height;
  return (
    <g className="axis axis-y" data-domain={`${low},${high}`}>
      <line x1={plot.x} x2={plot.x} y1={plot.y} y2={bottom} />
      <ValueTicks x={plot.x} ticks={valueAxisTicks({ yScale, filter: { metric } }, plot, [low, high])} />
      <text className="axis-title" transform={`translate(12 ${plot.y + plot.height / 2}) rotate(-90)`} textAnchor="middle">
        {metric === 'latency' ? 'latency' : 'I/O size'} ({yScale})
      </text>
    </g>
  );
});

/** Seconds of time one drawn cell covers. */
function cellSecondsOf(frame: FrameData): number {
  return ((frame.geometry?.groupSize ?? 1) * frame.intervalMs) / 1000;
}

/** The legend of a frame: its parts that change, as values, so that it renders again only when one does. */
function FrameLegend({ frame, perSecond, perDevice }: { frame: FrameData; perSecond: boolean; perDevice: boolean }) {
  return (
    <Legend
      bar={frame.layout.legendBar}
      titleY={frame.layout.plot.y + 8}
      scale={frame.geometry?.colorScale ?? null}
      colorBy={frame.view.colorBy}
      metric={frame.view.filter.metric}
      cellSeconds={perSecond ? cellSecondsOf(frame) : 1}
      perSecond={perSecond}
      perDevice={perDevice}
      percentiles={frame.view.percentiles}
    />
  );
}

interface LegendProps {
  readonly bar: RectCss;
  readonly titleY: number;
  readonly scale: ColorScale | null;
  readonly colorBy: ColorBy;
  readonly metric: Metric;
  /** the labels are per second of a cell this long (1: per cell) */
  readonly cellSeconds: number;
  readonly perSecond: boolean;
  readonly perDevice: boolean;
  readonly percentiles: boolean;
}

const Legend = memo(function Legend({ bar, titleY, scale, colorBy, metric, cellSeconds, perSecond, perDevice, percentiles }: LegendProps) {
  const labelX = bar.x + bar.width + 5;
  const key = legendKeyY(bar);
  const view = { colorBy, filter: { metric } };
  return (
    <g className="legend">
      <defs>
        <linearGradient id="heatmap-ramp" x1="0" y1="1" x2="0" y2="0">
          {RAMP.map((color, k) => (
            <stop key={color} offset={`${(k / (RAMP.length - 1)) * 100}%`} stopColor={color} />
          ))}
        </linearGradient>
      </defs>
      <text x={bar.x} y={titleY} className="muted legend-title">
        {perDevice ? 'own scales' : perSecond ? perSecondLabel(view) : colorByLabel(view)}
      </text>
      <rect x={bar.x} y={bar.y - 22} width={bar.width} height={10} fill={CLAMPED_COLOR} />
      <text x={labelX} y={bar.y - 13}>
        clamped
      </text>
      <rect x={bar.x} y={bar.y} width={bar.width} height={bar.height} fill="url(#heatmap-ramp)" />
      {scale &&
        !perDevice &&
        legendTicks(scale, view, cellSeconds).map((t) => (
          <text key={t.position} x={labelX} y={bar.y + bar.height * (1 - t.position) + 4}>
            {t.label}
          </text>
        ))}
      <rect x={bar.x} y={key.empty} width={bar.width} height={10} fill={EMPTY_COLOR} className="legend-empty" />
      <text x={labelX} y={key.empty + 9}>
        empty
      </text>
      <g className="legend-missing">
        <rect x={bar.x} y={key.missing} width={bar.width} height={10} fill={`url(#${HATCH_ID})`} stroke="#8b949e" strokeWidth={0.5} />
        <text x={labelX} y={key.missing + 9}>
          {MISSING_LABEL}
        </text>
      </g>
      {percentiles &&
        PERCENTILES.map(({ key: percentile }, k) => (
          <g key={percentile} transform={`translate(${bar.x} ${key.line(k)})`}>
            <line x2={14} y1={-4} y2={-4} stroke={PERCENTILE_COLORS[percentile]} strokeWidth={2} />
            <text x={18}>{percentile}</text>
          </g>
        ))}
    </g>
  );
});

/** The CSS x extent of a run of seqs on a time scale, beyond the plot where the run is. */
function runSpanCss(xMap: ReturnType<typeof timeMap>, intervalMs: number, [first, last]: readonly [number, number]): { x0: number; x1: number } {
  return { x0: mapTo(xMap, first * intervalMs), x1: mapTo(xMap, (last + 1) * intervalMs) };
}

/** The CSS x extent of a run of seqs in the plot as the frame shows it, clipped to the plot. */
function runExtentCss(frame: FrameData, run: readonly [number, number]): { x0: number; x1: number } {
  const { plot } = frame.layout;
  const { x0, x1 } = runSpanCss(timeMap(frame.view.fromMs, frame.view.toMs, plot), frame.intervalMs, run);
  return { x0: Math.max(plot.x, x0), x1: Math.min(plot.x + plot.width, x1) };
}

/** The offset (CSS px) from where the frame puts a time to where the placed time scale does: the way back of the layers' shift. */
function placedShiftCss(frame: FrameData, fromMs = frame.view.fromMs): number {
  return -layerShiftCss(frame, fromMs);
}

/** The hatching of unknown time (the bands' and the legend's key), in user space: it moves with a band moved. */
function HatchPattern() {
  return (
    <pattern id={HATCH_ID} width={6} height={6} patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <line y2={6} stroke={MISSING_HATCH_COLOR} strokeWidth={2} />
    </pattern>
  );
}

/** The hatching and the plot's clips: rendered again only when the plot moves (the layout is one object while its size stays). */
const PlotDefs = memo(function PlotDefs({ plot }: { plot: RectCss }) {
  return (
    <defs>
      <HatchPattern />
      <clipPath id={PLOT_CLIP_ID}>
        <rect x={plot.x} y={plot.y} width={plot.width} height={plot.height} />
      </clipPath>
      {/* the marks, moved by the model between renders, stay off the axes when their cell scrolls out */}
      <clipPath id={MARKS_CLIP_ID}>
        <rect x={plot.x - MARK_MARGIN_CSS} y={plot.y - MARK_MARGIN_CSS} width={plot.width + 2 * MARK_MARGIN_CSS} height={plot.height + 2 * MARK_MARGIN_CSS} />
      </clipPath>
    </defs>
  );
});

/** Hatched bands where the range has no columns: unknown time, never drawn as idle (the hover text says why). On the placed time scale. */
function MissingBands({ frame }: { frame: FrameData }) {
  const { plot } = frame.layout;
  const xMap = placedTimeMap(frame);
  return frame.missing.map((run) => {
    const { x0, x1 } = runSpanCss(xMap, frame.intervalMs, run);
    // keyed by its end: the start of a band cut by the view's left edge moves with every column,
    // and is not rendered for (overlayKeyOf), so its data-missing names the edge, not a seq
    const first = cutByLeftEdge(frame, run) ? 'edge' : run[0];
    return x1 > x0 ? <rect key={run[1]} x={x0} y={plot.y} width={x1 - x0} height={plot.height} fill={`url(#${HATCH_ID})`} data-missing={`${first}-${run[1]}`} /> : null;
  });
}

function MissingTooltip({ snapshot, frame, hover }: { snapshot: Snapshot; frame: FrameData; hover: MissingHover }) {
  const [first, last] = hover.run;
  const fromMs = Math.max(frame.view.fromMs, first * frame.intervalMs);
  const toMs = Math.min(frame.view.toMs, (last + 1) * frame.intervalMs);
  const offset = frame.view.utcOffsetMin;
  const reason = missingReason(hover.run, { serverOldestSeq: snapshot.meta?.oldestSeq ?? null, newestSeq: snapshot.newestSeq, ended: snapshot.ended });
  return (
    <div className="tooltip" role="tooltip" style={tooltipPlacement(frame, hover)}>
      <div>
        <strong>{MISSING_LABEL}</strong> {formatClock(fromMs, offset, frame.intervalMs)} – {formatClock(toMs, offset, frame.intervalMs)} ({formatSpan(toMs - fromMs)})
      </div>
      <div>{reason}</div>
    </div>
  );
}

/** Beside the pointer, flipped to its left near the right edge. */
function tooltipPlacement(frame: FrameData, hover: Hover): { left?: number; right?: number; top: number } {
  const flip = hover.xCss > frame.layout.widthCss - 240;
  return flip ? { right: frame.layout.widthCss - hover.xCss + 14, top: hover.yCss + 14 } : { left: hover.xCss + 14, top: hover.yCss + 14 };
}

function Tooltip({ frame, hover, perSecond }: { frame: FrameData; hover: CellHover; perSecond: boolean }) {
  const count = hover.group.histogram[hover.slot]!;
  let total = 0;
  for (let slot = 0; slot < hover.group.histogram.length; slot++) total += hover.group.histogram[slot]!;
  const offset = frame.view.utcOffsetMin;
  const step = hover.group.endMs - hover.group.startMs;
  return (
    <div className="tooltip" role="tooltip" style={tooltipPlacement(frame, hover)}>
      <div>
        {formatClock(hover.group.startMs, offset, step)} – {formatClock(hover.group.endMs, offset, step)} ({formatSpan(step)})
      </div>
      <div>{formatSlotRange(frame.view.filter.metric, hover.slot)}</div>
      <div>
        <strong>{formatCount(count)}</strong> I/O{count === 1 ? '' : 's'}
        {perSecond && ` (${formatCount(count / ((hover.group.endMs - hover.group.startMs) / 1000))}/s)`}
        {total > 0 && ` · ${((100 * count) / total).toFixed(count === total ? 0 : 1)}% of the column`}
      </div>
      {frame.view.colorBy === 'time' && count > 0 && <div>{formatColorValue(frame.view, cellValue('time', count, hover.slot))} {frame.view.filter.metric === 'latency' ? 'spent' : 'moved'}</div>}
    </div>
  );
}

/** The cell an exemplar was counted in, outlined, and a dot at its own time and value inside it. */
function ExemplarMark({ frame, exemplar }: { frame: FrameData; exemplar: Exemplar }) {
  const geometry = frame.geometry;
  if (!geometry) return null;
  const metric = frame.view.filter.metric;
  const { seq, slot } = exemplarCell(exemplar, frame.intervalMs, metric);
  const rect = cellRectPx(geometry, seq, slot);
  if (!rect) return null;
  const { plot } = frame.layout;
  const x = mapTo(timeMap(frame.view.fromMs, frame.view.toMs, plot), exemplar.timeMs);
  const y = mapTo(valueMap(frame.view.yScale, frame.yRange, plot), metric === 'latency' ? exemplar.latencyNs : exemplar.bytes);
  const inside = x >= plot.x && x <= plot.x + plot.width && y >= plot.y && y <= plot.y + plot.height;
  // drawn on the placed time scale, in a layer moved with the picture (useTimeLayer)
  const shift = placedShiftCss(frame);
  return (
    <g className="exemplar-mark" data-seq={seq} data-slot={slot} aria-hidden="true">
      <rect
        x={plot.x + rect.x0 / geometry.dpr - 2 + shift}
        y={plot.y + rect.y0 / geometry.dpr - 2}
        width={(rect.x1 - rect.x0) / geometry.dpr + 4}
        height={(rect.y1 - rect.y0) / geometry.dpr + 4}
      />
      {inside && <circle cx={x + shift} cy={y} r={3} />}
    </g>
  );
}

/** What is under the pointer in a frame: a cell, a stretch of missing data, or nothing. */
function hoverAt(frame: FrameData | null, xCss: number, yCss: number): Hover | null {
  const geometry = frame?.geometry;
  if (!frame || !geometry) return null;
  const { plot } = frame.layout;
  const group = groupAtPx(geometry, Math.floor((xCss - plot.x) * geometry.dpr));
  const slot = slotAtPx(geometry, Math.floor((yCss - plot.y) * geometry.dpr));
  if (group && slot >= 0) return { kind: 'cell', fromMs: frame.view.fromMs, xCss, yCss, group, slot };
  const inPlot = yCss >= plot.y && yCss < plot.y + plot.height;
  const run = inPlot
    ? frame.missing.find((r) => {
        const { x0, x1 } = runExtentCss(frame, r);
        return xCss >= x0 && xCss < x1;
      })
    : undefined;
  return run ? { kind: 'missing', xCss, yCss, run } : null;
}

/** The same cell with the same counts, or the same missing stretch: what the hover shows has not changed. */
function sameHover(a: Hover | null, b: Hover | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === 'cell' && b.kind === 'cell') return a.slot === b.slot && a.group.startMs === b.group.startMs && a.group.endMs === b.group.endMs && a.group.histogram === b.group.histogram;
  if (a.kind === 'missing' && b.kind === 'missing') return a.run[0] === b.run[0] && a.run[1] === b.run[1];
  return false;
}

export function HeatmapPanel({ model, snapshot, highlight }: { model: AppModel; snapshot: Snapshot; highlight: Exemplar | null }) {
  const container = useRef<HTMLDivElement>(null);
  const picture = useRef<HTMLDivElement>(null);
  const brushLayer = useRef<SVGGElement>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const frame = snapshot.frame;
  countRender();
  const split = snapshot.state.display.split;

  useEffect(() => {
    model.setPicture(picture.current);
    return () => model.setPicture(null);
  }, [model]);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const measure = (): void => {
      const box = element.getBoundingClientRect();
      model.setSize(Math.floor(box.width), Math.floor(box.height), window.devicePixelRatio || 1);
    };
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    // Moving the window to a screen of another density changes the ratio, not the size.
    window.addEventListener('resize', measure);
    measure();
    return () => {
      observer.disconnect();
      window.removeEventListener('resize', measure);
    };
  }, [model]);

  useBrush(model, frame, brushLayer);

  // The pointer over the plot (null: elsewhere, or dragging a brush): the hover follows the
  // picture under it while the view scrolls, rendering only when the cell under it changes, and
  // then in the frame task that moved the picture (flushSync): a render scheduled as usual
  // comes in a later task, after the frame is painted with the last cell, moved off the pointer.
  const pointer = useRef<{ xCss: number; yCss: number } | null>(null);
  useEffect(
    () =>
      model.subscribeFrames(() => {
        const at = pointer.current;
        if (!at) return;
        const next = hoverAt(model.shownFrame, at.xCss, at.yCss);
        flushSync(() => setHover((shown) => (sameHover(shown, next) ? shown : next)));
      }),
    [model],
  );
  const marksLayer = useTimeLayer(model, frame);
  const bandsLayer = useTimeLayer(model, frame);

  const onPointerMove = (event: PointerEvent<SVGSVGElement>): void => {
    const box = event.currentTarget.getBoundingClientRect();
    pointer.current = event.buttons === 0 ? { xCss: event.clientX - box.left, yCss: event.clientY - box.top } : null;
    setHover(pointer.current && hoverAt(model.shownFrame, pointer.current.xCss, pointer.current.yCss));
  };
  const onPointerLeave = (): void => {
    pointer.current = null;
    setHover(null);
  };

  const plot = frame?.layout.plot;
  const geometry = frame?.geometry;
  const cellHover = hover?.kind === 'cell' ? hover : null;
  const hoverRow = cellHover && geometry ? slotRowPx(geometry, cellHover.slot) : null;
  return (
    <div className="heatmap" ref={container}>
      <div
        className="heatmap-picture"
        ref={picture}
        style={plot && !split ? { left: plot.x, top: plot.y, width: plot.width, height: plot.height } : { display: 'none' }}
        role="img"
        aria-label="Heat map of I/O latency over time"
      />
      {frame && split && <SplitCanvases model={model} frame={frame} />}
      {frame && split && (
        <svg className="heatmap-overlay" width={frame.layout.widthCss} height={frame.layout.heightCss}>
          <defs>
            <HatchPattern />
          </defs>
          <SplitAxes frame={frame} />
          <FrameLegend frame={frame} perSecond={false} perDevice />
          <g className="brush" ref={brushLayer} style={{ display: 'none' }} />
        </svg>
      )}
      {frame && !split && (
        <svg className="heatmap-overlay" width={frame.layout.widthCss} height={frame.layout.heightCss} onPointerMove={onPointerMove} onPointerLeave={onPointerLeave}>
          <PlotDefs plot={frame.layout.plot} />
          <g clipPath={`url(#${PLOT_CLIP_ID})`}>
            <g className="missing" aria-hidden="true" ref={bandsLayer}>
              <MissingBands frame={frame} />
            </g>
          </g>
          <Axes model={model} frame={frame} />
          <FrameLegend frame={frame} perSecond={snapshot.state.display.perSecond} perDevice={false} />
          <g clipPath={`url(#${MARKS_CLIP_ID})`}>
            <g className="time-marks" ref={marksLayer}>
              {cellHover && hoverRow && geometry && (
                <rect
                  className="hover-cell"
                  x={frame.layout.plot.x + cellHover.group.x0Px / geometry.dpr + placedShiftCss(frame, cellHover.fromMs)}
                  y={frame.layout.plot.y + hoverRow.y0 / geometry.dpr}
                  width={(cellHover.group.x1Px - cellHover.group.x0Px) / geometry.dpr}
                  height={(hoverRow.y1 - hoverRow.y0) / geometry.dpr}
                />
              )}
              {highlight && <ExemplarMark frame={frame} exemplar={highlight} />}
            </g>
          </g>
          <g className="brush" ref={brushLayer} />
        </svg>
      )}
      {frame && !split && cellHover && <Tooltip frame={frame} hover={cellHover} perSecond={snapshot.state.display.perSecond} />}
      {frame && hover?.kind === 'missing' && <MissingTooltip snapshot={snapshot} frame={frame} hover={hover} />}
      {frame && frame.columns.length === 0 && <div className="empty-note">no columns in this range{snapshot.loadingHistory ? ' yet: fetching history…' : ''}</div>}
    </div>
  );
}
