import { describe, expect, it } from 'vitest';
import { slotOf } from '../../shared/buckets.ts';
import { SLOTS } from '../../shared/scheme.ts';
import type { Column } from '../../shared/column.ts';
import { CLAMPED_COLOR, EMPTY_COLOR, LEVEL_COLORS, PERCENTILE_COLORS } from '../../shared/view.ts';
import { drawHeatmap, groupAtPx, slotAtPx, slotRowPx, type HeatmapInput } from './heatmap.ts';

/** A canvas context that records fills: enough to check what was drawn where, in which colour. */
function recorder() {
  const fills: { color: string; x: number; y: number; w: number; h: number }[] = [];
  let styleChanges = 0;
  let fillStyle = '';
  const ctx = {
    get fillStyle() {
      return fillStyle;
    },
    set fillStyle(value: string) {
      styleChanges++;
      fillStyle = value;
    },
    fillRect(x: number, y: number, w: number, h: number) {
      fills.push({ color: fillStyle, x, y, w, h });
    },
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, fills, styleChanges: () => styleChanges };
}

function input(columns: Column[], change: Partial<HeatmapInput> = {}): HeatmapInput {
  const histograms = columns.map((c) => {
    const h = new Float64Array(SLOTS);
    for (const s of c.series) s.slots.forEach((slot, k) => (h[slot]! += s.counts[k]!));
    return h;
  });
  return {
    widthPx: 400,
    heightPx: 300,
    dpr: 1,
    fromMs: 0,
    toMs: 4000,
    intervalMs: 1000,
    yScale: 'log',
    yRange: [1000, 1e9],
    columns,
    histograms,
    colorBy: 'count',
    colorScale: 'linear',
    colorQuantile: 1,
    percentiles: false,
    ...change,
  };
}

const FAST = slotOf(20_000);
const SLOW = slotOf(50_000_000);
const col = (seq: number, fast: number, slow: number): Column => ({
  seq,
  startMs: seq * 1000,
  intervalMs: 1000,
  series: [{ metric: 'latency', device: 0, op: 'read', slots: [FAST, SLOW].filter((_, k) => [fast, slow][k]! > 0), counts: [fast, slow].filter((n) => n > 0) }],
});

describe('drawHeatmap', () => {
  it('paints the background, then one rect per non-empty cell in its level colour, whole pixels', () => {
    const { ctx, fills } = recorder();
    const geometry = drawHeatmap(ctx, input([col(0, 10, 1), col(2, 5, 0)]));
    expect(fills[0]).toEqual({ color: EMPTY_COLOR, x: 0, y: 0, w: 400, h: 300 });
    const cells = fills.slice(1);
    expect(cells).toHaveLength(3);
    for (const f of cells) for (const v of [f.x, f.y, f.w, f.h]) expect(Number.isInteger(v)).toBe(true);
    const at = (x: number, slot: number) => cells.find((f) => f.x === x && f.y === slotRowPx(geometry, slot).y0)!;
    expect(at(0, FAST).color).toBe(LEVEL_COLORS[255]);
    expect(at(200, FAST).color).toBe(LEVEL_COLORS[Math.round(0.5 * 255)]);
    expect(at(0, SLOW).color).toBe(LEVEL_COLORS[Math.round(0.1 * 255)]);
    expect(at(0, FAST).w).toBe(100);
  });

  it('sets each fill colour once, however many cells share it', () => {
    const { ctx, styleChanges } = recorder();
    const columns = Array.from({ length: 100 }, (_, i) => col(i, 7, 7));
    drawHeatmap(ctx, input(columns, { toMs: 100_000 }));
    expect(styleChanges()).toBe(2);
  });

  it('clamps cells above the percentile maximum', () => {
    const { ctx, fills } = recorder();
    const columns = [...Array.from({ length: 99 }, (_, i) => col(i, 1, 0)), col(99, 1000, 0)];
    const geometry = drawHeatmap(ctx, input(columns, { toMs: 100_000, colorQuantile: 0.99 }));
    expect(geometry.colorScale.max).toBe(1);
    expect(fills.filter((f) => f.color === CLAMPED_COLOR)).toHaveLength(1);
  });

  it('sums columns narrower than a pixel into aligned groups', () => {
    const { ctx } = recorder();
    const columns = Array.from({ length: 1000 }, (_, i) => col(i, 1, 0));
    const geometry = drawHeatmap(ctx, input(columns, { toMs: 1_000_000, widthPx: 300 }));
    expect(geometry.groupSize).toBe(4);
    expect(geometry.groups[0]!.histogram[FAST]).toBe(4);
    expect(geometry.groups.every((g) => g.firstSeq % 4 === 0)).toBe(true);
  });

  it('draws percentile lines through the centre of their bucket, and finds cells back from pixels', () => {
    const { ctx, fills } = recorder();
    const geometry = drawHeatmap(ctx, input([col(1, 60, 40)], { percentiles: true }));
    const lines = fills.filter((f) => Object.values(PERCENTILE_COLORS).includes(f.color as never));
    expect(lines.map((f) => f.color)).toEqual([PERCENTILE_COLORS.p50, PERCENTILE_COLORS.p99, PERCENTILE_COLORS.max]);
    const p50 = lines[0]!;
    const row = slotRowPx(geometry, FAST);
    expect(p50.y + p50.h / 2).toBeGreaterThanOrEqual(row.y0);
    expect(p50.y + p50.h / 2).toBeLessThanOrEqual(row.y1);
    expect(slotAtPx(geometry, Math.floor((row.y0 + row.y1) / 2))).toBe(FAST);
    expect(groupAtPx(geometry, 150)?.firstSeq).toBe(1);
    expect(groupAtPx(geometry, 50)).toBeNull();
  });
});
