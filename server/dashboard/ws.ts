/**
 * Live columns over WebSocket: one stream per server, many clients.
 *
 * Every column is encoded once (publish), kept once in the history, and that same Buffer is what
 * every client is sent, live or in a backfill. Each client has only a cursor: the next seq it
 * should get. pump() moves the cursor forward through the history while the client's send
 * queue is below SEND_HIGH_WATER_BYTES; past it the client is skipped (it costs nothing more
 * while it does not read), and when its queue has drained (the write callback of its last
 * message) it is pumped again from the history: caught up, with a `gap` for what the history
 * no longer holds. So a client's queue never holds more than the high-water mark plus one
 * message, whatever it does.
 *
 * On connect: hello, then the backfill (columns after `?after=SEQ`, or the last few minutes),
 * then `live`, then live columns, and `end` once a finite source has delivered its last one.
 * A `resume` message moves the cursor the same way. The last few minutes may be asked for at a
 * coarser step (`?step=MS`, or `?width=PX`: the coarsest step that gives each of that many pixel
 * columns its own cell, as /api/columns answers): they then come as one binary message of packed
 * roll-ups (shared/protocol.ts), the newest of them counted up to the newest column, and the
 * columns follow from the one after it. A backfill after `?after=SEQ` is always columns: a
 * roll-up would count again what the client holds.
 *
 * One ticker per stream: it pings every client and terminates those whose last pong is older
 * than deadAfterMs (a dead peer, or one that has not read for that long).
 */
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Column, DeviceInfo, SourceKind } from '../../shared/column.ts';
import { METRICS, OPS } from '../../shared/scheme.ts';
import type { Exemplar, ExemplarQuery } from '../../shared/exemplar.ts';
import { DEFAULT_EXEMPLAR_ORDER, exemplarMatches, type ExemplarOrder } from '../../shared/exemplar.ts';
import {
  BUCKET_SCHEME,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_EXEMPLARS_PER_MESSAGE,
  MAX_HOSTS_LISTED,
  PROTOCOL_VERSION,
  REFUSED_CLOSE_BASE,
  ProtocolError,
  decodeClientMessage,
  encodeServerMessage,
  type ExemplarCapture,
  type ExemplarRegion,
  type Hello,
  type SelfStats,
  type ServerMessage,
} from '../../shared/protocol.ts';
import type { History } from './history.ts';
import { ExemplarStore } from './exemplarStore.ts';

/** A client's send queue may hold this much before it is skipped. */
export const SEND_HIGH_WATER_BYTES = 256 * 1024;
/** Messages larger than this close the connection (1009) unread; up to it they get an error reply. */
export const MAX_RECEIVED_BYTES = 64 * 1024;
export const DEFAULT_MAX_CLIENTS = 256;
/** Default backfill: this much of the recent past, at most DEFAULT_BACKFILL_COLUMNS columns. */
export const DEFAULT_BACKFILL_MS = 15 * 60_000;
export const DEFAULT_BACKFILL_COLUMNS = 5000;
export const HEARTBEAT_MS = 30_000;
/**
 * A client whose last pong is older than this is terminated. Longer than one heartbeat so that
 * a client that stops reading for half a minute (a suspended laptop, a busy tab) is caught up,
 * not cut off.
 */
export const DEAD_AFTER_MS = 75_000;
/** A stats message at most this often (only for sources that measure themselves). */
const STATS_EVERY_MS = 5000;
const MAX_ERROR_CHARS = 900;
/** The close code of a refusal that may be served later (RFC 6455 registry: Try Again Later). */
const TRY_AGAIN_LATER = 1013;
/** The most bytes of a close frame's reason (RFC 6455: 125 less the code's 2). */
const MAX_CLOSE_REASON_BYTES = 123;

/** The line cut to fit a close frame, on a whole character. */
function closeReason(line: string): string {
  let reason = '';
  for (const char of line) {
    if (Buffer.byteLength(reason + char) > MAX_CLOSE_REASON_BYTES) break;
    reason += char;
  }
  return reason;
}

/** The step a client asks its default backfill at: a step in ms, or its plot's width in pixels, or neither (columns). */
export interface BackfillStep {
  readonly stepMs: number | null;
  readonly widthPx: number | null;
}

const COLUMNS_BACKFILL: BackfillStep = { stepMs: null, widthPx: null };

export interface StreamSource {
  readonly kind: SourceKind;
  readonly intervalMs: number;
  devices(): readonly DeviceInfo[];
  selfStats(): SelfStats | null;
  exemplarCapture?(): ExemplarCapture;
  setExemplarThreshold?(ns: number | null): void;
}

/**
 * The WebSocket clients of every dashboard on one server (a fleet's and its host views'), held to
 * one limit together: a page on some hosts takes a seat as one on all of them does.
 */
export class ClientSeats {
  taken = 0;

  constructor(readonly max = DEFAULT_MAX_CLIENTS) {}

  get full(): boolean {
    return this.taken >= this.max;
  }
}

export interface StreamOptions {
  readonly source: StreamSource;
  readonly history: History;
  /** exemplars kept beside the history (default: an empty store of the default capacity) */
  readonly exemplars?: ExemplarStore;
  readonly host?: string;
  /** the hosts a page can narrow to (?host=), told in hello; default: none */
  readonly hosts?: () => readonly string[];
  readonly heartbeatMs?: number;
  readonly deadAfterMs?: number;
  readonly highWaterBytes?: number;
  readonly maxClients?: number;
  /** the seats shared with the other dashboards of this server (default: its own, maxClients of them) */
  readonly seats?: ClientSeats;
  readonly backfillColumns?: number;
}

export interface StreamStats {
  readonly clients: number;
  /** clients currently skipped because their send queue is over the high-water mark */
  readonly lagging: number;
  /** the largest send queue of any client now, in bytes */
  readonly maxBufferedBytes: number;
  /** columns not sent live to some client because it was not reading (each caught up later or reported as a gap) */
  readonly skippedColumns: number;
  /** columns encoded since start: one per published column, whatever the number of clients */
  readonly encodedColumns: number;
  /** the largest encoded column, in bytes */
  readonly maxColumnBytes: number;
  readonly highWaterBytes: number;
  /** the clients of every dashboard on this server (this one's and its host views'), held to maxClients together */
  readonly allClients: number;
  readonly maxClients: number;
}

interface Client {
  readonly ws: WebSocket;
  /** the next seq to send; null: the default backfill, decided when there is a first column */
  next: number | null;
  /** the step the default backfill is sent at */
  readonly backfill: BackfillStep;
  /** `live` was sent since the last (re)positioning */
  liveSent: boolean;
  /** `end` was sent since the last (re)positioning */
  endSent: boolean;
  /** over the high-water mark: wait for the write callback before sending more */
  blocked: boolean;
  /** the version of the device table this client has */
  devicesSeen: number;
  /** the region whose exemplars it wants, or null */
  watch: ExemplarQuery | null;
  /** which of the region's exemplars its answer lists first */
  watchOrder: ExemplarOrder;
  /** it asked to watch while its queue was full: the answer goes out once it reads again */
  watchAnswerDue: boolean;
  lastPongMs: number;
  /** bound once per client: the write callback of every message, which unblocks the client */
  readonly written: (error?: Error | null) => void;
}

export class ColumnStream {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly source: StreamSource;
  private readonly history: History;
  readonly exemplars: ExemplarStore;
  private readonly host: string;
  private readonly hosts: () => readonly string[];
  private readonly highWater: number;
  private readonly seats: ClientSeats;
  private readonly backfillColumns: number;
  private readonly deadAfterMs: number;
  private readonly ticker: ReturnType<typeof setInterval>;
  private skipped = 0;
  private encoded = 0;
  private maxColumnBytes = 0;
  private lastStatsMs = 0;
  /** bumped when the device table grows; pump sends the new table to each client before its next column */
  private devicesVersion = 0;
  private closed = false;
  /** the source has delivered everything: each client is told `end` once it has caught up */
  private finished = false;
  private sourceProblem: string | null = null;

  constructor(options: StreamOptions) {
    this.source = options.source;
    this.history = options.history;
    this.exemplars = options.exemplars ?? new ExemplarStore();
    this.host = options.host ?? hostname();
    this.hosts = options.hosts ?? (() => []);
    this.highWater = options.highWaterBytes ?? SEND_HIGH_WATER_BYTES;
    this.seats = options.seats ?? new ClientSeats(options.maxClients);
    this.deadAfterMs = options.deadAfterMs ?? DEAD_AFTER_MS;
    this.backfillColumns =
      options.backfillColumns ?? Math.max(1, Math.min(DEFAULT_BACKFILL_COLUMNS, Math.ceil(DEFAULT_BACKFILL_MS / this.source.intervalMs)));
    // noServer: app.ts checks Host, token and Origin on the upgrade before handing it over.
    // No per-message deflate: it would compress each column once per client.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_RECEIVED_BYTES, perMessageDeflate: false, clientTracking: false });
    this.ticker = setInterval(() => this.heartbeat(), options.heartbeatMs ?? HEARTBEAT_MS);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Room for one more client on this server? (app.ts answers 503 on the upgrade when not.) */
  get full(): boolean {
    return this.seats.full;
  }

  /** Completes a checked upgrade. `after`: the last seq the client has, or null for the default backfill (at `backfill`'s step). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, after: number | null, backfill: BackfillStep = COLUMNS_BACKFILL): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.connect(ws, after, backfill));
  }

  /**
   * Completes an upgrade only to say why the page cannot be served as it asks (a browser reads no
   * HTTP answer to a refused upgrade: it sees code 1006 and retries for ever): an `error` message
   * with the line, then a close with code 4000 + the HTTP status, which the page takes as final;
   * or, when the same request may be served later, 1013 (try again later), after which it retries.
   */
  refuseAfterUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, refusal: { status: number; error: string; retry?: boolean }): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', () => {
        // a page that went away before it read the line: nothing to tell anyone
      });
      ws.send(encodeServerMessage({ type: 'error', message: refusal.error.slice(0, MAX_ERROR_CHARS) }));
      ws.close(refusal.retry ? TRY_AGAIN_LATER : REFUSED_CLOSE_BASE + refusal.status, closeReason(refusal.error));
    });
  }

  /** Encodes the column once, keeps it in the history and sends it on to every client able to take it. */
  publish(column: Column): void {
    if (this.closed) return;
    const newest = this.history.newestSeq;
    if (newest !== null && column.seq <= newest) return; // a source never repeats a column; ignore if one does
    const { wire } = this.history.record(column);
    this.encoded++;
    this.maxColumnBytes = Math.max(this.maxColumnBytes, wire.length);
    for (const client of this.clients) {
      if (client.blocked) this.skipped++;
      else this.pump(client);
    }
    const now = Date.now();
    if (now - this.lastStatsMs >= STATS_EVERY_MS) {
      this.lastStatsMs = now;
      const selfStats = this.source.selfStats();
      if (selfStats) this.broadcast({ type: 'stats', selfStats });
    }
  }

  /** Keeps the exemplars and sends each watching client those inside its region. */
  publishExemplars(batch: readonly Exemplar[]): void {
    if (this.closed) return;
    this.exemplars.add(batch);
    for (const client of this.clients) {
      if (!client.watch) continue;
      if (client.blocked) {
        client.watchAnswerDue = true; // it missed live ones: a whole answer once it reads again
        continue;
      }
      const inside = batch.filter((e) => exemplarMatches(e, client.watch!));
      if (inside.length > 0) this.send(client, encodeServerMessage({ type: 'exemplars', replace: false, matched: inside.length, exemplars: inside }));
    }
  }

  /** What keeps the source from reading its data (null once it reads again): every page shows it, and each page that connects later. */
  problem(message: string | null): void {
    this.sourceProblem = message;
    this.broadcast({ type: 'problem', message });
  }

  /** A finite source (a replay, an import) has delivered its last column: every client is told, once caught up. */
  finish(): void {
    this.finished = true;
    for (const client of this.clients) if (!client.blocked) this.pump(client);
  }

  /** The device table (or the hosts) grew: every client gets the new table before the next column (a skipped one when it is caught up). */
  devices(): void {
    this.devicesVersion++;
    for (const client of this.clients) if (!client.blocked) this.pump(client);
  }

  hello(): Hello {
    return {
      type: 'hello',
      version: PROTOCOL_VERSION,
      source: this.source.kind,
      host: this.host,
      scheme: BUCKET_SCHEME,
      devices: this.source.devices(),
      hosts: this.hosts().slice(0, MAX_HOSTS_LISTED),
      ops: OPS,
      metrics: METRICS,
      intervalMs: this.source.intervalMs,
      steps: this.history.steps(this.source.intervalMs),
      oldestSeq: this.history.oldestSeq,
      newestSeq: this.history.newestSeq,
      selfStats: this.source.selfStats(),
      exemplarCapture: this.source.exemplarCapture?.() ?? null,
    };
  }

  stats(): StreamStats {
    let lagging = 0;
    let maxBufferedBytes = 0;
    for (const client of this.clients) {
      if (client.blocked) lagging++;
      maxBufferedBytes = Math.max(maxBufferedBytes, client.ws.bufferedAmount);
    }
    return {
      clients: this.clients.size,
      lagging,
      maxBufferedBytes,
      skippedColumns: this.skipped,
      encodedColumns: this.encoded,
      maxColumnBytes: this.maxColumnBytes,
      highWaterBytes: this.highWater,
      allClients: this.seats.taken,
      maxClients: this.seats.max,
    };
  }

  /**
   * Stops the ticker and closes every client (1001, going away); resolves once they are closed,
   * terminating any that has not answered the close within graceMs.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    const clients = [...this.clients];
    for (const client of clients) this.forget(client);
    const closed = clients.map(
      (client) => new Promise<void>((resolve) => {
        if (client.ws.readyState === client.ws.CLOSED) resolve();
        else client.ws.once('close', () => resolve());
      }),
    );
    for (const client of clients) client.ws.close(1001, 'bpfheat is shutting down');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(closed), late]);
    clearTimeout(timer);
    for (const client of clients) if (client.ws.readyState !== client.ws.CLOSED) client.ws.terminate();
    this.wss.close();
  }

  // ------------------------------------------------------------ per client

  private connect(ws: WebSocket, after: number | null, backfill: BackfillStep): void {
    if (this.closed) {
      ws.close(1001, 'bpfheat is shutting down');
      return;
    }
    const client: Client = {
      ws,
      next: null,
      backfill,
      liveSent: false,
      endSent: false,
      blocked: false,
      devicesSeen: this.devicesVersion, // hello carries the table of now
      watch: null,
      watchOrder: DEFAULT_EXEMPLAR_ORDER,
      watchAnswerDue: false,
      lastPongMs: Date.now(),
      written: (error) => {
        if (error || !client.blocked || ws.bufferedAmount >= this.highWater) return;
        client.blocked = false;
        this.pump(client);
      },
    };
    this.clients.add(client);
    this.seats.taken++;
    ws.on('pong', () => (client.lastPongMs = Date.now()));
    ws.on('message', (data, isBinary) => this.receive(client, data, isBinary));
    ws.on('close', () => this.forget(client));
    ws.on('error', () => {
      // a broken socket: 'close' follows and removes the client; nothing to tell anyone
    });
    this.send(client, encodeServerMessage(this.hello()));
    if (this.sourceProblem !== null) this.send(client, encodeServerMessage({ type: 'problem', message: this.sourceProblem }));
    this.sendHostsLeftOut(client);
    this.position(client, after);
  }

  /** When the hosts are more than a message lists, the line saying so (a problem of the source's own comes first). */
  private sendHostsLeftOut(client: Client): void {
    const count = this.hosts().length;
    if (count <= MAX_HOSTS_LISTED || this.sourceProblem !== null) return;
    const line = `${count} hosts: the Hosts filter lists the first ${MAX_HOSTS_LISTED} (the picture sums them all); narrow the fleet with --match, e.g. {job="db"}`;
    this.send(client, encodeServerMessage({ type: 'problem', message: line }));
  }

  /** A client gone: its seat is free (once, however many ways it went). */
  private forget(client: Client): void {
    if (this.clients.delete(client)) this.seats.taken--;
  }

  /** Points the cursor just after `after` (null: the default backfill) and starts sending. */
  private position(client: Client, after: number | null): void {
    const newest = this.history.newestSeq;
    // A cursor beyond the newest column (a client of a server whose clock ran ahead) starts live.
    client.next = after === null ? null : newest === null ? after + 1 : Math.min(after + 1, newest + 1);
    client.liveSent = false;
    client.endSent = false;
    this.pump(client);
  }

  /**
   * Sends what the client lacks, in order: a newer device table, then columns from the history at
   * its cursor (a `gap` for seqs the history does not hold), then `live` once it has caught up.
   * Stops, leaving the client blocked, when its send queue reaches the high-water mark.
   */
  private pump(client: Client): void {
    const ws = client.ws;
    if (ws.readyState !== ws.OPEN) return;
    this.answerWatch(client);
    if (client.devicesSeen !== this.devicesVersion) {
      client.devicesSeen = this.devicesVersion;
      const hosts = this.hosts();
      this.send(client, encodeServerMessage({ type: 'devices', devices: this.source.devices(), ...(hosts.length > 0 ? { hosts: hosts.slice(0, MAX_HOSTS_LISTED) } : {}) }));
      this.sendHostsLeftOut(client);
    }
    const size = this.history.size;
    if (size > 0) {
      client.next ??= this.startBackfill(client);
      for (let i = this.history.indexOfSeq(client.next); i < size; i++) {
        if (ws.bufferedAmount >= this.highWater) {
          client.blocked = true;
          return;
        }
        const entry = this.history.at(i);
        if (entry.seq > client.next) this.send(client, encodeServerMessage({ type: 'gap', fromSeq: client.next, toSeq: entry.seq - 1 }));
        ws.send(entry.wire, { binary: false }, client.written);
        client.next = entry.seq + 1;
      }
    }
    if (!client.liveSent) {
      client.liveSent = true;
      this.send(client, encodeServerMessage({ type: 'live', lastSeq: this.history.newestSeq }));
    }
    if (this.finished && !client.endSent) {
      client.endSent = true;
      this.send(client, encodeServerMessage({ type: 'end', lastSeq: this.history.newestSeq }));
    }
  }

  /**
   * The first seq of a client's default backfill. At a step coarser than the columns, the roll-ups
   * of that stretch are sent here, packed, and the columns start after the newest one.
   */
  private startBackfill(client: Client): number {
    const first = this.history.at(Math.max(0, this.history.size - this.backfillColumns));
    const newest = this.history.at(this.history.size - 1);
    const fromMs = first.startMs;
    const toMs = newest.startMs + newest.intervalMs;
    const interval = this.source.intervalMs;
    const step = this.history.answerStep(interval, toMs - fromMs, client.backfill.stepMs, client.backfill.widthPx);
    if (step === interval) return first.seq;
    const packed = this.history.packedAt(step, fromMs, toMs);
    client.ws.send(packed, { binary: true }, client.written);
    return newest.seq + 1;
  }

  private receive(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.reply(client, { type: 'error', message: 'binary messages are not understood: send JSON text' });
      return;
    }
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (bytes.length > MAX_CLIENT_MESSAGE_BYTES) {
      this.reply(client, { type: 'error', message: `message is longer than ${MAX_CLIENT_MESSAGE_BYTES} bytes` });
      return;
    }
    try {
      const message = decodeClientMessage(bytes.toString('utf8'));
      switch (message.type) {
        case 'ping':
          this.reply(client, { type: 'pong', id: message.id });
          break;
        case 'resume':
          this.position(client, message.after);
          break;
        case 'watch':
          this.watch(client, message.region, message.order);
          break;
        case 'set-threshold':
          this.setThreshold(client, message.thresholdNs);
          break;
      }
    } catch (error) {
      const why = error instanceof ProtocolError ? error.message : 'message could not be read';
      this.reply(client, { type: 'error', message: why.slice(0, MAX_ERROR_CHARS) });
    }
  }

  /** Starts (or stops) sending a client the exemplars of a region: those held now, then live ones. */
  private watch(client: Client, region: ExemplarRegion | null, order: ExemplarOrder): void {
    client.watch = region && { ...region, toMs: region.toMs ?? Infinity };
    client.watchOrder = order;
    client.watchAnswerDue = client.watch !== null;
    this.answerWatch(client);
  }

  /** The stored exemplars of the watched region; never dropped, only delayed while the client is not reading. */
  private answerWatch(client: Client): void {
    if (!client.watchAnswerDue || !client.watch || client.blocked || client.ws.bufferedAmount >= this.highWater) return;
    client.watchAnswerDue = false;
    const answer = this.exemplars.query(client.watch, MAX_EXEMPLARS_PER_MESSAGE, client.watchOrder);
    this.send(client, encodeServerMessage({ type: 'exemplars', replace: true, matched: answer.matched, exemplars: answer.exemplars }));
  }

  private setThreshold(client: Client, thresholdNs: number | null): void {
    if (!this.source.setExemplarThreshold || !this.source.exemplarCapture) {
      this.reply(client, { type: 'error', message: `a ${this.source.kind} source has no live exemplar threshold: only live tracing picks exemplars` });
      return;
    }
    this.source.setExemplarThreshold(thresholdNs);
    this.broadcast({ type: 'exemplar-capture', capture: this.source.exemplarCapture() });
  }

  /** A reply to a client message; dropped when the client is not reading (its queue is full). */
  private reply(client: Client, message: ServerMessage): void {
    if (client.blocked || client.ws.bufferedAmount >= this.highWater) return;
    this.send(client, encodeServerMessage(message));
  }

  private send(client: Client, text: string): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(text, client.written);
  }

  private broadcast(message: ServerMessage): void {
    const text = Buffer.from(encodeServerMessage(message));
    for (const client of this.clients) {
      if (!client.blocked && client.ws.readyState === client.ws.OPEN) client.ws.send(text, { binary: false }, client.written);
    }
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const client of this.clients) {
      if (now - client.lastPongMs > this.deadAfterMs) {
        client.ws.terminate();
        this.forget(client);
        continue;
      }
      // A backstop for the write callback: a client whose queue has drained is caught up.
      if (client.blocked && client.ws.bufferedAmount < this.highWater) {
        client.blocked = false;
        this.pump(client);
      }
      if (client.ws.readyState === client.ws.OPEN) client.ws.ping();
    }
  }
}
