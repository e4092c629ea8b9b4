import { describe, expect, it } from 'vitest';
import { timeAxisTicks, type RectCss } from '../../shared/view.ts';
import { anchorTicks, type AnchoredTicks } from './scrolling-ticks.ts';

const plot: RectCss = { x: 60, y: 20, width: 1100, height: 500 };
const SPAN_MS = 3_600_000;
const START_MS = Date.UTC(2026, 0, 5, 10, 0, 7, 250);

function ticksAt(fromMs: number) {
  return timeAxisTicks({ fromMs, toMs: fromMs + SPAN_MS, utcOffsetMin: 0 }, plot);
}

describe('anchorTicks', () => {
  it.each([0, 1, 250, 1000, 7_000, 59_000])('a view scrolled by %i ms puts every kept tick where a fresh placement has it', (scrolledMs) => {
    const first = anchorTicks(null, START_MS, START_MS + SPAN_MS, plot, ticksAt(START_MS));
    expect(first.dx).toBe(0);
    const fromMs = START_MS + scrolledMs;
    const fresh = ticksAt(fromMs);
    const { anchored, dx } = anchorTicks(first.anchored, fromMs, fromMs + SPAN_MS, plot, fresh);
    // the same set of ticks: the kept placement is rendered, moved by dx
    expect(anchored).toBe(first.anchored);
    expect(anchored.ticks.map((t) => t.value)).toEqual(fresh.map((t) => t.value));
    anchored.ticks.forEach((t, k) => expect(t.px + dx).toBeCloseTo(fresh[k]!.px, 6));
  });

  it('places the ticks afresh when another set comes into view, or the scale changes', () => {
    const first = anchorTicks(null, START_MS, START_MS + SPAN_MS, plot, ticksAt(START_MS));
    const later = START_MS + 10 * 60_000;
    const moved = anchorTicks(first.anchored, later, later + SPAN_MS, plot, ticksAt(later));
    expect(moved.anchored).not.toBe(first.anchored);
    expect(moved.dx).toBe(0);
    const wider: RectCss = { ...plot, width: 1400 };
    const resized = anchorTicks(first.anchored, START_MS, START_MS + SPAN_MS, wider, timeAxisTicks({ fromMs: START_MS, toMs: START_MS + SPAN_MS, utcOffsetMin: 0 }, wider));
    expect(resized.anchored).not.toBe(first.anchored);
  });

  it('a view scrolled over many frames, anchored each frame on the last, stays on the fresh placement', () => {
    let kept: AnchoredTicks | null = null;
    for (let frame = 0; frame < 600; frame++) {
      const fromMs = START_MS + frame * 1000;
      const fresh = ticksAt(fromMs);
      const { anchored, dx } = anchorTicks(kept, fromMs, fromMs + SPAN_MS, plot, fresh);
      anchored.ticks.forEach((t, k) => expect(t.px + dx).toBeCloseTo(fresh[k]!.px, 6));
      kept = anchored;
    }
  });
});
