/**
 * User-timing marks (performance.mark) of the frames that paint the heat map, of those that paint
 * part of a new picture (painted over several frames), and of those that give the side panels a
 * new frame: the benchmark (bench/client-draw.ts) tells the kinds of frame apart in Chromium's
 * trace by them, and times a zoom to the frame that paints it. The two marks of painting frames
 * carry the device pixels the frame painted (`detail.paintedPx`), which the benchmark collects
 * with a PerformanceObserver (markFrame clears them from the timeline).
 */
export const DRAW_MARK = 'bpfheat:draw';
export const DRAW_PART_MARK = 'bpfheat:draw-part';
export const PANELS_MARK = 'bpfheat:panels';

/**
 * Marks a frame: the mark goes into the trace and to PerformanceObservers as it is made, and is
 * then cleared from the performance timeline, which would otherwise keep one for every frame
 * drawn for as long as the page is open.
 */
export function markFrame(name: string, detail?: { readonly paintedPx: number }): void {
  performance.mark(name, detail && { detail });
  performance.clearMarks(name);
}
