/**
 * Drawing the heat map's cells and percentile lines on a canvas: a pure function of its input,
 * no React, no DOM other than the context it is handed. Everything here is in device pixels
 * (Px) of a canvas that covers exactly the plot area.
 *
 * Cells are grouped by colour level and each level's fill is set once, so a frame costs one
 * fillRect per cell and at most COLOR_LEVELS + 1 fillStyle changes. Rect edges are rounded to
 * whole device pixels: neighbours abut without seams and every cell has its exact level colour.
 * When columns are narrower than a device pixel, k adjacent columns (aligned to multiples of k
 * in seq, so the grouping does not shimmer while scrolling) are summed into one drawn cell,
 * as a roll-up would.
 */
import { SLOTS } from '../../shared/scheme.ts';
import { slotEdges } from '../../shared/buckets.ts';
import { quantileSlot, type Column } from '../../shared/column.ts';
import {
  CLAMPED_LEVEL,
  EMPTY_COLOR,
  LEVEL_COLORS,
  PERCENTILES,
  PERCENTILE_COLORS,
  cellValue,
  colorLevel,
  colorScaleOf,
  mapTo,
  slotsIn,
  type AxisMap,
  type ColorBy,
  type ColorScale,
  type ColorScaleKind,
  type YScaleKind,
} from '../../shared/view.ts';

export interface HeatmapInput {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly dpr: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly yScale: YScaleKind;
  readonly yRange: readonly [number, number];
  /** ascending by seq; histograms[i] belongs to columns[i] */
  readonly columns: readonly Column[];
  readonly histograms: readonly ArrayLike<number>[];
  readonly colorBy: ColorBy;
  readonly colorScale: ColorScaleKind;
  readonly colorQuantile: number;
  readonly percentiles: boolean;
}

/** One drawn cell column: `size` adjacent columns summed. */
export interface DrawnGroup {
  readonly firstSeq: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly x0Px: number;
  readonly x1Px: number;
  readonly histogram: ArrayLike<number>;
  /** the slot of each percentile line, -1 when the group is empty */
  readonly percentileSlots: Readonly<Record<'p50' | 'p99' | 'max', number>>;
}

/** Where things were drawn: for hover read-outs, the legend and tests, without redrawing. */
export interface HeatmapGeometry {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly dpr: number;
  readonly colorScale: ColorScale;
  /** columns summed per drawn cell */
  readonly groupSize: number;
  readonly groups: readonly DrawnGroup[];
  /** visible slots, inclusive */
  readonly firstSlot: number;
  readonly lastSlot: number;
  /** edgePx[s]: the device-pixel row of the lower edge of slot s; edgePx[s + 1] its upper edge */
  readonly edgePx: Float64Array;
  readonly lineWidthPx: number;
  readonly cellCount: number;
}

/** The y extent of a slot's cell, at least one pixel tall, clipped to the canvas. */
export function slotRowPx(geometry: Pick<HeatmapGeometry, 'edgePx' | 'heightPx'>, slot: number): { y0: number; y1: number } {
  let y1 = Math.min(geometry.heightPx, geometry.edgePx[slot]!);
  let y0 = Math.max(0, geometry.edgePx[slot + 1]!);
  if (y1 - y0 < 1) {
    y1 = Math.max(1, Math.min(geometry.heightPx, y1));
    y0 = y1 - 1;
  }
  return { y0, y1 };
}

/** The centre row of a percentile line drawn for a slot. */
export function lineCenterPx(geometry: Pick<HeatmapGeometry, 'edgePx'>, slot: number): number {
  return Math.round((geometry.edgePx[slot]! + geometry.edgePx[slot + 1]!) / 2);
}

function groupColumns(input: HeatmapInput, xMap: AxisMap): { size: number; groups: DrawnGroup[] } {
  const { columns, histograms, intervalMs } = input;
  const pxPerColumn = (input.widthPx * intervalMs) / (input.toMs - input.fromMs);
  const size = pxPerColumn >= 1 ? 1 : Math.ceil(1 / pxPerColumn);
  const groups: DrawnGroup[] = [];
  const x = (ms: number): number => Math.round(mapTo(xMap, ms));
  let i = 0;
  while (i < columns.length) {
    const firstSeq = Math.floor(columns[i]!.seq / size) * size;
    let histogram: ArrayLike<number> = histograms[i]!;
    let j = i + 1;
    if (size > 1) {
      const sum = Float64Array.from(histogram);
      for (; j < columns.length && columns[j]!.seq < firstSeq + size; j++) {
        const h = histograms[j]!;
        for (let slot = 0; slot < SLOTS; slot++) sum[slot]! += h[slot]!;
      }
      histogram = sum;
    }
    const startMs = size > 1 ? firstSeq * intervalMs : columns[i]!.startMs;
    const endMs = size > 1 ? startMs + size * intervalMs : startMs + columns[i]!.intervalMs;
    let x0Px = Math.max(0, x(startMs));
    let x1Px = Math.min(input.widthPx, x(endMs));
    if (x1Px - x0Px < 1) {
      x1Px = Math.max(1, Math.min(input.widthPx, x1Px));
      x0Px = x1Px - 1;
    }
    const percentileSlots = { p50: quantileSlot(histogram, 0.5), p99: quantileSlot(histogram, 0.99), max: quantileSlot(histogram, 1) };
    groups.push({ firstSeq, startMs, endMs, x0Px, x1Px, histogram, percentileSlots });
    i = j;
  }
  return { size, groups };
}

export function drawHeatmap(ctx: CanvasRenderingContext2D, input: HeatmapInput): HeatmapGeometry {
  const { widthPx, heightPx } = input;
  const xMap: AxisMap = { kind: 'linear', domain: [input.fromMs, input.toMs], range: [0, widthPx] };
  const yMap: AxisMap = { kind: input.yScale, domain: [input.yRange[0], input.yRange[1]], range: [heightPx, 0] };
  const { first: firstSlot, last: lastSlot } = slotsIn(input.yRange[0], input.yRange[1]);
  const edgePx = new Float64Array(SLOTS + 1);
  for (let slot = 0; slot < SLOTS; slot++) edgePx[slot] = Math.round(mapTo(yMap, slotEdges(slot).low));
  edgePx[SLOTS] = Math.round(mapTo(yMap, slotEdges(SLOTS - 1).high));
  const { size, groups } = groupColumns(input, xMap);

  // Pass 1: the value of every visible non-empty cell, for the colour scale.
  let cellCount = 0;
  for (const g of groups) for (let slot = firstSlot; slot <= lastSlot; slot++) if (g.histogram[slot]! > 0) cellCount++;
  const values = new Float64Array(cellCount);
  const cellGroup = new Int32Array(cellCount);
  const cellSlot = new Int16Array(cellCount);
  let k = 0;
  groups.forEach((g, gi) => {
    for (let slot = firstSlot; slot <= lastSlot; slot++) {
      const count = g.histogram[slot]!;
      if (count === 0) continue;
      values[k] = cellValue(input.colorBy, count, slot);
      cellGroup[k] = gi;
      cellSlot[k] = slot;
      k++;
    }
  });
  const colorScale = colorScaleOf(values, input.colorScale, input.colorQuantile);

  // Pass 2: counting sort of the cells by colour level, then one fillStyle per level.
  const levels = new Int16Array(cellCount);
  const perLevel = new Int32Array(CLAMPED_LEVEL + 2);
  for (let c = 0; c < cellCount; c++) {
    levels[c] = colorLevel(colorScale, values[c]!);
    perLevel[levels[c]! + 1]!++;
  }
  for (let level = 1; level < perLevel.length; level++) perLevel[level]! += perLevel[level - 1]!;
  const order = new Int32Array(cellCount);
  const next = perLevel.slice();
  for (let c = 0; c < cellCount; c++) order[next[levels[c]!]!++] = c;

  ctx.fillStyle = EMPTY_COLOR;
  ctx.fillRect(0, 0, widthPx, heightPx);
  for (let level = 0; level <= CLAMPED_LEVEL; level++) {
    const begin = perLevel[level]!;
    const end = perLevel[level + 1]!;
    if (begin === end) continue;
    ctx.fillStyle = LEVEL_COLORS[level]!;
    for (let o = begin; o < end; o++) {
      const c = order[o]!;
      const g = groups[cellGroup[c]!]!;
      const { y0, y1 } = slotRowPx({ edgePx, heightPx }, cellSlot[c]!);
      ctx.fillRect(g.x0Px, y0, g.x1Px - g.x0Px, y1 - y0);
    }
  }

  const lineWidthPx = Math.max(2, Math.round(2 * input.dpr));
  if (input.percentiles) {
    const half = Math.floor(lineWidthPx / 2);
    for (const { key } of PERCENTILES) {
      ctx.fillStyle = PERCENTILE_COLORS[key];
      let previous: { y: number; seq: number } | null = null;
      for (const g of groups) {
        const slot = g.percentileSlots[key];
        if (slot < 0) {
          previous = null;
          continue;
        }
        const y = lineCenterPx({ edgePx }, slot);
        ctx.fillRect(g.x0Px, y - half, g.x1Px - g.x0Px, lineWidthPx);
        if (previous && previous.seq + size === g.firstSeq && previous.y !== y) {
          ctx.fillRect(g.x0Px - half, Math.min(previous.y, y) - half, lineWidthPx, Math.abs(previous.y - y) + lineWidthPx);
        }
        previous = { y, seq: g.firstSeq };
      }
    }
  }
  return { widthPx, heightPx, dpr: input.dpr, colorScale, groupSize: size, groups, firstSlot, lastSlot, edgePx, lineWidthPx, cellCount };
}

/** The drawn group under a device-pixel x, or null. */
export function groupAtPx(geometry: HeatmapGeometry, xPx: number): DrawnGroup | null {
  for (const g of geometry.groups) if (xPx >= g.x0Px && xPx < g.x1Px) return g;
  return null;
}

/** The slot whose drawn row holds a device-pixel y, or -1. */
export function slotAtPx(geometry: HeatmapGeometry, yPx: number): number {
  for (let slot = geometry.firstSlot; slot <= geometry.lastSlot; slot++) {
    const { y0, y1 } = slotRowPx(geometry, slot);
    if (yPx >= y0 && yPx < y1) return slot;
  }
  return -1;
}
