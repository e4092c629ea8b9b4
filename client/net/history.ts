/**
 * Columns on demand, at the step the view needs: when the view reaches what the page does not
 * hold (older than the backfill, or a level of detail not fetched yet), ask the server's history
 * for it, in fixed chunks of seqs of that step, each chunk at most once per server connection,
 * one request at a time, newest first, so panning and zooming never flood the server.
 *
 * A request is GET /api/columns?step=&from=&to=&format=packed: whole columns (every device and
 * op, so filters still apply locally), or the roll-ups of a coarser step, in the binary packed
 * form (shared/protocol.ts), decoded without an object per series or count.
 */
import { decodePackedColumns, type PackedColumns } from '../../shared/protocol.ts';

/**
 * Seqs per request: of columns, an hour at one second (a zoom asks for little more than it
 * shows); of roll-ups, a week of 1-min ones in two requests. The page adds an answer a slice per
 * frame (model.ts), so its size does not make a long frame.
 */
export const CHUNK_COLUMNS = 3600;
export const CHUNK_ROLLUPS = 10_000;
/** A request that has not answered by then is given up (and the chunk can be asked for again after a reconnect). */
const REQUEST_TIMEOUT_MS = 20_000;

export type FetchColumns = (stepMs: number, fromSeq: number, toSeq: number, signal: AbortSignal) => Promise<PackedColumns>;

/** /api/columns of the page's server, with its access token and the hosts it narrows to, in the packed form. */
export function httpFetchColumns(location: Pick<Location, 'search'>, fetchImpl: typeof fetch = fetch): FetchColumns {
  return async (stepMs, fromSeq, toSeq, signal) => {
    const query = new URLSearchParams({ step: String(stepMs), from: String(fromSeq * stepMs), to: String((toSeq + 1) * stepMs), format: 'packed' });
    const page = new URLSearchParams(location.search);
    for (const name of ['token', 'host']) {
      const value = page.get(name);
      if (value) query.set(name, value);
    }
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const response = await fetchImpl(`/api/columns?${query}`, { signal: AbortSignal.any([signal, timeout]) });
    if (!response.ok) {
      const text = await response.text();
      let reason = text.slice(0, 200);
      try {
        reason = (JSON.parse(text) as { error?: string }).error ?? reason;
      } catch {
        // not JSON: the text itself is the reason
      }
      throw new Error(`history request failed (${response.status}): ${reason}`);
    }
    const packed = decodePackedColumns(await response.arrayBuffer());
    if (packed.stepMs !== stepMs) throw new Error(`asked for ${stepMs}-ms steps, the server answered ${packed.stepMs}-ms ones`);
    return packed;
  };
}

/** What the page asks the history worker (columns-worker.ts): a request (the page's query string for the token), or to give one up. */
export type ColumnsRequest =
  | { readonly id: number; readonly search: string; readonly stepMs: number; readonly fromSeq: number; readonly toSeq: number }
  | { readonly id: number; readonly abort: true };

/** The worker's answer to a request. */
export type ColumnsReply = { readonly id: number; readonly packed: PackedColumns } | { readonly id: number; readonly error: string };

/** The page's end of a message channel: a Worker, or a MessagePort in tests. */
export interface ColumnsChannel {
  postMessage(message: ColumnsRequest): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ColumnsReply>) => void): void;
  /** the worker did not load or threw ('error'), or an answer could not be read ('messageerror') */
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
}

/** The worker's end of the channel: its global scope, or a MessagePort in tests (started by them). */
export interface ColumnsServerPort {
  postMessage(message: ColumnsReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ColumnsRequest>) => void): void;
}

/** The worker's end: answers each request with httpFetchColumns, the packed arrays' buffer transferred. */
export function serveColumns(port: ColumnsServerPort, fetchImpl: typeof fetch = fetch): void {
  const controllers = new Map<number, AbortController>();
  port.addEventListener('message', (event: MessageEvent<ColumnsRequest>) => {
    const request = event.data;
    if ('abort' in request) {
      controllers.get(request.id)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(request.id, controller);
    httpFetchColumns({ search: request.search }, fetchImpl)(request.stepMs, request.fromSeq, request.toSeq, controller.signal)
      .then(
        (packed) => port.postMessage({ id: request.id, packed } satisfies ColumnsReply, [packed.seq.buffer as ArrayBuffer]),
        (error: unknown) => port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies ColumnsReply),
      )
      .finally(() => controllers.delete(request.id));
  });
}

/**
 * History requests answered by the worker at the other end of `channel`. A worker that fails (it
 * did not load, threw, or sent what cannot be read) says so once (`warn`), and the requests
 * waiting on it and all later ones are fetched in the page (`fallback`); a request it does not
 * answer within `timeoutMs` is given up, so the page never waits on it for ever.
 */
export function workerFetchColumns(
  channel: ColumnsChannel,
  location: Pick<Location, 'search'>,
  { fallback = httpFetchColumns(location), timeoutMs = REQUEST_TIMEOUT_MS + 5000, warn = console.warn }: { fallback?: FetchColumns; timeoutMs?: number; warn?: (message: string) => void } = {},
): FetchColumns {
  let nextId = 0;
  let failure: string | null = null;
  const waiting = new Map<number, { resolve: (packed: PackedColumns) => void; reject: (error: Error) => void; inPage: () => void }>();
  channel.addEventListener('message', (event) => {
    const reply = event.data;
    const request = waiting.get(reply.id);
    if ('error' in reply) request?.reject(new Error(reply.error));
    else request?.resolve(reply.packed);
  });
  const fail = (reason: string) => {
    if (failure !== null) return;
    failure = `the history worker failed (${reason}): history is fetched in the page from now on`;
    warn(failure);
    for (const request of waiting.values()) request.inPage();
  };
  channel.addEventListener('error', (event) => fail('message' in event && event.message ? String(event.message) : 'it did not load'));
  channel.addEventListener('messageerror', () => fail('an answer could not be read'));
  return (stepMs, fromSeq, toSeq, signal) => {
    if (failure !== null) return fallback(stepMs, fromSeq, toSeq, signal);
    return new Promise<PackedColumns>((resolve, reject) => {
      const id = nextId++;
      const settle = () => {
        waiting.delete(id);
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
      };
      const giveUp = (error: Error) => {
        channel.postMessage({ id, abort: true });
        settle();
        reject(error);
      };
      const abort = () => giveUp(signal.reason instanceof Error ? signal.reason : new Error('history request given up'));
      const timer = setTimeout(() => giveUp(new Error(`the history worker did not answer in ${timeoutMs / 1000} s`)), timeoutMs);
      signal.addEventListener('abort', abort);
      waiting.set(id, {
        resolve: (packed) => {
          settle();
          resolve(packed);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        inPage: () => {
          settle();
          fallback(stepMs, fromSeq, toSeq, signal).then(resolve, reject);
        },
      });
      channel.postMessage({ id, search: location.search, stepMs, fromSeq, toSeq });
    });
  };
}

export class HistoryLoader {
  /** chunks asked for, as "step:size:chunk" */
  private readonly tried = new Set<string>();
  private controller: AbortController | null = null;
  private queue: { stepMs: number; size: number; chunk: number }[] = [];
  lastError: string | null = null;

  constructor(
    private readonly fetchColumns: FetchColumns,
    private readonly received: (packed: PackedColumns) => void,
    private readonly settled: () => void,
  ) {}

  get busy(): boolean {
    return this.controller !== null || this.queue.length > 0;
  }

  /** Asks for the chunks of `size` seqs holding these missing runs of seqs of the step, unless asked before. */
  request(stepMs: number, size: number, runs: readonly [number, number][]): void {
    for (const [first, last] of runs) {
      for (let chunk = Math.floor(first / size); chunk <= Math.floor(last / size); chunk++) {
        const key = `${stepMs}:${size}:${chunk}`;
        if (this.tried.has(key)) continue;
        this.tried.add(key);
        // Newest first: the part of the view nearest to what is shown fills in first.
        this.queue.unshift({ stepMs, size, chunk });
      }
    }
    this.next();
  }

  /** A new server (or the same one restarted): its history may hold what the last one did not. */
  forget(): void {
    this.controller?.abort();
    this.controller = null;
    this.queue = [];
    this.tried.clear();
  }

  dispose(): void {
    this.forget();
  }

  private next(): void {
    if (this.controller || this.queue.length === 0) return;
    const { stepMs, size, chunk } = this.queue.shift()!;
    const controller = new AbortController();
    this.controller = controller;
    this.fetchColumns(stepMs, chunk * size, (chunk + 1) * size - 1, controller.signal)
      .then((packed) => {
        if (this.controller !== controller) return;
        this.lastError = null;
        this.received(packed);
      })
      .catch((error: unknown) => {
        if (this.controller !== controller) return;
        this.lastError = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        if (this.controller !== controller) return;
        this.controller = null;
        this.next();
        this.settled();
      });
  }
}
