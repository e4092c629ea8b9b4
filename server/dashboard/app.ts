/**
 * Builds the dashboard server without listening: the express app (http.ts), the WebSocket
 * column stream (ws.ts) on path /ws of the same HTTP server, and the checks in front of both
 * (security.ts). dashboard.ts listens; tests import this and listen on an ephemeral port.
 *
 * An API request or WebSocket naming hosts (?host=a,b, for a source of several hosts) is answered
 * by the dashboard of those hosts (`hostView`, hostViews.ts), on the same server and port.
 *
 * Columns enter through `sink` (hand it to Source.start): each is encoded once, kept in the
 * history, and sent on to every client.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import type { ColumnSink } from '../sources/source.ts';
import type { ClientBundle } from './bundle.ts';
import type { History } from './history.ts';
import { createHttpApp, MAX_URL_CHARS, parseBackfillStep } from './http.ts';
import { HeavyAnswers, Turns } from './slicing.ts';
import { MetricsExporter } from './metrics.ts';
import { currentUser, type RunAs } from './privileges.ts';
import { checkRequest, originAllowed, type AccessPolicy } from './security.ts';
import { ClientSeats, ColumnStream, type StreamOptions, type StreamSource } from './ws.ts';

/**
 * What the dashboards on one server (a fleet's and its host views') hold to together, so that
 * host views add no room: --max-clients WebSockets, MAX_HEAVY_ANSWERS big answers at once, one
 * event-loop budget per turn.
 */
export interface ServerLimits {
  readonly seats: ClientSeats;
  readonly turns: Turns;
  readonly heavy: HeavyAnswers;
}

export function serverLimits(maxClients?: number): ServerLimits {
  return { seats: new ClientSeats(maxClients), turns: new Turns(), heavy: new HeavyAnswers() };
}

export interface DashboardOptions {
  readonly source: StreamSource;
  readonly history: History;
  /** null: a headless exporter (/healthz and /metrics, no page, no WebSocket) */
  readonly bundle: ClientBundle | null;
  readonly policy: AccessPolicy;
  /** the --listen address, as reported in /api/meta */
  readonly listen: string;
  /** who the process runs as, for /api/meta (default: asked of the OS each time) */
  readonly runAs?: () => RunAs;
  readonly selfStatsRequested?: boolean;
  /** heartbeat, high-water mark, client limit, backfill: the defaults of ws.ts unless given */
  readonly stream?: Omit<StreamOptions, 'source' | 'history'>;
  /** the dashboard of some hosts, for requests that name them (?host=), or why there is none (and the status that says so); absent: the source has no hosts apart */
  readonly hostView?: (hosts: readonly string[]) => Dashboard | HostRefusal;
  /** the limits shared with the other dashboards of this server (default: its own, of stream.maxClients clients) */
  readonly limits?: ServerLimits;
  /** the port of the server that serves this dashboard, when it is another dashboard's (a host view) */
  readonly port?: () => number;
}

export interface HostRefusal {
  readonly status: number;
  readonly error: string;
  /** the same request may be served later (the fleet's hosts are not read yet): a page retries rather than stop */
  readonly retry?: boolean;
}

export interface Dashboard {
  readonly app: Express;
  readonly server: Server;
  readonly stream: ColumnStream;
  readonly metrics: MetricsExporter;
  readonly sink: ColumnSink;
  /** the port listened on, 0 before listening */
  port(): number;
  /** closes every WebSocket (1001), stops the ticker, then the HTTP server and its connections */
  close(): Promise<void>;
}

const WS_PARAMS = ['after', 'step', 'width', 'token', 'host'];

/** Most hosts one request may name. */
const MAX_HOSTS_NAMED = 64;

/**
 * The hosts a request names (?host=a,b or repeated), sorted and each once; null when it names
 * none; a line naming the problem when the names are unusable.
 */
export function hostsNamed(query: URLSearchParams): readonly string[] | null | { error: string } {
  const names = query.getAll('host').flatMap((value) => value.split(','));
  if (names.length === 0) return null;
  if (names.length > MAX_HOSTS_NAMED) return { error: `"host" names more than ${MAX_HOSTS_NAMED} hosts: leave it out for all of them, summed` };
  if (names.some((name) => name === '' || name.length > 256)) return { error: '"host" must be host names separated by commas, as the page\'s Hosts filter lists them' };
  return [...new Set(names)].sort();
}

/** HTTP connections open at once (WebSockets are counted by the stream, up to its max-clients); more get 503. */
export const MAX_HTTP_CONNECTIONS = 128;
/** A connection that sends or takes nothing for this long is closed (WebSockets have their heartbeat instead). */
export const IDLE_TIMEOUT_MS = 30_000;
/** The request line and headers must arrive within this (slowloris). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** Refuses an upgrade with a plain HTTP answer and closes the socket. */
function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const limits = options.limits ?? serverLimits(options.stream?.maxClients);
  const stream = new ColumnStream({ ...options.stream, seats: limits.seats, source: options.source, history: options.history });
  const metrics = new MetricsExporter(options.source);
  let server: Server | null = null;
  let listeningPort = 0; // asked of the server once: every request's checks want it
  const port = options.port ?? ((): number => (listeningPort ||= (server?.address() as AddressInfo | null)?.port ?? 0));
  const app = createHttpApp({
    source: options.source,
    history: options.history,
    stream,
    bundle: options.bundle,
    metrics,
    policy: options.policy,
    port,
    listen: options.listen,
    runAs: options.runAs ?? currentUser,
    selfStatsRequested: options.selfStatsRequested ?? false,
    connections: () => httpSockets.size,
    turns: limits.turns,
    heavy: limits.heavy,
  });
  /** The dashboard that answers a request: this one, or the one of the hosts it names. */
  function answering(query: URLSearchParams): { dashboard: Dashboard | null } | HostRefusal {
    const hosts = hostsNamed(query);
    if (hosts === null) return { dashboard: null };
    if ('error' in hosts) return { status: 400, error: hosts.error };
    if (!options.hostView) return { status: 400, error: '"host" narrows a source of several hosts (--source prometheus without --sum-hosts): this one has no hosts apart' };
    const view = options.hostView(hosts);
    return 'error' in view ? view : { dashboard: view };
  }

  server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS }, (request, response) => {
    const url = request.url ?? '';
    const q = url.indexOf('?');
    const query = new URLSearchParams(q < 0 || url.length > MAX_URL_CHARS ? '' : url.slice(q + 1));
    // The page itself is the same for any hosts (its data comes from /api and /ws), so it loads even
    // before the hosts are known; a request this dashboard would refuse makes no host view (no read
    // from Prometheus): it is refused as any other.
    // Express routes /API/columns as /api/columns: so is it routed here, or the fleet's app would answer it for the hosts
    const allowed = url.slice(0, 5).toLowerCase() === '/api/' && query.has('host') && checkRequest(options.policy, request.headers, request.rawHeaders, query, port()).ok;
    const chosen = allowed ? answering(query) : { dashboard: null };
    if ('error' in chosen) {
      response.writeHead(chosen.status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: chosen.error }));
      return;
    }
    (chosen.dashboard?.app ?? app)(request, response);
  });
  server.timeout = IDLE_TIMEOUT_MS;

  // Every socket is an HTTP connection until it becomes a WebSocket.
  const httpSockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    if (httpSockets.size >= MAX_HTTP_CONNECTIONS) {
      socket.on('error', () => {});
      refuse(socket, 503, `${MAX_HTTP_CONNECTIONS} HTTP connections are open already: close some and retry`);
      return;
    }
    httpSockets.add(socket);
    socket.once('close', () => httpSockets.delete(socket));
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    httpSockets.delete(socket as Socket);
    socket.on('error', () => {
      // a peer that vanished mid-handshake: nothing to do
    });
    const url = request.url ?? '';
    if (url.length > MAX_URL_CHARS) return refuse(socket, 414, `the URL is longer than ${MAX_URL_CHARS} characters`);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (path !== '/ws' || !options.bundle) return refuse(socket, 404, options.bundle ? 'WebSockets are served on /ws only' : 'this is a headless exporter (bpfheat --exporter): no WebSocket');
    const verdict = checkRequest(options.policy, request.headers, request.rawHeaders, query, port());
    if (!verdict.ok) return refuse(socket, verdict.status, verdict.message);
    if (!originAllowed(request.headers.origin, request.headers.host)) {
      return refuse(socket, 403, `origin "${String(request.headers.origin).slice(0, 100)}" is not this dashboard: WebSockets are only for its own pages`);
    }
    for (const name of new Set(query.keys())) {
      if (!WS_PARAMS.includes(name)) return refuse(socket, 400, `unknown query parameter "${name.slice(0, 40)}": expected after, step, width, host (and token)`);
    }
    const afters = query.getAll('after');
    if (afters.length > 1 || (afters.length === 1 && !/^\d{1,16}$/.test(afters[0]!))) {
      return refuse(socket, 400, '"after" must be given once, as the seq of the last column the client has');
    }
    const backfill = parseBackfillStep(query);
    if ('error' in backfill) return refuse(socket, 400, backfill.error);
    const chosen = answering(query);
    // the page's own address named the hosts: it is told why, and stops retrying
    if ('error' in chosen) return stream.refuseAfterUpgrade(request, socket, head, chosen);
    const target = chosen.dashboard?.stream ?? stream;
    if (target.full) return refuse(socket, 503, 'too many dashboard clients are connected: close one and retry');
    target.handleUpgrade(request, socket, head, afters.length === 1 ? Number(afters[0]) : null, backfill);
  });

  const sink: ColumnSink = {
    column: (column) => {
      metrics.add(column);
      stream.publish(column);
    },
    devices: () => stream.devices(),
    exemplars: (batch) => stream.publishExemplars(batch),
    finished: () => stream.finish(),
    problem: (message) => stream.problem(message),
  };

  return {
    app,
    server,
    stream,
    metrics,
    sink,
    port,
    async close() {
      await stream.close();
      const s = server!;
      await new Promise<void>((resolve) => {
        if (!s.listening) return resolve();
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
