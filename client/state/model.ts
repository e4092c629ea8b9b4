/**
 * The page's one model: columns (store), what is looked at (view state), the connection, the
 * exemplars of the region in view, and the last frame. Everything that changes the picture calls
 * scheduler.request(); the frame task computes the frame once, draws the canvas once, tells
 * the frame's listeners (the overlay's time layers follow the picture), and tells React only when what React shows changed (overlay.ts).
 * Nothing draws per message; what does not change the picture (exemplars, the
 * threshold) tells React in the next frame without drawing.
 */
import type { Column, Filter } from '../../shared/column.ts';
import { uncountedOf, type ServerMessage, type Uncounted } from '../../shared/protocol.ts';
import { DEFAULT_COLOR_QUANTILE, layoutOf, resolveYRange, type Layout, type RectCss, type SnapshotView } from '../../shared/view.ts';
import { HeatmapRenderer, type HeatmapGeometry, type HeatmapInput } from '../render/heatmap.ts';
import { CanvasSurface, TiledSurface, domTiles, tilePartColumns } from '../render/surface.ts';
import { Connection, type ConnectionState } from '../net/connection.ts';
import { CHUNK_COLUMNS, CHUNK_ROLLUPS, type FetchColumns } from '../net/history.ts';
import { HistoryArrivals } from './arrivals.ts';
import { rollupSeqOf, stepFor } from '../../shared/rollup.ts';
import type { PackedColumns } from '../../shared/protocol.ts';
import { ColumnStore, DEFAULT_CAPACITY, type ServerMeta } from './store.ts';
import { PackedColumn, seriesFilter } from './packed.ts';
import { GroupCache, filterKey, groupSizeOf, type RegionSnapshot } from './rollup.ts';
import { LevelTier, Tier } from './tiers.ts';
import { FrameScheduler } from './scheduler.ts';
import { endsFirstLoad, frameStep, panelStep, stepWhileTimeLeft, type FrameStep } from './frame-step.ts';
import { DRAW_MARK, DRAW_PART_MARK, PANELS_MARK, markFrame } from './marks.ts';
import { RegionExemplars, watchRegion, type ExemplarsView } from './exemplars.ts';
import { DeviceTable } from './devices.ts';
import { overlayKeyOf, rendersAnew } from './overlay.ts';
import { DEFAULT_EXEMPLAR_ORDER, type ExemplarOrder } from '../../shared/exemplar.ts';
import * as views from './view.ts';
import type { Display, ViewState } from './view.ts';

export interface FrameData {
  readonly id: number;
  /** the view as drawn: concrete time and y range, sized like the panel */
  readonly view: SnapshotView;
  /**
   * The view's span as chosen: a live view's extent span, which its end less its start differs
   * from in the last bits, differently with every tick; a paused view's end less its start. What
   * the overlay is placed by (client/state/overlay.ts), so that a render for a later frame of
   * one view writes the same positions.
   */
  readonly spanMs: number;
  readonly yRange: readonly [number, number];
  readonly layout: Layout;
  /** the step of the columns drawn: the server's interval, or a roll-up level's step */
  readonly intervalMs: number;
  /** the columns (or roll-ups) drawn */
  readonly columns: readonly Column[];
  /** the filtered histograms of the columns, summed: in total, per device and per op */
  readonly sums: RegionSnapshot;
  /** where the frame drew its cells and lines in the picture; null while no picture element is attached (setPicture) */
  readonly geometry: HeatmapGeometry | null;
  /** seq runs inside the range that the page does not hold: drawn hatched, as unknown */
  readonly missing: readonly [number, number][];
  /** the split view: one heat map per device shown, on the time and value axes of the whole; empty when off */
  readonly split: readonly SplitPanel[];
}

/** One device's heat map in the split view. */
export interface SplitPanel {
  readonly device: number;
  readonly name: string;
  /** where it is drawn, in the panel's CSS px */
  readonly band: RectCss;
  readonly geometry: HeatmapGeometry | null;
}

/** Most devices the split view draws (small multiples stay readable); the rest are named as left out. */
export const MAX_SPLIT = 8;

/** The plot cut into n bands one above the other, with a gap between them for the device's name. */
export function splitBands(plot: RectCss, n: number): RectCss[] {
  const gap = 14;
  const height = Math.max(10, (plot.height - gap * (n - 1)) / Math.max(1, n));
  return Array.from({ length: n }, (_, k) => ({ x: plot.x, y: plot.y + k * (height + gap), width: plot.width, height }));
}

/**
 * What React renders. Published when something it shows changed (rendersAnew), not with every
 * frame of a scrolling view: `frame` is then older than the picture, and the overlay's parts
 * placed in time are moved to the picture's frame by the views (client/views/timeLayer.ts).
 */
export interface Snapshot {
  /** the frame the overlay was rendered for; the picture's own is AppModel.shownFrame */
  readonly frame: FrameData | null;
  /**
   * The frame the side panels show (summary, selection, exemplars): the latest when the view was
   * changed, else at most PANEL_EVERY_MS old, so a scrolling view does not rebuild them every frame.
   */
  readonly panel: FrameData | null;
  readonly state: ViewState;
  readonly connection: ConnectionState;
  readonly meta: ServerMeta | null;
  /** the exemplars of the region the frame shows */
  readonly exemplars: ExemplarsView;
  readonly loadingHistory: boolean;
  readonly error: string | null;
  /** messages from the server that could not be decoded and were skipped, and why the last one was */
  readonly skipped: { readonly count: number; readonly lastReason: string | null };
  /** the server's source has delivered everything (a replay at its end): nothing more comes */
  readonly ended: boolean;
  /** the newest column the page holds */
  readonly newestSeq: number | null;
  /** what the live tracer could not put in a cell, since it started (null for other sources) */
  readonly uncounted: Uncounted | null;
}

export interface ModelOptions {
  readonly initial: ViewState;
  readonly location: Pick<Location, 'protocol' | 'host' | 'search'>;
  readonly fetchColumns: FetchColumns;
  /** writes the view into the address bar */
  readonly writeUrl: (state: ViewState) => void;
  /** the initial view came from the link (a range or a span), not from the defaults */
  readonly explicitExtent?: boolean;
  readonly now?: () => number;
}

/** Columns of history answers added per frame: a few milliseconds of summing and grouping. */
const INSTALL_PER_FRAME = 300;

/**
 * Words of column data summed into new cell groups per frame (~400 make a one-second column of
 * a busy host, ~600 a 10-s roll-up of it): a view that needs more (a zoom into some hundreds of
 * columns or more) is summed over several frames, and drawn once all its groups are.
 */
const GROUP_WORDS_PER_FRAME = 300_000;

/**
 * Words of new groups summed in a frame that still draws (a scrolling view's newest group, a
 * slice of a short answer): a frame that summed more draws in the next one, so that no frame
 * both sums a zoom's groups and paints and colours the whole picture.
 */
const DRAW_AFTER_WORDS = 20_000;

/**
 * Device pixels a frame paints of a fixed view's new picture (HeatmapRenderer.drawParts): a
 * 1920×1080 page's plot (~1.3 million) in three or four frames, the last of which also puts it
 * and renders the new axes. A kept moving view recoloured in parts of this many is cut at a
 * tile's edge only where a part is at most a tile wide (TiledSurface.partEnd): not at ratio 1
 * (~440 columns), but at 2 (~220).
 */
const PAINT_PER_FRAME_PX = 400_000;

/**
 * Device pixels a live view's frame paints at most of a new picture (its picture recoloured under
 * a new colour scale, besides what changed: HeatmapRenderer.drawParts puts each part as it is
 * painted), in parts that split a tile evenly (tilePartColumns), so that each lands on one tile
 * (TiledSurface.partEnd): half a tile (128 columns) on the benchmark's page (1920×1080, its plot
 * ~910 pixels tall: 10–11 parts by where the tiles' edges lie, 10 in its runs, ~0.17 s of two
 * scales), a quarter at device-pixel ratio 2 (64 columns: about 40 parts, ~0.65 s, by count),
 * where half a tile would be ~230,000 px a frame. Each part is a scrolling frame that must stay
 * short, and the next scale waits for the last (SCALE_EVERY_FRAMES). Parts of 150,000 px uncut
 * (165 columns at ratio 1: 8 parts in the benchmark's runs; 82 at ratio 2: about 30) crossed a
 * tile's edge in most frames and put on two tiles. In a Chromium harness of the renderer alone
 * (that plot, a day's 1,441 groups, 2026-12-02) a part frame was 2.5–3.4 ms busy on average
 * against 2.7–3.6 ms with those parts, its p95 3.5–5.7 against 3.7–11 ms; the recolouring's total
 * busy time was not measured: it has more frames, so it may be no shorter. Under a load average of
 * ~5 the drawing frames' p95 was 7.7–9.1 ms with parts of 200,000 px, 7.6 ms at 100,000, ~7 ms
 * without any recolouring.
 */
const LIVE_PART_MAX_PX = 150_000;

/** Groups whose cells are taken (HeatmapRenderer.prepareCells) in a frame that does not draw. */
const CELLS_PER_FRAME = 600;

/** Groups whose cells a frame that draws takes too (a scrolling view's one or two new ones); a frame that took more draws in the next. */
const CELLS_DRAW_AFTER = 64;

/**
 * Ms a frame spends on steps (adding slices of history, summing groups, taking cells) during the
 * page's first load (no view drawn whole yet): several budgets a frame, yet under the 50 ms of a
 * long task, so that input is still answered.
 */
const FIRST_LOAD_STEP_MS = 40;

const FRAME_BUDGET = { drawAfterWords: DRAW_AFTER_WORDS, drawAfterCells: CELLS_DRAW_AFTER, firstLoadStepMs: FIRST_LOAD_STEP_MS };

/** The side panels follow a moving view this often: four times a second is what the eye reads numbers at. */
const PANEL_EVERY_MS = 250;

export class AppModel {
  // The server's columns, and the roll-ups of each level of detail drawn so far (tiers.ts), each
  // with sums and groups kept over the frames, so a frame costs what changed, not the window.
  private readonly base = new Tier(null, DEFAULT_CAPACITY);
  readonly store: ColumnStore = this.base.store;
  private readonly levels = new Map<number, LevelTier>();
  readonly scheduler = new FrameScheduler();
  private state: ViewState;
  private connectionState: ConnectionState = { kind: 'connecting', attempt: 1 };
  private readonly connection: Connection;
  private readonly history: HistoryArrivals;
  private readonly listeners = new Set<() => void>();
  /** told after every frame shown, whether React was or not (the overlay's time layers and the hover follow the picture) */
  private readonly frameListeners = new Set<() => void>();
  private snapshot: Snapshot;
  /** overlayKeyOf(snapshot.frame) */
  private snapshotKey = overlayKeyOf(null);
  /** the last frame drawn: the picture shows it */
  private shown: FrameData | null = null;
  /** the heat map's picture: tiles in the plot's element, null until one is attached */
  private surface: TiledSurface | null = null;
  /** the split view's canvases and their renderers, by device id */
  private readonly splitCanvases = new Map<number, { surface: CanvasSurface; renderer: HeatmapRenderer }>();
  private readonly renderer = new HeatmapRenderer();
  private sizeCss = { width: 0, height: 0, dpr: 1 };
  private layout: Layout | null = null;
  private filter: Filter | null = null;
  private dirty = true;
  /** the snapshot is out of date but the picture is not: publish without drawing */
  private stale = false;
  private readonly exemplars = new RegionExemplars();
  /** which of the region's exemplars to list when it holds more than the list */
  private exemplarOrder: ExemplarOrder = DEFAULT_EXEMPLAR_ORDER;
  private frameId = 0;
  private serverError: string | null = null;
  /** what keeps the server's source from reading (Prometheus unreachable, no series) */
  private sourceProblem: string | null = null;
  /** what went wrong in the page itself and was worked around (its history worker failed): shown until a reload */
  private pageProblem: string | null = null;
  private live = false;
  private ended = false;
  /** the view is still the default the page opened with: neither the link nor the user chose one */
  private opened: boolean;
  /** the page's device ids, whatever server a column came from */
  private readonly devices = new DeviceTable();
  private removeTask: (() => void) | null = null;
  private readonly writeUrl: (state: ViewState) => void;
  private readonly now: () => number;
  /** frames drawn; tests wait on it */
  framesDrawn = 0;
  /** device pixels of the summed heat map painted since the page opened (paintedPxTotal) */
  private paintedPxSum = 0;
  private skipped: Snapshot['skipped'] = { count: 0, lastReason: null };
  private uncounted: Uncounted | null = null;
  private panel: { frame: FrameData | null; state: ViewState; atMs: number };
  private panelTimer: ReturnType<typeof setTimeout> | null = null;
  /** how long the last frame took to compute and draw, in ms (for the frame-time benchmark) */
  lastFrameMs = 0;
  /** the page's first load is over: a view was drawn whole, or its history settled (endsFirstLoad) */
  private firstLoadOver = false;

  constructor(options: ModelOptions) {
    this.state = options.initial;
    this.panel = { frame: null, state: this.state, atMs: 0 };
    this.opened = !(options.explicitExtent ?? false);
    this.writeUrl = options.writeUrl;
    this.now = options.now ?? Date.now;
    this.connection = new Connection(options.location, {
      message: (message) => this.receive(message),
      packed: (packed) => {
        this.history.arrived(packed);
        this.invalidate();
      },
      state: (state) => {
        this.connectionState = state;
        if (state.kind !== 'live') this.live = false;
        this.invalidate();
      },
      resumeAfter: () => this.store.newestSeq,
      undecodable: (reason) => {
        this.skipped = { count: this.skipped.count + 1, lastReason: reason };
        this.republish();
      },
    });
    this.history = new HistoryArrivals(options.fetchColumns, () => this.invalidate());
    this.snapshot = this.makeSnapshot(null, false);
  }

  start(): void {
    this.removeTask = this.scheduler.add(() => this.frame());
    this.connection.start();
  }

  dispose(): void {
    this.connection.stop();
    this.history.dispose();
    this.removeTask?.();
    this.scheduler.dispose();
    this.listeners.clear();
    this.frameListeners.clear();
    if (this.panelTimer !== null) clearTimeout(this.panelTimer);
  }

  // ------------------------------------------------------------ React binding

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): Snapshot => this.snapshot;

  /** Calls the listener after every frame shown, including those React is not told of. */
  subscribeFrames(listener: () => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** The frame the picture shows now (the snapshot's may be older: only time moved since). */
  get shownFrame(): FrameData | null {
    return this.shown;
  }

  // ------------------------------------------------------------ inputs

  /** The element the heat map's picture is shown in (null: it is gone): the surface's tiles are made in it. */
  setPicture(element: HTMLElement | null): void {
    this.surface?.dispose();
    this.surface = element ? new TiledSurface(domTiles(element)) : null;
    this.renderer.forget();
    this.invalidate();
  }

  /** The heat map's picture as shown, null before one is attached (for the tests' hooks). */
  get pictureSurface(): TiledSurface | null {
    return this.surface;
  }

  /** The canvas of one device's heat map in the split view (null: it is gone). */
  setSplitCanvas(device: number, canvas: HTMLCanvasElement | null): void {
    const ctx = canvas?.getContext('2d', { alpha: false });
    if (ctx) this.splitCanvases.set(device, { surface: new CanvasSurface(ctx), renderer: new HeatmapRenderer() });
    else this.splitCanvases.delete(device);
    this.invalidate();
  }

  setSize(width: number, height: number, dpr: number): void {
    if (width === this.sizeCss.width && height === this.sizeCss.height && dpr === this.sizeCss.dpr) return;
    this.sizeCss = { width, height, dpr };
    this.invalidate();
  }

  update(change: (state: ViewState) => ViewState): void {
    const next = change(this.state);
    if (next === this.state) return;
    this.state = next;
    this.opened = false;
    this.writeUrl(next);
    this.invalidate();
  }

  /** Zoom to a rectangle given in the panel's CSS pixels. */
  zoomToCss(x0: number, y0: number, x1: number, y1: number, map: { x: (px: number) => number; y: (px: number) => number }): void {
    const frame = this.shown;
    if (!frame) return;
    const fromMs = map.x(Math.min(x0, x1));
    const toMs = map.x(Math.max(x0, x1));
    const low = map.y(Math.max(y0, y1));
    const high = map.y(Math.min(y0, y1));
    this.update((s) => views.zoomTo(s, fromMs, toMs, [low, high], this.store.newestEndMs, this.store.meta?.intervalMs ?? frame.intervalMs));
  }

  togglePause(): void {
    const frame = this.shown;
    if (this.state.extent.live) {
      if (frame) this.update((s) => views.pause(s, frame.view.fromMs, frame.view.toMs));
    } else {
      this.update(views.resume);
    }
  }

  zoomOut(): void {
    const frame = this.shown;
    if (frame) this.update((s) => views.zoomOut(s, frame.view.fromMs, frame.view.toMs));
  }

  zoomIn(): void {
    const frame = this.shown;
    if (frame) this.update((s) => views.zoomIn(s, frame.view.fromMs, frame.view.toMs));
  }

  setDisplay(change: Partial<Display>): void {
    this.update((s) => views.setDisplay(s, change));
  }

  /** Lists the region's exemplars first in this order: asks the server again. */
  setExemplarOrder(order: ExemplarOrder): void {
    this.exemplarOrder = order;
    this.invalidate();
  }

  /** Changes the live exemplar threshold (ns; null: adaptive), for every page of the server. */
  setThreshold(thresholdNs: number | null): void {
    this.connection.send({ type: 'set-threshold', thresholdNs });
  }

  /** Nothing waits to be drawn, fetched or answered: what is on screen is what the model holds. */
  get idle(): boolean {
    return !this.dirty && !this.stale && this.panelTimer === null && !this.scheduler.pending && !this.history.loading && !this.exemplars.view.pending;
  }

  /** device pixels the last drawn frame painted (the whole plot, or only what changed) */
  get lastPaintedPx(): number {
    return this.renderer.paintedPx;
  }

  /** Device pixels of the summed heat map painted since the page opened, parts of pictures painted over frames included (the split view's are not counted): the benchmark's count of work. */
  get paintedPxTotal(): number {
    return this.paintedPxSum;
  }

  /** Whole pictures of the summed heat map begun since the page opened (a repaint of the whole plot each, over however many frames). */
  get wholePictures(): number {
    return this.renderer.wholePictures;
  }

  /** Shows what went wrong in the page itself (and what it does instead) where the server's errors are shown. */
  reportPageProblem(message: string): void {
    this.pageProblem = message;
    this.republish();
  }

  get isLive(): boolean {
    return this.live;
  }

  // ------------------------------------------------------------ messages

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        this.serverError = null;
        this.sourceProblem = null;
        this.ended = false;
        this.devices.setServer(message.devices);
        this.store.setHello({ ...message, devices: this.devices.devices });
        this.uncounted = message.selfStats ? uncountedOf(message.selfStats) : null;
        // A (re)started server: its history may hold chunks the last one did not, and the answers
        // of the last one not yet added are in its device ids, not this one's.
        this.history.forget();
        // A new connection watches nothing: the next frame after `live` asks again.
        this.exemplars.reset();
        break;
      case 'column':
        this.addColumn(message.column);
        break;
      case 'live':
        this.live = true;
        break;
      case 'end':
        this.ended = true;
        this.fitToRecording(message.lastSeq);
        break;
      case 'gap':
        this.store.addGap(message.fromSeq, message.toSeq);
        break;
      case 'devices':
        this.devices.setServer(message.devices);
        this.store.setDevices(this.devices.devices, message.hosts);
        break;
      case 'error':
        this.serverError = message.message;
        break;
      case 'problem':
        this.sourceProblem = message.message;
        break;
      case 'exemplars':
        if (message.replace) this.exemplars.replaced(message.matched, this.devices.exemplars(message.exemplars));
        else this.exemplars.appended(this.devices.exemplars(message.exemplars));
        this.republish();
        return;
      case 'exemplar-capture':
        this.store.setCapture(message.capture);
        this.republish();
        return;
      case 'stats':
        this.uncounted = uncountedOf(message.selfStats);
        this.republish();
        return;
      case 'pong':
        return;
    }
    this.invalidate();
  }

  /**
   * A recording opened without a range of its own is shown whole: from the oldest column the
   * server holds to its last one, fixed (nothing will scroll in), not the last minutes of a
   * "live" view. The address bar gets the range, so the link reopens the same picture.
   */
  private fitToRecording(lastSeq: number | null): void {
    const oldest = this.store.meta?.oldestSeq;
    const interval = this.store.meta?.intervalMs;
    if (!this.opened || !this.state.extent.live || lastSeq === null || oldest === null || oldest === undefined || interval === undefined) return;
    const extent = { live: false, spanMs: (lastSeq + 1 - oldest) * interval, fromMs: oldest * interval, toMs: (lastSeq + 1) * interval, yRange: this.state.extent.yRange };
    this.state = { ...this.state, extent };
    this.writeUrl(this.state);
  }

  /** A column of the server's interval: into the base tier, and counted into every level's roll-up. */
  private addColumn(column: Column): void {
    this.store.add(this.devices.column(column));
    for (const level of this.levels.values()) level.columnAdded(column.seq, this.store);
  }

  /**
   * Adds columns `from` to `to` of a history answer (or of the backfill at a roll-up step):
   * columns of the base tier, or the roll-ups of a level.
   */
  private addHistory(packed: PackedColumns, from: number, to: number): void {
    if (packed.stepMs === this.store.meta?.intervalMs) {
      const columns: Column[] = [];
      for (let i = from; i < to; i++) columns.push(this.devices.column(PackedColumn.fromPacked(packed, i)));
      this.store.addAll(columns);
      for (const level of this.levels.values()) for (const column of columns) level.columnAdded(column.seq, this.store);
    } else {
      this.levels.get(packed.stepMs)?.received(packed, from, to, this.store, (rollup) => this.devices.column(rollup));
    }
  }

  /** The tier a frame of this many ms per device pixel draws from. */
  private tierFor(meta: ServerMeta, msPerPixel: number): Tier {
    const step = stepFor(meta.steps, msPerPixel);
    if (step === meta.intervalMs) return this.base;
    let level = this.levels.get(step);
    if (!level) {
      level = new LevelTier(step, meta.intervalMs);
      this.levels.set(step, level);
    }
    return level;
  }

  private republish(): void {
    this.stale = true;
    this.scheduler.request();
  }

  private invalidate(): void {
    this.dirty = true;
    this.scheduler.request();
  }

  // ------------------------------------------------------------ the frame

  /** The filter of the display, with device names turned into the server's ids (the hosts chosen are the server's: it serves their sum). */
  filterOf(display: Display, meta: ServerMeta | null): Filter {
    let devices: number[] | null = null;
    if (display.devices.length > 0) {
      devices = (meta?.devices ?? []).filter((d) => display.devices.includes(d.name)).map((d) => d.id);
      // A device not (yet) known matches nothing rather than everything.
      if (devices.length === 0) devices = [-1];
    }
    return { metric: display.metric, devices, ops: display.ops.length > 0 ? display.ops : null };
  }

  private frame(): void {
    if (!this.dirty) {
      if (this.stale) this.show(this.shown);
      return;
    }
    this.dirty = false;
    const startMs = performance.now();
    // One step of work a frame while history answers are added: a slice of them, and nothing
    // else while more are to come (the picture of the last frame stays); then the new groups
    // summed (GroupCache.prepare, over frames), then the picture drawn. A frame that did two of
    // these was the long frame after a zoom that changes the level (~3,500 roll-ups fetched).
    // In the page's first load a frame runs steps until its time is used (frameStep): it adds
    // slices, sums and takes cells, and paints only in a frame that did little of them.
    let installed: number;
    let step: FrameStep;
    do {
      installed = this.history.addSlice(INSTALL_PER_FRAME, (packed, from, to) => this.addHistory(packed, from, to));
      step = frameStep({ installed, arrivingLeft: this.history.answersLeft, firstLoad: !this.firstLoadOver, elapsedMs: performance.now() - startMs }, FRAME_BUDGET);
    } while (step === 'install-more');
    const drawn = step === 'draw' && this.drawFrame(installed > 0, startMs);
    // a frame that only did a step still serves what waits for no drawing (the side panels of the last picture)
    if (!drawn && this.stale) this.show(this.shown);
    this.lastFrameMs = performance.now() - startMs;
    // the rest of an answer goes in the next frames
    if (this.history.answersLeft > 0) this.invalidate();
  }

  /**
   * `afterInstall`: this frame already added a slice of history: its first summing call sums
   * only what a frame that paints may (in the first load, later calls sum on while its time
   * lasts, and it paints in the next frame). `startMs`: when the frame began, for the first
   * load's time a frame (FIRST_LOAD_STEP_MS). Returns whether it published a frame (false: a
   * step of the work was done, see frameStep).
   */
  private drawFrame(afterInstall: boolean, startMs: number): boolean {
    const meta = this.store.meta;
    const { width, height, dpr } = this.sizeCss;
    if (!meta || width === 0 || height === 0) {
      this.show(null);
      return true;
    }
    const { extent, display } = this.state;
    const layout = this.layoutOf(width, height);
    const widthPx = Math.max(1, Math.round(layout.plot.width * dpr));
    const heightPx = Math.max(1, Math.round(layout.plot.height * dpr));
    const { fromMs, toMs } = views.wholePixels(views.timeRange(extent, this.store.newestEndMs, this.now()), extent.live, widthPx);
    const filter = this.keptFilter(this.filterOf(display, meta));
    const key = filterKey(filter);
    const compiled = seriesFilter(filter);
    const tier = this.tierFor(meta, (toMs - fromMs) / widthPx);
    const step = tier.stepMs ?? meta.intervalMs;
    const { fromSeq, toSeq } = tier.store.seqRange(fromMs, toMs);
    const columns = tier.store.betweenKept(fromSeq, toSeq);
    const size = groupSizeOf(widthPx, fromMs, toMs, step);
    const firstLoad = !this.firstLoadOver;
    const progress = { installed: 0, arrivingLeft: 0, firstLoad };
    const summing = stepWhileTimeLeft(
      (callsBefore) => {
        if (!this.surface) return null;
        const budget = afterInstall && callsBefore === 0 ? DRAW_AFTER_WORDS : GROUP_WORDS_PER_FRAME;
        const prepared = tier.groups.prepare(columns, fromSeq, toSeq, size, step, compiled, key, budget);
        return { done: prepared.done, amount: prepared.words };
      },
      (summed) => frameStep({ ...progress, elapsedMs: performance.now() - startMs, summed }, FRAME_BUDGET),
    );
    if (summing === 'sum') {
      // A view with thousands of groups to sum (a zoom): the last picture stays until they are,
      // and so do the side panels, the exemplars watched and the history asked for: all follow
      // the picture, not a view it does not show yet. It is drawn in the frame after the last
      // of them were summed, not in the same one.
      this.invalidate();
      return false;
    }
    tier.sums.moveTo(tier.store, fromSeq, toSeq, compiled, key);
    const sums = tier.sums.snapshot();
    const base: SnapshotView = {
      fromMs,
      toMs,
      yRange: extent.yRange,
      filter,
      yScale: display.yScale,
      colorScale: display.colorScale,
      colorBy: display.colorBy,
      colorQuantile: DEFAULT_COLOR_QUANTILE,
      percentiles: display.percentiles,
      host: meta.host,
      source: meta.source,
      devices: meta.devices,
      utcOffsetMin: -new Date(fromMs).getTimezoneOffset(),
      widthCss: width,
      heightCss: height,
    };
    const yRange = resolveYRange(base, [sums.total]);
    const groups = tier.groups.groups(columns, fromSeq, toSeq, size, step, compiled, key);
    const taking = stepWhileTimeLeft(
      () => {
        if (!this.surface) return null;
        const taken = this.renderer.prepareCells(groups, display.colorBy, yRange, CELLS_PER_FRAME);
        return { done: taken.done, amount: taken.taken };
      },
      (cells) => frameStep({ ...progress, elapsedMs: performance.now() - startMs, cells }, FRAME_BUDGET),
    );
    if (taking === 'take-cells') {
      // and so are the cells of the new groups: taken over frames, then coloured and drawn
      this.invalidate();
      return false;
    }
    const view: SnapshotView = { ...base, yRange };
    const interval = meta.intervalMs;
    if (this.live) {
      // Sent only once live: a watch sent during the backfill could be answered while the page
      // is still behind, and the server drops answers to a client that is not reading.
      const serverFilter = filter.devices ? { ...filter, devices: this.devices.serverIds(filter.devices) } : filter;
      const request = this.exemplars.want(watchRegion({ fromMs, toMs, live: extent.live, intervalMs: interval, filter: serverFilter, yRange }), this.exemplarOrder);
      if (request) this.connection.send({ type: 'watch', ...request });
    }
    // Every stretch of the range without a column is unknown, not idle: before the server's
    // history, during an outage, after a recording's end, not yet fetched. Drawn hatched.
    const missing = tier.store.missing(fromSeq, toSeq);
    const newestEndMs = this.store.newestEndMs;
    // Columns are asked for once live: during the backfill the columns still to come would be
    // asked for too. Roll-ups are asked for during it: a level's chunks hold the backfill's
    // minutes whenever they are asked for, and a week's first chunk took the server ~0.75 s,
    // which the page spent waiting after its backfill (held roll-ups take the backfill's
    // columns newer than the answer counted: LevelTier). Only on a connection whose hello was
    // seen (live or backfilling): while connecting or offline the next server may be another
    // one, whose answers the page would install with the last one's device ids and then hold.
    const backfilling = this.connectionState.kind === 'backfilling';
    if ((this.live || (tier !== this.base && backfilling)) && missing.length > 0 && newestEndMs !== null) {
      // Only what the server can still have: up to (the step of) its newest column, and columns
      // not before its oldest one. Its roll-ups reach further back, by how much the page is not
      // told: each chunk is asked for once.
      const oldest = tier === this.base ? (meta.oldestSeq ?? Infinity) : 0;
      const newest = rollupSeqOf(newestEndMs - 1, step);
      const wanted = missing
        .filter(([first, last]) => last >= oldest && first <= newest)
        .map(([first, last]): [number, number] => [Math.max(first, oldest), Math.min(last, newest)]);
      if (wanted.length > 0) this.history.request(step, tier === this.base ? CHUNK_COLUMNS : CHUNK_ROLLUPS, wanted);
    }

    let geometry: HeatmapGeometry | null = null;
    if (this.surface) {
      const input: HeatmapInput = {
        ...this.drawOptions(widthPx, heightPx, dpr, fromMs, toMs, step, yRange, size),
        groups,
        colorQuantile: view.colorQuantile,
        filterKey: key,
        // the picture moves while it scrolls, and while a history answer is being added
        // (a slice per frame): the colour scale may then hold (see HeatmapInput.moving)
        moving: extent.live || this.history.answersLeft > 0,
        historyVersion: this.history.version,
      };
      // the page's first load has no picture to keep smooth: each of its pictures (or recolourings) is painted in one frame, not over several
      const perCallPx = firstLoad ? Infinity : extent.live ? tilePartColumns(heightPx, LIVE_PART_MAX_PX) * heightPx : PAINT_PER_FRAME_PX;
      geometry = this.renderer.drawParts(this.surface, input, perCallPx);
      this.paintedPxSum += this.renderer.paintedPx;
      if (!geometry) {
        // a new picture is being painted over frames: the last one stays, with its panels
        if (this.renderer.paintedPx > 0) markFrame(DRAW_PART_MARK, { paintedPx: this.renderer.paintedPx });
        this.invalidate();
        return false;
      }
      // the rest of a recolouring in the next frames, whether the view moves or not: a part a frame, the next scale waiting for the last, so it ends
      if (geometry.settling) this.invalidate();
      this.framesDrawn++;
      markFrame(DRAW_MARK, { paintedPx: this.renderer.paintedPx });
    }
    const split = display.split ? this.drawSplit(meta, filter, layout.plot, dpr, columns, fromSeq, toSeq, step, fromMs, toMs, yRange) : [];
    this.frameId++;
    if (endsFirstLoad({ missingStretches: missing.length, caughtUp: this.live || this.ended, historyLoading: this.history.loading })) this.firstLoadOver = true;
    this.show({ id: this.frameId, view, spanMs: extent.live ? extent.spanMs : toMs - fromMs, yRange, layout, intervalMs: step, columns, sums, geometry, missing, split });
    return true;
  }

  /**
   * The last frame's filter while it means the same (filterKey): one object, so that the side
   * panels see that only time moved (panelOf compares it by identity; a new object every frame
   * made them follow every frame of a scrolling view, not four a second).
   */
  private keptFilter(filter: Filter): Filter {
    const kept = this.filter;
    if (kept && filterKey(kept) === filterKey(filter)) return kept;
    return (this.filter = filter);
  }

  /** The panel's layout, the same object while its size stays: the views that take its parts render again only when it changes. */
  private layoutOf(width: number, height: number): Layout {
    const kept = this.layout;
    if (kept && kept.widthCss === width && kept.heightCss === height) return kept;
    return (this.layout = layoutOf(width, height, false));
  }

  /** What the summed heat map and each split panel draw alike: the frame's geometry and the display's scales. */
  private drawOptions(widthPx: number, heightPx: number, dpr: number, fromMs: number, toMs: number, step: number, yRange: readonly [number, number], groupSize: number) {
    const { display } = this.state;
    return {
      widthPx,
      heightPx,
      dpr,
      fromMs,
      toMs,
      intervalMs: step,
      yScale: display.yScale,
      yRange,
      groupSize,
      colorBy: display.colorBy,
      colorScale: display.colorScale,
      percentiles: display.percentiles,
    };
  }

  /**
   * One heat map per device shown, in bands of the plot, on the same time and value axes as the
   * whole. Their groups are summed afresh each frame (a split view is for looking, not for the
   * 24-hour scroll the kept groups are for); each has its own colour scale, as a heat map of
   * that device alone would.
   */
  private drawSplit(meta: ServerMeta, filter: Filter, plot: RectCss, dpr: number, columns: readonly PackedColumn[], fromSeq: number, toSeq: number, step: number, fromMs: number, toMs: number, yRange: readonly [number, number]): SplitPanel[] {
    const shown = (filter.devices ?? meta.devices.map((d) => d.id)).filter((id) => id >= 0).slice(0, MAX_SPLIT);
    const bands = splitBands(plot, shown.length);
    return shown.map((device, k) => {
      const band = bands[k]!;
      const name = meta.devices.find((d) => d.id === device)?.name ?? `dev${device}`;
      const drawn = this.splitCanvases.get(device);
      if (!drawn) return { device, name, band, geometry: null };
      const widthPx = Math.max(1, Math.round(band.width * dpr));
      const heightPx = Math.max(1, Math.round(band.height * dpr));
      const own = { ...filter, devices: [device] };
      const ownKey = filterKey(own);
      const size = groupSizeOf(widthPx, fromMs, toMs, step);
      const geometry = drawn.renderer.draw(drawn.surface, {
        ...this.drawOptions(widthPx, heightPx, dpr, fromMs, toMs, step, yRange, size),
        groups: new GroupCache().groups(columns as PackedColumn[], fromSeq, toSeq, size, step, seriesFilter(own), ownKey),
        filterKey: ownKey,
        colorQuantile: DEFAULT_COLOR_QUANTILE,
        moving: false,
      });
      return { device, name, band, geometry };
    });
  }

  /**
   * Shows a frame (the one drawn now, or the last one again when only what React shows
   * changed): React is told when it renders anew, and the frame's listeners always (the
   * overlay's time layers and the hover follow the picture).
   */
  private show(frame: FrameData | null): void {
    const changed = this.stale;
    const drawnNow = frame !== null && frame !== this.shown;
    this.shown = frame;
    const next = this.makeSnapshot(frame, drawnNow);
    const key = overlayKeyOf(frame);
    if (changed || rendersAnew(this.snapshot, this.snapshotKey, next, key)) {
      this.snapshotKey = key;
      this.publish(next);
    }
    for (const listener of this.frameListeners) listener();
  }

  private makeSnapshot(frame: FrameData | null, drawnNow: boolean): Snapshot {
    this.stale = false;
    return {
      frame,
      panel: this.panelOf(frame, drawnNow),
      state: this.state,
      connection: this.connectionState,
      meta: this.store.meta,
      exemplars: this.exemplars.view,
      loadingHistory: this.history.loading,
      error: this.serverError ?? this.sourceProblem ?? this.history.lastError ?? this.pageProblem,
      skipped: this.skipped,
      ended: this.ended,
      newestSeq: this.store.newestSeq,
      uncounted: this.uncounted,
    };
  }

  /**
   * The panels' frame: this one, unless only time moved and they were updated less than
   * PANEL_EVERY_MS ago (then again once it is over). A frame just drawn is not taken in the
   * same task: the panels follow it in a frame of their own (a zoom's first picture and the
   * panels of its region were one long frame). A frame whose view was completed (the last of
   * its missing history came in) is taken at once too: the panels' numbers were of part of it,
   * and a loaded week's waited up to PANEL_EVERY_MS after its picture.
   */
  private panelOf(frame: FrameData | null, drawnNow: boolean): FrameData | null {
    const now = performance.now();
    const kept = this.panel;
    const completed = kept.frame !== null && frame !== null && kept.frame.missing.length > 0 && frame.missing.length === 0;
    const sameView = kept.frame !== null && frame !== null && kept.state === this.state && kept.frame.view.filter === frame.view.filter;
    const step = panelStep({ changed: kept.frame !== frame, sameView, completed, sinceMs: now - kept.atMs, drawnNow, timerPending: this.panelTimer !== null }, PANEL_EVERY_MS);
    if (!step.take) {
      if (step.timerMs !== null) {
        if (this.panelTimer !== null) clearTimeout(this.panelTimer);
        this.panelTimer = setTimeout(() => {
          this.panelTimer = null;
          this.republish();
        }, step.timerMs);
      }
      return kept.frame;
    }
    if (frame !== null && kept.frame !== frame) markFrame(PANELS_MARK);
    this.panel = { frame, state: this.state, atMs: now };
    return frame;
  }

  private publish(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener();
  }
}
