import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Column, DeviceInfo } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';
import { tempDir } from '../../test/temp-dirs.ts';
import { UserError } from '../base/errors.ts';
import { columnLine, endLine, exemplarLine, headerLine, type RecordedEvent } from '../formats/recording.ts';
import { MAX_LINE_BYTES, readLines } from './lines.ts';
import { createPlayback, createReplaySource } from './replay.ts';
import type { ColumnSink } from './source.ts';

const DEVICES: DeviceInfo[] = [{ id: 0, name: 'sda' }];

function column(seq: number, intervalMs = 1000): Column {
  return { seq, startMs: seq * intervalMs, intervalMs, series: [{ metric: 'latency', device: 0, op: 'read', slots: [100 + (seq % 50)], counts: [1 + (seq % 3)] }] };
}

const EXEMPLAR: Exemplar = { timeMs: 10_500, latencyNs: 9_000_000, bytes: 4096, device: 0, op: 'read', sector: 8, pid: 1, comm: 'dd' };

/** A sink that logs what it gets, in order. */
function logSink(): ColumnSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    column: (c) => log.push(`column ${c.seq}${c.series.length === 0 ? ' empty' : ''}`),
    devices: (d) => log.push(`devices ${d.map((x) => x.name).join(',')}`),
    exemplars: (batch) => log.push(`exemplars ${batch.length}`),
    finished: () => log.push('finished'),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createPlayback', () => {
  const events: RecordedEvent[] = [
    { type: 'column', column: column(10) },
    { type: 'exemplars', exemplars: [EXEMPLAR] },
    { type: 'devices', devices: DEVICES },
    { type: 'column', column: column(11) },
    // seqs 12 and 13 are missing
    { type: 'column', column: column(14) },
  ];

  it('at speed 0 delivers the device table, every seq (gaps filled), events in recorded order, then finished', async () => {
    const sink = logSink();
    const playback = createPlayback({ kind: 'replay', intervalMs: 1000, host: 'h', devices: DEVICES, events, speed: 0 });
    await playback.start(sink);
    expect(sink.log).toEqual(['devices sda', 'column 10', 'exemplars 1', 'column 11', 'column 12 empty', 'column 13 empty', 'column 14', 'finished']);
    expect(playback.span).toEqual({ fromMs: 10_000, toMs: 15_000 });
    expect(playback.columns().map((c) => c.seq)).toEqual([10, 11, 12, 13, 14]);
    await playback.stop();
  });

  it('delivers columns at their recorded spacing divided by the speed, the first at once', async () => {
    vi.useFakeTimers();
    const sink = logSink();
    const playback = createPlayback({ kind: 'replay', intervalMs: 1000, host: 'h', devices: DEVICES, events, speed: 4, now: () => Date.now() });
    await playback.start(sink);
    // the exemplars recorded after column 10 go out with it: live, they came while 11 filled
    expect(sink.log).toEqual(['devices sda', 'column 10', 'exemplars 1']);
    await vi.advanceTimersByTimeAsync(249);
    expect(sink.log.at(-1)).toBe('exemplars 1');
    await vi.advanceTimersByTimeAsync(2);
    expect(sink.log.at(-1)).toBe('column 11');
    await vi.advanceTimersByTimeAsync(250);
    expect(sink.log.at(-1)).toBe('column 12 empty');
    await vi.advanceTimersByTimeAsync(500);
    expect(sink.log.slice(-3)).toEqual(['column 13 empty', 'column 14', 'finished']);
    await playback.stop();
  });

  it('stops delivering on stop(), without finishing', async () => {
    vi.useFakeTimers();
    const sink = logSink();
    const playback = createPlayback({ kind: 'replay', intervalMs: 1000, host: 'h', devices: DEVICES, events, speed: 1, now: () => Date.now() });
    await playback.start(sink);
    await playback.stop();
    await playback.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sink.log).toEqual(['devices sda', 'column 10', 'exemplars 1']);
  });

  it('at speed 0 yields to the event loop between batches of 1000 columns', async () => {
    const many: RecordedEvent[] = Array.from({ length: 2500 }, (_, k) => ({ type: 'column', column: column(k) }));
    const sink = logSink();
    const playback = createPlayback({ kind: 'import', intervalMs: 1000, host: 'h', devices: DEVICES, events: many, speed: 0 });
    await playback.start(sink);
    expect(sink.log.filter((l) => l.startsWith('column'))).toHaveLength(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.log.filter((l) => l.startsWith('column'))).toHaveLength(2500);
    expect(sink.log.at(-1)).toBe('finished');
  });

  it('refuses a negative or infinite speed', () => {
    for (const speed of [-1, Infinity, Number.NaN]) {
      expect(() => createPlayback({ kind: 'replay', intervalMs: 1000, host: 'h', devices: DEVICES, events, speed })).toThrow(RangeError);
    }
  });
});

function tempFile(content: string | Buffer, name = 'rec.jsonl'): string {
  const path = join(tempDir('bpfheat-replay-'), name);
  writeFileSync(path, content);
  return path;
}

describe('createReplaySource', () => {
  const header = headerLine({ intervalMs: 1000, source: 'bpf', host: 'db1', startedMs: 9_000, devices: DEVICES });

  it('is a replay of the recorded host, interval and devices', async () => {
    const source = await createReplaySource({ path: tempFile(header + columnLine(column(10)) + exemplarLine(EXEMPLAR) + columnLine(column(11)) + endLine(12_000, 2)), speed: 0 });
    expect(source).toMatchObject({ kind: 'replay', host: 'db1', intervalMs: 1000, span: { fromMs: 10_000, toMs: 12_000 } });
    expect(source.devices()).toEqual(DEVICES);
    expect(source.selfStats()).toBeNull();
  });

  it('notes a cut-off last line and replays what came before it', async () => {
    const notes: string[] = [];
    const full = header + columnLine(column(10)) + columnLine(column(11));
    const source = await createReplaySource({ path: tempFile(full.slice(0, -20)), speed: 0, warn: (l) => notes.push(l) });
    expect(source.columns().map((c) => c.seq)).toEqual([10]);
    expect(notes).toEqual(['note: rec.jsonl ends in an incomplete line 3 (the recorder was stopped mid-write); replaying the 1 column before it']);
  });

  it('replays a recording damaged in the middle up to the damage, with a note saying where it stopped; --strict refuses it', async () => {
    const notes: string[] = [];
    const lines = Array.from({ length: 100 }, (_, k) => columnLine(column(10 + k)));
    lines[60] = `${lines[60]!.slice(0, 30)}${lines[61]!}`; // a write that went wrong in the middle
    const path = tempFile(header + lines.join('') + endLine(111_000, 100));
    const source = await createReplaySource({ path, speed: 0, warn: (l) => notes.push(l) });
    expect(source.columns().map((c) => c.seq)).toEqual(Array.from({ length: 60 }, (_, k) => 10 + k));
    expect(notes).toEqual(['note: rec.jsonl line 62: it is not a JSON object: the recording is damaged there; replaying the 60 columns before it, nothing after it (--strict refuses such a file)']);
    await expect(createReplaySource({ path, speed: 0, strict: true })).rejects.toThrow(
      new UserError('rec.jsonl line 62: it is not a JSON object: the recording is damaged there; --strict refuses it (without --strict the 60 columns before it are replayed)'),
    );
  });

  it.each([
    ['a missing file', null, /cannot read .*nope.jsonl \(--replay\): no such file or directory/],
    ['a directory', 'dir', /cannot read .* \(--replay\): it is a directory/],
    ['a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), /is not a text file \(a NUL byte on line 1, column 5\): --replay reads text/],
    ['a NUL far into the file', `${header}${columnLine(column(10)).repeat(1)}${'x'.repeat(3 << 20)}\n{"type":"end"\u0000}\n`, /is not a text file \(a NUL byte on line 4, column 14\): --replay reads text/],
    ['trace text', '1 2\n', /is not a bpfheat recording/],
    ['a device, which would never end', '/dev/zero', /\/dev\/zero is a device, not a file \(--replay\): give a file, a pipe, or - for standard input/],
  ])('refuses %s with one line', async (_what, content, message) => {
    const path = content === null ? join(tmpdir(), 'nope.jsonl') : content === 'dir' ? tempDir('bpfheat-dir-') : content === '/dev/zero' ? content : tempFile(content);
    await expect(createReplaySource({ path, speed: 0 })).rejects.toThrow(UserError);
    await expect(createReplaySource({ path, speed: 0 })).rejects.toThrow(message);
  });
});

describe('readLines', () => {
  it('gives each line without its end, a byte-order mark read as nothing, and says whether the last one was whole', async () => {
    const got: [string, number][] = [];
    expect(await readLines(tempFile('\uFEFF1 2\r\n\nü 4'), '--import', (line, number) => got.push([line, number]))).toEqual({ lines: 3, endsWithNewline: false });
    expect(got).toEqual([['1 2\r', 1], ['', 2], ['ü 4', 3]]);
  });

  it('refuses a line longer than MAX_LINE_BYTES with one line, without holding more', async () => {
    await expect(readLines(tempFile(`1 2\n${'7'.repeat(MAX_LINE_BYTES + 1)}`), '--import', () => {})).rejects.toThrow(/line 2 is longer than 16 MiB \(--import\): it is not a trace or a recording/);
  });
});
