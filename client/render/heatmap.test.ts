import { describe, expect, it } from 'vitest';
import { slotOf } from '../../shared/buckets.ts';
import { SLOTS } from '../../shared/scheme.ts';
import type { Column } from '../../shared/column.ts';
import { CLAMPED_COLOR, EMPTY_COLOR, LEVEL_COLORS, PERCENTILE_COLORS, mapTo, type AxisMap } from '../../shared/view.ts';
import { quantileSlot } from '../../shared/column.ts';
import { GroupCache, groupSizeOf } from '../state/rollup.ts';
import { wholePixels } from '../state/view.ts';
import { PackedColumn, seriesFilter } from '../state/packed.ts';
import { CanvasSurface, STAGED_MAX_PX, TILE_PX, TiledSurface, type Staging, type Tile, type TileMaker } from './surface.ts';
import { HeatmapRenderer, SCALE_EVERY_FRAMES, withStalePart, rowBands, sameGroupIndexes, type CellGroup, cellRectPx, drawnGroup, drawnGroupFrom, groupAtPx, lineCenterPx, groupsPerPiece, percentileLines, percentileSlotsOf, pixelOfTime, slotAtPx, slotRowPx, type DrawnGroup, type HeatmapGeometry, type HeatmapInput } from './heatmap.ts';

interface FakePixels {
  width: number;
  data: Uint8ClampedArray;
}

/** A staging canvas over its own pixels: what `put` copies is what a later drawImage from it reads. */
function fakeStaging(width: number, height: number): Staging {
  const image = { width, height, data: new Uint8ClampedArray(width * height * 4) } as unknown as ImageData;
  const source: FakePixels = { width, data: new Uint8ClampedArray(image.data.length) };
  return { image, source: source as unknown as CanvasImageSource, put: () => source.data.set(image.data) };
}

/**
 * A canvas surface over a context with just what it uses, over its own pixels: ImageData in
 * (whole or a dirty rectangle), the canvas drawn onto itself (a shift) or a staging canvas drawn
 * onto it, and any pixel readable as #rrggbb.
 */
function fakeCanvas(makeStaging: (width: number, height: number) => Staging = fakeStaging) {
  let canvas: { width: number; data: Uint8ClampedArray } | null = null;
  let puts = 0;
  const ctx = {
    canvas: {},
    createImageData(width: number, height: number) {
      return { width, height, data: new Uint8ClampedArray(width * height * 4) };
    },
    putImageData(image: { width: number; height: number; data: Uint8ClampedArray }, dx: number, dy: number, x = 0, y = 0, w = image.width, h = image.height) {
      // the canvas grows to the largest image put (a part is as tall, and narrower)
      if (!canvas || image.width > canvas.width || image.height * image.width * 4 > canvas.data.length) canvas = { width: image.width, data: new Uint8ClampedArray(image.data.length) };
      for (let row = y; row < y + h; row++) canvas.data.set(image.data.subarray((row * image.width + x) * 4, (row * image.width + x + w) * 4), ((row + dy) * canvas.width + x + dx) * 4);
      puts++;
    },
    drawImage(source: unknown, sx: number, sy: number, sw: number, sh: number, dx: number, dy: number) {
      const staged = source === ctx.canvas ? null : (source as FakePixels);
      if (staged) puts++;
      const from = staged ? staged.data : canvas!.data.slice();
      const width = staged ? staged.width : canvas!.width;
      for (let row = 0; row < sh; row++) canvas!.data.set(from.subarray(((sy + row) * width + sx) * 4, ((sy + row) * width + sx + sw) * 4), ((dy + row) * canvas!.width + dx) * 4);
    },
  };
  const pixel = (x: number, y: number): string => {
    const i = (y * canvas!.width + x) * 4;
    return `#${[0, 1, 2].map((c) => canvas!.data[i + c]!.toString(16).padStart(2, '0')).join('')}`;
  };
  return { surface: new CanvasSurface(ctx as unknown as CanvasRenderingContext2D, makeStaging), pixel, puts: () => puts, all: () => canvas!.data.slice() };
}

/** The input the model hands over: the columns summed into groups the way it sums them. */
function input(columns: Column[], change: Partial<Omit<HeatmapInput, 'groups' | 'groupSize'>> = {}): HeatmapInput {
  const base = {
    widthPx: 400,
    heightPx: 300,
    dpr: 1,
    fromMs: 0,
    toMs: 4000,
    intervalMs: 1000,
    yScale: 'log',
    yRange: [1000, 1e9],
    colorBy: 'count',
    colorScale: 'linear',
    colorQuantile: 1,
    percentiles: false,
    filterKey: 'latency',
    ...change,
  } as const;
  const groupSize = groupSizeOf(base.widthPx, base.fromMs, base.toMs, base.intervalMs);
  const toSeq = Math.ceil(base.toMs / base.intervalMs) - 1;
  const groups = new GroupCache().groups(columns.map((c) => PackedColumn.of(c)), 0, toSeq, groupSize, base.intervalMs, seriesFilter({ metric: 'latency' }), 'latency');
  return { ...base, groupSize, groups };
}

const FAST = slotOf(20_000);
const SLOW = slotOf(50_000_000);
const col = (seq: number, fast: number, slow: number): Column => ({
  seq,
  startMs: seq * 1000,
  intervalMs: 1000,
  series: [{ metric: 'latency', device: 0, op: 'read', slots: [FAST, SLOW].filter((_, k) => [fast, slow][k]! > 0), counts: [fast, slow].filter((n) => n > 0) }],
});

describe('HeatmapRenderer', () => {
  it('paints each non-empty cell in its level colour over whole pixels, and the rest empty', () => {
    const { surface, pixel, puts } = fakeCanvas();
    const geometry = new HeatmapRenderer().draw(surface, input([col(0, 10, 1), col(2, 5, 0)]));
    expect(puts()).toBe(1);
    const centre = (x0: number, slot: number) => {
      const { y0, y1 } = slotRowPx(geometry, slot);
      return pixel(x0 + 50, Math.floor((y0 + y1) / 2));
    };
    expect(centre(0, FAST)).toBe(LEVEL_COLORS[255]);
    expect(centre(200, FAST)).toBe(LEVEL_COLORS[Math.round(0.5 * 255)]);
    expect(centre(0, SLOW)).toBe(LEVEL_COLORS[Math.round(0.1 * 255)]);
    expect(centre(100, FAST)).toBe(EMPTY_COLOR);
    expect(centre(300, FAST)).toBe(EMPTY_COLOR);
    expect(centre(0, FAST + 3)).toBe(EMPTY_COLOR);
    // the column's edges are exact: pixel 99 is column 0, pixel 100 is the empty column 1
    const y = Math.floor((slotRowPx(geometry, FAST).y0 + slotRowPx(geometry, FAST).y1) / 2);
    expect(pixel(99, y)).toBe(LEVEL_COLORS[255]);
    expect(pixel(100, y)).toBe(EMPTY_COLOR);
    expect(geometry.cellCount).toBe(3);
  });

  it('clamps cells above the percentile maximum', () => {
    const { surface, pixel } = fakeCanvas();
    const columns = [...Array.from({ length: 99 }, (_, i) => col(i, 1, 0)), col(99, 1000, 0)];
    const geometry = new HeatmapRenderer().draw(surface, input(columns, { toMs: 100_000, colorQuantile: 0.99 }));
    expect(geometry.colorScale.max).toBe(1);
    const { y0, y1 } = slotRowPx(geometry, FAST);
    const y = Math.floor((y0 + y1) / 2);
    expect(pixel(Math.floor((geometry.x0Px[99]! + geometry.x1Px[99]!) / 2), y)).toBe(CLAMPED_COLOR);
    expect(pixel(Math.floor((geometry.x0Px[0]! + geometry.x1Px[0]!) / 2), y)).toBe(LEVEL_COLORS[255]);
  });

  it('sums columns narrower than a pixel into aligned groups', () => {
    const { surface } = fakeCanvas();
    const columns = Array.from({ length: 1000 }, (_, i) => col(i, 1, 0));
    const geometry = new HeatmapRenderer().draw(surface, input(columns, { toMs: 1_000_000, widthPx: 300 }));
    expect(geometry.groupSize).toBe(4);
    expect(geometry.groups[0]!.histogram[FAST]).toBe(4);
    expect(geometry.groups.every((g) => g.firstSeq % 4 === 0)).toBe(true);
  });

  it('draws percentile lines through the centre of their bucket, and finds cells back from pixels', () => {
    const { surface, pixel } = fakeCanvas();
    // 60 fast and 40 slow: p50 is fast, p99 and max are slow (max drawn last, on top)
    const geometry = new HeatmapRenderer().draw(surface, input([col(1, 60, 40)], { percentiles: true }));
    const g = drawnGroup(geometry, 0);
    const x = Math.floor((g.x0Px + g.x1Px) / 2);
    expect(g.percentileSlots).toEqual({ p50: FAST, p99: SLOW, max: SLOW });
    expect(pixel(x, lineCenterPx(geometry, FAST))).toBe(PERCENTILE_COLORS.p50);
    expect(pixel(x, lineCenterPx(geometry, SLOW))).toBe(PERCENTILE_COLORS.max);
    const row = slotRowPx(geometry, FAST);
    expect(lineCenterPx(geometry, FAST)).toBeGreaterThanOrEqual(row.y0);
    expect(lineCenterPx(geometry, FAST)).toBeLessThanOrEqual(row.y1);
    expect(slotAtPx(geometry, Math.floor((row.y0 + row.y1) / 2))).toBe(FAST);
    expect(groupAtPx(geometry, 150)?.firstSeq).toBe(1);
    expect(groupAtPx(geometry, 50)).toBeNull();
  });

  it('gives the drawn rectangle of a cell, its group’s for a summed column, nothing off the picture', () => {
    const { surface } = fakeCanvas();
    const one = new HeatmapRenderer().draw(surface, input([col(1, 1, 0)]));
    expect(cellRectPx(one, 1, FAST)).toEqual({ x0: 100, x1: 200, ...slotRowPx(one, FAST) });
    expect(cellRectPx(one, 0, FAST), 'a column not drawn').toBeNull();
    expect(cellRectPx(one, 1, slotOf(10)), 'a bucket below the y range').toBeNull();
    const columns = Array.from({ length: 1000 }, (_, i) => col(i, 1, 0));
    const grouped = new HeatmapRenderer().draw(surface, input(columns, { toMs: 1_000_000, widthPx: 300 }));
    const group = drawnGroupFrom(grouped, 8)!;
    expect(cellRectPx(grouped, 11, FAST)).toMatchObject({ x0: group.x0Px, x1: group.x1Px });
  });
});

describe('groupAtPx, drawnGroupFrom and cellRectPx at the edges', () => {
  // columns 0, 1 and 3 of four, 100 px each: a gap over 200..300
  const gapped = () => new HeatmapRenderer().draw(fakeCanvas().surface, input([col(0, 1, 0), col(1, 1, 0), col(3, 1, 0)]));

  it.each([
    [0, 0],
    [99, 0],
    [100, 1],
    [199, 1],
    [200, null],
    [299, null],
    [300, 3],
    [399, 3],
    [400, null],
    [-1, null],
  ])('finds at x = %i px the group from seq %s (a group holds its x0Px, not its x1Px; none in a gap or off the picture)', (xPx, firstSeq) => {
    expect(groupAtPx(gapped(), xPx)?.firstSeq ?? null).toBe(firstSeq);
  });

  it('finds a group by its first seq only, and no cell in a gap', () => {
    const geometry = gapped();
    expect(drawnGroupFrom(geometry, 3)).toMatchObject({ firstSeq: 3, x0Px: 300, x1Px: 400 });
    for (const seq of [-1, 2, 4]) expect(drawnGroupFrom(geometry, seq), `seq ${seq}`).toBeNull();
    expect(cellRectPx(geometry, 2, FAST), 'a column in the gap').toBeNull();
    expect(cellRectPx(geometry, 3, FAST)).toMatchObject({ x0: 300, x1: 400 });
  });

  it('keeps a group the right edge squeezes to less than a pixel one pixel wide, at the edge', () => {
    // the view ends 1 ms into column 3: it would be 0.13 px wide
    const geometry = new HeatmapRenderer().draw(fakeCanvas().surface, input([col(0, 1, 0), col(1, 1, 0), col(3, 1, 0)], { toMs: 3001 }));
    expect(drawnGroupFrom(geometry, 3)).toMatchObject({ x0Px: 399, x1Px: 400 });
    expect(groupAtPx(geometry, 399)?.firstSeq).toBe(3);
    expect(groupAtPx(geometry, 398)).toBeNull();
    expect(groupAtPx(geometry, 400)).toBeNull();
  });
});

describe('pixelOfTime', () => {
  const widthPx = 1400;
  const spanMs = 3_600_000;
  const perMs = widthPx / spanMs;
  /** A 1-h view starting on device pixel startPx (times since the epoch), its map, and the pixels of 3-s group edges in it. */
  const viewAt = (startPx: number) => {
    const fromMs = startPx / perMs;
    const input = { fromMs, toMs: fromMs + spanMs, widthPx };
    const xMap: AxisMap = { kind: 'linear', domain: [input.fromMs, input.toMs], range: [0, widthPx] };
    return { input, xMap, x: pixelOfTime(input, xMap) };
  };
  // an epoch-sized start (2025-10-09): its pixel is ~6.8e8, where a start's float error is ~1e-7 px
  const startPx = Math.round(1.76e12 * perMs);
  const edgesMs = Array.from({ length: 1201 }, (_, k) => Math.ceil(startPx / perMs / 3000) * 3000 + k * 3000);

  it.each([1, 2, 7, 333])('moves every edge, those on half pixels included, by exactly n when the start moves by n whole pixels (n = %i)', (n) => {
    const { x } = viewAt(startPx);
    const shifted = viewAt(startPx + n).x;
    const halfPixelEdges = edgesMs.filter((ms) => Math.abs((ms * perMs) % 1 - 0.5) < 1e-6);
    expect(halfPixelEdges.length, 'the 7/6-px groups put every sixth edge on a half pixel').toBeGreaterThan(100);
    for (const ms of edgesMs) expect(shifted(ms), `the edge at ${ms}`).toBe(x(ms) - n);
  });

  it('agrees with the rounded map away from half pixels', () => {
    const { xMap, x } = viewAt(startPx);
    const awayFromHalf = edgesMs.filter((ms) => Math.abs((mapTo(xMap, ms) % 1) - 0.5) > 1e-3);
    expect(awayFromHalf.length).toBeGreaterThan(900);
    for (const ms of awayFromHalf) expect(x(ms), `the edge at ${ms}`).toBe(Math.round(mapTo(xMap, ms)));
  });

  it('falls back to the rounded map for a start off the pixel grid', () => {
    const { input, xMap } = viewAt(startPx + 0.3);
    const x = pixelOfTime(input, xMap);
    for (const ms of edgesMs) expect(x(ms), `the edge at ${ms}`).toBe(Math.round(mapTo(xMap, ms)));
  });

  it.each([
    ['the start', 0, 0],
    ['the end', spanMs, widthPx],
    ['the middle', spanMs / 2, widthPx / 2],
  ])('places %s of a view on a whole pixel at its pixel', (_what, offsetMs, px) => {
    const { input, x } = viewAt(startPx);
    expect(x(input.fromMs + offsetMs)).toBe(px);
  });
});

describe('percentileLines', () => {
  /** A drawn group of one column one pixel wide at x = seq, its histogram one count per listed slot. */
  const group = (seq: number, slots: number[]): DrawnGroup => {
    const histogram = new Float64Array(SLOTS);
    for (const slot of slots) histogram[slot]! += 1;
    return { firstSeq: seq, startMs: seq * 1000, endMs: seq * 1000 + 1000, histogram, percentileSlots: percentileSlotsOf(histogram), x0Px: seq, x1Px: seq + 1 };
  };
  const cases: [string, DrawnGroup[], number, Record<'p50' | 'p99' | 'max', [number, number, number, boolean][]>][] = [
    [
      'wide groups: one piece each, joined',
      [{ ...group(0, [10, 20]), x1Px: 10 }, { ...group(1, [12]), x0Px: 10, x1Px: 20 }],
      1,
      { p50: [[0, 10, 10, false], [10, 20, 12, true]], p99: [[0, 10, 20, false], [10, 20, 12, true]], max: [[0, 10, 20, false], [10, 20, 12, true]] },
    ],
    [
      'one-pixel groups summed into pieces aligned to seqs: a max that jumps in every column is the max of each piece',
      Array.from({ length: 8 }, (_, seq) => group(seq, seq % 2 === 0 ? [10, 10, 10] : [10, 10, 30])),
      4,
      { p50: [[0, 4, 10, false], [4, 8, 10, true]], p99: [[0, 4, 30, false], [4, 8, 30, true]], max: [[0, 4, 30, false], [4, 8, 30, true]] },
    ],
    [
      'a gap in the data ends a piece and is not joined across; a piece may start mid-way (the view starts there)',
      [group(1, [10]), group(2, [11]), group(5, [12]), group(6, [12])],
      4,
      { p50: [[1, 3, 10, false], [5, 7, 12, false]], p99: [[1, 3, 11, false], [5, 7, 12, false]], max: [[1, 3, 11, false], [5, 7, 12, false]] },
    ],
    ['an empty group has no line, and the line goes on after it', [group(0, [10]), group(1, []), group(2, [10])], 1, { p50: [[0, 1, 10, false], [2, 3, 10, true]], p99: [[0, 1, 10, false], [2, 3, 10, true]], max: [[0, 1, 10, false], [2, 3, 10, true]] }],
  ];
  it.each(cases)('%s', (_name, groups, perPiece, expected) => {
    const { lines } = percentileLines({ groups, x0Px: Int32Array.from(groups, (g) => g.x0Px), x1Px: Int32Array.from(groups, (g) => g.x1Px), firstSeqs: Float64Array.from(groups, (g) => g.firstSeq) }, 1, perPiece);
    for (const key of ['p50', 'p99', 'max'] as const) {
      expect(lines[key].map((s) => [s.x0Px, s.x1Px, s.slot, s.joined]), key).toEqual(expected[key]);
    }
  });

  /** The groups placed at their pixels moved by dx and widened by `scale` about x = 0. */
  const placedAt = (list: DrawnGroup[], dx: number, scale = 1) => ({ groups: list, x0Px: Int32Array.from(list, (g) => g.x0Px * scale + dx), x1Px: Int32Array.from(list, (g) => g.x1Px * scale + dx), firstSeqs: Float64Array.from(list, (g) => g.firstSeq) });

  it('keep the last frame\'s pieces and segments that are drawn the same, and equal the lines taken afresh', () => {
    const groups = Array.from({ length: 12 }, (_, seq) => group(seq, seq % 3 === 0 ? [10, 20, 20] : [10, 12]));
    const first = percentileLines(placedAt(groups, 0), 1, 4);
    const still = percentileLines(placedAt(groups, 0), 1, 4, first.pieces);
    expect(still.lines).toEqual(first.lines);
    for (const key of ['p50', 'p99', 'max'] as const) still.lines[key].forEach((segment, i) => expect(segment).toBe(first.lines[key][i]));
    expect(still.pieces.taken).toEqual(first.pieces.taken);
    still.pieces.taken.forEach((taken, i) => expect(taken).toBe(first.pieces.taken[i]));
    // moved by a pixel: the same percentiles, new segments where they are drawn now
    const moved = percentileLines(placedAt(groups, -1), 1, 4, first.pieces);
    expect(moved.lines).toEqual(percentileLines(placedAt(groups, -1), 1, 4).lines);
    expect(moved.lines.max[0]).not.toBe(first.lines.max[0]);
    moved.pieces.taken.forEach((taken, i) => expect(taken).toBe(first.pieces.taken[i]));
    // the newest group changed (a column came in): its piece is taken again, the others kept
    const newer = [...groups.slice(0, 11), group(11, [30])];
    const changed = percentileLines(placedAt(newer, 0), 1, 4, first.pieces);
    expect(changed.lines).toEqual(percentileLines(placedAt(newer, 0), 1, 4).lines);
    expect(changed.lines.max[2]!.slot).toBe(30);
    expect(changed.lines.max[1]).toBe(first.lines.max[1]);
    expect([...changed.pieces.x0Px]).toEqual([0, 4, 8]);
    expect([...changed.pieces.x1Px]).toEqual([4, 8, 12]);
  });

  it('make a kept piece\'s segments again when its join to the piece before changes, though it is drawn where it was', () => {
    const groups = Array.from({ length: 12 }, (_, seq) => group(seq, seq % 3 === 0 ? [10, 20, 20] : [10, 12]));
    const first = percentileLines(placedAt(groups, 0), 1, 4);
    // the group at seq 3 evicted: the piece 4..7 is the same groups at the same pixels, but a gap now comes before it
    const evicted = groups.filter((g) => g.firstSeq !== 3);
    const gapped = percentileLines(placedAt(evicted, 0), 1, 4, first.pieces);
    expect(gapped.lines).toEqual(percentileLines(placedAt(evicted, 0), 1, 4).lines);
    expect(gapped.pieces.taken[1]).toBe(first.pieces.taken[1]);
    for (const key of ['p50', 'p99', 'max'] as const) {
      expect(gapped.lines[key][1]!.joined, key).toBe(false);
      expect(gapped.lines[key][1], key).not.toBe(first.lines[key][1]);
    }
    // seq 3 back (late history): joined again
    const filled = percentileLines(placedAt(groups, 0), 1, 4, gapped.pieces);
    expect(filled.lines).toEqual(first.lines);
    for (const key of ['p50', 'p99', 'max'] as const) {
      expect(filled.lines[key][1]!.joined, key).toBe(true);
      expect(filled.lines[key][1], key).not.toBe(gapped.lines[key][1]);
    }
  });

  it('make a kept piece\'s segments again when only its right edge moved (a zoom about the left edge)', () => {
    const groups = Array.from({ length: 12 }, (_, seq) => group(seq, seq % 3 === 0 ? [10, 20, 20] : [10, 12]));
    const first = percentileLines(placedAt(groups, 0), 1, 1);
    const zoomed = percentileLines(placedAt(groups, 0, 2), 1, 1, first.pieces);
    expect(zoomed.lines).toEqual(percentileLines(placedAt(groups, 0, 2), 1, 1).lines);
    expect([zoomed.pieces.x0Px[0], zoomed.pieces.x1Px[0]]).toEqual([0, 2]);
    for (const key of ['p50', 'p99', 'max'] as const) {
      expect(zoomed.lines[key][0]!.x1Px, key).toBe(2);
      expect(zoomed.lines[key][0], key).not.toBe(first.lines[key][0]);
    }
  });

  it('leave the cells between the lines visible when the max jumps in every one-pixel column', () => {
    const { surface, pixel } = fakeCanvas();
    const MID = slotOf(1_000_000);
    // 400 columns in 400 px: every column has fast I/Os and one in the middle, every other one two slow
    // outliers, so column by column the max (and the p99) jumps between the middle and the slow row
    const columns = Array.from({ length: 400 }, (_, i) => ({ ...col(i, 50, 0), series: [{ metric: 'latency' as const, device: 0, op: 'read' as const, slots: i % 2 ? [FAST, MID, SLOW] : [FAST, MID], counts: i % 2 ? [50, 1, 2] : [50, 1] }] }));
    const geometry = new HeatmapRenderer().draw(surface, input(columns, { toMs: 400_000, percentiles: true }));
    expect(geometry.groupSize).toBe(1);
    const { y0, y1 } = slotRowPx(geometry, MID);
    const y = Math.floor((y0 + y1) / 2);
    const lineColours = new Set<string>(Object.values(PERCENTILE_COLORS));
    const covered = Array.from({ length: 400 }, (_, x) => pixel(x, y)).filter((c) => lineColours.has(c)).length;
    // pieces of 8 columns: the line holds the slow row, so at most the thin connectors cross the middle row
    expect(covered).toBeLessThanOrEqual(400 / 8);
    expect(geometry.lines.max.every((s) => s.slot === SLOW)).toBe(true);
  });

  it('leave the plot where the bucket of a line is off the y range instead of running to its edge', () => {
    const { surface, pixel } = fakeCanvas();
    // zoomed to the slow band: column 1 has its max there, column 2 only fast I/Os, below the axis
    const geometry = new HeatmapRenderer().draw(surface, input([col(1, 60, 40), col(2, 60, 0)], { percentiles: true, yRange: [1_000_000, 1e9] }));
    expect(pixel(150, lineCenterPx(geometry, SLOW))).toBe(PERCENTILE_COLORS.max);
    const maxColumn = Array.from({ length: geometry.heightPx }, (_, y) => pixel(200, y));
    expect(maxColumn.filter((c) => c === PERCENTILE_COLORS.max)).toEqual([]);
    expect(pixel(250, geometry.heightPx - 1)).toBe(EMPTY_COLOR);
  });
});

describe('percentileSlotsOf', () => {
  it('agrees with quantileSlot on random histograms and on edges', () => {
    let seed = 3;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const cases: Float64Array[] = [new Float64Array(SLOTS), Float64Array.from({ length: SLOTS }, (_, s) => (s === 7 ? 1 : 0))];
    for (let trial = 0; trial < 200; trial++) {
      const h = new Float64Array(SLOTS);
      for (let k = Math.floor(random() * 20); k > 0; k--) h[Math.floor(random() * SLOTS)]! += 1 + Math.floor(random() * (random() < 0.1 ? 1000 : 5));
      cases.push(h);
    }
    for (const h of cases) expect(percentileSlotsOf(h)).toEqual({ p50: quantileSlot(h, 0.5), p99: quantileSlot(h, 0.99), max: quantileSlot(h, 1) });
  });
});

describe('HeatmapRenderer pixels', () => {
  it('equal painting every cell in ascending slot order (the plain way), on log and linear axes, across frames', () => {
    let seed = 11;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const renderer = new HeatmapRenderer();
    const { surface, pixel } = fakeCanvas();
    let columns: Column[] = [];
    for (let frame = 0; frame < 6; frame++) {
      // a new column per frame, as a live view scrolls; some seqs missing
      columns = Array.from({ length: 150 }, (_, i) => i + frame)
        .filter(() => random() < 0.9)
        .map((seq) => {
          const slots = [...new Set(Array.from({ length: 1 + Math.floor(random() * 8) }, () => 60 + Math.floor(random() * 200)))].sort((a, b) => a - b);
          return { seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots, counts: slots.map(() => 1 + Math.floor(random() * 50)) }] };
        });
      const yScale = frame % 2 === 0 ? 'log' : 'linear';
      const drawn = input(columns, { widthPx: 100, heightPx: 400, fromMs: frame * 1000, toMs: (frame + 150) * 1000, yScale, yRange: yScale === 'log' ? [1000, 1e9] : [0, 2e8], colorScale: 'sqrt', colorQuantile: 0.9 });
      const geometry = renderer.draw(surface, drawn);
      const expected: string[] = Array.from({ length: 100 * 400 }, () => EMPTY_COLOR);
      for (let i = 0; i < geometry.groups.length; i++) {
        const g = drawnGroup(geometry, i);
        for (let slot = geometry.firstSlot; slot <= geometry.lastSlot; slot++) {
          const count = g.histogram[slot]!;
          if (count === 0) continue;
          const level = count / geometry.colorScale.max > 1 ? LEVEL_COLORS.length - 1 : Math.round(Math.sqrt(count / geometry.colorScale.max) * 255);
          const { y0, y1 } = slotRowPx(geometry, slot);
          for (let y = y0; y < y1; y++) for (let x = g.x0Px; x < g.x1Px; x++) expected[y * 100 + x] = LEVEL_COLORS[level]!;
        }
      }
      const got = Array.from({ length: 100 * 400 }, (_, k) => pixel(k % 100, Math.floor(k / 100)));
      expect(got.filter((c, k) => c !== expected[k]).length, `frame ${frame}`).toBe(0);
    }
  });
});

describe('HeatmapRenderer keeps the picture', () => {
  it('shifts by whole pixels and paints only what changed, to the same pixels as drawing it all', () => {
    let seed = 5;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const held: Column[] = [];
    const columnAt = (seq: number): Column => {
      const slots = [...new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => 80 + Math.floor(random() * 150)))].sort((a, b) => a - b);
      // and a steady busiest bucket, so the colour scale holds while the view moves
      return { seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [...slots, 240], counts: [...slots.map(() => 1 + Math.floor(random() * 9)), 10] }] };
    };
    for (let seq = 0; seq < 400; seq++) if (random() < 0.95) held.push(columnAt(seq));
    // 200 columns across 100 pixels: two a pixel; the view moves by one pixel (two columns) a frame
    const kept = new HeatmapRenderer();
    const keptCanvas = fakeCanvas();
    const reference = new HeatmapRenderer();
    const cache = new GroupCache();
    const filter = seriesFilter({ metric: 'latency' });
    for (let frame = 0; frame < 8; frame++) {
      const fromSeq = 100 + 2 * frame;
      const view = { widthPx: 100, heightPx: 200, dpr: 1, fromMs: fromSeq * 1000, toMs: (fromSeq + 200) * 1000, intervalMs: 1000, yScale: 'log', yRange: [1000, 1e9], colorBy: 'count', colorScale: 'linear', colorQuantile: 1, percentiles: true, filterKey: 'latency', moving: true } as const;
      // the newest column still fills between frames: a new object for its group
      if (frame === 4) held[held.length - 1] = { ...held[held.length - 1]!, series: [{ metric: 'latency', device: 0, op: 'read', slots: [90, 240], counts: [5, 10] }] };
      const packed = held.filter((c) => c.seq >= fromSeq && c.seq < fromSeq + 200).map((c) => PackedColumn.of(c));
      const groups = cache.groups(packed, fromSeq, fromSeq + 199, 2, 1000, filter, 'latency');
      const drawn = { ...view, groupSize: 2, groups };
      kept.draw(keptCanvas.surface, drawn);
      // the same frames drawn whole each time (on a blank canvas), with the same colour scales
      const fresh = fakeCanvas();
      reference.forget();
      reference.draw(fresh.surface, drawn);
      const [a, b] = [keptCanvas.all(), fresh.all()];
      let differing = 0;
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differing++;
      expect(differing, `frame ${frame}`).toBe(0);
      if (frame > 0) expect(kept.paintedPx, `frame ${frame} paints a few columns, not the plot`).toBeLessThan(100 * 200 * 0.2);
    }
  });

  it('keeps the picture of a live hour whose group edges fall on half pixels: a scroll by whole pixels moves every edge by as many', () => {
    // the benchmark's 1-h view: 3,600 1-s columns on 1,400 pixels of 2.57 s, summed by 3 into groups
    // 7/6 px wide (every sixth edge on a half pixel), at today's epoch ms, each frame one column newer
    const widthPx = 1400;
    const heightPx = 40;
    const spanMs = 3_600_000;
    const firstSeq = 1_764_600_000;
    const held = liveHistory(firstSeq, 3700, 1000);
    const kept = new HeatmapRenderer();
    const keptCanvas = fakeCanvas();
    const cache = new GroupCache();
    let scrolls = 0;
    let lastFromMs = 0;
    for (let frame = 0; frame < 40; frame++) {
      const drawn = liveFrame(held, cache, (firstSeq + 3600 + frame) * 1000, spanMs, 1000, widthPx, heightPx);
      const { fromMs, toMs, groupSize } = drawn;
      const { lineWidthPx } = kept.draw(keptCanvas.surface, drawn);
      expect(pixelsDifferingFromFresh(keptCanvas, drawn), `frame ${frame}`).toBe(0);
      const dx = Math.round(((fromMs - lastFromMs) * widthPx) / spanMs);
      if (frame > 0 && dx > 0) {
        scrolls++;
        // what came in, and the pieces of the lines that the newest group, widened by a line width
        // each side, reaches (its own and the one before it), widened by a line width each side
        const groupPx = Math.ceil((groupSize * 1000 * widthPx) / (toMs - fromMs));
        const piecePx = groupsPerPiece(drawn) * groupPx;
        const changedPx = dx + 2 * piecePx + 2 * lineWidthPx;
        expect(kept.paintedPx, `frame ${frame}: scrolled by ${dx} px`).toBeLessThanOrEqual(changedPx * heightPx);
      }
      lastFromMs = fromMs;
    }
    expect(scrolls, 'the view moved by whole pixels').toBeGreaterThan(10);
  });

  it("keeps a live week's left-edge group, cut by the view, while it sums the same columns: a frame that only takes a new column paints the newest piece alone", () => {
    // the benchmark's 7-d view: 1-min columns on 1,400 pixels of 7.2 min, summed by 8 into groups
    // 1.11 px wide; each frame a column comes in, so the view moves a pixel every seventh frame or so
    const widthPx = 1400;
    const heightPx = 40;
    const spanMs = 7 * 86_400_000;
    const stepMs = 60_000;
    const firstSeq = 29_410_000;
    const held = liveHistory(firstSeq, 10_200, stepMs);
    const kept = new HeatmapRenderer();
    const keptCanvas = fakeCanvas();
    const cache = new GroupCache();
    let still = 0;
    let lastFromMs = 0;
    for (let frame = 0; frame < 40; frame++) {
      const newest = firstSeq + 10_080 + frame;
      cache.changed(newest); // as the store says of a column added
      const drawn = liveFrame(held, cache, (newest + 1) * stepMs, spanMs, stepMs, widthPx, heightPx, newest);
      const { fromMs, groups } = drawn;
      kept.draw(keptCanvas.surface, drawn);
      expect(pixelsDifferingFromFresh(keptCanvas, drawn), `frame ${frame}`).toBe(0);
      if (frame > 0 && fromMs === lastFromMs && groups[0]!.startMs < fromMs) {
        still++;
        // the newest group's piece of the lines (8 px) with a line width (2 px) either side: not the left edge's piece too
        expect(kept.paintedPx, `frame ${frame}: the view did not move`).toBeLessThanOrEqual(12 * heightPx);
      }
      lastFromMs = fromMs;
    }
    expect(still, 'frames that took a column and did not move, the left group cut').toBeGreaterThan(20);
  });
});

/** Columns of a live view, every step one: three latency slots with counts that vary by seq. */
function liveHistory(firstSeq: number, count: number, stepMs: number): PackedColumn[] {
  const columnAt = (seq: number): Column => ({ seq, startMs: seq * stepMs, intervalMs: stepMs, series: [{ metric: 'latency', device: 0, op: 'read', slots: [90 + (seq % 7), 200 + (seq % 13), 240], counts: [1 + (seq % 5), 1 + (seq % 3), 10] }] });
  return Array.from({ length: count }, (_, k) => PackedColumn.of(columnAt(firstSeq + k)));
}

/** The live view of spanMs ending at newestEndMs, snapped to whole pixels as the page snaps it, its groups from the cache. */
function liveFrame(held: readonly PackedColumn[], cache: GroupCache, newestEndMs: number, spanMs: number, stepMs: number, widthPx: number, heightPx: number, newestSeq = Infinity): HeatmapInput {
  const { fromMs, toMs } = wholePixels({ fromMs: newestEndMs - spanMs, toMs: newestEndMs }, true, widthPx);
  const fromSeq = Math.floor(fromMs / stepMs);
  const toSeq = Math.ceil(toMs / stepMs) - 1;
  const groupSize = groupSizeOf(widthPx, fromMs, toMs, stepMs);
  const shown = held.filter((c) => c.seq >= fromSeq && c.seq <= Math.min(toSeq, newestSeq));
  const groups = cache.groups(shown, fromSeq, toSeq, groupSize, stepMs, seriesFilter({ metric: 'latency' }), 'latency');
  return { widthPx, heightPx, dpr: 1, fromMs, toMs, intervalMs: stepMs, yScale: 'log', yRange: [1000, 1e9], colorBy: 'count', colorScale: 'linear', colorQuantile: 1, percentiles: true, filterKey: 'latency', moving: true, groupSize, groups };
}

/** Pixels where a kept picture differs from the same input drawn afresh. */
function pixelsDifferingFromFresh(kept: ReturnType<typeof fakeCanvas>, drawn: HeatmapInput): number {
  const fresh = fakeCanvas();
  new HeatmapRenderer().draw(fresh.surface, { ...drawn, moving: false });
  const [a, b] = [kept.all(), fresh.all()];
  let differing = 0;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differing++;
  return differing;
}

/**
 * Tiles over their own pixels, and the picture they show composed from where they are placed:
 * each pixel of the picture must be shown by exactly one tile (else it reads as null).
 */
function fakeTiles(initialWidthPx: number, initialHeightPx: number) {
  const tiles: { data: Uint8ClampedArray; leftPx: number; removed: boolean }[] = [];
  const maker: TileMaker = {
    tile(tileWidth, tileHeight) {
      const tile = { data: new Uint8ClampedArray(tileWidth * tileHeight * 4), leftPx: 0, removed: false };
      tiles.push(tile);
      return {
        put(image, xPx, width) {
          for (let row = 0; row < tileHeight; row++) tile.data.set(image.data.subarray(row * image.width * 4, (row * image.width + width) * 4), (row * tileWidth + xPx) * 4);
        },
        place: (leftPx) => void (tile.leftPx = leftPx),
        read: (x, y) => [0, 1, 2].map((c) => tile.data[(y * tileWidth + x) * 4 + c]!) as [number, number, number],
        source: {} as CanvasImageSource,
        remove: () => void (tile.removed = true),
      };
    },
    image: (width, height) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) }) as unknown as ImageData,
  };
  /** the picture the live tiles show, of the size given (the first one unless given) */
  const shown = (widthPx = initialWidthPx, heightPx = initialHeightPx): (string | null)[] => {
    const picture: (string | null)[] = Array.from({ length: widthPx * heightPx }, () => null);
    const covered = new Uint8Array(widthPx * heightPx);
    for (const tile of tiles.filter((t) => !t.removed)) {
      for (let c = 0; c < TILE_PX; c++) {
        const x = tile.leftPx + c;
        if (x < 0 || x >= widthPx) continue;
        for (let y = 0; y < heightPx; y++) {
          const i = (y * TILE_PX + c) * 4;
          covered[y * widthPx + x]!++;
          picture[y * widthPx + x] = `#${[0, 1, 2].map((k) => tile.data[i + k]!.toString(16).padStart(2, '0')).join('')}`;
        }
      }
    }
    return picture.map((colour, k) => (covered[k] === 1 ? colour : null));
  };
  return { maker, shown, live: () => tiles.filter((t) => !t.removed).length };
}

describe('HeatmapRenderer on a ring of tiles (TiledSurface)', () => {
  it('scrolls the tiles, wrapping the ring many times, to the same picture as drawing it all', () => {
    const widthPx = 600;
    const heightPx = 40;
    const columns = Array.from({ length: 4000 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 3));
    const cache = new GroupCache();
    const tiles = fakeTiles(widthPx, heightPx);
    const surface = new TiledSurface(tiles.maker);
    const renderer = new HeatmapRenderer();
    // 600 columns across 600 pixels, moved by 1 to 250 pixels a frame: the ring (4 tiles, 1,024 pixels) wraps thrice
    let fromSeq = 0;
    for (const dx of [0, 1, 7, 250, 3, 249, 128, 200, 255, 256, 100, 1, 90, 60, 250, 250, 250, 250, 5]) {
      fromSeq += dx;
      const inView = columns.filter((c) => c.seq >= fromSeq && c.seq < fromSeq + widthPx).map((c) => PackedColumn.of(c));
      const groups = cache.groups(inView, fromSeq, fromSeq + widthPx - 1, 1, 1000, seriesFilter({ metric: 'latency' }), 'latency');
      const view = { ...input([], { widthPx, heightPx, fromMs: fromSeq * 1000, toMs: (fromSeq + widthPx) * 1000, percentiles: true, moving: true }), groupSize: 1, groups };
      renderer.draw(surface, view);
      if (dx > 0) expect(renderer.paintedPx, `from seq ${fromSeq}: only what came in is painted`).toBeLessThan((dx + 40) * heightPx);
      const fresh = fakeCanvas();
      new HeatmapRenderer().draw(fresh.surface, view);
      const expected = Array.from({ length: widthPx * heightPx }, (_, k) => fresh.pixel(k % widthPx, Math.floor(k / widthPx)));
      const shown = tiles.shown();
      expect(shown.filter((colour, k) => colour !== expected[k]).length, `from seq ${fromSeq}`).toBe(0);
      expect([0, 299, 599].map((x) => surface.pixel(x, 10)), 'read back through the ring').toEqual([0, 299, 599].map((x) => expected[10 * widthPx + x]));
    }
    expect(tiles.live()).toBe(4);
    // a new size makes new tiles and paints them whole
    renderer.draw(surface, { ...input([col(1, 5, 0)], { widthPx: 300, heightPx }) });
    expect(tiles.live()).toBe(3);
    expect(renderer.paintedPx).toBe(300 * heightPx);
  });
});

describe('HeatmapRenderer: what changes in a kept picture', () => {
  it('paints again the groups that changed or went, in place and while the view moves', () => {
    const widthPx = 600;
    const heightPx = 40;
    const tiles = fakeTiles(widthPx, heightPx);
    const surface = new TiledSurface(tiles.maker);
    const renderer = new HeatmapRenderer();
    const cache = new GroupCache();
    let columns = Array.from({ length: 700 }, (_, seq) => PackedColumn.of(col(seq, 1 + (seq % 5), seq % 2)));
    /** a column the store no longer holds (its time unknown, drawn empty) */
    const gone = 'gone';
    const frames: [string, number, (seq: number) => PackedColumn | typeof gone | null][] = [
      ['the first frame', 0, () => null],
      ['the newest column changed (counts within the scale)', 0, (seq) => (seq === 599 ? PackedColumn.of(col(seq, 2, 0)) : null)],
      ['a column in the middle gone', 0, (seq) => (seq === 300 ? gone : null)],
      ['moved by 5, a column changed', 5, (seq) => (seq === 120 ? PackedColumn.of(col(seq, 4, 1)) : null)],
      ['the newest gone', 0, (seq) => (seq === 604 ? gone : null)],
    ];
    let fromSeq = 0;
    for (const [what, dx, change] of frames) {
      fromSeq += dx;
      columns = columns.flatMap((c) => {
        const changed = change(c.seq);
        // the store tells the cache, as the model's store does
        if (changed) cache.changed(c.seq);
        return changed === gone ? [] : [changed ?? c];
      });
      const inView = columns.filter((c) => c.seq >= fromSeq && c.seq < fromSeq + widthPx);
      const groups = cache.groups(inView, fromSeq, fromSeq + widthPx - 1, 1, 1000, seriesFilter({ metric: 'latency' }), 'latency');
      const view = { ...input([], { widthPx, heightPx, fromMs: fromSeq * 1000, toMs: (fromSeq + widthPx) * 1000, moving: true }), groupSize: 1, groups };
      renderer.draw(surface, view);
      if (what !== 'the first frame') expect(renderer.paintedPx, `${what}: a part painted, not the whole`).toBeLessThan(widthPx * heightPx / 4);
      const fresh = fakeCanvas();
      new HeatmapRenderer().draw(fresh.surface, view);
      const shown = tiles.shown();
      const differing = shown.filter((colour, k) => colour !== fresh.pixel(k % widthPx, Math.floor(k / widthPx))).length;
      expect(differing, what).toBe(0);
    }
  });
});

describe('TiledSurface.pixel', () => {
  it('reads null while nothing is drawn, and says which pixel is outside the picture', () => {
    const surface = new TiledSurface(fakeTiles(300, 20).maker);
    expect(surface.hasPicture).toBe(false);
    expect(surface.pixel(0, 0), 'before any buffer').toBeNull();
    surface.buffer(300, 20, 1);
    expect(surface.pixel(10, 10), 'tiles made, nothing put').toBeNull();
    new HeatmapRenderer().draw(surface, input([col(0, 5, 0)], { widthPx: 300, heightPx: 20 }));
    expect(surface.hasPicture).toBe(true);
    expect(surface.pixel(299, 19)).toBe(EMPTY_COLOR);
    for (const [x, y] of [[300, 0], [-1, 0], [0, 20], [1.5, 0]] as const) {
      expect(() => surface.pixel(x, y), `(${x}, ${y})`).toThrow(new RangeError(`pixel (${x}, ${y}) is outside the 300×20 picture: give whole device pixels within it`));
    }
    surface.dispose();
    expect(surface.pixel(0, 0), 'disposed').toBeNull();
  });
});

describe('HeatmapRenderer.drawParts', () => {
  it('paints a fixed view whole over calls of a budget, puts it only at the end, and starts again when the picture changes', () => {
    const columns = Array.from({ length: 400 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 3));
    const view = input(columns, { widthPx: 400, heightPx: 50, toMs: 400_000, percentiles: true });
    const renderer = new HeatmapRenderer();
    const canvas = fakeCanvas();
    const calls = Array.from({ length: 4 }, () => renderer.drawParts(canvas.surface, view, 150 * 50));
    expect(calls.map((geometry) => geometry !== null)).toEqual([false, false, true, true]);
    expect(canvas.puts(), 'put once, whole, then kept').toBe(1);
    const whole = fakeCanvas();
    new HeatmapRenderer().draw(whole.surface, view);
    expect(canvas.all()).toEqual(whole.all());

    // another view after one part: painted from its start, not from where the first one stopped, and whole
    const other = input(columns.slice(0, 200), { widthPx: 400, heightPx: 50, toMs: 200_000, percentiles: true });
    const again = new HeatmapRenderer();
    const next = fakeCanvas();
    expect(again.drawParts(next.surface, view, 150 * 50)).toBeNull();
    expect(again.drawParts(next.surface, other, 150 * 50), 'a picture changed while it was painted in parts: painted whole').not.toBeNull();
    const reference = fakeCanvas();
    new HeatmapRenderer().draw(reference.surface, other);
    expect(next.all()).toEqual(reference.all());

    // the same view with its groups summed anew each call (as the model sums those cut by the view's edges): continued, not started again
    const resummed = new HeatmapRenderer();
    const each = fakeCanvas();
    const fresh = () => input(columns, { widthPx: 400, heightPx: 50, toMs: 400_000, percentiles: true });
    expect(fresh().groups[0], 'new group objects').not.toBe(view.groups[0]);
    expect([0, 1, 2].map(() => resummed.drawParts(each.surface, fresh(), 150 * 50) !== null)).toEqual([false, false, true]);
    expect(each.all()).toEqual(whole.all());

    // a moving view's new picture too; once shown, what changes in it is drawn in one call whatever the budget
    const live = new HeatmapRenderer();
    const moving = fakeCanvas();
    // (the groups from one cache, as the model keeps them: a group not changed is the same object)
    const cache = new GroupCache();
    const liveFrom = (fromSeq: number): HeatmapInput => {
      const groups = cache.groups(columns.filter((c) => c.seq >= fromSeq).map((c) => PackedColumn.of(c)), fromSeq, fromSeq + 399, 1, 1000, seriesFilter({ metric: 'latency' }), 'latency');
      return { ...input([], { widthPx: 400, heightPx: 50, fromMs: fromSeq * 1000, toMs: (fromSeq + 400) * 1000, moving: true }), groupSize: 1, groups };
    };
    expect([0, 1, 2].map(() => live.drawParts(moving.surface, liveFrom(0), 150 * 50) !== null)).toEqual([false, false, true]);
    const moved = liveFrom(1);
    expect(live.drawParts(moving.surface, moved, 150 * 50), 'scrolled by a pixel: kept, drawn at once').not.toBeNull();
    expect(live.paintedPx).toBeLessThan(150 * 50);
  });

  it('recolours a moving view whose colour scale moved in parts, each put as it is painted, settling until the last', () => {
    const columns = Array.from({ length: 400 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 3));
    const at = (busiest: number) => input([...columns.slice(0, 399), col(399, busiest, 0)], { widthPx: 400, heightPx: 50, toMs: 400_000, moving: true });
    const renderer = new HeatmapRenderer();
    const canvas = fakeCanvas();
    expect(renderer.draw(canvas.surface, at(7)).colorScale.max).toBe(7);
    /** the picture under the old scale: the last one before the recolouring */
    let old = canvas.all();
    const whole = fakeCanvas();
    new HeatmapRenderer().draw(whole.surface, input([...columns.slice(0, 399), col(399, 70, 0)], { widthPx: 400, heightPx: 50, toMs: 400_000 }));
    const recoloured = whole.all();
    expect(old, 'the old picture was coloured under the old scale').not.toEqual(recoloured);
    /** Columns of the canvas that show the picture recoloured whole, and those that show the old one. */
    const columnsLike = (): { recoloured: number; old: number } => {
      const now = canvas.all();
      const same = (reference: Uint8ClampedArray, x: number) => Array.from({ length: 50 }, (_, y) => (y * 400 + x) * 4).every((i) => [0, 1, 2].every((c) => now[i + c] === reference[i + c]));
      const xs = Array.from({ length: 400 }, (_, x) => x);
      return { recoloured: xs.filter((x) => same(recoloured, x)).length, old: xs.filter((x) => same(old, x) && !same(recoloured, x)).length };
    };
    // the period's first frame reads busiest 70; its scale is taken in the period's last frame, then recoloured 150 columns a call
    const shown: { max: number; settling: boolean; painted: number; like: { recoloured: number; old: number } }[] = [];
    // (one input: its groups the same objects call after call, as the model hands them over while their columns stay)
    const busier = at(70);
    for (let call = 0; call < SCALE_EVERY_FRAMES + 2; call++) {
      const geometry = renderer.drawParts(canvas.surface, busier, 150 * 50);
      expect(geometry, `call ${call}: a moving view always shows a picture`).not.toBeNull();
      if (geometry!.colorScale.max === 7) old = canvas.all();
      shown.push({ max: geometry!.colorScale.max, settling: geometry!.settling, painted: renderer.paintedPx, like: columnsLike() });
    }
    expect(shown.slice(0, SCALE_EVERY_FRAMES - 1).map((s) => s.max), 'kept: the old scale').toEqual(Array(SCALE_EVERY_FRAMES - 1).fill(7));
    const recolouring = shown.slice(SCALE_EVERY_FRAMES - 1);
    expect(recolouring.map((s) => s.max), 'the new scale, in the legend from the first part').toEqual([70, 70, 70]);
    expect(recolouring.map((s) => s.settling)).toEqual([true, true, false]);
    expect(recolouring.map((s) => s.painted), 'a part a call, the plot once in all').toEqual([150 * 50, 150 * 50, 100 * 50]);
    // the columns with a cell that changes colour are told apart: each part is shown as soon as it is painted
    expect(recolouring.map((s) => s.like.recoloured + s.like.old)).toEqual([400, 400, 400]);
    expect(recolouring[0]!.like.recoloured).toBeGreaterThanOrEqual(150);
    expect(recolouring[0]!.like.old).toBeGreaterThan(0);
    expect(recolouring[1]!.like.old, 'fewer old columns after the second part').toBeLessThan(recolouring[0]!.like.old);
    expect(canvas.all(), 'whole at the end, as a fixed view of the same cells').toEqual(recoloured);
    expect(renderer.wholePictures, 'the first picture and the recolouring').toBe(2);
  });

  it.each([
    { plot: '400 px, parts of 100 columns', widthPx: 400, partPx: 100 },
    { plot: '1,200 px, parts of half a tile (cut at the tiles\' edges)', widthPx: 1200, partPx: TILE_PX / 2 },
  ])('keeps the recoloured parts of a live view that scrolls while it recolours: the plot painted once, no frame over the budget and what changed ($plot)', ({ widthPx, partPx }) => {
    const heightPx = 50;
    const budgetPx = partPx * heightPx;
    // the view's columns all held from its first frame on
    const shift = widthPx - 400;
    const busySeq = 560 + shift;
    const held = liveHistory(0, 700 + shift, 1000).map((c) => (c.seq === busySeq ? PackedColumn.of({ seq: busySeq, startMs: busySeq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [240], counts: [100] }] }) : c));
    const cache = new GroupCache();
    const tiles = fakeTiles(widthPx, heightPx);
    const surface = new TiledSurface(tiles.maker);
    const renderer = new HeatmapRenderer();
    // a column a frame, one pixel: the view scrolls by a pixel in every frame of the recolouring
    const frameAt = (newestSeq: number) => liveFrame(held, cache, (newestSeq + 1) * 1000, widthPx * 1000, 1000, widthPx, heightPx, newestSeq);
    renderer.draw(surface, frameAt(500 + shift));
    const frames: { newestSeq: number; painted: number; settling: boolean; max: number }[] = [];
    const compared: number[] = [];
    for (let newestSeq = 501 + shift; newestSeq < 600 + shift; newestSeq++) {
      const drawn = frameAt(newestSeq);
      const geometry = renderer.drawParts(surface, drawn, budgetPx);
      expect(geometry, `seq ${newestSeq}: a moving view always shows a picture`).not.toBeNull();
      frames.push({ newestSeq, painted: renderer.paintedPx, settling: geometry!.settling, max: geometry!.colorScale.max });
      const expected = fakeCanvas();
      // a fixed view takes its exact scale: compared where the live one has taken it too
      if (new HeatmapRenderer().draw(expected.surface, { ...drawn, moving: false }).colorScale.max !== geometry!.colorScale.max || geometry!.settling) continue;
      const differing = tiles.shown().filter((colour, k) => colour !== expected.pixel(k % widthPx, Math.floor(k / widthPx))).length;
      expect(differing, `seq ${newestSeq}: a settled picture equals a fresh draw`).toBe(0);
      compared.push(newestSeq);
    }
    expect(compared.filter((seq) => seq > busySeq).length, 'settled frames after the recolouring compared').toBeGreaterThan(10);
    const steady = frames.filter((f) => f.newestSeq < busySeq);
    const recolouring = frames.filter((f) => f.settling || (frames[frames.indexOf(f) - 1]?.settling ?? false));
    expect(new Set(steady.map((f) => f.max)).size, 'one scale before the busy column').toBe(1);
    expect(recolouring.length, 'recoloured over a few frames').toBeGreaterThanOrEqual(3);
    expect(recolouring[0]!.max).toBe(100);
    expect(frames.filter((f) => f.settling).length, 'one recolouring').toBe(recolouring.length - 1);
    // what a frame paints when nothing is recoloured: the new column and the piece of the lines it is in
    const changedPx = Math.max(...steady.map((f) => f.painted));
    expect(changedPx).toBeLessThan(budgetPx / 2);
    for (const f of recolouring) expect(f.painted, `seq ${f.newestSeq}: a part and what changed, not the plot`).toBeLessThanOrEqual(budgetPx + changedPx);
    const total = recolouring.reduce((sum, f) => sum + f.painted, 0);
    expect(total, 'the plot once over the recolouring, and what changed in its frames').toBeLessThanOrEqual(widthPx * heightPx + recolouring.length * changedPx);
    expect(renderer.wholePictures, 'the first picture and the recolouring').toBe(2);
  });
});

describe('HeatmapRenderer.drawParts: a recolouring in parts of half a tile', () => {
  const widthPx = 700;
  const heightPx = 40;
  /** A live view on tiles that counts the tiles each put touches, drawn to seq 1000: scrolled by 100 columns from the ring's origin, so the tiles' edges are not at the plot's. */
  function tiledLiveView() {
    const tiles = fakeTiles(widthPx, heightPx);
    let touched = new Set<Tile>();
    const maker: TileMaker = {
      ...tiles.maker,
      tile: (tileWidth, tileHeight, dpr) => {
        const tile: Tile = tiles.maker.tile(tileWidth, tileHeight, dpr);
        return { ...tile, put: (image, xPx, width) => (touched.add(tile), tile.put(image, xPx, width)) };
      },
    };
    const surface = new TiledSurface(maker);
    /** each put of the surface since the last call of takePuts: its columns and the tiles it touched */
    let puts: { from: number; to: number; tiles: number }[] = [];
    const put = surface.put.bind(surface);
    surface.put = (from, to) => {
      touched = new Set();
      put(from, to);
      puts.push({ from, to, tiles: touched.size });
    };
    const takePuts = () => [puts, (puts = [])][0]!;
    const renderer = new HeatmapRenderer();
    const held = liveHistory(0, 1200, 1000);
    const cache = new GroupCache();
    const frameAt = (newestSeq: number, change: Partial<HeatmapInput> = {}): HeatmapInput => ({ ...liveFrame(held, cache, (newestSeq + 1) * 1000, widthPx * 1000, 1000, widthPx, heightPx, newestSeq), ...change });
    renderer.draw(surface, frameAt(900));
    for (let seq = 901; seq <= 1000; seq++) renderer.draw(surface, frameAt(seq));
    takePuts();
    /** Pixels of the tiles that differ from a fresh draw of the input. */
    const differing = (drawn: HeatmapInput): number => {
      const fresh = fakeCanvas();
      new HeatmapRenderer().draw(fresh.surface, { ...drawn, moving: false });
      return tiles.shown().filter((colour, k) => colour !== fresh.pixel(k % widthPx, Math.floor(k / widthPx))).length;
    };
    return { renderer, surface, frameAt, takePuts, differing };
  }

  it('puts each part on one tile, and ends on the pixels of a fresh draw', () => {
    const { renderer, surface, frameAt, takePuts, differing } = tiledLiveView();
    const sqrt = frameAt(1000, { colorScale: 'sqrt' });
    const tilesPut: number[] = [];
    let geometry: HeatmapGeometry | null = null;
    do {
      geometry = renderer.drawParts(surface, sqrt, (TILE_PX / 2) * heightPx);
      tilesPut.push(...takePuts().map((p) => p.tiles));
    } while (geometry?.settling && tilesPut.length < 20);
    expect(geometry?.settling, 'settled').toBe(false);
    expect(tilesPut.length, 'the plot in parts of half a tile, one more where a tile is cut by the edges').toBeLessThanOrEqual(Math.ceil(widthPx / (TILE_PX / 2)) + 1);
    expect(tilesPut.every((n) => n === 1), `tiles put a call: ${tilesPut.join(' ')}`).toBe(true);
    expect(differing(sqrt)).toBe(0);
  });

  it("scrolling a pixel a call: each part on one tile, the newest column's ranges apart, and ends on a fresh draw", () => {
    const { renderer, surface, frameAt, takePuts, differing } = tiledLiveView();
    const calls: { from: number; to: number; tiles: number }[][] = [];
    let seq = 1000;
    let geometry: HeatmapGeometry | null = null;
    do {
      seq++;
      geometry = renderer.drawParts(surface, frameAt(seq, { colorScale: 'sqrt' }), (TILE_PX / 2) * heightPx);
      calls.push(takePuts());
    } while (geometry?.settling && calls.length < 20);
    expect(geometry?.settling, 'settled').toBe(false);
    expect(calls.length, 'half-tile parts, one more where a tile is cut by the edges').toBeLessThanOrEqual(Math.ceil(widthPx / (TILE_PX / 2)) + 1);
    // what a new column changes is at the plot's right end; the parts of the recolouring are the rest
    const parts = calls.map((puts) => puts.filter((p) => p.to < widthPx));
    expect(parts.filter((puts) => puts.length > 0).length, 'a part in most calls').toBeGreaterThanOrEqual(calls.length - 1);
    for (const [k, puts] of parts.entries()) for (const p of puts) expect(p.tiles, `call ${k}: columns ${p.from}..${p.to}`).toBe(1);
    expect(differing(frameAt(seq, { colorScale: 'sqrt' }))).toBe(0);
  });

  it('draw: a recolouring painted whole in one call on a plot wider than two tiles, as a fresh draw', () => {
    const { renderer, surface, frameAt, takePuts, differing } = tiledLiveView();
    const sqrt = frameAt(1001, { colorScale: 'sqrt' });
    expect(renderer.draw(surface, sqrt).settling).toBe(false);
    expect(takePuts().some((p) => p.from === 0 && p.to === widthPx), 'the plot put in one').toBe(true);
    expect(differing(sqrt)).toBe(0);
  });
});

// 45 columns a call: a recolouring of the 400-px plot takes ten frames, two more than SCALE_EVERY_FRAMES (its parts cut at the tiles' edges);
// half a tile a call on a 1,200-px plot, as a live view's parts at 1920×1080 (128 columns of ~1,400): ten or eleven frames
describe.each([
  { plot: '400 px, parts of 45 columns', widthPx: 400, partPx: 45 },
  { plot: '1,200 px, parts of half a tile', widthPx: 1200, partPx: TILE_PX / 2 },
])('HeatmapRenderer.drawParts: a recolouring that is interrupted ($plot)', ({ widthPx, partPx }) => {
  const heightPx = 50;
  /** the parts of a recolouring, at most: one more for each tile edge within the plot, where a part is cut */
  const parts = Math.ceil(widthPx / partPx) + Math.ceil(widthPx / TILE_PX);
  /** seqs after the first 400 moved on so that the view's columns are all held from its first frame on */
  const shift = widthPx - 400;
  /** what a frame of these tests may wait for a settled picture: two scale periods and two recolourings */
  const settleFrames = 2 * SCALE_EVERY_FRAMES + 2 * parts;
  /** A column whose only cell (in slot 240) counts n. */
  const busyColumn = (seq: number, n: number): PackedColumn => PackedColumn.of({ seq, startMs: seq * 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [240], counts: [n] }] });

  /** A live view of one-second columns, a column a pixel, over held columns, a column a frame (so it scrolls a pixel a frame). */
  function liveView(held: PackedColumn[]) {
    const cache = new GroupCache();
    const tiles = fakeTiles(widthPx, heightPx);
    const surface = new TiledSurface(tiles.maker);
    const renderer = new HeatmapRenderer();
    const frameAt = (newestSeq: number, width = widthPx) => liveFrame(held, cache, (newestSeq + 1) * 1000, width * 1000, 1000, width, heightPx, newestSeq);
    /** held column seq replaced, as the store tells the group cache */
    const replace = (seq: number, column: PackedColumn): void => {
      held[seq] = column;
      cache.changed(seq);
    };
    /** Pixels of the tiles that differ from a fresh draw of the input, and the exact scale's maximum it was drawn with. */
    const againstFresh = (drawn: HeatmapInput): { differing: number; max: number } => {
      const fresh = fakeCanvas();
      const { colorScale } = new HeatmapRenderer().draw(fresh.surface, { ...drawn, moving: false });
      const differing = tiles.shown(drawn.widthPx, drawn.heightPx).filter((colour, k) => colour !== fresh.pixel(k % drawn.widthPx, Math.floor(k / drawn.widthPx))).length;
      return { differing, max: colorScale.max };
    };
    /**
     * Draws frames of `next` (numbered from 0) until one is settled under the cells' exact scale,
     * at most `frames`: how many it took (Infinity when none was) and how its tiles differ from a fresh draw.
     */
    const settle = (next: (k: number) => HeatmapInput, frames: number): { frames: number; differing: number } => {
      for (let k = 0; k < frames; k++) {
        const drawn = next(k);
        const geometry = renderer.drawParts(surface, drawn, partPx * heightPx);
        if (!geometry || geometry.settling) continue;
        const fresh = againstFresh(drawn);
        if (fresh.max === geometry.colorScale.max) return { frames: k + 1, differing: fresh.differing };
      }
      return { frames: Infinity, differing: NaN };
    };
    return { renderer, surface, frameAt, replace, settle };
  }

  it('takes the next scale only once a recolouring is done: a scale that moves in every period leaves the picture settled between, and no scale waits more than a recolouring', () => {
    // from seq 500 on, each column's busiest cell is 1.2 times the one before: every period's scale moves by far more than 10%
    const held = liveHistory(0, 800 + shift, 1000).map((c) => (c.seq >= 500 + shift && c.seq < 560 + shift ? busyColumn(c.seq, Math.round(20 * 1.2 ** (c.seq - 500 - shift))) : c));
    const { renderer, surface, frameAt, settle } = liveView(held);
    renderer.draw(surface, frameAt(499 + shift));
    const frames: { max: number; settling: boolean }[] = [];
    for (let newestSeq = 500 + shift; newestSeq < 560 + shift; newestSeq++) {
      const geometry = renderer.drawParts(surface, frameAt(newestSeq), partPx * heightPx);
      expect(geometry, `seq ${newestSeq}: a moving view always shows a picture`).not.toBeNull();
      frames.push({ max: geometry!.colorScale.max, settling: geometry!.settling });
    }
    const takes = frames.flatMap((f, k) => (k > 0 && f.max !== frames[k - 1]!.max ? [k] : []));
    expect(takes.length, 'a new scale in every period').toBeGreaterThanOrEqual(4);
    for (let t = 1; t < takes.length; t++) {
      expect(frames.slice(takes[t - 1]!, takes[t]).some((f) => !f.settling), `the recolouring from frame ${takes[t - 1]} ends before frame ${takes[t]} takes a scale`).toBe(true);
      expect(takes[t]! - takes[t - 1]!, 'the next scale a recolouring late at most').toBeLessThanOrEqual(Math.max(SCALE_EVERY_FRAMES, parts));
    }
    expect(Math.max(...takes.slice(1).map((take, t) => take - takes[t]!)), 'more parts than a period: the scale waited for the last').toBeGreaterThan(SCALE_EVERY_FRAMES);
    // the cells stop moving: settled, and the picture is a fresh draw's
    const settled = settle((k) => frameAt(560 + shift + k), settleFrames);
    expect(settled.frames).toBeLessThanOrEqual(settleFrames);
    expect(settled.differing).toBe(0);
  });

  type Live = ReturnType<typeof liveView>;
  it.each<{ what: string; next: (live: Live, seq: number, k: number) => HeatmapInput }>([
    {
      what: 'the cells move the scale again (taken once the recolouring is done)',
      next: (live, seq, k) => {
        if (k === 0) live.replace(seq + 1, busyColumn(seq + 1, 1000));
        return live.frameAt(seq + 1 + k);
      },
    },
    { what: 'another colour quantile (a scale of its own at once: the recolouring starts over)', next: (live, seq, k) => ({ ...live.frameAt(seq + 1 + k), colorQuantile: 0.99 }) },
    { what: 'a pause (the view fixed: its exact scale, the same)', next: (live, seq) => ({ ...live.frameAt(seq), moving: false }) },
    {
      what: 'a pause whose exact scale differs (a new picture, put whole)',
      next: (live, seq, k) => {
        if (k === 0) live.replace(seq, busyColumn(seq, 1000));
        return { ...live.frameAt(seq), moving: false };
      },
    },
    { what: 'a resize', next: (live, seq, k) => live.frameAt(seq + 1 + k, 300) },
    { what: 'a jump past the width (nothing kept)', next: (live, seq, k) => live.frameAt(seq + 2 * widthPx + k) },
    {
      what: 'a frame off the pixel grid (in parts, not yet put), then one kept against the last frame put',
      next: (live, seq, k) => {
        const drawn = live.frameAt(seq + 1 + k);
        return k === 0 ? { ...drawn, fromMs: drawn.fromMs + 500, toMs: drawn.toMs + 500 } : drawn;
      },
    },
  ])('$what: settled within a bound, the tiles a fresh draw', ({ next }) => {
    // busiest 10 until a column of 100 comes in: its period's scale is recoloured in parts
    const held = liveHistory(0, 1800 + shift, 1000).map((c) => (c.seq === 560 + shift ? busyColumn(560 + shift, 100) : c));
    const live = liveView(held);
    live.renderer.draw(live.surface, live.frameAt(499 + shift));
    let seq = 500 + shift;
    let recoloured = 0;
    // into the recolouring by three parts
    for (; recoloured < 3 && seq < 600 + shift; seq++) if (live.renderer.drawParts(live.surface, live.frameAt(seq), partPx * heightPx)?.settling) recoloured++;
    expect(recoloured, 'a recolouring begun').toBe(3);
    const settled = live.settle((k) => next(live, seq - 1, k), settleFrames);
    expect(settled.frames, 'settled').toBeLessThanOrEqual(settleFrames);
    expect(settled.differing).toBe(0);
  });
});

describe('rowBands: rows covered by the same slots, painted once and copied', () => {
  it.each<[string, number[][], { y0: number; y1: number; slots: number[] }[]]>([
    ['no rows', [], []],
    ['one row', [[3]], [{ y0: 0, y1: 1, slots: [3] }]],
    ['a slot over three rows, then an empty row', [[5], [5], [5], []], [{ y0: 0, y1: 3, slots: [5] }, { y0: 3, y1: 4, slots: [] }]],
    ['one-pixel rows that overlap (a linear axis): each cover its own band', [[1, 2], [2], [2], [2, 3]], [{ y0: 0, y1: 1, slots: [1, 2] }, { y0: 1, y1: 3, slots: [2] }, { y0: 3, y1: 4, slots: [2, 3] }]],
    ['equal covers apart are two bands', [[4], [], [4]], [{ y0: 0, y1: 1, slots: [4] }, { y0: 1, y1: 2, slots: [] }, { y0: 2, y1: 3, slots: [4] }]],
  ])('%s', (_, cover, bands) => {
    expect(rowBands(cover)).toEqual(bands);
  });
});

describe('sameGroupIndexes: the last frame\'s groups found in this one by identity', () => {
  const group = (firstSeq: number): CellGroup => ({ firstSeq, startMs: firstSeq, endMs: firstSeq + 1, histogram: [], percentileSlots: { p50: -1, p99: -1, max: -1 } });
  const [a, b, c, d, e] = [0, 2, 4, 6, 8].map(group) as [CellGroup, CellGroup, CellGroup, CellGroup, CellGroup];
  it.each<[string, CellGroup[], CellGroup[], number[]]>([
    ['nothing before', [], [a, b], [-1, -1]],
    ['the same groups', [a, b, c], [a, b, c], [0, 1, 2]],
    ['scrolled by one: the oldest left, a new one came', [a, b, c], [b, c, d], [1, 2, -1]],
    ['a group of the same first seq summed anew is not the same', [a, b, c], [a, group(2), c], [0, -1, 2]],
    ['a gap in this frame, groups after it kept', [a, b, c, d], [a, d, e], [0, 3, -1]],
    ['jumped past every group', [a, b], [d, e], [-1, -1]],
  ])('%s', (_, before, groups, same) => {
    expect([...sameGroupIndexes(before, groups)]).toEqual(same);
  });
});

describe('withStalePart', () => {
  it.each([
    { what: 'a part from the start of the stale columns', changed: [], stale: { from: 0, to: 400 }, part: 100, ranges: [[0, 100]], after: 100 },
    { what: 'the rest, narrower than a part', changed: [], stale: { from: 350, to: 400 }, part: 100, ranges: [[350, 400]], after: 400 },
    { what: 'changed ranges beside it, kept apart', changed: [[10, 12], [395, 400]], stale: { from: 100, to: 390 }, part: 100, ranges: [[10, 12], [100, 200], [395, 400]], after: 200 },
    { what: 'a changed range overlapping the part: merged, and the start moves past it', changed: [[150, 260]], stale: { from: 100, to: 390 }, part: 100, ranges: [[100, 260]], after: 260 },
    { what: 'a changed range touching the part: merged', changed: [[200, 210]], stale: { from: 100, to: 390 }, part: 100, ranges: [[100, 210]], after: 210 },
    { what: 'nothing stale left (scrolled away): the changed ranges alone', changed: [[390, 400]], stale: { from: 0, to: 0 }, part: 100, ranges: [[390, 400]], after: 0 },
  ] as const)('$what', ({ changed, stale, part, ranges, after }) => {
    // (frozen: it says where the stale columns start, and leaves them as they were)
    expect(withStalePart(changed, Object.freeze({ ...stale }), part)).toEqual({ ranges, staleFrom: after });
  });

  // tiles' edges every 256 columns from column 0, as TiledSurface.partEnd puts them for a ring at its origin
  const atEdge = (from: number, to: number): number => (to - from > 256 ? to : Math.min(to, (Math.floor(from / 256) + 1) * 256));
  it.each([
    { what: 'a part across an edge: cut there', changed: [], stale: { from: 200, to: 700 }, part: 128, ranges: [[200, 256]], after: 256 },
    { what: 'a part from an edge: whole', changed: [], stale: { from: 256, to: 700 }, part: 128, ranges: [[256, 384]], after: 384 },
    { what: 'a cut part, a changed range from before the cut to past it: merged, the start past the range', changed: [[250, 300]], stale: { from: 200, to: 700 }, part: 128, ranges: [[200, 300]], after: 300 },
    { what: 'the rest, narrower than a part, before the next edge: whole', changed: [], stale: { from: 520, to: 600 }, part: 128, ranges: [[520, 600]], after: 600 },
    { what: 'the rest, narrower than a part, across an edge: cut there', changed: [], stale: { from: 500, to: 560 }, part: 128, ranges: [[500, 512]], after: 512 },
    { what: 'no bound (draw): the stale columns whole', changed: [], stale: { from: 0, to: 700 }, part: Infinity, ranges: [[0, 700]], after: 700 },
  ] as const)('cut by partEnd: $what', ({ changed, stale, part, ranges, after }) => {
    expect(withStalePart(changed, Object.freeze({ ...stale }), part, atEdge)).toEqual({ ranges, staleFrom: after });
  });
});

describe('HeatmapRenderer.prepareCells', () => {
  it('takes the groups’ cells over calls of a budget, anew for another y range; the picture is the same as drawn without', () => {
    const columns = Array.from({ length: 40 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 3));
    const drawn = input(columns, { toMs: 40_000 });
    const renderer = new HeatmapRenderer();
    const calls: { done: boolean; taken: number }[] = [];
    for (let k = 0; k < 4; k++) calls.push(renderer.prepareCells(drawn.groups, 'count', drawn.yRange, 15));
    expect(calls).toEqual([
      { done: false, taken: 15 },
      { done: false, taken: 15 },
      { done: true, taken: 10 },
      { done: true, taken: 0 },
    ]);
    expect(renderer.prepareCells(drawn.groups, 'count', [1000, 1e6], 100), 'another y range: other visible cells').toEqual({ done: true, taken: 40 });
    expect(renderer.prepareCells(drawn.groups, 'time', [1000, 1e6], 100), 'another colour-by: other values').toEqual({ done: true, taken: 40 });
    renderer.prepareCells(drawn.groups, 'count', drawn.yRange, 100);
    const prepared = fakeCanvas();
    const plain = fakeCanvas();
    renderer.draw(prepared.surface, drawn);
    new HeatmapRenderer().draw(plain.surface, drawn);
    expect(prepared.all()).toEqual(plain.all());
  });

  it("hands its walk of the groups to the draw of the same list (one sameGroupIndexes walk fewer), and a draw of another list walks anew: scale and pixels as a renderer that never prepared", () => {
    const held = Array.from({ length: 300 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 5 === 0 ? 1 + (seq % 3) : 0));
    const cache = new GroupCache();
    const filter = seriesFilter({ metric: 'latency' });
    // each group object behind one proxy that counts the reads of its first seq (the walk reads them)
    let firstSeqReads = 0;
    const proxies = new WeakMap<CellGroup, CellGroup>();
    const counted = (group: CellGroup): CellGroup => {
      let proxy = proxies.get(group);
      if (!proxy) {
        proxy = new Proxy(group, {
          get(target, property, receiver) {
            if (property === 'firstSeq') firstSeqReads++;
            return Reflect.get(target, property, receiver) as unknown;
          },
        });
        proxies.set(group, proxy);
      }
      return proxy;
    };
    // a live view of 200 columns on 100 px, one pixel (two columns) newer a frame
    const frame = (k: number): HeatmapInput => {
      const fromSeq = 2 * k;
      const packed = held.filter((c) => c.seq >= fromSeq && c.seq < fromSeq + 200).map((c) => PackedColumn.of(c));
      const groups = cache.groups(packed, fromSeq, fromSeq + 199, 2, 1000, filter, 'latency').map(counted);
      return { widthPx: 100, heightPx: 120, dpr: 1, fromMs: fromSeq * 1000, toMs: (fromSeq + 200) * 1000, intervalMs: 1000, yScale: 'log', yRange: [1000, 1e9], colorBy: 'count', colorScale: 'linear', colorQuantile: 0.9, percentiles: true, filterKey: 'latency', moving: true, groupSize: 2, groups };
    };
    const readsOf = (run: () => void): number => {
      firstSeqReads = 0;
      run();
      return firstSeqReads;
    };
    const prepared = { renderer: new HeatmapRenderer(), canvas: fakeCanvas() };
    const plain = { renderer: new HeatmapRenderer(), canvas: fakeCanvas() };
    /** The frame drawn by both renderers, `before` run on the prepared one first: the reads of each draw; scale and pixels must agree. */
    const drawBoth = (view: HeatmapInput, before: () => void, what: string): { prepared: number; plain: number } => {
      before();
      const scales: unknown[] = [];
      const reads = {
        prepared: readsOf(() => scales.push(prepared.renderer.draw(prepared.canvas.surface, view).colorScale)),
        plain: readsOf(() => scales.push(plain.renderer.draw(plain.canvas.surface, view).colorScale)),
      };
      expect(scales[0], `${what}: the scale`).toEqual(scales[1]);
      expect(prepared.canvas.all(), `${what}: the pixels`).toEqual(plain.canvas.all());
      return reads;
    };
    const views = Array.from({ length: 5 }, (_, k) => frame(k));
    drawBoth(views[0]!, () => {}, 'the first frame');
    const walk = readsOf(() => sameGroupIndexes(views[0]!.groups, views[1]!.groups));
    expect(walk, 'a walk reads a first seq of each group in view').toBeGreaterThanOrEqual(views[1]!.groups.length);
    const same = drawBoth(views[1]!, () => prepared.renderer.prepareCells(views[1]!.groups, 'count', [1000, 1e9], Infinity), 'prepared with the same list');
    expect(same.plain - same.prepared, 'the prepared walk used').toBe(walk);
    const other = drawBoth(views[3]!, () => prepared.renderer.prepareCells(views[2]!.groups, 'count', [1000, 1e9], Infinity), 'prepared with another list');
    expect(other.prepared, 'the prepared walk of another list thrown away').toBe(other.plain);
    prepared.renderer.prepareCells(views[4]!.groups, 'count', [1000, 1e9], Infinity);
    drawBoth(views[2]!, () => {}, 'a draw of another list between the prepare and its own');
    const stale = drawBoth(views[4]!, () => {}, 'the prepared list drawn after another');
    expect(stale.prepared, 'the walk against a frame since drawn thrown away').toBe(stale.plain);
  });
});

describe('HeatmapRenderer staging', () => {
  it('stages only narrow parts after a shift: a wide one is put directly, and looks the same', () => {
    const made: number[] = [];
    const renderer = new HeatmapRenderer();
    const canvas = fakeCanvas((width, height) => {
      made.push(width);
      return fakeStaging(width, height);
    });
    const columns = Array.from({ length: 2000 }, (_, seq) => col(seq, 1 + (seq % 7), seq % 3));
    const cache = new GroupCache();
    // 1,000 columns across 1,000 pixels, moved by 3 pixels, then by 600
    for (const fromSeq of [0, 3, 603]) {
      const inView = columns.filter((c) => c.seq >= fromSeq && c.seq < fromSeq + 1000).map((c) => PackedColumn.of(c));
      const groups = cache.groups(inView, fromSeq, fromSeq + 999, 1, 1000, seriesFilter({ metric: 'latency' }), 'latency');
      const view = { ...input([], { widthPx: 1000, heightPx: 50, fromMs: fromSeq * 1000, toMs: (fromSeq + 1000) * 1000, moving: true }), groupSize: 1, groups };
      renderer.draw(canvas.surface, view);
      const fresh = fakeCanvas();
      new HeatmapRenderer().draw(fresh.surface, view);
      expect(canvas.all(), `from seq ${fromSeq}`).toEqual(fresh.all());
    }
    expect(made.length).toBeGreaterThan(0);
    expect(Math.max(...made)).toBeLessThanOrEqual(STAGED_MAX_PX);
  });
});

describe('HeatmapRenderer colour scale', () => {
  it('holds the scale within 10% while the view moves, takes it once in SCALE_EVERY_FRAMES frames, and draws a fixed view with its exact scale', () => {
    const renderer = new HeatmapRenderer();
    const { surface } = fakeCanvas();
    const at = (busiest: number, moving: boolean, colorQuantile = 1) => renderer.draw(surface, { ...input([col(0, busiest, 0), col(1, 1, 0)], { colorQuantile }), moving }).colorScale.max;
    /** the scales of a moving view over one period of SCALE_EVERY_FRAMES frames */
    const period = (busiest: number) => Array.from({ length: SCALE_EVERY_FRAMES }, () => at(busiest, true));
    expect(at(100, true)).toBe(100);
    expect(period(120), 'kept between, the new one at the end of the period').toEqual([...Array<number>(SCALE_EVERY_FRAMES - 1).fill(100), 120]);
    expect(period(130), 'within 10%: kept').toEqual(Array<number>(SCALE_EVERY_FRAMES).fill(120));
    expect(at(200, true, 0.99), 'anything else changed: at once').toBe(200);
    // another filter (all devices narrowed to a quiet one) or time span: its own scale in the very next frame
    const next = (busiest: number, change: Partial<HeatmapInput>) => renderer.draw(surface, { ...input([col(0, busiest, 0), col(1, 1, 0)], { colorQuantile: 0.99, ...change }), moving: true }).colorScale.max;
    expect(next(200, {})).toBe(200);
    expect(next(10, { filterKey: 'latency|dev1' }), 'a new filter: at once').toBe(10);
    expect(next(10, { filterKey: 'latency|dev1' })).toBe(10);
    expect(next(100, { filterKey: 'latency|dev1', toMs: 4500 }), 'a new span: at once').toBe(100);
    expect(at(125, false), 'a fixed view: exact').toBe(125);
    expect(at(126, false)).toBe(126);
  });

  it('takes the exact scale at once in the frame that sees history added in full (a new historyVersion), and holds it as before', () => {
    const renderer = new HeatmapRenderer();
    const { surface } = fakeCanvas();
    const at = (busiest: number, historyVersion: number) => renderer.draw(surface, { ...input([col(0, busiest, 0), col(1, 1, 0)]), moving: true, historyVersion }).colorScale.max;
    expect(at(100, 0)).toBe(100);
    expect(at(300, 0), "a load's slice: the scale holds until its period's end").toBe(100);
    expect(at(300, 1), 'the load added in full: at once').toBe(300);
    expect(at(320, 1), 'within 10%: held').toBe(300);
    expect(at(500, 1), "beyond: at the period's end, as before").toBe(300);
    expect(at(310, 2), 'another load within 10% of the scale: held').toBe(300);
  });

  it("takes the scale of a period's first frame at its last: a busier cell waits up to 2 × SCALE_EVERY_FRAMES − 2 frames", () => {
    const renderer = new HeatmapRenderer();
    const { surface } = fakeCanvas();
    const at = (busiest: number) => renderer.draw(surface, { ...input([col(0, busiest, 0), col(1, 1, 0)]), moving: true }).colorScale.max;
    expect(at(100), 'the first frame: its exact scale').toBe(100);
    // frames numbered from 1, SCALE_EVERY_FRAMES to a period: busiest 100 in frame 1, 300 from frame 2 on
    const busiestIn = (frame: number) => (frame === 1 ? 100 : 300);
    const scales = Array.from({ length: 3 * SCALE_EVERY_FRAMES }, (_, k) => at(busiestIn(k + 1)));
    const firstAt300 = scales.indexOf(300) + 1;
    expect(firstAt300, 'read in the second period (frame 9), taken at its end').toBe(2 * SCALE_EVERY_FRAMES);
    expect(firstAt300 - 2, 'frames after the one it first showed in').toBe(2 * SCALE_EVERY_FRAMES - 2);
    expect(scales.slice(0, firstAt300 - 1)).toEqual(Array<number>(firstAt300 - 1).fill(100));
    expect(scales.slice(firstAt300 - 1)).toEqual(Array<number>(3 * SCALE_EVERY_FRAMES - firstAt300 + 1).fill(300));

    // busiest 50 in a period's first frame, 1,000 in its last: the first is taken, the last waits for the next period
    const period = (first: number, rest: number, last: number) => Array.from({ length: SCALE_EVERY_FRAMES }, (_, k) => at(k === 0 ? first : k === SCALE_EVERY_FRAMES - 1 ? last : rest));
    expect(period(50, 300, 1000), "the first frame's cells, taken in the last").toEqual([...Array<number>(SCALE_EVERY_FRAMES - 1).fill(300), 50]);
    expect(period(1000, 1000, 1000), 'the next period: its first frame').toEqual([...Array<number>(SCALE_EVERY_FRAMES - 1).fill(50), 1000]);
  });
});
