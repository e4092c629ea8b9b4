/**
 * bpfheat into a real Prometheus and back out. Two bpfheat exporters replay two different
 * recordings as two hosts; Prometheus (native histograms on, its own TSDB, 1-s scrapes) scrapes
 * them; `bpfheat --source prometheus --jsonl` then reads every step back, per host and summed,
 * and each must equal the recordings' columns over the same step, bucket for bucket, whether the
 * reader differences every series or lets Prometheus sum the hosts (--sum-hosts); the same again
 * with hosts whose exporter restarts halfway (a new process, counting from 0), one of them with
 * counts that grow across the restart in every bucket, also as the dashboard holds them (the
 * hosts' sum) and as it reads one host a request names. A second
 * Prometheus without the feature flag scrapes the text format and must store the classic
 * buckets, each the exact count at or below its bound.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketList, histogramOf, histogramTotal, type Column } from '../shared/column.ts';
import { slotBounds } from '../shared/buckets.ts';
import { SLOTS, type Metric } from '../shared/scheme.ts';
import { CLASSIC_BOUNDS } from '../server/formats/exposition.ts';
import { queryRangeParams } from '../server/sources/prometheus.ts';
import { eventually, freePort, prometheusSkipReason, recordedColumns, startPrometheus, writeRecording, type RunningPrometheus } from './prometheus-harness.ts';
import { tempDir } from './temp-dirs.ts';
import { BIN, serve, type Served } from './server-harness.ts';
import { allElements, parseXml } from './xml.ts';

const skip = prometheusSkipReason();
const INTERVAL_MS = 1000;
const COLUMNS = 8;
/** 4 s per column against 1-s scrapes: every column's state is scraped at least once, even on a loaded machine */
const SPEED = '0.25';

const run = promisify(execFile);

interface JsonlColumn {
  readonly start_ms: number;
  readonly total: number;
  readonly buckets: [number, number | null, number][];
}

async function readBack(prometheus: RunningPrometheus, args: readonly string[]): Promise<Map<number, JsonlColumn>> {
  const { stdout } = await run(process.execPath, [BIN, '--source', 'prometheus', '--prometheus', prometheus.url, '--jsonl', '--history', '3m', '--duration', '4', ...args]);
  return new Map(stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonlColumn).map((c) => [c.start_ms, c]));
}

/** The recordings' columns summed per step, as --jsonl prints one. */
function expected(recordings: readonly (readonly Column[])[], startMs: number, metric: Metric): { total: number; buckets: [number, number | null, number][] } {
  const histogram = new Float64Array(SLOTS);
  for (const columns of recordings) {
    const column = columns.find((c) => c.startMs === startMs);
    if (column) histogramOf(column, { metric }).forEach((count, slot) => (histogram[slot]! += count));
  }
  return { total: histogramTotal(histogram), buckets: bucketList(histogram) };
}

describe.skipIf(skip !== null)('two hosts through Prometheus native histograms', () => {
  let dir: string;
  const served: Served[] = [];
  let prometheus: RunningPrometheus;
  let hostA: Column[];
  let hostB: Column[];
  let firstStartMs: number;
  let upSinceMs: number;

  beforeAll(async () => {
    dir = tempDir('bpfheat-prom-test-');
    // A minute in the past: the data's own time, which the exporters stamp on every sample.
    firstStartMs = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - 60_000;
    hostA = recordedColumns(1, firstStartMs, INTERVAL_MS, COLUMNS);
    hostB = recordedColumns(2, firstStartMs, INTERVAL_MS, COLUMNS);
    // Prometheus first, on ports chosen for the exporters, so it scrapes them from their first
    // column on, and `up` can be watched from then.
    const ports = [await freePort(), await freePort()];
    prometheus = await startPrometheus(ports.map((port) => ({ address: `127.0.0.1:${port}` })), { nativeHistograms: true });
    for (const [k, [host, columns]] of ([['db-a', hostA], ['db-b', hostB]] as const).entries()) {
      served.push(await serve(['--exporter', '--replay', writeRecording(dir, host, columns), '--speed', SPEED, '--port', String(ports[k])]));
    }
    upSinceMs = await eventually('Prometheus to scrape both exporters', async () => {
      const data = (await prometheus.api('query', { query: 'up == 1' })) as { result: unknown[] };
      return data.result.length === 2 ? Date.now() : null;
    });
    // Done when Prometheus holds each series' final cumulative count (at the last column's end).
    const lastEndS = (firstStartMs + COLUMNS * INTERVAL_MS) / 1000;
    const total = [...hostA, ...hostB].reduce((sum, c) => sum + histogramTotal(histogramOf(c, { metric: 'latency' })), 0);
    await eventually(
      'Prometheus to hold every column of both replays',
      async () => {
        const data = (await prometheus.api('query', { query: 'histogram_count(bpfheat_io_latency_nanoseconds)', time: String(lastEndS) })) as { result: { value: [number, string] }[] };
        return data.result.reduce((sum, r) => sum + Number(r.value[1]), 0) === total ? true : null;
      },
      120_000,
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const s of served) await s.stop();
  });

  it('kept both targets up through busy and empty columns and an idle device', async () => {
    const seconds = Math.floor((Date.now() - upSinceMs) / 1000);
    // The replays took (COLUMNS - 1) columns of 4 s, but the window opens only once Prometheus has
    // scraped both (the second exporter starts a few seconds after the first, and the final counts
    // can be held before its last scheduled column): it must still span most of the busy columns.
    expect(seconds).toBeGreaterThanOrEqual((COLUMNS / 2) * 4);
    const data = (await prometheus.api('query', { query: `min_over_time(up[${seconds}s])` })) as { result: { metric: { instance: string }; value: [number, string] }[] };
    expect(data.result.map((r) => r.metric.instance).sort()).toEqual(served.map((s) => `127.0.0.1:${s.port}`).sort());
    for (const r of data.result) expect(r.value[1]).toBe('1');
  });

  it.each([500, 1000, 1500])('Prometheus takes the query_range parameters of a %i-ms step and answers at those steps', async (stepMs) => {
    const startMs = firstStartMs + 2 * INTERVAL_MS;
    const endMs = startMs + 3 * stepMs;
    const response = await fetch(`${prometheus.url}/api/v1/query_range`, { method: 'POST', body: queryRangeParams('histogram_count(bpfheat_io_latency_nanoseconds)', startMs, endMs, stepMs) });
    const answer = (await response.json()) as { status: string; error?: string; data: { result: { values: [number, string][] }[] } };
    expect(answer.error).toBeUndefined();
    expect(answer.status).toBe('success');
    expect(answer.data.result[0]!.values.map(([timeS]) => Math.round(timeS * 1000))).toEqual([0, 1, 2, 3].map((k) => startMs + k * stepMs));
  });

  it.each([
    ['latency', 'summed over both hosts', null, [], () => [hostA, hostB]],
    ['size', 'summed over both hosts', null, [], () => [hostA, hostB]],
    ['latency', 'summed over both hosts by Prometheus (--sum-hosts)', null, ['--sum-hosts'], () => [hostA, hostB]],
    ['size', 'summed over both hosts by Prometheus (--sum-hosts)', null, ['--sum-hosts'], () => [hostA, hostB]],
    ['latency', 'of host A', 0, [], () => [hostA]],
    ['latency', 'of host B', 1, [], () => [hostB]],
    ['latency', 'of host B through Prometheus\'s sum (--sum-hosts --host)', 1, ['--sum-hosts'], () => [hostB]],
  ] as const)('reads back the %s of every step %s, bucket for bucket', async (metric, _what, host, flags, recordingsOf) => {
    const hostFlags = host === null ? [] : ['--host', `127.0.0.1:${served[host]!.port}`];
    const columns = await readBack(prometheus, ['--metric', metric, ...hostFlags, ...flags]);
    // every step of the recordings, and the empty steps around them
    for (let startMs = firstStartMs - 10 * INTERVAL_MS; startMs < firstStartMs + (COLUMNS + 10) * INTERVAL_MS; startMs += INTERVAL_MS) {
      const got = columns.get(startMs);
      expect(got, `a column starting at ${startMs}`).toBeDefined();
      expect({ total: got!.total, buckets: got!.buckets }, `the step starting at ${startMs}`).toEqual(expected(recordingsOf(), startMs, metric));
    }
    expect(expected(recordingsOf(), firstStartMs + INTERVAL_MS, metric).total).toBeGreaterThan(0);
  });

  it('bpfheat snapshot draws the fleet from Prometheus: one cell per step and bucket, holding the summed counts', async () => {
    const toMs = firstStartMs + COLUMNS * INTERVAL_MS;
    const { stdout } = await run(process.execPath, [BIN, 'snapshot', '--source', 'prometheus', '--prometheus', prometheus.url, '--interval', String(INTERVAL_MS), '--from', String(firstStartMs), '--to', String(toMs), '-o', '-']);
    const cells = new Map<string, number>();
    for (const e of allElements(parseXml(stdout))) {
      if (e.name === 'rect' && (e.attributes.class ?? '').split(' ').includes('cell')) cells.set(`${e.attributes['data-seq']}/${e.attributes['data-slot']}`, Number(e.attributes['data-count']));
    }
    const wanted = new Map<string, number>();
    for (const column of [...hostA, ...hostB]) {
      histogramOf(column, { metric: 'latency' }).forEach((count, slot) => {
        const key = `${column.seq}/${slot}`;
        // no cell for slot 0 (the value 0): the renderer's fitted y range leaves it out, for a --replay as well
        if (count > 0 && slot > 0) wanted.set(key, (wanted.get(key) ?? 0) + count);
      });
    }
    expect(Object.fromEntries([...cells].sort())).toEqual(Object.fromEntries([...wanted].sort()));
  });
});

/**
 * Columns of a host whose exporter restarts after its first half and whose counts after the
 * restart exceed, in every bucket, those before it: no count drops, only the exporter's start time
 * (bpfheat_start_time_seconds) tells that the second half counts from 0.
 */
function growingAcrossRestart(firstStartMs: number): Column[] {
  const latency: Record<number, Record<number, number>> = { 1: { 100: 1 }, 5: { 100: 5, 101: 3 }, 6: { 100: 2 } };
  return Array.from({ length: COLUMNS }, (_, k) => {
    const slots = Object.keys(latency[k] ?? {}).map(Number);
    const series = slots.length === 0 ? [] : [{ metric: 'latency' as const, device: 0, op: 'read' as const, slots, counts: slots.map((slot) => latency[k]![slot]!) }];
    return { seq: firstStartMs / INTERVAL_MS + k, startMs: firstStartMs + k * INTERVAL_MS, intervalMs: INTERVAL_MS, series };
  });
}

describe.skipIf(skip !== null)('hosts whose exporter restarts, beside one that does not', () => {
  let dir: string;
  let prometheus: RunningPrometheus;
  const running: Served[] = [];
  let hostC: Column[];
  let hostD: Column[];
  let hostE: Column[];
  let firstStartMs: number;
  /** the instance of host C, whose exporter restarts halfway */
  let instanceC: string;

  /** Waits until Prometheus holds the cumulative latency count of `columns` on `port`, at their last column's end. */
  async function held(port: number, columns: readonly Column[]): Promise<void> {
    const total = columns.reduce((sum, c) => sum + histogramTotal(histogramOf(c, { metric: 'latency' })), 0);
    const lastEndS = (columns[columns.length - 1]!.startMs + INTERVAL_MS) / 1000;
    await eventually(`Prometheus to hold ${total} latency counts of 127.0.0.1:${port}`, async () => {
      const data = (await prometheus.api('query', { query: `sum(histogram_count(bpfheat_io_latency_nanoseconds{instance="127.0.0.1:${port}"}))`, time: String(lastEndS) })) as { result: { value: [number, string] }[] };
      return Number(data.result[0]?.value[1] ?? -1) === total ? true : null;
    }, 120_000);
  }

  /** Replays the first half of `columns` on `port`, stops, and replays the second half from a new process (counting from 0). */
  async function restartHalfway(port: number, host: string, columns: readonly Column[]): Promise<void> {
    const half = COLUMNS / 2;
    const first = await serve(['--exporter', '--replay', writeRecording(dir, `${host}-1`, columns.slice(0, half)), '--speed', SPEED, '--port', String(port)]);
    await held(port, columns.slice(0, half));
    await first.stop();
    running.push(await serve(['--exporter', '--replay', writeRecording(dir, `${host}-2`, columns.slice(half)), '--speed', SPEED, '--port', String(port)]));
  }

  beforeAll(async () => {
    dir = tempDir('bpfheat-prom-restart-');
    firstStartMs = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - 60_000;
    hostC = recordedColumns(3, firstStartMs, INTERVAL_MS, COLUMNS);
    hostD = recordedColumns(4, firstStartMs, INTERVAL_MS, COLUMNS);
    hostE = growingAcrossRestart(firstStartMs);
    const ports = [await freePort(), await freePort(), await freePort()];
    instanceC = `127.0.0.1:${ports[0]}`;
    prometheus = await startPrometheus(ports.map((port) => ({ address: `127.0.0.1:${port}` })), { nativeHistograms: true });
    running.push(await serve(['--exporter', '--replay', writeRecording(dir, 'db-d', hostD), '--speed', SPEED, '--port', String(ports[1])]));
    await Promise.all([restartHalfway(ports[0]!, 'db-c', hostC), restartHalfway(ports[2]!, 'db-e', hostE)]);
    await Promise.all([held(ports[0]!, hostC.slice(COLUMNS / 2)), held(ports[1]!, hostD), held(ports[2]!, hostE.slice(COLUMNS / 2))]);
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const s of running) await s.stop();
  });

  it.each([
    ['summed by Prometheus (--sum-hosts)', ['--sum-hosts']],
    ['summed after differencing each series', []],
  ] as const)('reads back every step %s, both restarts included, bucket for bucket', async (_what, flags) => {
    const columns = await readBack(prometheus, ['--metric', 'latency', ...flags]);
    for (let startMs = firstStartMs - 5 * INTERVAL_MS; startMs < firstStartMs + (COLUMNS + 5) * INTERVAL_MS; startMs += INTERVAL_MS) {
      const got = columns.get(startMs);
      expect(got, `a column starting at ${startMs}`).toBeDefined();
      expect({ total: got!.total, buckets: got!.buckets }, `the step starting at ${startMs}`).toEqual(expected([hostC, hostD, hostE], startMs, 'latency'));
    }
    expect(expected([hostC], firstStartMs + (COLUMNS / 2 + 1) * INTERVAL_MS, 'latency').total, 'a busy column of host C after its restart').toBeGreaterThan(0);
  });

  it('the dashboard holds the hosts\' sum, restarts included, and a host a request names is read on its own, restart included', async () => {
    const dashboard = await serve(['--source', 'prometheus', '--prometheus', prometheus.url, '--interval', String(INTERVAL_MS), '--history', '3m', '--port', '0']);
    running.push(dashboard);
    const fromMs = firstStartMs - 5 * INTERVAL_MS;
    const toMs = firstStartMs + (COLUMNS + 5) * INTERVAL_MS;
    /** The dashboard's latency columns of [fromMs, toMs), as its /api/columns answers them (total and buckets by start), once it holds them all (of the hosts `query` names). */
    const dashboardColumns = (query: string): Promise<Map<number, { total: number; buckets: [number, number | null, number][] }>> =>
      eventually(`the dashboard${query} to hold the steps`, async () => {
        const answer = await fetch(`${dashboard.base}/api/columns?from=${fromMs}&to=${toMs}&metric=latency${query}`);
        if (!answer.ok) return null;
        const { columns } = (await answer.json()) as { columns: { startMs: number; slots: number[]; counts: number[] }[] };
        if (columns.length < (toMs - fromMs) / INTERVAL_MS) return null;
        return new Map(columns.map((c) => {
          const histogram = new Float64Array(SLOTS);
          c.slots.forEach((slot, k) => (histogram[slot] = c.counts[k]!));
          return [c.startMs, { total: histogramTotal(histogram), buckets: bucketList(histogram) }] as const;
        }));
      }, 60_000);
    for (const [query, recordings] of [['', [hostC, hostD, hostE]], [`&host=${encodeURIComponent(instanceC)}`, [hostC]]] as const) {
      const columns = await dashboardColumns(query);
      for (let startMs = fromMs; startMs < toMs; startMs += INTERVAL_MS) {
        expect(columns.get(startMs), `the step starting at ${startMs}${query}`).toEqual(expected(recordings, startMs, 'latency'));
      }
    }
  });
});

describe.skipIf(skip !== null)('the text format, scraped by a Prometheus without native histograms', () => {
  let dir: string;
  let served: Served;
  let prometheus: RunningPrometheus;
  let columns: Column[];

  beforeAll(async () => {
    dir = tempDir('bpfheat-prom-text-');
    columns = recordedColumns(3, Math.floor(Date.now() / 1000) * 1000 - 30_000, INTERVAL_MS, 3);
    served = await serve(['--exporter', '--replay', writeRecording(dir, 'db-c', columns), '--speed', '0', '--port', '0']);
    prometheus = await startPrometheus([{ address: `127.0.0.1:${served.port}` }], { nativeHistograms: false });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await served?.stop();
  });

  it('stores a classic bucket at every power of two holding exactly the counts at or below it', async () => {
    const histogram = new Float64Array(SLOTS);
    for (const column of columns) histogramOf(column, { metric: 'latency', ops: ['write'] }).forEach((count, slot) => (histogram[slot]! += count));
    const result = await eventually('the classic buckets in Prometheus', async () => {
      const data = (await prometheus.api('query', { query: 'bpfheat_io_latency_nanoseconds_bucket{device="busy0",op="write"}', time: String((columns[2]!.startMs + INTERVAL_MS) / 1000) })) as {
        result: { metric: { le: string }; value: [number, string] }[];
      };
      return data.result.length === CLASSIC_BOUNDS.length + 1 ? data.result : null;
    });
    for (const r of result) {
      const bound = r.metric.le === '+Inf' ? Infinity : Number(r.metric.le);
      let atOrBelow = 0;
      for (let slot = 0; slot < SLOTS; slot++) if (slotBounds(slot).upper <= bound) atOrBelow += histogram[slot]!;
      expect(Number(r.value[1]), `le=${r.metric.le}`).toBe(atOrBelow);
    }
    const up = (await prometheus.api('query', { query: 'up' })) as { result: { value: [number, string] }[] };
    expect(up.result[0]!.value[1]).toBe('1');
  });

  it('--source prometheus says in one line that this Prometheus keeps classic histograms, and keeps running', async () => {
    const { stdout, stderr } = await run(process.execPath, [BIN, '--source', 'prometheus', '--prometheus', prometheus.url, '--jsonl', '--history', '2m', '--duration', '3']);
    expect(stderr.trim().split('\n')).toEqual([
      `bpfheat: Prometheus at ${prometheus.url} stores bpfheat's histograms as classic ones (_bucket series), not native: restart it with --enable-feature=native-histograms; still looking`,
    ]);
    expect(stdout.trim().split('\n').every((line) => (JSON.parse(line) as JsonlColumn).total === 0)).toBe(true);
  });
});

describe('--source prometheus when Prometheus cannot be read', () => {
  it('says so in one line per attempt, backs off, and stops cleanly at the end of --duration', async () => {
    const port = await freePort();
    const { stdout, stderr } = await run(process.execPath, [BIN, '--source', 'prometheus', '--prometheus', `http://127.0.0.1:${port}`, '--jsonl', '--duration', '5']);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toBe(`bpfheat: cannot reach Prometheus at http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): is it running, and is --prometheus its address?; retrying in 1 s`);
    expect(lines[1]).toMatch(/; retrying in 2 s$/);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    expect(stdout).toBe('');
  });

  it('refuses a selector that is not one, before it starts', async () => {
    const result = await run(process.execPath, [BIN, '--source', 'prometheus', '--prometheus', 'http://127.0.0.1:9', '--match', 'job=db']).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr.trim()).toMatch(/^bpfheat: --match needs a series selector in braces, like \{job="db"\}.*\(see bpfheat --help\)$/);
  });
});
