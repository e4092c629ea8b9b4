import { describe, expect, it } from 'vitest';
import { SLOTS } from '../../shared/scheme.ts';
import {
  RECORDING_VERSION,
  RecordingError,
  columnLine,
  devicesLine,
  endLine,
  exemplarLine,
  parseRecording,
  type Recording,
} from './recording.ts';
import { DEVICES, EXEMPLAR, HEADER, column, sampleText } from '../../test/recording-fixtures.ts';

describe('recording lines', () => {
  it('writes the documented shapes, with names for metric and op', () => {
    expect(HEADER).toBe(
      `{"bpfheat-recording":${RECORDING_VERSION},"interval_ms":1000,"source":"bpf","host":"db1","started_ms":1700000000000,"scheme":{"name":"otel-exponential","scale":3,"slots":${SLOTS}},"devices":[{"id":0,"name":"nvme0n1"}]}\n`,
    );
    expect(columnLine(column(5, { 130: 2, 140: 1 }))).toBe(
      '{"type":"column","seq":5,"start_ms":5000,"interval_ms":1000,"series":[["latency",0,"read",[130,2,140,1]],["size",0,"read",[106,3]]]}\n',
    );
    expect(exemplarLine(EXEMPLAR)).toBe(
      '{"type":"exemplar","time_ms":1700000000123.456,"latency_ns":25000123,"bytes":4096,"device":1,"op":"write","sector":123456,"pid":4242,"comm":"postgres"}\n',
    );
    expect(devicesLine(DEVICES)).toBe('{"type":"devices","devices":[{"id":0,"name":"nvme0n1"},{"id":1,"name":"sda"}]}\n');
    expect(endLine(9, 3)).toBe('{"type":"end","stop_ms":9,"columns":3}\n');
  });

  it('reads back exactly what it wrote: columns, drops, unseen completions, exemplars in batches, devices, in order', () => {
    const recording = parseRecording(sampleText(), 'sample');
    expect(recording.header).toMatchObject({ version: 1, intervalMs: 1000, source: 'bpf', host: 'db1', startedMs: 1_700_000_000_000, devices: DEVICES.slice(0, 1) });
    expect(recording.events.map((e) => e.type)).toEqual(['column', 'exemplars', 'devices', 'column', 'column']);
    expect(recording.events[0]).toEqual({ type: 'column', column: column(1_700_000_000) });
    expect(recording.events[1]).toEqual({ type: 'exemplars', exemplars: [EXEMPLAR, { ...EXEMPLAR, latencyNs: 30_000_000, comm: 'rsync', sector: null }] });
    expect(recording.events[3]).toEqual({ type: 'column', column: { ...column(1_700_000_001, { 150: 1 }, 1), droppedExemplars: [{ device: 1, op: 'write', count: 7 }, { device: 0, op: 'read', count: 2, slot: 160 }], unseen: [{ device: 0, op: 'read', count: 2 }] } });
    expect(recording.events[4]).toEqual({ type: 'column', column: column(1_700_000_002, { 0: 1, [SLOTS - 1]: 3 }) });
    expect(recording).toMatchObject({ devices: DEVICES, columnCount: 3, complete: true, truncatedLine: null, skippedLines: 0 });
  });

  it('skips line types it does not know, and blank lines', () => {
    const text = sampleText().replace('{"type":"devices"', '{"type":"annotation","text":"deploy"}\n\n{"type":"devices"');
    const recording = parseRecording(text, 'sample');
    expect(recording.skippedLines).toBe(1);
    expect(recording.columnCount).toBe(3);
  });

  it('names a device no table named by its number rather than refusing the file', () => {
    const text = HEADER + columnLine(column(10, { 100: 1 }, 3));
    expect(parseRecording(text, 'x').devices).toEqual([DEVICES[0], { id: 3, name: 'dev3' }]);
  });
});

describe('a recording cut short (kill -9 mid-write)', () => {
  const full = sampleText().replace(/\{"type":"end"[^\n]*\n$/, '');
  const lineEnds = [...full.matchAll(/\n/g)].map((m) => m.index! + 1);

  it('loads at every cut inside the body, keeping every line completed before the cut', () => {
    const lines = full.split('\n').slice(0, -1);
    // every byte offset from the end of the header to the end of the file
    for (let cut = lineEnds[0]!; cut <= full.length; cut++) {
      let recording: Recording;
      try {
        recording = parseRecording(full.slice(0, cut), 'cut');
      } catch (error) {
        throw new Error(`cut at byte ${cut} did not load: ${String(error)}`);
      }
      // a line is complete once its closing brace is written; its "\n" may still be missing
      const complete = lines.filter((_, k) => lineEnds[k]! - 1 <= cut);
      const columnsBefore = complete.filter((l) => l.includes('"type":"column"')).length;
      expect(recording.columnCount, `cut at ${cut}`).toBe(columnsBefore);
      expect(recording.complete).toBe(false);
      const inFlight = !lineEnds.some((end) => cut === end || cut === end - 1);
      expect(recording.truncatedLine, `cut at ${cut}`).toBe(inFlight ? complete.length + 1 : null);
    }
  });

  it('refuses a file cut inside its header with a line that says so', () => {
    expect(() => parseRecording(HEADER.slice(0, 40), 'h.jsonl')).toThrow(/h.jsonl was cut off while its header was written/);
  });
});

describe('parseRecording refuses what is not a readable recording, naming the line', () => {
  it.each([
    ['an empty file', '', /x is empty: it is not a bpfheat recording/],
    ['trace text', '17442020318913 8026\n', /x is not a bpfheat recording .*--import FILE/],
    ['a line without header', '{"type":"column"}\n', /x is not a bpfheat recording/],
    ['another version', HEADER.replace('"bpfheat-recording":1', '"bpfheat-recording":2'), /format version 2, and this bpfheat reads version 1/],
    ['another bucket scheme', HEADER.replace('"scale":3', '"scale":4'), /line 1 \(the header\): its buckets are not the otel-exponential scale-3 scheme/],
    ['a bad header field', HEADER.replace('"interval_ms":1000', '"interval_ms":0'), /line 1 \(the header\): "interval_ms" must be a whole number >= 1/],
  ])('%s', (_label, text, message) => {
    expect(() => parseRecording(text, 'x')).toThrow(RecordingError);
    expect(() => parseRecording(text, 'x')).toThrow(message);
  });
});

describe('parseRecording stops at a damaged line, keeping everything before it', () => {
  const body = sampleText();
  it.each([
    ['a seq that is not start/interval', body.replace('"seq":1700000001', '"seq":1699999999'), 6, /^"seq" 1699999999 is not start_ms \/ interval_ms/],
    ['seqs that go back', body.replace('"start_ms":1700000001000', '"start_ms":1699999999000').replace('"seq":1700000001', '"seq":1699999999'), 6, /^column seq 1699999999 does not follow seq 1700000000: columns must ascend/],
    ['slots out of order', body.replace('[130,2,140,1]', '[140,2,130,1]'), 2, /^series\[0\] slots must ascend/],
    ['a zero count', body.replace('[130,2,140,1]', '[130,0,140,1]'), 2, /^"series\[0\] count" must be a whole number >= 1/],
    ['an unknown op', body.replace('"read",[130', '"trim",[130'), 2, /^"series\[0\] op" must be one of read, write/],
    ['a negative sector', body.replace('"op":"write","sector":123456,"pid":4242,"comm":"postgres"', '"op":"write","sector":-1,"pid":4242,"comm":"postgres"'), 3, /^"sector" must be a whole number >= 0/],
    ['a device id twice', body.replace('{"id":1,"name":"sda"}', '{"id":0,"name":"sda"}'), 5, /^devices\[1\].id 0 appears twice/],
    ['a device renamed', body.replace('{"id":0,"name":"nvme0n1"},{"id":1', '{"id":0,"name":"vda"},{"id":1'), 5, /^device 0 was "nvme0n1" and is now "vda"/],
    ['a garbled line in the middle', body.replace('{"type":"exemplar"', 'oops{"type":"exemplar"'), 3, /^it is not a JSON object/],
    ['lines after the end', body + HEADER, 9, /^it follows the end line/],
    ['two recordings joined', body.replace(/\{"type":"end"[^\n]*\n$/, '') + HEADER, 8, /^a second recording starts here/],
    ['a column of another width', body.replace('"interval_ms":1000,"series":[["latency",1', '"interval_ms":500,"series":[["latency",1').replace('"seq":1700000001,"start_ms":1700000001000', '"seq":3400000002,"start_ms":1700000001000'), 6, /^the column is 500 ms wide but the recording's interval is 1000 ms/],
  ] as const)('%s', (_label, text, line, reason) => {
    const recording = parseRecording(text, 'x');
    expect(recording.damaged?.line).toBe(line);
    expect(recording.damaged?.reason).toMatch(reason);
    expect(recording.truncatedLine).toBeNull();
    const whole = parseRecording(text.split('\n').slice(0, line - 1).join('\n') + '\n', 'x');
    expect(whole.damaged).toBeNull();
    expect(recording.events).toEqual(whole.events);
    expect(recording.columnCount).toBe(whole.columnCount);
  });
});
