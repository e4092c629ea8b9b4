/**
 * A read-only window onto the model for end-to-end tests (Perfetto-style): an explicit ready and
 * idle flag to wait on, and where the last frame put each cell and line, so a test can sample
 * the picture's pixels at known cells. Nothing here changes the model.
 */
import type { AppModel } from './state/model.ts';
import { histogramOf } from '../shared/column.ts';
import { cellRectPx, drawnGroupOfSeq, lineCenterPx } from './render/heatmap.ts';
import type { ColorScale, PercentileKey } from '../shared/view.ts';
import type { Exemplar, ExemplarOrder } from '../shared/exemplar.ts';
import type { ExemplarRegion } from '../shared/protocol.ts';
import { renders } from './views/renders.ts';

export interface TestHooks {
  /** a frame with columns has been drawn */
  readonly ready: boolean;
  /** nothing waits to be drawn or fetched */
  readonly idle: boolean;
  /** the backfill is over and columns arrive live */
  readonly live: boolean;
  /** older columns are being fetched from the server's history */
  readonly fetching: boolean;
  readonly connection: string;
  readonly framesDrawn: number;
  /** device pixels the last frame painted: the whole plot, or only the columns that changed */
  readonly paintedPx: number;
  /** device pixels of the summed heat map painted since the page opened, parts of pictures painted over frames included */
  readonly paintedPxTotal: number;
  /** whole pictures of the summed heat map begun since the page opened (each a repaint of the whole plot) */
  readonly wholePictures: number;
  /** messages from the server that could not be decoded (skipped, the connection kept) */
  readonly skippedMessages: number;
  /** React's renders of the page since it opened (client/views/renders.ts) */
  readonly reactRenders: number;
  /** compute-and-draw time of the last frame, ms */
  readonly lastFrameMs: number;
  /** the time and value range drawn, the column interval, the plot in CSS px relative to the page, the device-pixel ratio, the colour scale the picture is drawn under (the legend's) */
  frame(): { fromMs: number; toMs: number; yRange: [number, number]; intervalMs: number; groupSize: number; dpr: number; plot: { x: number; y: number; width: number; height: number }; colorScale: ColorScale } | null;
  /** the filtered histogram of every column in the frame, sparse */
  columns(): { seq: number; startMs: number; slots: number[]; counts: number[] }[];
  /** every column seq held, ascending */
  seqs(): number[];
  gaps(): { fromSeq: number; toSeq: number }[];
  /** seq runs of the drawn range that the page does not hold (drawn hatched) */
  missing(): [number, number][];
  /** the device-pixel rectangle of a cell in the picture, or null when it is not drawn */
  cellRectPx(seq: number, slot: number): { x0: number; y0: number; x1: number; y1: number } | null;
  /** the centre of the percentile line drawn over a column, in the picture's device pixels, with the slot it marks; null where there is none */
  lineCenterPx(seq: number, key: PercentileKey): { x: number; y: number; slot: number } | null;
  /** the picture's pixels as #rrggbb, read now (so in the same task as the geometry above); [] while nothing is drawn */
  pixels(points: readonly { x: number; y: number }[]): string[];
  /** the whole picture as shown, as a PNG data URL (to compare two pictures) */
  picture(): string;
  /** the exemplar region asked for, what is listed (in the order picked: the slowest first by default), how many the server captured there, whether an answer is awaited */
  exemplars(): { region: ExemplarRegion | null; order: ExemplarOrder; listed: Exemplar[]; captured: number; pending: boolean };
}

declare global {
  interface Window {
    __bpfheat?: TestHooks;
  }
}

export function installTestHooks(model: AppModel): void {
  const frame = () => model.shownFrame;
  const groupOf = (seq: number) => {
    const geometry = frame()?.geometry;
    if (!geometry) return null;
    const group = drawnGroupOfSeq(geometry, seq);
    return group ? { geometry, group } : null;
  };
  const hooks: TestHooks = {
    get ready() {
      const f = frame();
      return f !== null && f.geometry !== null && f.columns.length > 0;
    },
    get idle() {
      return model.idle;
    },
    get live() {
      return model.isLive;
    },
    get fetching() {
      return model.getSnapshot().loadingHistory;
    },
    get connection() {
      return model.getSnapshot().connection.kind;
    },
    get framesDrawn() {
      return model.framesDrawn;
    },
    get paintedPx() {
      return model.lastPaintedPx;
    },
    get paintedPxTotal() {
      return model.paintedPxTotal;
    },
    get wholePictures() {
      return model.wholePictures;
    },
    get skippedMessages() {
      return model.getSnapshot().skipped.count;
    },
    get reactRenders() {
      return renders.count;
    },
    get lastFrameMs() {
      return model.lastFrameMs;
    },
    frame() {
      const f = frame();
      if (!f || !f.geometry) return null;
      const box = document.querySelector('.heatmap-picture')?.getBoundingClientRect();
      return {
        fromMs: f.view.fromMs,
        toMs: f.view.toMs,
        yRange: [f.yRange[0], f.yRange[1]],
        intervalMs: f.intervalMs,
        groupSize: f.geometry.groupSize,
        dpr: f.geometry.dpr,
        plot: { x: box?.left ?? 0, y: box?.top ?? 0, width: box?.width ?? 0, height: box?.height ?? 0 },
        colorScale: { ...f.geometry.colorScale },
      };
    },
    columns() {
      const f = frame();
      if (!f) return [];
      return f.columns.map((c) => {
        const h = histogramOf(c, f.view.filter);
        const slots: number[] = [];
        const counts: number[] = [];
        for (let slot = 0; slot < h.length; slot++) if (h[slot]! > 0) (slots.push(slot), counts.push(h[slot]!));
        return { seq: c.seq, startMs: c.startMs, slots, counts };
      });
    },
    seqs: () => model.store.allSeqs(),
    gaps: () => [...model.store.knownGaps()],
    missing: () => (frame()?.missing ?? []).map(([a, b]) => [a, b]),
    cellRectPx(seq, slot) {
      const geometry = frame()?.geometry;
      return geometry ? cellRectPx(geometry, seq, slot) : null;
    },
    lineCenterPx(seq, key) {
      const found = groupOf(seq);
      if (!found) return null;
      const x = Math.floor((found.group.x0Px + found.group.x1Px) / 2);
      const segment = found.geometry.lines[key].find((s) => x >= s.x0Px && x < s.x1Px);
      return segment ? { x, y: lineCenterPx(found.geometry, segment.slot), slot: segment.slot } : null;
    },
    pixels(points) {
      const picture = model.pictureSurface;
      return picture?.hasPicture ? points.map(({ x, y }) => picture.pixel(x, y)!) : [];
    },
    picture() {
      const geometry = frame()?.geometry;
      const canvas = document.createElement('canvas');
      canvas.width = geometry?.widthPx ?? 0;
      canvas.height = geometry?.heightPx ?? 0;
      model.pictureSurface?.copyTo(canvas.getContext('2d')!);
      return canvas.toDataURL();
    },
    exemplars() {
      const { region, order, listed, captured, pending } = model.getSnapshot().exemplars;
      return { region, order, listed: [...listed], captured, pending };
    },
  };
  window.__bpfheat = hooks;
}
