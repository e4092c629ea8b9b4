/**
 * The WebSocket to the server: decode every message with the shared protocol, and when the
 * connection drops, retry with exponential back-off and reconnect with ?after=<newest seq held>,
 * so the server backfills exactly what was missed (and says 'gap' for what it no longer has).
 * A link silent for several intervals is taken for dead, unless the server said `end` (a replay
 * that has delivered everything sends nothing more). A close that says the server refused what
 * the page asked (an unknown host in ?host=) is final: the page shows why, and does not retry.
 */
import { decodePackedColumns, decodeServerMessage, encodeClientMessage, isRefusalClose, type ClientMessage, type PackedColumns, type ServerMessage } from '../../shared/protocol.ts';

export type ConnectionState =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'backfilling' }
  | { readonly kind: 'live' }
  | { readonly kind: 'offline'; readonly attempt: number; readonly retryAtMs: number; readonly reason: string }
  /** the server refused what the page's address asks (its `error` message says why): no retry */
  | { readonly kind: 'refused'; readonly reason: string };

export interface ConnectionHandlers {
  message(message: ServerMessage): void;
  /** the default backfill at a roll-up step (?step=): one binary message of packed roll-ups */
  packed(packed: PackedColumns): void;
  /** a message that could not be decoded was skipped; the connection stays */
  undecodable(reason: string): void;
  state(state: ConnectionState): void;
  /** the seq to resume after (the newest column held), or null for the server's default backfill */
  resumeAfter(): number | null;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
/** Columns arrive every interval, even empty ones: this much silence means the link is dead. */
const SILENCE_INTERVALS = 5;
const MIN_SILENCE_MS = 10_000;

/**
 * The socket address of the page's server, with its access token, the hosts it narrows to and the seq to resume after;
 * without one, the page's `step` (if any) asks the default backfill at that roll-up step.
 */
export function socketUrl(location: Pick<Location, 'protocol' | 'host' | 'search'>, after: number | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = new URLSearchParams();
  const page = new URLSearchParams(location.search);
  const token = page.get('token');
  if (token) query.set('token', token);
  const host = page.get('host');
  if (host) query.set('host', host);
  const step = page.get('step');
  if (after !== null) query.set('after', String(after));
  else if (step) query.set('step', step);
  const text = query.toString();
  return `${scheme}//${location.host}/ws${text ? `?${text}` : ''}`;
}

export class Connection {
  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private intervalMs = 1000;
  private stopped = false;
  /** the server said `end`: nothing more comes, so silence is no longer a dead link */
  private ended = false;

  constructor(
    private readonly location: Pick<Location, 'protocol' | 'host' | 'search'>,
    private readonly handlers: ConnectionHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /**
   * Sends on the open socket; false when there is none. Nothing is queued: what a message asks
   * for lives only as long as its connection, so the caller asks again after a reconnect.
   */
  send(message: ClientMessage): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encodeClientMessage(message));
    return true;
  }

  private open(): void {
    this.attempt++;
    this.handlers.state({ kind: 'connecting', attempt: this.attempt });
    const socket = new WebSocket(socketUrl(this.location, this.handlers.resumeAfter()));
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      if (this.socket === socket) this.watchSilence();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.watchSilence();
      let message: ServerMessage | null = null;
      try {
        if (typeof event.data === 'string') message = decodeServerMessage(event.data);
        else this.handlers.packed(decodePackedBackfill(event.data));
      } catch (error) {
        // One bad message costs that message, not the connection or the picture.
        const reason = error instanceof Error ? error.message : String(error);
        console.error(`bpfheat: skipped a message from the server that could not be read: ${reason}`);
        this.handlers.undecodable(reason);
        return;
      }
      if (message === null) return;
      if (message.type === 'hello') {
        this.intervalMs = message.intervalMs;
        this.attempt = 0;
        this.ended = false;
        this.handlers.state({ kind: 'backfilling' });
      } else if (message.type === 'live') {
        this.handlers.state({ kind: 'live' });
      } else if (message.type === 'end') {
        this.ended = true;
        this.clearTimers();
      }
      this.handlers.message(message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (isRefusalClose(event.code)) this.refused(socket, event.reason);
      else this.drop(socket, event.reason || `connection closed (code ${event.code})`);
    };
    // onerror is always followed by onclose, which does the work.
    socket.onerror = null;
  }

  private refused(socket: WebSocket, reason: string): void {
    this.socket = null;
    this.clearTimers();
    socket.onopen = socket.onmessage = socket.onclose = null;
    this.handlers.state({ kind: 'refused', reason });
  }

  private drop(socket: WebSocket, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.clearTimers();
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.close();
    if (this.stopped) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, this.attempt - 1));
    // Jitter keeps many pages from reconnecting in lock-step after a server restart.
    const delayMs = delay * (0.8 + 0.4 * Math.random());
    this.handlers.state({ kind: 'offline', attempt: this.attempt, retryAtMs: Date.now() + delayMs, reason });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delayMs);
  }

  private watchSilence(): void {
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    // A closed socket still ends in onclose: a server that goes away after its end is noticed.
    if (this.ended) return;
    const socket = this.socket;
    this.silenceTimer = setTimeout(() => {
      if (socket) this.drop(socket, 'no data from the server');
    }, Math.max(MIN_SILENCE_MS, SILENCE_INTERVALS * this.intervalMs));
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.retryTimer = this.silenceTimer = null;
  }
}

/** The one binary message the server sends: packed roll-ups of the default backfill. */
function decodePackedBackfill(data: unknown): PackedColumns {
  if (!(data instanceof ArrayBuffer)) throw new Error('a binary message that is not an ArrayBuffer');
  try {
    return decodePackedColumns(data);
  } catch (error) {
    throw new Error(`a binary message that is not packed roll-ups: ${error instanceof Error ? error.message : String(error)}`);
  }
}
