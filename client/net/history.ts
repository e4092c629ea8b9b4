/**
 * Older columns on demand: when the view reaches before what the page holds, ask the server's
 * history for it, in fixed chunks of seqs, each chunk at most once per server connection, one
 * request at a time, so panning and zooming never floods the server.
 *
 * A request is a short-lived WebSocket opened with ?after=<first seq - 1>: the server replays
 * its history from there as whole columns (every device and op, so filters still apply
 * locally), and the socket is closed as soon as the chunk is complete. /api/columns answers
 * one filtered histogram per column instead, which would need a new request per filter.
 */
import type { Column } from '../../shared/column.ts';
import { decodeServerMessage } from '../../shared/protocol.ts';
import { socketUrl } from './connection.ts';

/** Columns per request: 10 minutes of one-second columns, a few hundred KB on the wire. */
export const CHUNK_COLUMNS = 600;
/** A replay that has not finished by then is given up (and the chunk can be asked for again after a reconnect). */
const REPLAY_TIMEOUT_MS = 20_000;

export type FetchColumns = (fromSeq: number, toSeq: number, signal: AbortSignal) => Promise<Column[]>;

export function socketFetchColumns(location: Pick<Location, 'protocol' | 'host' | 'search'>): FetchColumns {
  return (fromSeq, toSeq, signal) =>
    new Promise<Column[]>((resolve, reject) => {
      const columns: Column[] = [];
      const socket = new WebSocket(socketUrl(location, Math.max(0, fromSeq - 1)));
      const finish = (error: Error | null): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.onmessage = socket.onclose = null;
        socket.close();
        if (error) reject(error);
        else resolve(columns);
      };
      const onAbort = (): void => finish(new Error('aborted'));
      const timer = setTimeout(() => finish(new Error('history replay timed out')), REPLAY_TIMEOUT_MS);
      signal.addEventListener('abort', onAbort);
      socket.onmessage = (event) => {
        if (typeof event.data !== 'string') return;
        try {
          const message = decodeServerMessage(event.data);
          if (message.type === 'column') {
            if (message.column.seq > toSeq) finish(null);
            else if (message.column.seq >= fromSeq) columns.push(message.column);
          } else if (message.type === 'live') {
            finish(null);
          } else if (message.type === 'error') {
            finish(new Error(message.message));
          }
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      };
      socket.onclose = (event) => finish(new Error(`history replay closed: ${event.reason || `code ${event.code}`}`));
    });
}

export class HistoryLoader {
  private readonly tried = new Set<number>();
  private controller: AbortController | null = null;
  private queue: number[] = [];
  lastError: string | null = null;

  constructor(
    private readonly fetchColumns: FetchColumns,
    private readonly received: (columns: Column[]) => void,
    private readonly settled: () => void,
  ) {}

  get busy(): boolean {
    return this.controller !== null || this.queue.length > 0;
  }

  /** Asks for the chunks holding these missing seq runs, unless asked before. */
  request(runs: readonly [number, number][]): void {
    for (const [first, last] of runs) {
      for (let chunk = Math.floor(first / CHUNK_COLUMNS); chunk <= Math.floor(last / CHUNK_COLUMNS); chunk++) {
        if (this.tried.has(chunk)) continue;
        this.tried.add(chunk);
        // Newest first: the part of the view nearest to what is shown fills in first.
        this.queue.unshift(chunk);
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
    const chunk = this.queue.shift()!;
    const controller = new AbortController();
    this.controller = controller;
    this.fetchColumns(chunk * CHUNK_COLUMNS, (chunk + 1) * CHUNK_COLUMNS - 1, controller.signal)
      .then((columns) => {
        if (this.controller !== controller) return;
        this.lastError = null;
        this.received(columns);
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
