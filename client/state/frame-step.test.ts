import { describe, expect, it } from 'vitest';
import { endsFirstLoad, frameStep, panelStep, stepWhileTimeLeft, type FrameProgress, type FrameStep, type PanelProgress, type PanelStep, type StepCall } from './frame-step.ts';

const budget = { drawAfterWords: 20_000, drawAfterCells: 64, firstLoadStepMs: 40 };

describe('frameStep', () => {
  const cases: [string, FrameProgress, FrameStep][] = [
    ['nothing arriving, nothing to sum: draw', { installed: 0, arrivingLeft: 0 }, 'draw'],
    ['a slice added, more to come: only that', { installed: 300, arrivingLeft: 1 }, 'install'],
    ['the last slice added: on to drawing', { installed: 120, arrivingLeft: 0 }, 'draw'],
    ['a slice added, more to come, in the first load, time left: another slice', { installed: 300, arrivingLeft: 1, firstLoad: true, elapsedMs: 12 }, 'install-more'],
    ['slices to add in the first load, its time used: the rest in the next frame', { installed: 300, arrivingLeft: 1, firstLoad: true, elapsedMs: 40 }, 'install'],
    ['the last slice added in the first load: on to drawing', { installed: 300, arrivingLeft: 0, firstLoad: true, elapsedMs: 12 }, 'draw'],
    ['a view drawn whole before (a zoom): one slice a frame, however early', { installed: 300, arrivingLeft: 1, firstLoad: false, elapsedMs: 1 }, 'install'],
    ['first load, nothing added (no meta yet): on to drawing', { installed: 0, arrivingLeft: 2, firstLoad: true, elapsedMs: 1 }, 'draw'],
    ['nothing added though answers wait (no meta yet): on to drawing', { installed: 0, arrivingLeft: 2 }, 'draw'],
    ['groups left to sum', { installed: 0, arrivingLeft: 0, summed: { done: false, amount: 300_000 } }, 'sum'],
    ['all summed, but many words this frame: draw in the next', { installed: 0, arrivingLeft: 0, summed: { done: true, amount: 20_001 } }, 'sum'],
    ['all summed, few words this frame: on', { installed: 0, arrivingLeft: 0, summed: { done: true, amount: 20_000 } }, 'draw'],
    ['no canvas: nothing summed, draw', { installed: 0, arrivingLeft: 0, summed: null, cells: null }, 'draw'],
    ['cells left to take', { installed: 0, arrivingLeft: 0, summed: { done: true, amount: 0 }, cells: { done: false, amount: 600 } }, 'take-cells'],
    ['all cells taken, many this frame: draw in the next', { installed: 0, arrivingLeft: 0, summed: { done: true, amount: 0 }, cells: { done: true, amount: 65 } }, 'take-cells'],
    ['all cells taken, a scroll\'s few this frame: draw', { installed: 0, arrivingLeft: 0, summed: { done: true, amount: 400 }, cells: { done: true, amount: 2 } }, 'draw'],
    ['installing comes before summing', { installed: 300, arrivingLeft: 1, summed: { done: false, amount: 1 } }, 'install'],
    ['groups left to sum in the first load, time left: sum on', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: false, amount: 300_000 } }, 'sum-more'],
    ['groups left to sum in the first load, its time used: the rest in the next frame', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 40, summed: { done: false, amount: 300_000 } }, 'sum'],
    ['all summed in the first load, many words this frame: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, amount: 300_000 } }, 'sum'],
    ['a view drawn whole before: one budget of groups a frame', { installed: 0, arrivingLeft: 0, firstLoad: false, elapsedMs: 1, summed: { done: false, amount: 300_000 } }, 'sum'],
    ['cells left to take in the first load, time left: take on', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, amount: 0 }, cells: { done: false, amount: 600 } }, 'take-cells-more'],
    ['cells left to take in the first load, its time used: the rest in the next frame', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 40, summed: { done: true, amount: 0 }, cells: { done: false, amount: 600 } }, 'take-cells'],
    ['all cells taken in the first load, many this frame: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, amount: 0 }, cells: { done: true, amount: 600 } }, 'take-cells'],
    ['all summed in the first load, a few words, its time used: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 41, summed: { done: true, amount: 400 } }, 'sum'],
    ['all cells taken in the first load, a few, its time used: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 41, summed: { done: true, amount: 0 }, cells: { done: true, amount: 2 } }, 'take-cells'],
    ['the first load, its time used by slices, nothing to sum or take: draw', { installed: 120, arrivingLeft: 0, firstLoad: true, elapsedMs: 45, summed: { done: true, amount: 0 }, cells: { done: true, amount: 0 } }, 'draw'],
    ['a view drawn whole before, a frame long over its time, a few words: draw', { installed: 0, arrivingLeft: 0, firstLoad: false, elapsedMs: 45, summed: { done: true, amount: 400 } }, 'draw'],
    ['summing comes before cells', { installed: 0, arrivingLeft: 0, summed: { done: false, amount: 1 }, cells: { done: false, amount: 1 } }, 'sum'],
  ];
  it.each(cases)('%s', (_, progress, step) => {
    expect(frameStep(progress, budget)).toBe(step);
  });
});

describe('stepWhileTimeLeft', () => {
  /** A frame's summing, 20,000 words a call, each call `msPerCall` of a fake clock, until `words` are summed. */
  function summing(words: number, msPerCall: number, firstLoad: boolean) {
    let clockMs = 0;
    let left = words;
    const calls: number[] = [];
    const run = (callsBefore: number): StepCall => {
      calls.push(callsBefore);
      clockMs += msPerCall;
      const amount = Math.min(left, 20_000);
      left -= amount;
      return { done: left === 0, amount };
    };
    const step = stepWhileTimeLeft(run, (summed) => frameStep({ installed: 0, arrivingLeft: 0, firstLoad, elapsedMs: clockMs, summed }, budget));
    return { step, calls, left };
  }

  it('in the first load sums until all are summed, then paints in the next frame: its last call was small, the frame was not', () => {
    // the reviewer's case: 67 calls, 1.36 M words, the last call 13,600
    const { step, calls, left } = summing(1_333_600, 0.5, true);
    expect(left).toBe(0);
    expect(calls).toHaveLength(67);
    expect(calls.slice(0, 3)).toEqual([0, 1, 2]);
    expect(step).toBe('sum');
  });

  it('in the first load stops once its time is used, the rest in the next frame', () => {
    const { step, calls, left } = summing(1_333_600, 2, true);
    expect(calls).toHaveLength(20);
    expect(left).toBe(1_333_600 - 20 * 20_000);
    expect(step).toBe('sum');
  });

  it('in the first load, a frame that summed little in time paints', () => {
    expect(summing(13_600, 0.5, true).step).toBe('draw');
  });

  it('once a view was drawn whole: one call a frame', () => {
    const { step, calls } = summing(1_333_600, 0.5, false);
    expect(calls).toEqual([0]);
    expect(step).toBe('sum');
  });

  it('nothing to run (no canvas): draws', () => {
    expect(stepWhileTimeLeft(() => null, (summed) => frameStep({ installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 1, summed }, budget))).toBe('draw');
  });
});

describe('endsFirstLoad', () => {
  const cases: [string, Parameters<typeof endsFirstLoad>[0], boolean][] = [
    ['a view drawn whole', { missingStretches: 0, caughtUp: false, historyLoading: true }, true],
    ['missing stretches during the backfill', { missingStretches: 2, caughtUp: false, historyLoading: false }, false],
    ['missing stretches, live, history asked for', { missingStretches: 1, caughtUp: true, historyLoading: true }, false],
    ['a 7-d view of a server holding an hour: live, its history settled, the older part never comes', { missingStretches: 1, caughtUp: true, historyLoading: false }, true],
  ];
  it.each(cases)('%s', (_, drawn, ends) => {
    expect(endsFirstLoad(drawn)).toBe(ends);
  });
});

describe('panelStep', () => {
  const base: PanelProgress = { changed: true, sameView: true, completed: false, sinceMs: 300, drawnNow: false, timerPending: false };
  const cases: [string, Partial<PanelProgress>, PanelStep][] = [
    ['the frame the panels show: nothing to do', { changed: false }, { take: true }],
    ['a moving view, 250 ms after the last: taken', {}, { take: true }],
    ['a moving view 100 ms after the last: a timer for the rest', { sinceMs: 100 }, { take: false, timerMs: 150 }],
    ['... with its timer pending: kept', { sinceMs: 100, timerPending: true }, { take: false, timerMs: null }],
    ['a moving view drawn in this task, due: in a task of their own', { drawnNow: true }, { take: false, timerMs: 0 }],
    ['a view changed (a zoom, a filter): at once', { sameView: false, sinceMs: 10 }, { take: true }],
    ['a view changed, drawn in this task: the next task', { sameView: false, sinceMs: 10, drawnNow: true }, { take: false, timerMs: 0 }],
    ["a view changed, drawn in this task, a moving view's timer pending: replaced by one at 0", { sameView: false, sinceMs: 10, drawnNow: true, timerPending: true }, { take: false, timerMs: 0 }],
    ['a moving view completed (its last missing history in) 10 ms after the last, drawn in this task: the next task', { completed: true, sinceMs: 10, drawnNow: true }, { take: false, timerMs: 0 }],
    ['a moving view completed 10 ms after the last, not drawn now: at once', { completed: true, sinceMs: 10 }, { take: true }],
    ["a moving view completed, drawn in this task, a moving view's timer pending: replaced by one at 0", { completed: true, sinceMs: 10, drawnNow: true, timerPending: true }, { take: false, timerMs: 0 }],
    ["a view changed, not drawn now, a moving view's timer pending: at once", { sameView: false, sinceMs: 10, timerPending: true }, { take: true }],
  ];
  it.each(cases)('%s', (_, progress, step) => {
    expect(panelStep({ ...base, ...progress }, 250)).toEqual(step);
  });
});
