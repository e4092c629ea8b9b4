import { describe, expect, it } from 'vitest';
import { layoutOf, mapTo, timeAxisTicks, timeMap } from '../../shared/view.ts';
import { wholePixels } from './view.ts';
import { layerShiftCss, overlayKeyOf, placedTimeMap, rendersAnew, timeOriginMs, timeShiftCss, type OverlayFrame, type RenderedParts } from './overlay.ts';

const HOUR_MS = 3_600_000;
// 04:01:30: the ticks (every 10 minutes) fall inside, none at an edge
const START_MS = Date.UTC(2026, 11, 2, 4, 1, 30);
const layout = layoutOf(1280, 600, false);

/** A live hour's frame starting at fromMs: 1-s columns, the given runs missing. */
function frameAt(fromMs: number, change: Partial<OverlayFrame> = {}): OverlayFrame {
  return {
    id: fromMs,
    view: { fromMs, toMs: fromMs + HOUR_MS, utcOffsetMin: 0 },
    spanMs: HOUR_MS,
    yRange: [10, 30],
    layout,
    intervalMs: 1000,
    columns: { length: 3600 },
    geometry: { groupSize: 2, colorScale: { kind: 'log', min: 1, max: 40 } },
    missing: [],
    split: [],
    ...change,
  };
}

describe('overlayKeyOf', () => {
  const base = overlayKeyOf(frameAt(START_MS));
  it.each<[string, OverlayFrame, boolean]>([
    ['the view moved on by a second, the same ticks in view', frameAt(START_MS + 1000), true],
    ['the view moved on by a minute, the same ticks in view', frameAt(START_MS + 60_000), true],
    ['a band cut by the left edge, moved on with the view', frameAt(START_MS + 5000, { missing: [[START_MS / 1000 + 5, START_MS / 1000 + 99]] }), false],
    ['the tick at the left edge left the view', frameAt(START_MS + 9 * 60_000), false],
    ['a band appeared', frameAt(START_MS, { missing: [[START_MS / 1000 + 10, START_MS / 1000 + 12]] }), false],
    ['the legend scale rose', frameAt(START_MS, { geometry: { groupSize: 2, colorScale: { kind: 'log', min: 1, max: 41 } } }), false],
    ['wider cells', frameAt(START_MS, { geometry: { groupSize: 3, colorScale: { kind: 'log', min: 1, max: 40 } } }), false],
    ['another value range', frameAt(START_MS, { yRange: [10, 31] }), false],
    ['another span', frameAt(START_MS, { view: { fromMs: START_MS, toMs: START_MS + 2 * HOUR_MS, utcOffsetMin: 0 }, spanMs: 2 * HOUR_MS }), false],
    ['no columns in the range', frameAt(START_MS, { columns: { length: 0 } }), false],
    ['no picture attached', frameAt(START_MS, { geometry: null }), false],
  ])('%s: same key %s', (_, frame, same) => {
    expect(overlayKeyOf(frame) === base).toBe(same);
  });

  it('keys a band cut by the left edge by its end only, and any other band whole', () => {
    const firstSeq = START_MS / 1000;
    const cut = (fromMs: number, first: number) => overlayKeyOf(frameAt(fromMs, { missing: [[first, firstSeq + 99]] }));
    expect(cut(START_MS + 3000, firstSeq + 3)).toBe(cut(START_MS, firstSeq));
    expect(cut(START_MS, firstSeq + 3)).not.toBe(cut(START_MS, firstSeq + 4));
  });

  it('renders a split view with every frame, and no frame as one key', () => {
    const split = (id: number) => overlayKeyOf(frameAt(START_MS, { id, split: [{}] }));
    expect(split(1)).not.toBe(split(2));
    expect(overlayKeyOf(null)).toBe(overlayKeyOf(null));
    expect(overlayKeyOf(null)).not.toBe(base);
  });
});

describe('rendersAnew', () => {
  const parts: RenderedParts = { panel: {}, state: {}, connection: {}, meta: {}, loadingHistory: false, error: null, skipped: {}, ended: false, uncounted: null };
  it.each<[string, Partial<RenderedParts>, string, boolean]>([
    ['nothing changed', {}, 'k', false],
    ['the overlay changed', {}, 'k2', true],
    ['the side panels took a new frame', { panel: {} }, 'k', true],
    ['the view state changed', { state: {} }, 'k', true],
    ['the connection changed', { connection: {} }, 'k', true],
    ['history is being fetched', { loadingHistory: true }, 'k', true],
    ['an error', { error: 'no' }, 'k', true],
    ['the recording ended', { ended: true }, 'k', true],
  ])('%s: %s', (_, change, key, renders) => {
    expect(rendersAnew(parts, 'k', { ...parts, ...change }, key)).toBe(renders);
  });
});

describe('timeOriginMs', () => {
  it.each([
    // a live hour from 04:01:30 and from 04:59:59 is placed from 04:00; from 05:00, from 05:00
    [START_MS, START_MS + HOUR_MS, Date.UTC(2026, 11, 2, 4)],
    [Date.UTC(2026, 11, 2, 4, 59, 59), Date.UTC(2026, 11, 2, 5, 59, 59), Date.UTC(2026, 11, 2, 4)],
    [Date.UTC(2026, 11, 2, 5), Date.UTC(2026, 11, 2, 6), Date.UTC(2026, 11, 2, 5)],
    // a 30-s view: 30-s periods
    [45_000, 75_000, 30_000],
  ])('a view %d–%d is placed from %d', (fromMs, toMs, origin) => {
    expect(timeOriginMs(fromMs, toMs - fromMs)).toBe(origin);
  });

  it('keys the origin: a view that moved into the next period renders anew', () => {
    const lastOfPeriod = Date.UTC(2026, 11, 2, 4, 59, 59);
    expect(overlayKeyOf(frameAt(lastOfPeriod))).not.toBe(overlayKeyOf(frameAt(lastOfPeriod + 1000)));
  });
});

describe('timeShiftCss', () => {
  it.each([
    // placed for the view at 0, shown at a view a tenth of the span later: a tenth of the plot to the left
    [0, 360_000, HOUR_MS, 1000, -100],
    [360_000, 0, HOUR_MS, 1000, 100],
    [5000, 5000, HOUR_MS, 1000, 0],
  ])('placed at %d, shown at %d (span %d, %d px): %d px', (placed, from, span, width, dx) => {
    expect(timeShiftCss(placed, from, span, width)).toBeCloseTo(dx, 9);
  });
});

describe('placedTimeMap and layerShiftCss', () => {
  // A live view at 1,200 device px, as the model computes it (wholePixels): its end less its
  // start differs from the span in the last bits. Fractional spans are what `+` makes of an hour.
  const widthPx = layout.plot.width;
  const liveView = (spanMs: number, nowMs: number) => ({ ...wholePixels({ fromMs: nowMs - spanMs, toMs: nowMs }, true, widthPx), utcOffsetMin: 0 });
  it.each([
    ['an hour', HOUR_MS],
    ['an hour zoomed in 17 times', HOUR_MS / 2 ** 17],
    ['an hour zoomed in 18 times', HOUR_MS / 2 ** 18],
    ['a brushed 1,000.37 ms', 1000.37],
  ])('%s: a tick placed for one frame and moved by the layer shift sits where the frame shown puts its time', (_, spanMs) => {
    const placedView = liveView(spanMs, START_MS);
    const placed = { view: placedView, spanMs, layout };
    for (const pixels of [0, 1, 7, 300]) {
      const shown = liveView(spanMs, START_MS + (pixels * spanMs) / widthPx);
      const shownMap = timeMap(shown.fromMs, shown.toMs, layout.plot);
      const ticks = timeAxisTicks(placedView, layout.plot);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      for (const tick of ticks) {
        expect(mapTo(placedTimeMap(placed), tick.value) + layerShiftCss(placed, shown.fromMs)).toBeCloseTo(mapTo(shownMap, tick.value), 3);
      }
    }
  });

  it('keys two frames of a live view of a fractional span a pixel apart alike (its span, not its end less its start)', () => {
    const spanMs = HOUR_MS / 2 ** 17;
    const key = (pixels: number) => overlayKeyOf(frameAt(0, { view: liveView(spanMs, START_MS + (pixels * spanMs) / widthPx), spanMs }));
    expect(key(1)).toBe(key(2));
  });
});
