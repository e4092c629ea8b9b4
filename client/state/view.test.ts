import { describe, expect, it } from 'vitest';
import { allHostsSearch, DEFAULT_DISPLAY, DEFAULT_EXTENT, back, initialState, pause, reset, resume, setDisplay, stateFromUrl, stateToUrl, timeRange, urlChoosesExtent, wholePixels, zoomIn, zoomOut, zoomTo } from './view.ts';

const NOW = Date.UTC(2025, 10, 25, 13, 20, 0);

describe('zoom stack', () => {
  it('zooms into a past region as a fixed view, back returns, reset goes live', () => {
    const s0 = initialState();
    const s1 = zoomTo(s0, NOW - 200_000, NOW - 100_000, [1000, 50_000], NOW, 1000);
    expect(s1.extent).toEqual({ live: false, spanMs: 100_000, fromMs: NOW - 200_000, toMs: NOW - 100_000, yRange: [1000, 50_000] });
    const s2 = zoomTo(s1, NOW - 150_000, NOW - 140_000, [2000, 3000], NOW, 1000);
    expect(back(s2)).toEqual(s1);
    expect(back(back(s2))).toEqual(s0);
    expect(back(s0)).toBe(s0);
    expect(reset(s2)).toEqual({ ...s0, display: s2.display });
  });

  it('a zoom that reaches now keeps following it with its width', () => {
    const s = zoomTo(initialState(), NOW - 30_000, NOW - 200, [1000, 2000], NOW, 1000);
    expect(s.extent.live).toBe(true);
    expect(timeRange(s.extent, NOW + 5000, 0)).toEqual({ fromMs: NOW + 5000 - 29_800, toMs: NOW + 5000 });
  });

  it('pause freezes the shown range and resume follows again with the same width', () => {
    const paused = pause(initialState(), NOW - 300_000, NOW);
    expect(timeRange(paused.extent, NOW + 10_000, 0)).toEqual({ fromMs: NOW - 300_000, toMs: NOW });
    const resumed = resume(paused);
    expect(timeRange(resumed.extent, NOW + 10_000, 0)).toEqual({ fromMs: NOW + 10_000 - 300_000, toMs: NOW + 10_000 });
  });

  it('zoom out doubles the span around the middle, or to the left of now when live', () => {
    const fixed = zoomOut(pause(initialState(), 1000, 2000), 1000, 2000);
    expect([fixed.extent.fromMs, fixed.extent.toMs]).toEqual([500, 2500]);
    expect(zoomOut(initialState(), NOW - 300_000, NOW).extent.spanMs).toBe(600_000);
  });

  it('zoom in halves the span around the middle, and undoes a zoom out', () => {
    const fixed = pause(initialState(), 1000, 2000);
    const zin = zoomIn(fixed, 1000, 2000);
    expect([zin.extent.fromMs, zin.extent.toMs]).toEqual([1250, 1750]);
    const out = zoomOut(fixed, 1000, 2000);
    expect(zoomIn(out, out.extent.fromMs, out.extent.toMs).extent).toMatchObject({ fromMs: 1000, toMs: 2000 });
    expect(zoomIn(initialState(), NOW - 300_000, NOW).extent.spanMs).toBe(150_000);
  });

  it('changing the metric refits the y axis (ns are not bytes) and keeps the time ranges Back returns to', () => {
    const first = zoomTo(initialState(), NOW - 60_000, NOW - 1000, [1000, 2_000_000], NOW, 1000);
    const zoomed = zoomTo(first, NOW - 2000, NOW - 1000, [1, 2], NOW, 1000);
    const size = setDisplay(zoomed, { metric: 'size' });
    expect(size.extent).toEqual({ ...zoomed.extent, yRange: null });
    expect(size.stack).toEqual([DEFAULT_EXTENT, { ...first.extent, yRange: null }]);
    expect(back(size).extent).toEqual({ ...first.extent, yRange: null });
    expect(setDisplay(zoomed, { colorScale: 'log' }).extent).toBe(zoomed.extent);
  });
});

describe('URL state', () => {
  it.each([
    ['?host=nobody:1', ''],
    ['?token=abcdefghijklmnop&host=db1,db2&span=60', '?token=abcdefghijklmnop&span=60'],
    ['?span=60', '?span=60'],
  ])('the page on all hosts of %s is %s', (search, expected) => {
    expect(allHostsSearch(search)).toBe(expected);
  });

  it('the default view has an empty query', () => {
    expect(stateToUrl(initialState(), '')).toBe('');
    expect(stateFromUrl('')).toEqual(initialState(DEFAULT_EXTENT, DEFAULT_DISPLAY));
  });

  it('round-trips a fixed zoomed view with filters and scales, keeping the token', () => {
    const state = setDisplay(zoomTo(initialState(), NOW - 60_000, NOW - 30_000, [12_345, 6_789_012], NOW, 1000), {
      metric: 'latency',
      devices: ['nvme0n1', 'loop3'],
      ops: ['read', 'flush'],
      yScale: 'linear',
      colorScale: 'log',
      colorBy: 'time',
      percentiles: false,
      perSecond: true,
    });
    const search = stateToUrl(state, '?token=abcdefghijklmnop&from=1');
    expect(search).toContain('token=abcdefghijklmnop');
    expect(search).toContain('from=2025-11-25T13%3A19%3A00.000Z');
    const back = stateFromUrl(search);
    expect(back.extent).toEqual(state.extent);
    // a link to a zoom opens as one: Back leads to the live view
    expect(back.stack).toEqual([DEFAULT_EXTENT]);
    expect(back.display).toEqual(state.display);
  });

  it('a live view keeps its span, not a time', () => {
    const search = stateToUrl({ ...initialState(), extent: { ...DEFAULT_EXTENT, spanMs: 60_000 } }, '');
    expect(search).toBe('?span=60');
    expect(stateFromUrl(search).extent).toEqual({ ...DEFAULT_EXTENT, spanMs: 60_000 });
  });

  it.each([
    ['', false],
    ['?metric=size&dev=loop3', false],
    ['?span=60', true],
    ['?from=2025-11-25T13:20:05.000Z&to=2025-11-25T13:25:05.000Z', true],
    ['?from=2025-11-25T13:20:05.000Z', false],
  ])('a link %j chooses the time range: %s', (search, chooses) => {
    expect(urlChoosesExtent(search)).toBe(chooses);
  });

  it('ignores what it cannot read', () => {
    const s = stateFromUrl('?from=yesterday&to=2&ymin=-5&ymax=x&metric=iops&y=cubic&op=read,bogus&lines=1');
    expect(s.extent).toEqual(DEFAULT_EXTENT);
    expect(s.display).toEqual({ ...DEFAULT_DISPLAY, ops: ['read'] });
  });
});

describe('wholePixels', () => {
  it('ends a live view at a whole pixel of time, so that it moves by whole pixels; leaves a paused one', () => {
    const span = 3_600_000;
    const width = 1400;
    const msPerPixel = span / width;
    const frames = [0, 1000, 2000, 3000, 60_000].map((later) => wholePixels({ fromMs: NOW + later - span, toMs: NOW + later }, true, width));
    for (const [k, f] of frames.entries()) {
      expect(f.toMs - f.fromMs).toBeCloseTo(span, 6);
      expect(f.toMs).toBeLessThanOrEqual(NOW + [0, 1000, 2000, 3000, 60_000][k]!);
      expect(f.toMs).toBeGreaterThan(NOW + [0, 1000, 2000, 3000, 60_000][k]! - msPerPixel);
      const shift = ((f.fromMs - frames[0]!.fromMs) * width) / span;
      expect(Math.abs(shift - Math.round(shift)), `frame ${k} moved ${shift} px`).toBeLessThan(1e-6);
    }
    expect(wholePixels({ fromMs: 5, toMs: 1005 }, false, 300)).toEqual({ fromMs: 5, toMs: 1005 });
  });
});
