/**
 * The page's one model: columns (store), what is looked at (view state), the connection, the
 * exemplars of the region in view, and the last frame. Everything that changes the picture calls
 * scheduler.request(); the frame task computes the frame once, draws the canvas once, then tells
 * React once. Nothing draws per message; what does not change the picture (exemplars, the
 * threshold) tells React in the next frame without drawing.
 */
import type { Column, Filter } from '../../shared/column.ts';
import type { ServerMessage } from '../../shared/protocol.ts';
import { DEFAULT_COLOR_QUANTILE, layoutOf, resolveYRange, type Layout, type SnapshotView } from '../../shared/view.ts';
import { HeatmapRenderer, type HeatmapGeometry } from '../render/heatmap.ts';
import { Connection, type ConnectionState } from '../net/connection.ts';
import { HistoryLoader, type FetchColumns } from '../net/history.ts';
import { ColumnStore, DEFAULT_CAPACITY, type ServerMeta } from './store.ts';
import { seriesFilter } from './packed.ts';
import { GroupCache, RegionSums, filterKey, groupSizeOf, type RegionSnapshot } from './rollup.ts';
import { FrameScheduler } from './scheduler.ts';
import { RegionExemplars, watchRegion, type ExemplarsView } from './exemplars.ts';
import { DeviceTable } from './devices.ts';
import { DEFAULT_EXEMPLAR_ORDER, type ExemplarOrder } from '../../shared/exemplar.ts';
import * as views from './view.ts';
import type { Display, ViewState } from './view.ts';

export interface FrameData {
  readonly id: number;
  /** the view as drawn: concrete time and y range, sized like the panel */
  readonly view: SnapshotView;
  readonly yRange: readonly [number, number];
  readonly layout: Layout;
  readonly intervalMs: number;
  readonly columns: readonly Column[];
  /** the filtered histograms of the columns, summed: in total, per device and per op */
  readonly sums: RegionSnapshot;
  /** where the canvas put things; null until a canvas is attached */
  readonly geometry: HeatmapGeometry | null;
  /** seq runs inside the range that the page does not hold: drawn hatched, as unknown */
  readonly missing: readonly [number, number][];
}

export interface Snapshot {
  readonly frame: FrameData | null;
  readonly state: ViewState;
  readonly connection: ConnectionState;
  readonly meta: ServerMeta | null;
  /** the exemplars of the region the frame shows */
  readonly exemplars: ExemplarsView;
  readonly loadingHistory: boolean;
  readonly error: string | null;
  /** the server's source has delivered everything (a replay at its end): nothing more comes */
  readonly ended: boolean;
  /** the newest column the page holds */
  readonly newestSeq: number | null;
}

export interface ModelOptions {
  readonly initial: ViewState;
  readonly location: Pick<Location, 'protocol' | 'host' | 'search'>;
  readonly fetchColumns: FetchColumns;
  /** writes the view into the address bar */
  readonly writeUrl: (state: ViewState) => void;
  readonly now?: () => number;
}

export class AppModel {
  // Kept over the frames and told of every column the store adds, replaces or evicts, so a frame
  // costs the columns that changed, not the window (rollup.ts).
  private readonly sums = new RegionSums();
  private readonly groups = new GroupCache();
  readonly store = new ColumnStore(DEFAULT_CAPACITY, (seq, before, after) => {
    this.sums.changed(before, after);
    this.groups.changed(seq);
  });
  readonly scheduler = new FrameScheduler();
  private state: ViewState;
  private connectionState: ConnectionState = { kind: 'connecting', attempt: 1 };
  private readonly connection: Connection;
  private readonly history: HistoryLoader;
  private readonly listeners = new Set<() => void>();
  private snapshot: Snapshot;
  private canvas: HTMLCanvasElement | null = null;
  private readonly renderer = new HeatmapRenderer();
  private sizeCss = { width: 0, height: 0, dpr: 1 };
  private dirty = true;
  /** the snapshot is out of date but the picture is not: publish without drawing */
  private stale = false;
  private readonly exemplars = new RegionExemplars();
  /** which of the region's exemplars to list when it holds more than the list */
  private exemplarOrder: ExemplarOrder = DEFAULT_EXEMPLAR_ORDER;
  private frameId = 0;
  private serverError: string | null = null;
  private live = false;
  private ended = false;
  /** the view is still the one the page opened with (the user has not moved it) */
  private opened = true;
  /** the page's device ids, whatever server a column came from */
  private readonly devices = new DeviceTable();
  private removeTask: (() => void) | null = null;
  private readonly writeUrl: (state: ViewState) => void;
  private readonly now: () => number;
  /** frames drawn; tests wait on it */
  framesDrawn = 0;
  /** how long the last frame took to compute and draw, in ms (for the frame-time benchmark) */
  lastFrameMs = 0;

  constructor(options: ModelOptions) {
    this.state = options.initial;
    this.writeUrl = options.writeUrl;
    this.now = options.now ?? Date.now;
    this.connection = new Connection(options.location, {
      message: (message) => this.receive(message),
      state: (state) => {
        this.connectionState = state;
        if (state.kind !== 'live') this.live = false;
        this.invalidate();
      },
      resumeAfter: () => this.store.newestSeq,
    });
    this.history = new HistoryLoader(
      options.fetchColumns,
      (columns) => {
        for (const column of columns) this.store.add(this.devices.column(column));
        this.invalidate();
      },
      () => this.invalidate(),
    );
    this.snapshot = this.makeSnapshot(null);
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
  }

  // ------------------------------------------------------------ React binding

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): Snapshot => this.snapshot;

  // ------------------------------------------------------------ inputs

  setCanvas(canvas: HTMLCanvasElement | null): void {
    this.canvas = canvas;
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
    const frame = this.snapshot.frame;
    if (!frame) return;
    const fromMs = map.x(Math.min(x0, x1));
    const toMs = map.x(Math.max(x0, x1));
    const low = map.y(Math.max(y0, y1));
    const high = map.y(Math.min(y0, y1));
    this.update((s) => views.zoomTo(s, fromMs, toMs, [low, high], this.store.newestEndMs, frame.intervalMs));
  }

  togglePause(): void {
    const frame = this.snapshot.frame;
    if (this.state.extent.live) {
      if (frame) this.update((s) => views.pause(s, frame.view.fromMs, frame.view.toMs));
    } else {
      this.update(views.resume);
    }
  }

  zoomOut(): void {
    const frame = this.snapshot.frame;
    if (frame) this.update((s) => views.zoomOut(s, frame.view.fromMs, frame.view.toMs));
  }

  zoomIn(): void {
    const frame = this.snapshot.frame;
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
    return !this.dirty && !this.stale && !this.scheduler.pending && !this.history.busy && !this.exemplars.view.pending;
  }

  get isLive(): boolean {
    return this.live;
  }

  // ------------------------------------------------------------ messages

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'hello':
        this.serverError = null;
        this.ended = false;
        this.devices.setServer(message.devices);
        this.store.setHello({ ...message, devices: this.devices.devices });
        // A (re)started server: its history may hold chunks the last one did not.
        this.history.forget();
        // A new connection watches nothing: the next frame after `live` asks again.
        this.exemplars.reset();
        break;
      case 'column':
        this.store.add(this.devices.column(message.column));
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
        this.store.setDevices(this.devices.devices);
        break;
      case 'error':
        this.serverError = message.message;
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

  private republish(): void {
    this.stale = true;
    this.scheduler.request();
  }

  private invalidate(): void {
    this.dirty = true;
    this.scheduler.request();
  }

  // ------------------------------------------------------------ the frame

  /** The filter of the display, with device names turned into the server's ids. */
  filterOf(display: Display, meta: ServerMeta | null): Filter {
    const devices = display.devices.length === 0
      ? null
      // A device not (yet) known matches nothing rather than everything.
      : display.devices.map((name) => meta?.devices.find((d) => d.name === name)?.id ?? -1);
    return { metric: display.metric, devices, ops: display.ops.length > 0 ? display.ops : null };
  }

  private frame(): void {
    if (!this.dirty) {
      if (this.stale) this.publish(this.makeSnapshot(this.snapshot.frame));
      return;
    }
    this.dirty = false;
    const startMs = performance.now();
    this.drawFrame();
    this.lastFrameMs = performance.now() - startMs;
  }

  private drawFrame(): void {
    const meta = this.store.meta;
    const { width, height, dpr } = this.sizeCss;
    if (!meta || width === 0 || height === 0) {
      this.publish(this.makeSnapshot(null));
      return;
    }
    const { extent, display } = this.state;
    const { fromMs, toMs } = views.timeRange(extent, this.store.newestEndMs, this.now());
    const filter = this.filterOf(display, meta);
    const key = filterKey(filter);
    const compiled = seriesFilter(filter);
    const { fromSeq, toSeq } = this.store.seqRange(fromMs, toMs);
    const columns = this.store.between(fromSeq, toSeq);
    this.sums.moveTo(this.store, fromSeq, toSeq, compiled, key);
    const sums = this.sums.snapshot();
    const layout = layoutOf(width, height, false);
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
    const missing = this.store.missing(fromSeq, toSeq);
    const newest = this.store.newestSeq;
    if (this.live && missing.length > 0 && newest !== null) {
      // Only what the server can still have: from its oldest column to the newest one.
      const oldest = meta.oldestSeq ?? Infinity;
      const wanted = missing
        .filter(([first, last]) => last >= oldest && first <= newest)
        .map(([first, last]): [number, number] => [Math.max(first, oldest), Math.min(last, newest)]);
      if (wanted.length > 0) this.history.request(wanted);
    }

    let geometry: HeatmapGeometry | null = null;
    const canvas = this.canvas;
    if (canvas) {
      const widthPx = Math.max(1, Math.round(layout.plot.width * dpr));
      const heightPx = Math.max(1, Math.round(layout.plot.height * dpr));
      if (canvas.width !== widthPx) canvas.width = widthPx;
      if (canvas.height !== heightPx) canvas.height = heightPx;
      const ctx = canvas.getContext('2d', { alpha: false });
      if (ctx) {
        const size = groupSizeOf(widthPx, fromMs, toMs, interval);
        geometry = this.renderer.draw(ctx, {
          widthPx,
          heightPx,
          dpr,
          fromMs,
          toMs,
          intervalMs: interval,
          yScale: display.yScale,
          yRange,
          groupSize: size,
          groups: this.groups.groups(columns, fromSeq, toSeq, size, interval, compiled, key),
          colorBy: display.colorBy,
          colorScale: display.colorScale,
          colorQuantile: view.colorQuantile,
          percentiles: display.percentiles,
        });
        this.framesDrawn++;
      }
    }
    this.frameId++;
    this.publish(this.makeSnapshot({ id: this.frameId, view, yRange, layout, intervalMs: interval, columns, sums, geometry, missing }));
  }

  private makeSnapshot(frame: FrameData | null): Snapshot {
    this.stale = false;
    return {
      frame,
      state: this.state,
      connection: this.connectionState,
      meta: this.store.meta,
      exemplars: this.exemplars.view,
      loadingHistory: this.history.busy,
      error: this.serverError ?? this.history.lastError,
      ended: this.ended,
      newestSeq: this.store.newestSeq,
    };
  }

  private publish(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener();
  }
}
