/**
 * Big HTTP answers without stalls or unbounded memory.
 *
 * - Turns: every big answer is built in small parts, and between parts it asks `turns.pause()`.
 *   All answers share one budget per turn of the event loop (TURN_BUDGET_MS): once it is spent,
 *   they wait for the next turn (setImmediate), so the loop polls sockets and runs timers between
 *   turns. /healthz, the WebSocket stream and the source's ticker wait at most one budget plus one
 *   part, whatever the number of big answers.
 * - Backpressure: a part is written only when the socket took the one before it. A client that
 *   reads nothing for STALL_MS is dropped. So a connection holds at most one chunk in Node beyond
 *   what the kernel's buffers hold, instead of the whole answer.
 * - A limit: at most MAX_HEAVY_ANSWERS big answers are being built at once and MAX_WAITING_ANSWERS
 *   wait for their turn; past that a request gets 429 with Retry-After. So the memory of the state
 *   they hold (decoded columns) is bounded, and a page's requests wait rather than fail.
 */
import { performance } from 'node:perf_hooks';
import type { Response } from 'express';

/** CPU time big answers may take in one turn of the event loop, all together. */
export const TURN_BUDGET_MS = 4;
/**
 * Big answers built at once; more wait (MAX_WAITING_ANSWERS), then get 429. They all share the one
 * thread of the event loop, so more at once would not finish sooner: each would hold its state
 * (decoded columns) longer.
 */
export const MAX_HEAVY_ANSWERS = 2;
/** What a 429 tells the client to wait, in seconds. */
export const RETRY_AFTER_S = 1;
/** The most bytes written to a socket at once. */
export const CHUNK_BYTES = 64 * 1024;
/** A client that takes nothing of an answer for this long is dropped. */
export const STALL_MS = 10_000;

/** The per-turn budget shared by every answer being built (one per server). */
export class Turns {
  private turnStartedAt = performance.now();
  private nextTurn: Promise<void> | null = null;

  constructor(private readonly budgetMs = TURN_BUDGET_MS) {}

  /** Resolves at once while this turn's budget lasts, else in a later turn of the event loop. */
  async pause(): Promise<void> {
    while (performance.now() - this.turnStartedAt >= this.budgetMs) {
      this.nextTurn ??= new Promise<void>((resolve) =>
        setImmediate(() => {
          this.nextTurn = null;
          this.turnStartedAt = performance.now();
          resolve();
        }),
      );
      await this.nextTurn;
    }
  }
}

/** Big answers that may wait for a turn to be built; past them, 429. */
export const MAX_WAITING_ANSWERS = 8;

/**
 * The big answers being built, at most `max` at once, and a queue of at most `maxWaiting` more,
 * served in order; past that a request is refused. A waiting request holds nothing but itself.
 */
export class HeavyAnswers {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly max = MAX_HEAVY_ANSWERS,
    readonly maxWaiting = MAX_WAITING_ANSWERS,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves true once the answer may be built (call leave() after), false when too many wait already. */
  async enter(): Promise<boolean> {
    if (this.active < this.max) {
      this.active++;
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }

  /** Frees a place: the first waiting answer takes it. */
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** Resolves true when the response drained, false when the client went away or took nothing for `stallMs`. */
function drained(res: Response, stallMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const timer = setTimeout(() => finish(false), stallMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export interface StreamOptions {
  readonly turns: Turns;
  readonly chunkBytes?: number;
  readonly stallMs?: number;
}

/**
 * Writes an answer (its headers already set) from its parts, in chunks, each after the socket took
 * the one before, pausing for the turn budget between parts. Parts are computed only as they are
 * sent: a client that stops reading stops the work. Resolves when the answer ended or was dropped.
 */
export async function streamAnswer(res: Response, parts: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>, options: StreamOptions): Promise<void> {
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const stallMs = options.stallMs ?? STALL_MS;
  // it may have waited for its turn: the client may be gone already
  let closed = res.destroyed || res.socket === null || res.socket.destroyed;
  res.once('close', () => (closed = true));
  for await (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    for (let at = 0; at < bytes.length; at += chunkBytes) {
      if (closed) return;
      if (!res.write(bytes.subarray(at, at + chunkBytes)) && !(await drained(res, stallMs))) {
        res.destroy();
        return;
      }
    }
    await options.turns.pause();
    if (closed) return;
  }
  res.end();
}
