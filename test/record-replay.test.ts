/**
 * --record and --replay through the real bpfheat command: a recorded session replays to the
 * same --jsonl output, a recording killed with SIGKILL loads, and the example recording plays.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRecording } from '../server/formats/recording.ts';
import { DEMO_COLUMNS, demoRecording } from '../examples/make-demo.ts';
import { jsonl, runBpfheat, startBpfheat, type JsonColumn } from './cli.ts';
import { tempDir } from './temp-dirs.ts';

const DEMO = fileURLToPath(new URL('../examples/demo.bpfheat.jsonl', import.meta.url));



/** A column as printed, without the source kind (the one field a replay changes, by design). */
function withoutSource(column: JsonColumn): Omit<JsonColumn, 'source'> {
  const { source: _source, ...rest } = column;
  return rest;
}

const dir = tempDir('bpfheat-record-');

describe('record a synthetic session, then replay it', () => {
  const recording = join(dir, 'session.bpfheat.jsonl');
  const filters = ['--device', 'synth-sda', '--op', 'read'];
  let live: JsonColumn[];

  beforeAll(async () => {
    // 2 minutes of prefill at 200 ms (600 columns), ~2 s live, and the partial last column
    live = jsonl(await runBpfheat(['--source', 'synthetic', '--seed', '5', '--interval', '200', '--duration', '2', '--jsonl', '--record', recording, ...filters]));
  });

  it('--jsonl of the replay equals that of the recording, column for column', async () => {
    const replayed = jsonl(await runBpfheat(['--replay', recording, '--speed', '0', '--jsonl', ...filters]));
    expect(live.length).toBeGreaterThan(600);
    expect(live.every((c) => c.source === 'synthetic')).toBe(true);
    expect(replayed.every((c) => c.source === 'replay')).toBe(true);
    expect(replayed.map(withoutSource)).toEqual(live.map(withoutSource));
    // not a vacuous equality: the filtered session has I/Os in it
    expect(live.reduce((t, c) => t + c.total, 0)).toBeGreaterThan(1000);
  });

  it('records everything the source made, not only what the filters printed', async () => {
    const all = jsonl(await runBpfheat(['--replay', recording, '--speed', '0', '--jsonl']));
    const nvme = jsonl(await runBpfheat(['--replay', recording, '--speed', '0', '--jsonl', '--device', 'synth-nvme0n1']));
    const sizes = jsonl(await runBpfheat(['--replay', recording, '--speed', '0', '--jsonl', '--metric', 'size', '--device', 'synth-nvme0n1']));
    expect(all.map((c) => c.seq)).toEqual(live.map((c) => c.seq));
    for (const [k, column] of all.entries()) expect(column.total).toBeGreaterThanOrEqual(live[k]!.total);
    expect(all.reduce((t, c) => t + c.total, 0)).toBeGreaterThan(live.reduce((t, c) => t + c.total, 0));
    // every I/O has a latency and a size: the size histogram of a device counts what its latency one does
    expect(sizes.every((c) => c.metric === 'size')).toBe(true);
    expect(sizes.map((c) => c.total)).toEqual(nvme.map((c) => c.total));
    expect(nvme.reduce((t, c) => t + c.total, 0)).toBeGreaterThan(0);
  });

  it('writes a recording that ends in its end line, with the session\'s header', () => {
    const parsed = parseRecording(readFileSync(recording, 'utf8'), recording);
    expect(parsed).toMatchObject({ complete: true, truncatedLine: null, columnCount: live.length });
    expect(parsed.header).toMatchObject({ source: 'synthetic', intervalMs: 200, devices: [{ id: 0, name: 'synth-nvme0n1' }, { id: 1, name: 'synth-sda' }] });
  });

  it('refuses to record over it', async () => {
    const before = readFileSync(recording, 'utf8');
    const result = await runBpfheat(['--source', 'synthetic', '--jsonl', '--duration', '1', '--record', recording]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bpfheat: .*session.bpfheat.jsonl already exists and is not empty: --record never overwrites or extends a file; choose a new name or remove it\n$/);
    expect(readFileSync(recording, 'utf8')).toBe(before);
  });
});

describe('a recording killed with SIGKILL', () => {
  it('loads, and holds every column printed before the kill', async () => {
    const recording = join(dir, 'killed.bpfheat.jsonl');
    // 1-ms columns: the recorder writes all the time, so the kill lands amid the writes
    const running = startBpfheat(['--source', 'synthetic', '--interval', '1', '--jsonl', '--record', recording]);
    await running.firstLine;
    while (running.lines.length < 2500) await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await running.stop('SIGKILL');
    expect(result.code).toBeNull();
    const printed = result.stdout.split('\n').filter((line) => line.endsWith('}')).map((line) => JSON.parse(line) as JsonColumn);
    expect(printed.length).toBeGreaterThanOrEqual(2500);

    const replay = await runBpfheat(['--replay', recording, '--speed', '0', '--jsonl']);
    const replayed = jsonl(replay);
    // every line reached the file before it reached stdout: the file holds at least what was printed
    expect(replayed.slice(0, printed.length).map(withoutSource)).toEqual(printed.map(withoutSource));
    expect(parseRecording(readFileSync(recording, 'utf8'), recording).complete).toBe(false);
  });

  it('a line cut mid-write is dropped with a note, and every column before it replays', async () => {
    const whole = join(dir, 'whole.bpfheat.jsonl');
    copyFileSync(DEMO, whole);
    const text = readFileSync(whole, 'utf8');
    const full = jsonl(await runBpfheat(['--replay', whole, '--speed', '0', '--jsonl']));
    // cut inside the 51st column line
    const columnStarts: number[] = [];
    for (let at = 0; at < text.length; at = text.indexOf('\n', at) + 1) if (text.startsWith('{"type":"column"', at)) columnStarts.push(at);
    const cutAt = columnStarts[50]! + 777;
    expect(text.indexOf('\n', columnStarts[50]!)).toBeGreaterThan(cutAt);
    const cut = join(dir, 'cut.bpfheat.jsonl');
    writeFileSync(cut, text.slice(0, cutAt));
    const result = await runBpfheat(['--replay', cut, '--speed', '0', '--jsonl']);
    expect(result.stderr).toMatch(/^bpfheat: note: cut.bpfheat.jsonl ends in an incomplete line \d+ \(the recorder was stopped mid-write\); replaying the 50 columns before it\n$/);
    expect(jsonl(result)).toEqual(full.slice(0, 50));
  });
});

describe('the example recording', () => {
  it('is what examples/make-demo.ts makes: a complete recording of the same columns', () => {
    const committed = parseRecording(readFileSync(DEMO, 'utf8'), DEMO);
    const generated = parseRecording(demoRecording(), 'generated');
    expect(committed).toMatchObject({ complete: true, truncatedLine: null, skippedLines: 0, columnCount: DEMO_COLUMNS });
    expect(generated.header).toEqual(committed.header);
    const seqs = (r: typeof committed) => r.events.flatMap((e) => (e.type === 'column' ? [e.column.seq] : []));
    expect(seqs(generated)).toEqual(seqs(committed));
  });

  it('replays at its recorded pace times --speed, to the same columns as --speed 0', async () => {
    const atOnce = jsonl(await runBpfheat(['--replay', DEMO, '--speed', '0', '--jsonl']));
    const started = Date.now();
    const paced = jsonl(await runBpfheat(['--replay', DEMO, '--speed', '200', '--jsonl']));
    const tookMs = Date.now() - started;
    expect(paced).toEqual(atOnce);
    expect(atOnce).toHaveLength(120);
    expect(atOnce[0]).toMatchObject({ seq: 1_764_076_800, start_ms: 1_764_076_800_000, interval_ms: 1000, source: 'replay' });
    // 119 s of recorded spacing at 200x: at least 0.595 s
    expect(tookMs).toBeGreaterThanOrEqual(595);
  });

  it('--text --log2 prints each interval under a heading, in power-of-two rows that add up to its total', async () => {
    const result = await runBpfheat(['--replay', DEMO, '--speed', '0', '--text', '--log2']);
    expect(result.code, result.stderr).toBe(0);
    const intervals = result.stdout.split('\n\n').filter((block) => block.trim() !== '');
    expect(intervals).toHaveLength(120);
    for (const interval of intervals) {
      const [heading, , ...rows] = interval.trim().split('\n');
      const total = Number(/^\d\d:\d\d:\d\d {2}all devices \(\S.*\) {2}total (\d+) I\/Os? in 1 s$/.exec(heading!)?.[1]);
      const counts = rows.map((row) => {
        const [, lower, upper, count] = /^ *([\d.]+) -> ([\d.]+) *: (\d+) /.exec(row)!;
        // (2^e, 2^(e+1)] ns, in µs: each upper bound is twice the lower one
        if (Number(lower) > 0) expect(Number(upper)).toBeCloseTo(2 * Number(lower), 6);
        return Number(count);
      });
      expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(rows.length).toBeLessThanOrEqual(42);
    }
  });

  it('replays its exemplars: --text --by-process shows the recorded processes', async () => {
    const result = await runBpfheat(['--replay', DEMO, '--speed', '0', '--text', '--by-process']);
    expect(result.code, result.stderr).toBe(0);
    const exemplars = readFileSync(DEMO, 'utf8').split('\n').filter((l) => l.startsWith('{"type":"exemplar"'));
    expect(exemplars.length).toBeGreaterThan(0);
    const shown = [...result.stdout.matchAll(/PID: (\d+) +CMD: (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
    const recorded = new Set(exemplars.map((l) => JSON.parse(l) as { pid: number; comm: string }).map((e) => `${e.pid} ${e.comm}`));
    expect(new Set(shown)).toEqual(recorded);
  });

  it('replays the whole prefix of a recording damaged in the middle, with a note naming the line; --strict refuses it', async () => {
    const lines = readFileSync(DEMO, 'utf8').split('\n');
    const columnLines = lines.flatMap((line, i) => (line.startsWith('{"type":"column"') ? [i] : []));
    const damagedAt = columnLines[Math.floor(columnLines.length / 2)]!; // a column line in the middle, cut short
    const damaged = join(dir, 'damaged.bpfheat.jsonl');
    writeFileSync(damaged, [...lines.slice(0, damagedAt), lines[damagedAt]!.slice(0, 25), ...lines.slice(damagedAt + 1)].join('\n'));
    const prefix = join(dir, 'prefix.bpfheat.jsonl');
    writeFileSync(prefix, `${lines.slice(0, damagedAt).join('\n')}\n`);

    const replayed = await runBpfheat(['--replay', damaged, '--speed', '0', '--jsonl']);
    expect(replayed.code, replayed.stderr).toBe(0);
    const before = columnLines.filter((i) => i < damagedAt).length;
    expect(replayed.stderr).toContain(
      `bpfheat: note: damaged.bpfheat.jsonl line ${damagedAt + 1}: it is not a JSON object: the recording is damaged there; replaying the ${before} columns before it, nothing after it (--strict refuses such a file)\n`,
    );
    const whole = jsonl(await runBpfheat(['--replay', prefix, '--speed', '0', '--jsonl']));
    expect(jsonl(replayed)).toEqual(whole);
    expect(whole.length).toBeGreaterThan(0);

    const strict = await runBpfheat(['--replay', damaged, '--strict', '--speed', '0', '--jsonl']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toBe(`bpfheat: damaged.bpfheat.jsonl line ${damagedAt + 1}: it is not a JSON object: the recording is damaged there; --strict refuses it (without --strict the ${before} columns before it are replayed)\n`);
  });

  it.each([
    [['--replay', '/nonexistent/x.jsonl'], 1, /^bpfheat: cannot read \/nonexistent\/x.jsonl \(--replay\): no such file or directory\n$/],
    [['--replay', '/bin/true'], 1, /^bpfheat: \/bin\/true is not a text file \(a NUL byte on line \d+, column \d+\): --replay reads text/],
    [['--replay', '/etc/hostname'], 1, /^bpfheat: \/etc\/hostname is not a bpfheat recording/],
    [['--replay', DEMO, '--interval', '10'], 2, /^bpfheat: --interval cannot be used with --replay/],
  ])('refuses %j in one line, exit %d', async (args, code, message) => {
    const result = await runBpfheat([...args, '--jsonl']);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
