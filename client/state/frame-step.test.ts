import { describe, expect, it } from 'vitest';
import { frameStep, panelStep, type FrameProgress, type FrameStep, type PanelProgress, type PanelStep } from './frame-step.ts';

const budget = { drawAfterWords: 20_000, drawAfterCells: 64, firstLoadStepMs: 40 };

describe('frameStep', () => {
  const cases: [string, FrameProgress, FrameStep][] = [
    ['nothing arriving, nothing to sum: draw', { installed: 0, arrivingLeft: 0 }, 'draw'],
    ['a slice added, more to come: only that', { installed: 300, arrivingLeft: 1 }, 'install'],
    ['the last slice added: on to drawing', { installed: 120, arrivingLeft: 0 }, 'draw'],
    ['a slice added, more to come, in the first load, time left: another slice', { installed: 300, arrivingLeft: 1, firstLoad: true, elapsedMs: 12 }, 'install-more'],
    ['... its time used: the next frame', { installed: 300, arrivingLeft: 1, firstLoad: true, elapsedMs: 40 }, 'install'],
    ['... the last slice added: on to drawing', { installed: 300, arrivingLeft: 0, firstLoad: true, elapsedMs: 12 }, 'draw'],
    ['a view drawn whole before (a zoom): one slice a frame, however early', { installed: 300, arrivingLeft: 1, firstLoad: false, elapsedMs: 1 }, 'install'],
    ['first load, nothing added (no meta yet): on to drawing', { installed: 0, arrivingLeft: 2, firstLoad: true, elapsedMs: 1 }, 'draw'],
    ['nothing added though answers wait (no meta yet): on to drawing', { installed: 0, arrivingLeft: 2 }, 'draw'],
    ['groups left to sum', { installed: 0, arrivingLeft: 0, summed: { done: false, words: 300_000 } }, 'sum'],
    ['all summed, but many words this frame: draw in the next', { installed: 0, arrivingLeft: 0, summed: { done: true, words: 20_001 } }, 'sum'],
    ['all summed, few words this frame: on', { installed: 0, arrivingLeft: 0, summed: { done: true, words: 20_000 } }, 'draw'],
    ['no canvas: nothing summed, draw', { installed: 0, arrivingLeft: 0, summed: null, cells: null }, 'draw'],
    ['cells left to take', { installed: 0, arrivingLeft: 0, summed: { done: true, words: 0 }, cells: { done: false, taken: 600 } }, 'take-cells'],
    ['all cells taken, many this frame: draw in the next', { installed: 0, arrivingLeft: 0, summed: { done: true, words: 0 }, cells: { done: true, taken: 65 } }, 'take-cells'],
    ['all cells taken, a scroll\'s few this frame: draw', { installed: 0, arrivingLeft: 0, summed: { done: true, words: 400 }, cells: { done: true, taken: 2 } }, 'draw'],
    ['installing comes before summing', { installed: 300, arrivingLeft: 1, summed: { done: false, words: 1 } }, 'install'],
    ['groups left to sum in the first load, time left: sum on', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: false, words: 300_000 } }, 'sum-more'],
    ['... its time used: the next frame', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 40, summed: { done: false, words: 300_000 } }, 'sum'],
    ['... all summed, many words this frame: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, words: 300_000 } }, 'sum'],
    ['a view drawn whole before: one budget of groups a frame', { installed: 0, arrivingLeft: 0, firstLoad: false, elapsedMs: 1, summed: { done: false, words: 300_000 } }, 'sum'],
    ['cells left to take in the first load, time left: take on', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, words: 0 }, cells: { done: false, taken: 600 } }, 'take-cells-more'],
    ['... its time used: the next frame', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 40, summed: { done: true, words: 0 }, cells: { done: false, taken: 600 } }, 'take-cells'],
    ['... all taken, many this frame: draw in the next', { installed: 0, arrivingLeft: 0, firstLoad: true, elapsedMs: 5, summed: { done: true, words: 0 }, cells: { done: true, taken: 600 } }, 'take-cells'],
    ['summing comes before cells', { installed: 0, arrivingLeft: 0, summed: { done: false, words: 1 }, cells: { done: false, taken: 1 } }, 'sum'],
  ];
  it.each(cases)('%s', (_, progress, step) => {
    expect(frameStep(progress, budget)).toBe(step);
  });
});

describe('panelStep', () => {
  const base: PanelProgress = { changed: true, sameView: true, sinceMs: 300, drawnNow: false, timerPending: false };
  const cases: [string, Partial<PanelProgress>, PanelStep][] = [
    ['the frame the panels show: nothing to do', { changed: false }, { take: true }],
    ['a moving view, 250 ms after the last: taken', {}, { take: true }],
    ['a moving view 100 ms after the last: a timer for the rest', { sinceMs: 100 }, { take: false, timerMs: 150 }],
    ['... with its timer pending: kept', { sinceMs: 100, timerPending: true }, { take: false, timerMs: null }],
    ['a moving view drawn in this task, due: in a task of their own', { drawnNow: true }, { take: false, timerMs: 0 }],
    ['a view changed (a zoom, a filter): at once', { sameView: false, sinceMs: 10 }, { take: true }],
    ['a view changed, drawn in this task: the next task', { sameView: false, sinceMs: 10, drawnNow: true }, { take: false, timerMs: 0 }],
    ["a view changed, drawn in this task, a moving view's timer pending: replaced by one at 0", { sameView: false, sinceMs: 10, drawnNow: true, timerPending: true }, { take: false, timerMs: 0 }],
    ["a view changed, not drawn now, a moving view's timer pending: at once", { sameView: false, sinceMs: 10, timerPending: true }, { take: true }],
  ];
  it.each(cases)('%s', (_, progress, step) => {
    expect(panelStep({ ...base, ...progress }, 250)).toEqual(step);
  });
});
