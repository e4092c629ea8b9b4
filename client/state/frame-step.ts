/**
 * What one animation frame does while a view needs more work than a frame should hold (a zoom
 * that changes the level, a history answer being added): one step a frame (in the page's first
 * load, as many as its time allows), then the picture.
 *
 *   install       a slice of a history answer was added and more are to come: nothing else (the
 *                 last picture stays)
 *   install-more  the same, but in the page's first load (no view drawn whole yet): there is no
 *                 picture to keep smooth, so the frame adds another slice until its time is used
 *                 (a week's ~34 slices at one a frame took ~0.7 s longer)
 *   sum           the view's new groups are being summed (GroupCache.prepare, over frames)
 *   sum-more      the same, in the page's first load with time left: the frame sums on (a
 *                 loaded week's took 12 frames of 1–2 ms work each, ~0.2 s mostly waiting for vsync)
 *   take-cells    the new groups' cells are being taken (HeatmapRenderer.prepareCells, over frames)
 *   take-cells-more  the same, in the page's first load with time left: the frame takes more
 *   draw          the picture is painted and published
 *
 * A frame that did a large step does not also paint: it draws in the next frame. "Large" is of
 * the frame's totals (every call of the step in it, stepWhileTimeLeft), and in the first load
 * also a step that ran once the frame's time was used. Steps not yet run in the frame are left
 * out (undefined): the answer is then what is known so far.
 */
export type FrameStep = 'install' | 'install-more' | 'sum' | 'sum-more' | 'take-cells' | 'take-cells-more' | 'draw';

export interface FrameProgress {
  /** columns of history answers added in this frame */
  readonly installed: number;
  /** history answers still to be added in the next frames */
  readonly arrivingLeft: number;
  /** the page's first load: no view drawn whole yet, so no picture to keep smooth (left out: not) */
  readonly firstLoad?: boolean;
  /** ms this frame has run so far */
  readonly elapsedMs?: number;
  /** the summing of the view's groups in this frame: finished or not, and the words it summed */
  readonly summed?: StepCall | null;
  /** the taking of the groups' cells in this frame: finished or not, and the groups it took */
  readonly cells?: StepCall | null;
}

export interface FrameBudget {
  /** words a frame may sum and still paint */
  readonly drawAfterWords: number;
  /** groups whose cells a frame may take and still paint */
  readonly drawAfterCells: number;
  /** ms a frame may spend on steps (adding slices of history, summing groups, taking cells) in the page's first load */
  readonly firstLoadStepMs: number;
}

export function frameStep(progress: FrameProgress, budget: FrameBudget): FrameStep {
  const { installed, arrivingLeft, firstLoad = false, elapsedMs = Infinity, summed, cells } = progress;
  const timeLeft = firstLoad && elapsedMs < budget.firstLoadStepMs;
  // in the first load, a frame whose time is used paints in the next, whatever step used it
  const timeUsed = firstLoad && !timeLeft;
  if (installed > 0 && arrivingLeft > 0) return timeLeft ? 'install-more' : 'install';
  if (summed && (!summed.done || summed.amount > budget.drawAfterWords || (timeUsed && summed.amount > 0))) return summed.done ? 'sum' : more('sum', timeLeft);
  if (cells && (!cells.done || cells.amount > budget.drawAfterCells || (timeUsed && cells.amount > 0))) return cells.done ? 'take-cells' : more('take-cells', timeLeft);
  return 'draw';
}

function more(step: 'sum' | 'take-cells', timeLeft: boolean): FrameStep {
  if (!timeLeft) return step;
  return step === 'sum' ? 'sum-more' : 'take-cells-more';
}

/** One call of a step that runs over frames: whether all of it is done, and how much this call did (words summed, groups whose cells were taken). */
export interface StepCall {
  readonly done: boolean;
  readonly amount: number;
}

/**
 * Runs a step (`run`, given how many calls came before it in this frame) as long as the frame
 * has time for more of it (frameStep's sum-more, take-cells-more), and returns frameStep's answer
 * for the frame. `stepOf` is given the frame's totals, not the last call's: a frame that summed
 * many budgets must not pass as one that summed a last small one, and go on to paint. `run`
 * returns null when there is nothing to run it on (no canvas).
 */
export function stepWhileTimeLeft(run: (callsBefore: number) => StepCall | null, stepOf: (frameTotal: StepCall | null) => FrameStep): FrameStep {
  let amount = 0;
  let calls = 0;
  let step: FrameStep;
  do {
    const call = run(calls++);
    amount += call?.amount ?? 0;
    step = stepOf(call && { done: call.done, amount });
  } while (step === 'sum-more' || step === 'take-cells-more');
  return step;
}

/**
 * Whether a frame drawn in the page's first load ends it: its view is whole, or the history it
 * can have has settled (the page is live or the recording ended, nothing is asked for or waits
 * to be added). The second is what ends it for a view with stretches that never arrive: older
 * than the server's history, an outage. Such a view in a first load that never ended painted
 * every picture and recolouring whole in one frame, for the life of the page.
 */
export function endsFirstLoad(drawn: { readonly missingStretches: number; readonly caughtUp: boolean; readonly historyLoading: boolean }): boolean {
  return drawn.missingStretches === 0 || (drawn.caughtUp && !drawn.historyLoading);
}

/**
 * Whether the side panels take this frame, and if not, when to look again: they follow a moving
 * view (only time moved) every `everyMs`, any other change (and a view completed) at once, and never in the task that
 * drew the frame (they come in a frame of their own). `timerMs`: set the timer to this (replacing
 * a pending one), or null: keep the pending one.
 */
export type PanelStep = { readonly take: true } | { readonly take: false; readonly timerMs: number | null };

export interface PanelProgress {
  /** the frame is not the one the panels show */
  readonly changed: boolean;
  /** only time moved since the panels' frame: the same state and filter */
  readonly sameView: boolean;
  /** the frame completes the panels' view: the last of its missing history came in (their numbers were of part of it) */
  readonly completed: boolean;
  /** ms since the panels took a frame */
  readonly sinceMs: number;
  /** the frame was drawn in this task */
  readonly drawnNow: boolean;
  /** a timer to look again is pending */
  readonly timerPending: boolean;
}

export function panelStep(progress: PanelProgress, everyMs: number): PanelStep {
  const wait = progress.sameView && !progress.completed ? everyMs - progress.sinceMs : 0;
  if (!progress.changed || (wait <= 0 && !progress.drawnNow)) return { take: true };
  // a view changed (wait 0) does not wait for the timer of a moving one
  if (progress.timerPending && wait > 0) return { take: false, timerMs: null };
  return { take: false, timerMs: Math.max(0, wait) };
}
