/**
 * React's renders of the page, counted for the tests and the benchmark: a frame that only moved
 * time must add none (client/state/overlay.ts). Counted in the heat-map panel, which renders
 * with every snapshot published (App renders it) and with its own hover.
 */
export const renders = { count: 0 };

/** Called in the heat-map panel's render. */
export function countRender(): void {
  renders.count++;
}
