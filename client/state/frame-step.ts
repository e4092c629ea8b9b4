/**
 * What one animation frame does while a view needs more work than a frame should hold (a zoom
 * that changes the level, a history answer being added): one step a frame, then the picture.
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
 * A frame that did a large step does not also paint: it draws in the next frame. Steps not yet
 * run in the frame are left out (undefined): the answer is then what is known so far.
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
  readonly summed?: { readonly done: boolean; readonly words: number } | null;
  /** the taking of the groups' cells in this frame: finished or not, and the groups it took */
  readonly cells?: { readonly done: boolean; readonly taken: number } | null;
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
  if (installed > 0 && arrivingLeft > 0) return timeLeft ? 'install-more' : 'install';
  if (summed && !summed.done) return timeLeft ? 'sum-more' : 'sum';
  if (summed && summed.words > budget.drawAfterWords) return 'sum';
  if (cells && !cells.done) return timeLeft ? 'take-cells-more' : 'take-cells';
  if (cells && cells.taken > budget.drawAfterCells) return 'take-cells';
  return 'draw';
}

/**
 * Whether the side panels take this frame, and if not, when to look again: they follow a moving
 * view (only time moved) every `everyMs`, any other change at once, and never in the task that
 * drew the frame (they come in a frame of their own). `timerMs`: set the timer to this (replacing
 * a pending one), or null: keep the pending one.
 */
export type PanelStep = { readonly take: true } | { readonly take: false; readonly timerMs: number | null };

export interface PanelProgress {
  /** the frame is not the one the panels show */
  readonly changed: boolean;
  /** only time moved since the panels' frame: the same state and filter */
  readonly sameView: boolean;
  /** ms since the panels took a frame */
  readonly sinceMs: number;
  /** the frame was drawn in this task */
  readonly drawnNow: boolean;
  /** a timer to look again is pending */
  readonly timerPending: boolean;
}

export function panelStep(progress: PanelProgress, everyMs: number): PanelStep {
  const wait = progress.sameView ? everyMs - progress.sinceMs : 0;
  if (!progress.changed || (wait <= 0 && !progress.drawnNow)) return { take: true };
  // a view changed (wait 0) does not wait for the timer of a moving one
  if (progress.timerPending && wait > 0) return { take: false, timerMs: null };
  return { take: false, timerMs: Math.max(0, wait) };
}
