import { describe, expect, it } from 'vitest';
import { slotOf } from './buckets.ts';
import type { Column, Series } from './column.ts';
import { renderHeatmapSvg } from './svg.ts';
import { CLAMPED_COLOR, LEVEL_COLORS, RAMP, snapshotView, type SnapshotView } from './view.ts';
import { allElements, parseXml, type XmlElement } from '../test/xml.ts';

function all(element: XmlElement, predicate: (e: XmlElement) => boolean): XmlElement[] {
  return allElements(element).filter(predicate);
}

const START = Date.UTC(2025, 10, 25, 13, 20, 0);

function series(op: Series['op'], values: Record<number, number>, device = 0): Series {
  const slots = Object.keys(values).map(Number).sort((a, b) => a - b);
  return { metric: 'latency', device, op, slots, counts: slots.map((s) => values[s]!) };
}

function column(k: number, s: Series[]): Column {
  return { seq: START / 1000 + k, startMs: START + k * 1000, intervalMs: 1000, series: s };
}

const FAST = slotOf(50_000);
const SLOW = slotOf(20_000_000);
const COLUMNS: Column[] = [
  column(0, [series('read', { [FAST]: 10, [SLOW]: 1 }), series('write', { [FAST]: 5 })]),
  column(1, []),
  column(2, [series('read', { [FAST]: 20 }), { metric: 'size', device: 0, op: 'read', slots: [slotOf(4096)], counts: [20] }]),
  column(3, [series('write', { [SLOW]: 2 }, 1)]),
];

function view(fields: Partial<SnapshotView> = {}): SnapshotView {
  return snapshotView({ fromMs: START, toMs: START + 4000, host: 'box <1>', source: 'synthetic', colorScale: 'linear', ...fields });
}

describe('renderHeatmapSvg', () => {
  it('hatches the columns of the range it has no data for, and names the hatching in the legend', () => {
    // columns 1 and 2 unknown (not idle: an idle column is present with no counts), and 4–5 after the data
    const svg = renderHeatmapSvg([COLUMNS[0]!, COLUMNS[3]!], view({ toMs: START + 6000, widthCss: 1200 }));
    const root = parseXml(svg);
    const bands = all(root, (e) => e.attributes.class === 'missing')[0]!.children;
    const plotRect = all(root, (e) => e.attributes.class === 'plot')[0]!.attributes;
    const x = (k: number): number => Number(plotRect.x) + (k / 6) * Number(plotRect.width);
    expect(bands.map((b) => [Number(b.attributes.x), Number(b.attributes.x) + Number(b.attributes.width)])).toEqual([
      [expect.closeTo(x(1), 1), expect.closeTo(x(3), 1)],
      [expect.closeTo(x(4), 1), expect.closeTo(x(6), 1)],
    ]);
    expect(bands.every((b) => b.attributes.fill === 'url(#bpfheat-hatch)')).toBe(true);
    expect(all(root, (e) => e.name === 'text').some((t) => t.text === 'no data')).toBe(true);
    // every column present: nothing hatched
    expect(all(parseXml(renderHeatmapSvg(COLUMNS, view())), (e) => e.attributes.class === 'missing')[0]!.children).toEqual([]);
  });

  it('is a well-formed standalone SVG with title, axes and legend, and no external references', () => {
    const svg = renderHeatmapSvg(COLUMNS, view());
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg).not.toMatch(/<style|<link|@import|@font-face|href=|url\((?!#)/);
    const title = all(root, (e) => e.name === 'title')[0]!;
    expect(title.text).toContain('box <1>');
    expect(title.text).toContain('SYNTHETIC');
    expect(title.text).toContain('2025-11-25 13:20:00 – 2025-11-25 13:20:04 UTC');
    expect(all(root, (e) => e.attributes.class === 'axis axis-x')).toHaveLength(1);
    expect(all(root, (e) => e.attributes.class === 'axis axis-y')).toHaveLength(1);
    const legend = all(root, (e) => e.attributes.class === 'legend');
    expect(legend).toHaveLength(1);
    expect(all(legend[0]!, (e) => e.attributes.class === 'legend-clamped')).toHaveLength(1);
    expect(all(legend[0]!, (e) => e.attributes.class === 'legend-empty')).toHaveLength(1);
    const yLabels = all(root, (e) => e.attributes.class === 'axis axis-y')[0]!.children.filter((e) => e.name === 'text').map((e) => e.text);
    expect(yLabels).toContain('100 µs');
  });

  it('has exactly one cell per non-empty (column, slot) pair of the filter, with its count', () => {
    const root = parseXml(renderHeatmapSvg(COLUMNS, view()));
    const cells = all(root, (e) => e.name === 'rect' && (e.attributes.class ?? '').split(' ').includes('cell'));
    const pairs = cells.map((c) => `${Number(c.attributes['data-seq']) - START / 1000}:${c.attributes['data-slot']}=${c.attributes['data-count']}`).sort();
    expect(pairs).toEqual([`0:${FAST}=15`, `0:${SLOW}=1`, `2:${FAST}=20`, `3:${SLOW}=2`].sort());
  });

  it('filters by device and op, and by metric', () => {
    const reads = parseXml(renderHeatmapSvg(COLUMNS, view({ filter: { metric: 'latency', ops: ['read'] } })));
    expect(all(reads, (e) => e.attributes.class === 'cell').map((c) => c.attributes['data-count'])).toEqual(['10', '1', '20']);
    const device1 = parseXml(renderHeatmapSvg(COLUMNS, view({ filter: { metric: 'latency', devices: [1] } })));
    expect(all(device1, (e) => e.attributes.class === 'cell').map((c) => c.attributes['data-count'])).toEqual(['2']);
    const sizes = parseXml(renderHeatmapSvg(COLUMNS, view({ filter: { metric: 'size' } })));
    expect(all(sizes, (e) => e.attributes.class === 'cell').map((c) => c.attributes['data-slot'])).toEqual([String(slotOf(4096))]);
  });

  it('leaves out cells outside the time and latency range', () => {
    const root = parseXml(renderHeatmapSvg(COLUMNS, view({ fromMs: START + 1000, yRange: [10_000, 1_000_000] })));
    expect(all(root, (e) => e.attributes.class === 'cell').map((c) => `${c.attributes['data-slot']}=${c.attributes['data-count']}`)).toEqual([`${FAST}=20`]);
  });

  it('colours known counts on a linear scale whose maximum is the 99th percentile', () => {
    const root = parseXml(renderHeatmapSvg(COLUMNS, view({ colorQuantile: 0.5 })));
    const fill = (seq: number, slot: number): string =>
      all(root, (e) => e.attributes['data-seq'] === String(START / 1000 + seq) && e.attributes['data-slot'] === String(slot))[0]!.attributes.fill!;
    // values 15, 1, 20, 2: the median (nearest rank) is 2, so 15 and 20 are clamped and 2 is the top of the ramp.
    expect(fill(0, FAST)).toBe(CLAMPED_COLOR);
    expect(fill(2, FAST)).toBe(CLAMPED_COLOR);
    expect(fill(3, SLOW)).toBe(RAMP[RAMP.length - 1]);
    expect(fill(0, SLOW)).toBe(LEVEL_COLORS[Math.round(0.5 * 255)]);
    expect(all(root, (e) => (e.attributes.class ?? '').includes('clamped') && e.attributes.class !== 'legend-clamped')).toHaveLength(2);
  });

  it('draws a percentile line per quantile through the bucket bucket math predicts', () => {
    const root = parseXml(renderHeatmapSvg(COLUMNS, view({ yRange: [1000, 1e9] })));
    const paths = all(root, (e) => e.attributes.class === 'percentile');
    expect(paths.map((p) => p.attributes['data-percentile'])).toEqual(['p50', 'p99', 'max']);
    const cellY = (seq: number, slot: number): number => {
      const cell = all(root, (e) => e.attributes['data-seq'] === String(START / 1000 + seq) && e.attributes['data-slot'] === String(slot))[0]!;
      return Number(cell.attributes.y) + Number(cell.attributes.height) / 2;
    };
    const firstY = (d: string): number => Number(/^M[\d.]+ ([\d.]+)/.exec(d)![1]);
    // column 0 holds 15 fast and 1 slow: p50 (rank 8 of 16) is fast, p99 (rank 16) and max are slow.
    expect(firstY(paths[0]!.attributes.d!)).toBeCloseTo(cellY(0, FAST), 1);
    expect(firstY(paths[1]!.attributes.d!)).toBeCloseTo(cellY(0, SLOW), 1);
    expect(firstY(paths[2]!.attributes.d!)).toBeCloseTo(cellY(0, SLOW), 1);
    expect(renderHeatmapSvg(COLUMNS, view({ percentiles: false }))).not.toContain('class="percentile"');
  });

  it('is well-formed with no columns at all', () => {
    const root = parseXml(renderHeatmapSvg([], view()));
    expect(all(root, (e) => e.attributes.class === 'cell')).toHaveLength(0);
  });
});
