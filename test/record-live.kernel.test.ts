/**
 * --record on the live tracer: a loop device of the test's own gets 300 direct writes while
 * bpfheat traces and records with a threshold of 0; the replay prints what the live run printed,
 * and every write is in the recording, as a count and as an exemplar (or a counted drop).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording, type Recording } from '../server/formats/recording.ts';
import { createLoopDevice, directIo, kernelSkipReason, unseenIn, type LoopDevice } from './kernel.ts';
import { runBpfheat, startBpfheat, type Result } from './cli.ts';
import { tempDir } from './temp-dirs.ts';

const skip = kernelSkipReason();
const WRITES = 300;

function lines(result: Result): string[] {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n');
}

/** The line without its source kind, the one field a replay changes. */
const withoutSource = (line: string): string => line.replace(/"source":"(bpf|replay)",/, '');

describe.skipIf(skip !== null)(`recording the live tracer${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let loop: LoopDevice;
  let path: string;
  let live: string[];
  /** the live run's stderr: attached, and the tracer's counters when it stopped */
  let liveStderr: string;
  let recording: Recording;

  beforeAll(async () => {
    loop = createLoopDevice();
    path = join(tempDir('bpfheat-live-'), 'live.bpfheat.jsonl');
    const running = startBpfheat(['--jsonl', '--device', loop.name, '--op', 'write', '--interval', '250', '--threshold', '0', '--exemplar-rate', '100000', '--record', path]);
    try {
      await running.firstLine;
      directIo(loop, 'write', WRITES);
    } finally {
      const result = await running.stop();
      liveStderr = result.stderr;
      live = lines(result);
    }
    recording = parseRecording(readFileSync(path, 'utf8'), path);
  }, 120_000);

  afterAll(() => loop?.remove());

  it('replays to the same --jsonl the live run printed', async () => {
    const replayed = lines(await runBpfheat(['--replay', path, '--speed', '0', '--jsonl', '--device', loop.name, '--op', 'write']));
    expect(replayed.map(withoutSource)).toEqual(live.map(withoutSource));
    // a write the kernel accounted while no program saw it (about one in 10,000 here) is in `unseen`
    expect(live.map((line) => JSON.parse(line) as { total: number; unseen: number }).reduce((t, column) => t + column.total + column.unseen, 0)).toBe(WRITES);
  });

  it('holds every write as an exemplar, a counted drop or an unseen completion, with the device in its table', () => {
    expect(recording).toMatchObject({ complete: true, truncatedLine: null });
    expect(recording.header.source).toBe('bpf');
    const device = recording.devices.find((d) => d.name === loop.name);
    expect(device, `${loop.name} in ${JSON.stringify(recording.devices)}; the live run said: ${liveStderr}`).toBeDefined();
    const exemplars = recording.events.flatMap((e) => (e.type === 'exemplars' ? e.exemplars : [])).filter((e) => e.device === device!.id && e.op === 'write');
    const dropped = recording.events
      .flatMap((e) => (e.type === 'column' ? (e.column.droppedExemplars ?? []) : []))
      .filter((d) => d.device === device!.id && d.op === 'write')
      .reduce((t, d) => t + d.count, 0);
    const unseen = unseenIn(recording.events.flatMap((e) => (e.type === 'column' ? [e.column] : [])), device!.id, 'write');
    expect(exemplars.length + dropped + unseen).toBe(WRITES);
    expect(exemplars.every((e) => e.bytes === 4096 && e.comm === 'dd')).toBe(true);
  });
});
