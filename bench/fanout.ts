/**
 * Server fan-out: 1, 100 and 1,000 WebSocket clients on loopback receiving live columns at 10
 * columns/s from the synthetic source. For each: the server's CPU per second (of one core), its
 * resident memory, the bytes of a column on the wire, and how late the latest column reaches a
 * client (receive time - end of the column; the column is final at its end) at p50/p99/max.
 *
 *   node --import tsx bench/fanout.ts [--seconds S]
 *
 * The server (bench/bench-server.ts: the dashboard as the binary builds it, with a client limit
 * above 1,000) and the clients (bench/fanout-clients.ts) are separate processes, so the server's
 * CPU is its own. Clients connect with ?after=<newest seq>: straight to live, no backfill.
 */
import { fileURLToPath } from 'node:url';
import { atMost, heading, info, machineLine, numberOption, printFigures, say, sleep, table, type Figure } from './lib/report.ts';
import { isMain, runMain } from './lib/cleanup.ts';
import { cpuMs, rssBytes, startTool, type Tool } from './lib/system.ts';

export interface FanoutOptions {
  /** measured seconds per client count */
  readonly seconds: number;
}

const SERVER = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./fanout-clients.ts', import.meta.url));
const INTERVAL_MS = 100;
const COUNTS = [1, 100, 1000];
const PART = 'Fan-out';
const TARGET_CPU = 25;
const TARGET_BYTES = 1024;

interface ClientReport {
  readonly clients: number;
  readonly columns: number;
  readonly meanPayloadBytes: number;
  readonly maxPayloadBytes: number;
  readonly meanWireBytes: number;
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly clientsBehind: number;
  readonly closedEarly: number;
}

interface Row {
  readonly clients: number;
  readonly cpuPercent: number;
  readonly rssMiB: number;
  readonly clientsCpuPercent: number;
  readonly report: ClientReport | null;
  readonly lagging: number;
}

interface Meta {
  history: { newestSeq: number | null };
  clients: { lagging: number; maxColumnBytes: number; skippedColumns: number };
}

async function meta(url: string): Promise<Meta> {
  const response = await fetch(`${url}api/meta`);
  return (await response.json()) as Meta;
}

/** Server CPU (% of one core) and RSS over a window, and the CPU of the clients' process. */
async function sample(server: Tool, clients: Tool | null, seconds: number): Promise<{ cpuPercent: number; rssMiB: number; clientsCpuPercent: number }> {
  const cpu0 = cpuMs(server.pid);
  const clients0 = clients ? cpuMs(clients.pid) : 0;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = cpuMs(server.pid) - cpu0;
  const clientsCpu = clients ? cpuMs(clients.pid) - clients0 : 0;
  const wall = performance.now() - t0;
  return { cpuPercent: (cpu / wall) * 100, rssMiB: rssBytes(server.pid) / 2 ** 20, clientsCpuPercent: (clientsCpu / wall) * 100 };
}

async function waitForLine(tool: Tool, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(tool.output());
    if (found) return found;
    if (tool.child.exitCode !== null) throw new Error(`${tool.name} exited (${tool.child.exitCode}):\n${tool.output().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${tool.name}: no ${pattern} within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

export async function benchFanout(options: FanoutOptions): Promise<Figure[]> {
  heading(`Server fan-out (synthetic source, ${1000 / INTERVAL_MS} columns/s, loopback)`);
  say(`machine: ${machineLine()}`);
  const server = await startTool('bench-server', process.execPath, ['--import', 'tsx', SERVER, '--interval', String(INTERVAL_MS), '--max-clients', String(Math.max(...COUNTS) + 50)], /^bench-server: \S+/m, { stdin: true });
  const url = /^bench-server: (\S+)/m.exec(server.output())![1]!;
  const rows: Row[] = [];
  try {
    await sleep(2000);
    const idle = await sample(server, null, Math.min(5, options.seconds));
    rows.push({ clients: 0, ...idle, report: null, lagging: 0 });
    say(`  0 clients: ${idle.cpuPercent.toFixed(1)}% CPU, ${idle.rssMiB.toFixed(0)} MiB`);
    for (const count of COUNTS) {
      const after = (await meta(url)).history.newestSeq ?? 0;
      const port = new URL(url).port;
      const connectStart = performance.now();
      const clients = await startTool(`${count} clients`, process.execPath, ['--import', 'tsx', CLIENTS, '--port', port, '--clients', String(count), '--after', String(after)], /^connected$/m, {
        stdin: true,
        timeoutMs: 120_000,
      });
      try {
        const connectS = (performance.now() - connectStart) / 1000;
        await sleep(2000);
        clients.send('start');
        const measured = await sample(server, clients, options.seconds);
        clients.send('stop');
        const line = await waitForLine(clients, /^\{.*\}$/m, 10_000);
        const report = JSON.parse(line[0]) as ClientReport;
        const stats = (await meta(url)).clients;
        rows.push({ clients: count, ...measured, report, lagging: stats.lagging });
        say(`  ${count} client${count === 1 ? "" : "s"} (connected in ${connectS.toFixed(1)} s): ${measured.cpuPercent.toFixed(1)}% CPU, ${measured.rssMiB.toFixed(0)} MiB, p99 delay ${report.delayP99Ms.toFixed(1)} ms`);
      } finally {
        await clients.stop();
      }
      await sleep(1000);
    }
  } finally {
    await server.stop();
  }

  say();
  say(
    table(
      ['clients', 'server CPU %', 'RSS MiB', 'clients\' CPU %', 'columns rx', 'bytes/column (payload)', 'bytes/column (wire)', 'delay p50 ms', 'delay p99 ms', 'delay max ms', 'behind'],
      rows.map((r) => [
        r.clients,
        r.cpuPercent.toFixed(1),
        r.rssMiB.toFixed(0),
        r.report ? r.clientsCpuPercent.toFixed(1) : '—',
        r.report?.columns ?? '—',
        r.report ? r.report.meanPayloadBytes.toFixed(0) : '—',
        r.report ? r.report.meanWireBytes.toFixed(0) : '—',
        r.report ? r.report.delayP50Ms.toFixed(1) : '—',
        r.report ? r.report.delayP99Ms.toFixed(1) : '—',
        r.report ? r.report.delayMaxMs.toFixed(1) : '—',
        r.report ? `${r.report.clientsBehind + r.report.closedEarly}` : '—',
      ]),
    ),
  );
  say('(CPU: user + system time of the process per second of wall time, 100% = one core; clients\' CPU: the one process holding every');
  say(' client, whose own queueing is part of the delay; delay: receive time - end of the column, over every column every client');
  say(' received; behind: clients more than one column behind the newest, or closed, at the end)');

  const at = (n: number): Row | undefined => rows.find((r) => r.clients === n);
  const top = at(1000);
  const figures: Figure[] = [
    info(PART, 'server CPU, idle (0 clients)', at(0)?.cpuPercent ?? null, '% of a core', 1),
  ];
  for (const n of COUNTS) {
    const r = at(n);
    if (n === 1000) figures.push(atMost(PART, 'server CPU, 1,000 clients', r?.cpuPercent ?? null, '% of a core', TARGET_CPU, `< ${TARGET_CPU}%`, 1));
    else figures.push(info(PART, `server CPU, ${n.toLocaleString('en-US')} client${n === 1 ? '' : 's'}`, r?.cpuPercent ?? null, '% of a core', 1));
  }
  for (const n of COUNTS) figures.push(info(PART, `server RSS, ${n.toLocaleString('en-US')} client${n === 1 ? '' : 's'}`, at(n)?.rssMiB ?? null, 'MiB'));
  figures.push(atMost(PART, 'column on the wire (mean, with frame header)', top?.report?.meanWireBytes ?? at(1)?.report?.meanWireBytes ?? null, 'bytes', TARGET_BYTES, '< 1 KiB'));
  for (const n of COUNTS) figures.push(info(PART, `latest column delay p99, ${n.toLocaleString('en-US')} client${n === 1 ? '' : 's'}`, at(n)?.report?.delayP99Ms ?? null, 'ms', 1));
  return figures;
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const figures = await benchFanout({ seconds: numberOption('seconds', 10) });
    heading('summary');
    printFigures(figures);
  });
}
