/**
 * `bpfheat snapshot` against the dashboard server: for the same data and range, the file it
 * writes equals what GET /api/snapshot.svg returns, byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePackedColumns, encodePackedColumns, packedColumnAt } from '../shared/protocol.ts';
import { rollUp } from '../shared/rollup.ts';
import { runBpfheat } from './cli.ts';
import { serve, type Served } from './server-harness.ts';
import { tempDir } from './temp-dirs.ts';

const DEMO = fileURLToPath(new URL('../examples/demo.bpfheat.jsonl', import.meta.url));
const DEMO_START_MS = 1_764_076_800_000;
const dir = tempDir('bpfheat-snapshot-');

/** The flags of `bpfheat snapshot` that stand for a query of /api/snapshot.svg. */
function flagsOf(query: Record<string, string | string[]>): string[] {
  return Object.entries(query).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).flatMap((v) => [`--${name}`, v]));
}

function queryOf(query: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
  return params.toString();
}

/** The first line where two documents differ, with both versions, or null when they are equal. */
function firstDifference(a: string, b: string): string | null {
  if (a === b) return null;
  const la = a.split('\n');
  const lb = b.split('\n');
  const k = la.findIndex((line, i) => line !== lb[i]);
  const at = k < 0 ? la.length : k;
  return `line ${at + 1}:\n  snapshot: ${(la[at] ?? '(end)').slice(0, 300)}\n  server:   ${(lb[at] ?? '(end)').slice(0, 300)}`;
}

/** Waits until the server's history holds `columns` columns. */
async function loaded(served: Served, columns: number): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const meta = await served.get('/api/meta');
    if ((meta.body as { history: { columns: number } }).history.columns >= columns) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server did not load ${columns} columns`);
}

describe('bpfheat snapshot of a recording', () => {
  let served: Served;

  beforeAll(async () => {
    served = await serve(['--replay', DEMO, '--speed', '0', '--port', '0']);
    await loaded(served, 120);
  });

  afterAll(async () => {
    await served?.stop();
  });

  it('the dashboard of a replay names the host the recording was made on, as the snapshot does', async () => {
    const meta = (await served.get('/api/meta')).body as { host: string; source: string };
    expect(meta.source).toBe('replay');
    // the dashboard takes its host from the source when it has one (FiniteSource.host): createDashboard({ stream: { host } })
    expect(meta.host, 'the dashboard shows this machine\'s name for a replay: pass the source\'s host to the ColumnStream').toBe('demo-host');
  });

  it('answers /api/columns at every level with the exact roll-ups of its own columns, packed and in JSON', async () => {
    const range = `from=${DEMO_START_MS}&to=${DEMO_START_MS + 120_000}`;
    const packedAt = async (step: number): Promise<Uint8Array> => new Uint8Array(await (await fetch(`${served.base}/api/columns?${range}&step=${step}&format=packed`)).arrayBuffer());
    const seconds = decodePackedColumns(await packedAt(1000));
    const columns = Array.from({ length: seconds.count }, (_, i) => packedColumnAt(seconds, i));
    expect(columns).toHaveLength(120);
    for (const step of [10_000, 60_000]) {
      const rollups = rollUp(columns, step);
      expect(Buffer.from(await packedAt(step)).equals(encodePackedColumns(rollups, step, seconds.throughSeq)), `packed at step ${step}`).toBe(true);
      const json = (await served.get(`/api/columns?${range}&step=${step}&device=synth-sda`)).body as { columns: { seq: number; total: number }[] };
      const sda = rollups.map((r) => r.series.filter((s) => s.metric === 'latency' && s.device === 1).reduce((sum, s) => sum + s.counts.reduce((a, b) => a + b, 0), 0));
      expect(json.columns.map((c) => c.total), `JSON at step ${step}`).toEqual(sda);
    }
  });

  it.each<[string, Record<string, string | string[]>]>([
    ['the server\'s default range', {}],
    ['one minute of one device', { from: String(DEMO_START_MS + 10_000), to: String(DEMO_START_MS + 70_000), device: 'synth-sda' }],
    ['writes and flushes, 800×300', { from: String(DEMO_START_MS), to: String(DEMO_START_MS + 120_000), op: ['write', 'flush'], width: '800', height: '300' }],
    ['request sizes', { metric: 'size', from: String(DEMO_START_MS + 30_000), to: String(DEMO_START_MS + 45_500) }],
  ])('writes what /api/snapshot.svg returns: %s', async (_what, query) => {
    const out = join(dir, `snap-${Object.keys(query).join('-') || 'default'}.svg`);
    const result = await runBpfheat(['snapshot', '--replay', DEMO, ...flagsOf(query), '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    const fromServer = await served.get(`/api/snapshot.svg?${queryOf(query)}`);
    expect(fromServer.status, fromServer.text).toBe(200);
    const written = readFileSync(out, 'utf8');
    // a real picture, not two empty ones
    expect(written.split('<rect class="cell').length - 1).toBeGreaterThan(50);
    const difference = firstDifference(written, fromServer.text);
    if (difference) expect.fail(`the snapshot differs from /api/snapshot.svg at ${difference}`);
  });
});

describe('bpfheat snapshot of an imported trace', () => {
  it('answers its 10-s level with the exact roll-ups of its own columns past a full chunk of them', async () => {
    const lines = ['time latency'];
    // 12 minutes at 500-ms columns: 72 roll-ups of 10 s, the first 64 packed together
    for (let k = 0; k < 2400; k++) lines.push(`${1_764_076_800 + k * 0.3} ${Math.round(50 + 5000 * ((k * 7919) % 1000) ** 2 / 1e6)}`);
    const trace = join(dir, 'long-trace.txt');
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const served = await serve(['--import', trace, '--interval', '500', '--port', '0']);
    try {
      await loaded(served, 1440);
      const packedAt = async (step: number): Promise<Uint8Array> => new Uint8Array(await (await fetch(`${served.base}/api/columns?from=0&step=${step}&format=packed`)).arrayBuffer());
      const held = decodePackedColumns(await packedAt(500));
      const columns = Array.from({ length: held.count }, (_, i) => packedColumnAt(held, i));
      const rollups = rollUp(columns, 10_000);
      expect(rollups.length).toBeGreaterThan(64);
      expect(Buffer.from(await packedAt(10_000)).equals(encodePackedColumns(rollups, 10_000, held.throughSeq))).toBe(true);
    } finally {
      await served.stop();
    }
  });

  it('writes what /api/snapshot.svg returns when the server imports the same file', async () => {
    const lines = ['time latency'];
    for (let k = 0; k < 2000; k++) lines.push(`${1_764_076_800 + k * 0.013} ${Math.round(50 + 5000 * ((k * 7919) % 1000) ** 2 / 1e6)}`);
    const trace = join(dir, 'trace.txt');
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const importFlags = ['--import', trace, '--interval', '500'];
    const out = join(dir, 'import.svg');
    const result = await runBpfheat(['snapshot', ...importFlags, '-o', out]);
    expect(result.code, result.stderr).toBe(0);
    const served = await serve([...importFlags, '--port', '0']);
    try {
      await loaded(served, 52);
      const fromServer = await served.get('/api/snapshot.svg');
      const difference = firstDifference(readFileSync(out, 'utf8'), fromServer.text);
      if (difference) expect.fail(`the snapshot differs from /api/snapshot.svg at ${difference}`);
      expect(fromServer.text).toContain('IMPORTED trace');
      // its levels: the exact roll-ups of its own columns
      const packedAt = async (step: number): Promise<Uint8Array> => new Uint8Array(await (await fetch(`${served.base}/api/columns?from=0&step=${step}&format=packed`)).arrayBuffer());
      const held = decodePackedColumns(await packedAt(500));
      const columns = Array.from({ length: held.count }, (_, i) => packedColumnAt(held, i));
      expect(columns).toHaveLength(52);
      expect(Buffer.from(await packedAt(10_000)).equals(encodePackedColumns(rollUp(columns, 10_000), 10_000, held.throughSeq))).toBe(true);
    } finally {
      await served.stop();
    }
  });
});

describe('bpfheat snapshot errors', () => {
  it.each([
    [['snapshot', '--replay', DEMO], 2, /^bpfheat: bpfheat snapshot needs -o FILE/],
    [['snapshot', '-o', 'x.svg'], 2, /give --replay FILE, --import FILE or --source prometheus --prometheus URL/],
    [['snapshot', '--replay', DEMO, '--from', '1764076900000', '--to', '1764076800000', '-o', 'x.svg'], 2, /^bpfheat: --from \(1764076900000\) must be before --to \(1764076800000\)/],
    [['snapshot', '--replay', DEMO, '--device', 'sdz', '-o', 'x.svg'], 2, /^bpfheat: unknown device "sdz": known devices are synth-nvme0n1 \(0\), synth-sda \(1\)/],
    [['snapshot', '--replay', DEMO, '--width', '50', '-o', 'x.svg'], 2, /^bpfheat: --width must be a whole number from 200 to 8000/],
    [['snapshot', '--replay', DEMO, '-o', '/nonexistent/dir/x.svg'], 1, /^bpfheat: cannot write \/nonexistent\/dir\/x.svg: no such file or directory\n$/],
    [['snapshot', '--replay', '/nonexistent.jsonl', '-o', 'x.svg'], 1, /^bpfheat: cannot read \/nonexistent.jsonl \(--replay\)/],
  ])('%j: exit %d, one line', async (args, code, message) => {
    const result = await runBpfheat(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints to stdout with -o -', async () => {
    const result = await runBpfheat(['snapshot', '--replay', DEMO, '--from', String(DEMO_START_MS), '--to', String(DEMO_START_MS + 5000), '-o', '-']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
    expect(result.stdout).toContain('REPLAYED recording');
  });
});
