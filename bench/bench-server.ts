/**
 * The dashboard server as `bpfheat --source synthetic` builds it (server/app.ts createDashboard,
 * History, the synthetic source), with the knobs the benchmarks need and the command line does
 * not have:
 *
 *   --interval MS        column width (default 1000)
 *   --max-clients N      WebSocket client limit (the binary's is ws.ts DEFAULT_MAX_CLIENTS, 256)
 *   --client-dir DIR     serve this built client (default: a stub page; fan-out needs none)
 *   --backfill N         columns a new client gets on connect (default ws.ts's: 15 min, at most 5,000)
 *   --history N          columns the history keeps (default: the prefill and an hour more, at least 24 h);
 *                        its roll-up levels always reach back over the whole prefill
 *   --prefill N          start with N columns of history (columns from the synthetic source's
 *                        generator, 600 distinct ones repeated: 24 h of exact columns would take
 *                        minutes to draw), ending --backlog N columns (default 120) before now.
 *                        Then columns are paced by stdin, one command a line:
 *                          scroll N   publish the next N columns at --scroll-rate per second
 *                                     (default 10), so a live view scrolls N times in N/R s
 *                          hold       publish nothing; ended columns wait (the start state)
 *                          live       publish each column as it ends, as the binary does
 *
 * Listens on 127.0.0.1, an ephemeral port; prints "bench-server: URL newest=SEQ" once serving.
 * Stops on SIGINT/SIGTERM or when stdin closes. Only for benchmarks: `bpfheat` is the product.
 */
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import type { Column } from '../shared/column.ts';
import { createDashboard } from '../server/dashboard/app.ts';
import { loadClientBundle, type ClientBundle } from '../server/dashboard/bundle.ts';
import { History, defaultLevels } from '../server/dashboard/history.ts';
import { accessPolicy } from '../server/dashboard/security.ts';
import { createSyntheticSource, syntheticColumn, SYNTHETIC_DEVICES } from '../server/sources/synthetic.ts';
import type { ColumnSink, Source } from '../server/sources/source.ts';
import { numberOption } from './lib/report.ts';

const TEMPLATES = 600;
const SEED = 1;

function textOption(name: string): string | null {
  const argv = process.argv.slice(2);
  const k = argv.indexOf(`--${name}`);
  return k >= 0 ? (argv[k + 1] ?? null) : null;
}

function stubBundle(): ClientBundle {
  const index = { body: Buffer.from('<!doctype html><title>bench</title>\n'), contentType: 'text/html; charset=utf-8', immutable: false };
  return { dir: '(stub)', files: new Map([['/index.html', index]]), index };
}

/** What stdin can ask of a prefilled source. */
interface Pacer {
  /** publish the next n held columns at the scroll rate, then hold again */
  scroll(n: number): void;
  /** publish every ended column, as a live source does */
  live(): void;
  /** publish nothing until scroll or live (ended columns wait) */
  hold(): void;
}

/**
 * A source of prefilled history and paced columns. Column `seq` is template seq % TEMPLATES
 * re-stamped, so a day of history costs TEMPLATES generated columns. It starts holding the
 * newest `backlog` columns back.
 */
function prefilledSource(intervalMs: number, prefill: number, backlog: number, scrollRate: number): { source: Source; pacer: Pacer } {
  const templates: Column[] = [];
  const base = Math.floor(Date.now() / intervalMs);
  for (let k = 0; k < TEMPLATES; k++) templates.push(syntheticColumn(SEED, base - TEMPLATES + k, intervalMs));
  const columnAt = (seq: number): Column => ({ ...templates[seq % TEMPLATES]!, seq, startMs: seq * intervalMs });
  let sink: ColumnSink | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let next = 0;
  let mode: 'hold' | 'live' | 'scroll' = 'hold';
  let toScroll = 0;
  const ended = (): number => Math.floor(Date.now() / intervalMs); // seqs below this have ended

  function tick(): void {
    timer = null;
    if (!sink) return;
    if (mode === 'scroll') {
      if (toScroll > 0 && next < ended()) {
        sink.column(columnAt(next++));
        toScroll--;
        timer = setTimeout(tick, 1000 / scrollRate);
        return;
      }
      mode = 'hold';
    }
    if (mode === 'live') {
      while (next < ended()) sink.column(columnAt(next++));
      timer = setTimeout(tick, (next + 1) * intervalMs - Date.now() + 1);
    }
  }

  function switchTo(to: typeof mode): void {
    mode = to;
    if (timer) clearTimeout(timer);
    tick();
  }

  const source: Source = {
    kind: 'synthetic',
    intervalMs,
    devices: () => SYNTHETIC_DEVICES,
    selfStats: () => null,
    async start(target) {
      sink = target;
      sink.devices?.(SYNTHETIC_DEVICES);
      const end = ended() - backlog;
      for (next = end - prefill; next < end; next++) sink.column(columnAt(next));
    },
    async stop() {
      if (timer) clearTimeout(timer);
      sink = null;
    },
  };
  return {
    source,
    pacer: {
      scroll(n) {
        toScroll = n;
        switchTo('scroll');
      },
      live: () => switchTo('live'),
      hold: () => switchTo('hold'),
    },
  };
}

async function main(): Promise<void> {
  const intervalMs = numberOption('interval', 1000);
  const maxClients = numberOption('max-clients', 256);
  const prefill = Math.round(numberOption('prefill', 0)); // 0: the synthetic source's own 2 minutes
  const backlog = Math.round(numberOption('backlog', 120));
  const scrollRate = numberOption('scroll-rate', 10);
  const clientDir = textOption('client-dir');
  const backfill = Math.round(numberOption('backfill', 0));

  const paced = prefill > 0 ? prefilledSource(intervalMs, prefill, backlog, scrollRate) : null;
  const source = paced?.source ?? createSyntheticSource({ seed: SEED, intervalMs });
  const reach = Math.max(prefill + backlog + 3600, Math.ceil((24 * 3600 * 1000) / intervalMs));
  const history = new History(Math.round(numberOption('history', reach)), defaultLevels(intervalMs, reach));
  const dashboard = createDashboard({
    source,
    history,
    bundle: clientDir ? loadClientBundle(clientDir) : stubBundle(),
    policy: accessPolicy('127.0.0.1', null),
    listen: '127.0.0.1',
    stream: backfill > 0 ? { maxClients, backfillColumns: backfill } : { maxClients },
  });
  await source.start(dashboard.sink);
  await new Promise<void>((resolve, reject) => {
    dashboard.server.once('error', reject);
    dashboard.server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  const port = (dashboard.server.address() as AddressInfo).port;
  process.stdout.write(`bench-server: http://127.0.0.1:${port}/ newest=${history.newestSeq}\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await source.stop();
    await dashboard.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const [command, count] = line.trim().split(/\s+/);
    if (command === 'scroll') paced?.pacer.scroll(Number(count) || 1);
    else if (command === 'hold') paced?.pacer.hold();
    else if (command === 'live') paced?.pacer.live();
  });
  input.on('close', () => void stop());
}

await main();
