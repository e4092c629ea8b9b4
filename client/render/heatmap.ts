/**
 * Drawing the heat map's cells and percentile lines on a canvas: a pure function of its input,
 * no React, no DOM other than the context it is handed. Everything here is in device pixels
 * (Px) of a canvas that covers exactly the plot area.
 *
 * Cells are written as pixels into one ImageData (see HeatmapRenderer). Cell edges are whole
 * device pixels: neighbours abut without seams and every cell has its exact level colour.
 * When columns are narrower than a device pixel, k adjacent columns (aligned to multiples of k
 * in seq, so the grouping does not shimmer while scrolling) are summed into one drawn cell,
 * as a roll-up would.
 */
import { SLOTS } from '../../shared/scheme.ts';
import { slotEdges } from '../../shared/buckets.ts';
import type { Column } from '../../shared/column.ts';
import {
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

/**
 * p50, p99 and max in one pass over the histogram: the same nearest-rank rule as quantileSlot
 * (shared/column.ts; a unit test holds them equal), three times cheaper for thousands of columns.
 */
export function percentileSlotsOf(histogram: ArrayLike<number>): { p50: number; p99: number; max: number } {
  let total = 0;
  let max = -1;
  for (let slot = 0; slot < histogram.length; slot++) {
    const count = histogram[slot]!;
    if (count > 0) {
      total += count;
      max = slot;
    }
  }
  if (total === 0) return { p50: -1, p99: -1, max: -1 };
  const rank50 = Math.max(1, Math.ceil(0.5 * total));
  const rank99 = Math.max(1, Math.ceil(0.99 * total));
  let p50 = -1;
  let p99 = -1;
  let seen = 0;
  for (let slot = 0; slot <= max && p99 < 0; slot++) {
    seen += histogram[slot]!;
    if (p50 < 0 && seen >= rank50) p50 = slot;
    if (seen >= rank99) p99 = slot;
  }
  return { p50, p99, max };
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
    const percentileSlots = percentileSlotsOf(histogram);
    groups.push({ firstSeq, startMs, endMs, x0Px, x1Px, histogram, percentileSlots });
    i = j;
  }
  return { size, groups };
}

/** #rrggbb as one pixel of a Uint32Array view of ImageData (whose bytes are R, G, B, A in memory order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
export function pixelWord(hex: string): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  return LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}
const LEVEL_WORDS = Uint32Array.from(LEVEL_COLORS, pixelWord);
const EMPTY_WORD = pixelWord(EMPTY_COLOR);

/**
 * Draws into one ImageData and puts it once: a frame costs one write per device pixel of the
 * plot, whatever the number of cells (a fillRect per cell costs ~1 µs each in a software-
 * rendered browser, 50 ms for a busy hour). The pixel buffers are kept between frames.
 */
export class HeatmapRenderer {
  private image: ImageData | null = null;
  private pixels = new Uint32Array(0);

  draw(ctx: CanvasRenderingContext2D, input: HeatmapInput): HeatmapGeometry {
    const { widthPx, heightPx } = input;
    const xMap: AxisMap = { kind: 'linear', domain: [input.fromMs, input.toMs], range: [0, widthPx] };
    const yMap: AxisMap = { kind: input.yScale, domain: [input.yRange[0], input.yRange[1]], range: [heightPx, 0] };
    const { first: firstSlot, last: lastSlot } = slotsIn(input.yRange[0], input.yRange[1]);
    const edgePx = new Float64Array(SLOTS + 1);
    for (let slot = 0; slot < SLOTS; slot++) edgePx[slot] = Math.round(mapTo(yMap, slotEdges(slot).low));
    edgePx[SLOTS] = Math.round(mapTo(yMap, slotEdges(SLOTS - 1).high));
    const { size, groups } = groupColumns(input, xMap);

    // The value of every visible non-empty cell, for the colour scale.
    let cellCount = 0;
    for (const g of groups) for (let slot = firstSlot; slot <= lastSlot; slot++) if (g.histogram[slot]! > 0) cellCount++;
    const values = new Float64Array(cellCount);
    let k = 0;
    for (const g of groups) {
      for (let slot = firstSlot; slot <= lastSlot; slot++) {
        const count = g.histogram[slot]!;
        if (count > 0) values[k++] = cellValue(input.colorBy, count, slot);
      }
    }
    const colorScale = colorScaleOf(values, input.colorScale, input.colorQuantile);

    if (!this.image || this.image.width !== widthPx || this.image.height !== heightPx) {
      this.image = ctx.createImageData(widthPx, heightPx);
      this.pixels = new Uint32Array(this.image.data.buffer);
    }
    const pixels = this.pixels;
    pixels.fill(EMPTY_WORD);
    // Cells in ascending slot order, so that where one-pixel rows overlap (a linear axis) the higher slot shows.
    k = 0;
    for (const g of groups) {
      const x0 = g.x0Px;
      const x1 = g.x1Px;
      for (let slot = firstSlot; slot <= lastSlot; slot++) {
        if (g.histogram[slot]! === 0) continue;
        const word = LEVEL_WORDS[colorLevel(colorScale, values[k++]!)]!;
        const { y0, y1 } = slotRowPx({ edgePx, heightPx }, slot);
        for (let y = y0; y < y1; y++) {
          const row = y * widthPx;
          for (let x = x0; x < x1; x++) pixels[row + x] = word;
        }
      }
    }

    const lineWidthPx = Math.max(2, Math.round(2 * input.dpr));
    if (input.percentiles) {
      const half = Math.floor(lineWidthPx / 2);
      // Lines are a few pixels wide: plain stores beat a fill() call per row.
      const rect = (x0: number, y0: number, x1: number, y1: number, word: number): void => {
        const left = Math.max(0, x0);
        const right = Math.min(widthPx, x1);
        for (let y = Math.max(0, y0); y < Math.min(heightPx, y1); y++) {
          const row = y * widthPx;
          for (let x = left; x < right; x++) pixels[row + x] = word;
        }
      };
      for (const { key } of PERCENTILES) {
        const word = pixelWord(PERCENTILE_COLORS[key]);
        let previous: { y: number; seq: number } | null = null;
        for (const g of groups) {
          const slot = g.percentileSlots[key];
          if (slot < 0) {
            previous = null;
            continue;
          }
          const y = lineCenterPx({ edgePx }, slot);
          rect(g.x0Px, y - half, g.x1Px, y - half + lineWidthPx, word);
          if (previous && previous.seq + size === g.firstSeq && previous.y !== y) {
            rect(g.x0Px - half, Math.min(previous.y, y) - half, g.x0Px - half + lineWidthPx, Math.max(previous.y, y) - half + lineWidthPx, word);
          }
          previous = { y, seq: g.firstSeq };
        }
      }
    }
    ctx.putImageData(this.image, 0, 0);
    return { widthPx, heightPx, dpr: input.dpr, colorScale, groupSize: size, groups, firstSlot, lastSlot, edgePx, lineWidthPx, cellCount };
  }
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

/** The device-pixel rectangle of the drawn cell holding (seq, slot), or null when it is not drawn. */
export function cellRectPx(geometry: HeatmapGeometry, seq: number, slot: number): { x0: number; y0: number; x1: number; y1: number } | null {
  if (slot < geometry.firstSlot || slot > geometry.lastSlot) return null;
  const firstSeq = Math.floor(seq / geometry.groupSize) * geometry.groupSize;
  const group = geometry.groups.find((g) => g.firstSeq === firstSeq);
  if (!group) return null;
  const { y0, y1 } = slotRowPx(geometry, slot);
  return { x0: group.x0Px, y0, x1: group.x1Px, y1 };
}
