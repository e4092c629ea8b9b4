/**
 * --import through the real bpfheat command: a generated trace with known latencies lands in the
 * buckets the bucket math predicts; bad lines are named; empty and binary files are clear errors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floorBound, slotBounds, slotOf } from '../shared/buckets.ts';
import { jsonl, runBpfheat, type JsonColumn } from './cli.ts';
import { tempDir } from './temp-dirs.ts';



const dir = tempDir('bpfheat-import-');

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A seeded generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Events at known times and latencies: every bucket boundary ±1 ns between 1 µs and ~1 s, and
 * random latencies, at random times over 20 s, in microseconds with 3 decimals (exact in ns).
 * Returns the trace text and, per (column seq, bucket lower bound), the count the math predicts.
 */
function generatedTrace(intervalMs: number, startUs: number): { text: string; expected: Map<string, number>; events: number } {
  const next = random(42);
  const latenciesNs: number[] = [];
  for (let i = 80; i < 8 * 30; i++) {
    const bound = Number(floorBound(i));
    latenciesNs.push(bound - 1, bound, bound + 1);
  }
  for (let k = 0; k < 3000; k++) latenciesNs.push(Math.round(1000 * 2 ** (next() * 20)));
  const expected = new Map<string, number>();
  const lines = ['time latency'];
  for (const ns of latenciesNs) {
    const timeNs = Math.round(next() * 20e9);
    lines.push(`${startUs + Math.floor(timeNs / 1000)}.${String(timeNs % 1000).padStart(3, '0')} ${Math.floor(ns / 1000)}.${String(ns % 1000).padStart(3, '0')}`);
    const seq = Math.floor((startUs * 1000 + timeNs) / (intervalMs * 1e6));
    const key = `${seq}/${slotBounds(slotOf(ns)).lower}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  return { text: `${lines.join('\n')}\n`, expected, events: latenciesNs.length };
}

function cells(columns: readonly JsonColumn[]): Map<string, number> {
  const found = new Map<string, number>();
  for (const c of columns) for (const [lower, , count] of c.buckets) found.set(`${c.seq}/${lower}`, count);
  return found;
}

describe('--import of a generated trace', () => {
  it('puts every event of trace2heatmap.pl text in the column and bucket the bucket math predicts', async () => {
    const startUs = 1_764_076_800_000_000;
    const trace = generatedTrace(250, startUs);
    const path = file('out.lat_us', trace.text);
    const result = await runBpfheat(['--import', path, '--unitstime', 'us', '--unitslatency', 'us', '--interval', '250', '--jsonl']);
    const columns = jsonl(result);
    expect(cells(columns)).toEqual(trace.expected);
    expect(columns.reduce((t, c) => t + c.total, 0)).toBe(trace.events);
    expect(columns.every((c, k) => c.source === 'import' && c.interval_ms === 250 && (k === 0 || c.seq === columns[k - 1]!.seq + 1))).toBe(true);
    expect(result.stderr).toBe(
      `bpfheat: imported ${trace.events} events from out.lat_us (text; time in us, latency in us) into ${columns.length} columns of 250 ms: unix ms ${columns[0]!.start_ms} to ${columns.at(-1)!.start_ms + 250}\n`,
    );
  });

  it('reads the same events as CSV, the units from the header, and --time-base for relative times', async () => {
    const trace = generatedTrace(1000, 0);
    const csv = trace.text
      .trim()
      .split('\n')
      .slice(1)
      .map((line, k) => `${k},${line.split(' ')[0]},"dd, pid ${k}",${line.split(' ')[1]}`);
    const path = file('io.csv', `seq,time_us,comm,latency_us\n${csv.join('\n')}\n`);
    const base = 1_764_076_800_000;
    const columns = jsonl(await runBpfheat(['--import', path, '--time-base', String(base), '--jsonl']));
    const shifted = new Map([...trace.expected].map(([key, count]) => [`${Number(key.split('/')[0]) + base / 1000}/${key.split('/')[1]}`, count]));
    expect(cells(columns)).toEqual(shifted);
  });
});

describe('--import of files with problems', () => {
  it('skips malformed lines, naming each with its line number, and counts them', async () => {
    const path = file('bad.txt', ['0.5 100', '1.5 200', 'oops', '2.5 -3', '3.5 12 extra', '4.5 1O0', ''].join('\n'));
    const result = await runBpfheat(['--import', path, '--jsonl']);
    expect(jsonl(result).reduce((t, c) => t + c.total, 0)).toBe(3);
    const [note, summary] = result.stderr.trim().split('\n');
    expect(note).toBe('bpfheat: note: bad.txt: 3 malformed lines skipped (3 events read): line 3: expected two numbers, time and latency, found one field; line 4: latency "-3" is not a number >= 0; line 6: latency "1O0" is not a number >= 0');
    expect(summary).toMatch(/^bpfheat: imported 3 events from bad.txt/);
  });

  it.each([
    ['an empty file', 'empty.txt', '', /^bpfheat: empty.txt is empty: there is nothing to import\n$/],
    ['a binary file', 'core.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]), /^bpfheat: .*core.bin is not a text file \(a NUL byte on line 1, column 8\): --import reads text; is it the right file\?\n$/],
    ['a file with no usable line', 'words.txt', 'time latency\nfast slow\nvery slow\n', /^bpfheat: words.txt has no usable line \(2 malformed: line 2: time "fast" is not a number >= 0; line 3: time "very" is not a number >= 0\): --import reads "time latency" lines/],
    ['a CSV without the columns', 'cols.csv', 'a,b\n1,2\n', /^bpfheat: cols.csv: no time column in the CSV header .*: name the time column with --time-column\n$/],
  ])('refuses %s in one line, exit 1, no stack', async (_what, name, content, message) => {
    const result = await runBpfheat(['--import', file(name, content), '--jsonl']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
