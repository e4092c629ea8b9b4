/**
 * Older columns on demand: when the view reaches before what the page holds, ask the server's
 * history (GET /api/columns) for it, in fixed chunks of seqs, each chunk at most once per server
 * connection, one request at a time, so panning and zooming never floods the server.
 */
import type { Column } from '../../shared/column.ts';
import { ProtocolError, decodeColumn } from '../../shared/protocol.ts';

/** Columns per request: 10 minutes of one-second columns, a few hundred KB of JSON. */
export const CHUNK_COLUMNS = 600;

export type FetchColumns = (fromMs: number, toMs: number, signal: AbortSignal) => Promise<Column[]>;

/** Reads the body of /api/columns: {"columns": [...]} or a bare array, each column in the wire's compact form or as a wire message. */
export function decodeColumnsResponse(body: unknown): Column[] {
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null && Array.isArray((body as { columns?: unknown }).columns) ? (body as { columns: unknown[] }).columns : null;
  if (!list) throw new ProtocolError('/api/columns must answer {"columns": [...]}');
  return list.map((item) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && 'c' in item) return decodeColumn((item as { c: unknown }).c);
    return decodeColumn(item);
  });
}

export function httpFetchColumns(search: string): FetchColumns {
  const token = new URLSearchParams(search).get('token');
  return async (fromMs, toMs, signal) => {
    const query = new URLSearchParams({ from: String(fromMs), to: String(toMs) });
    if (token) query.set('token', token);
    const response = await fetch(`/api/columns?${query}`, { signal, headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!response.ok) throw new Error(`/api/columns answered ${response.status}`);
    return decodeColumnsResponse(await response.json());
  };
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
  request(runs: readonly [number, number][], intervalMs: number): void {
    for (const [first, last] of runs) {
      for (let chunk = Math.floor(first / CHUNK_COLUMNS); chunk <= Math.floor(last / CHUNK_COLUMNS); chunk++) {
        if (this.tried.has(chunk)) continue;
        this.tried.add(chunk);
        // Newest first: the part of the view nearest to what is shown fills in first.
        this.queue.unshift(chunk);
      }
    }
    this.next(intervalMs);
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

  private next(intervalMs: number): void {
    if (this.controller || this.queue.length === 0) return;
    const chunk = this.queue.shift()!;
    const controller = new AbortController();
    this.controller = controller;
    const fromMs = chunk * CHUNK_COLUMNS * intervalMs;
    this.fetchColumns(fromMs, fromMs + CHUNK_COLUMNS * intervalMs, controller.signal)
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
        this.next(intervalMs);
        this.settled();
      });
  }
}
