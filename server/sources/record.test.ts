import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOTS } from '../../shared/scheme.ts';
import { UserError } from '../base/errors.ts';
import { parseRecording } from '../formats/recording.ts';
import { DEVICES, EXEMPLAR, column, sampleText } from '../../test/recording-fixtures.ts';
import { tempDir } from '../../test/temp-dirs.ts';
import { recordSource } from './record.ts';
import type { ColumnSink, Source } from './source.ts';

function fakeSource(): Source & { sink: ColumnSink | null; stopped: boolean } {
  const fake = {
    kind: 'bpf' as const,
    intervalMs: 1000,
    sink: null as ColumnSink | null,
    stopped: false,
    devices: () => DEVICES.slice(0, 1),
    selfStats: () => null,
    async start(sink: ColumnSink) {
      fake.sink = sink;
    },
    async stop() {
      fake.stopped = true;
    },
  };
  return fake;
}

function tempFile(name = 'rec.jsonl'): string {
  return join(tempDir('bpfheat-rec-'), name);
}

describe('recordSource', () => {
  it('appends the header on start, then every column, exemplar and device change before passing it on, and the end on stop', async () => {
    const path = tempFile();
    const inner = fakeSource();
    let clock = 1_700_000_000_000;
    const recorded = recordSource(inner, path, { host: 'db1', now: () => clock });
    const seen: string[] = [];
    await recorded.start({
      column: (c) => {
        // the line is on disk before the column goes anywhere else
        expect(readFileSync(path, 'utf8')).toContain(`"seq":${c.seq},`);
        seen.push(`column ${c.seq}`);
      },
      exemplars: (batch) => seen.push(`exemplars ${batch.length}`),
      devices: (d) => seen.push(`devices ${d.length}`),
    });
    inner.sink!.column(column(1_700_000_000));
    inner.sink!.exemplars!([EXEMPLAR, { ...EXEMPLAR, latencyNs: 30_000_000, comm: 'rsync', sector: null }]);
    inner.sink!.devices!(DEVICES);
    inner.sink!.column({ ...column(1_700_000_001, { 150: 1 }, 1), droppedExemplars: [{ device: 1, op: 'write', count: 7 }, { device: 0, op: 'read', count: 2, slot: 160 }], unseen: [{ device: 0, op: 'read', count: 2 }] });
    inner.sink!.column(column(1_700_000_002, { 0: 1, [SLOTS - 1]: 3 }));
    clock = 1_700_000_003_000;
    await recorded.stop();
    expect(inner.stopped).toBe(true);
    expect(seen).toEqual(['column 1700000000', 'exemplars 2', 'devices 2', 'column 1700000001', 'column 1700000002']);
    expect(readFileSync(path, 'utf8')).toBe(sampleText());
  });

  it('keeps the source\'s kind, interval, devices and extra properties (a replay\'s host)', () => {
    const inner = Object.assign(fakeSource(), { host: 'elsewhere' });
    const recorded = recordSource(inner, tempFile(), { host: 'x' });
    expect(recorded.kind).toBe('bpf');
    expect(recorded.intervalMs).toBe(1000);
    expect(recorded.devices()).toEqual(DEVICES.slice(0, 1));
    expect((recorded as { host?: string }).host).toBe('elsewhere');
  });

  it('refuses to overwrite or extend a file that holds something, and a path it cannot open', () => {
    const path = tempFile();
    writeFileSync(path, 'precious\n');
    expect(() => recordSource(fakeSource(), path, { host: 'x' })).toThrow(UserError);
    expect(() => recordSource(fakeSource(), path, { host: 'x' })).toThrow(/already exists and is not empty: --record never overwrites/);
    expect(readFileSync(path, 'utf8')).toBe('precious\n');
    expect(() => recordSource(fakeSource(), join(path, 'below-a-file.jsonl'), { host: 'x' })).toThrow(/cannot write the recording .*: a part of the path is not a directory/);
  });

  it('accepts an empty file (made by mktemp)', async () => {
    const path = tempFile();
    writeFileSync(path, '');
    const recorded = recordSource(fakeSource(), path, { host: 'x' });
    await recorded.start({ column: () => {} });
    await recorded.stop();
    expect(parseRecording(readFileSync(path, 'utf8'), path)).toMatchObject({ columnCount: 0, complete: true });
  });

  it('reports a failed write once, through onError, and passes columns on regardless', async () => {
    const inner = fakeSource();
    const errors: string[] = [];
    // /dev/full: every write fails with ENOSPC
    const recorded = recordSource(inner, '/dev/full', { host: 'x', onError: (m) => errors.push(m) });
    const columns: number[] = [];
    await recorded.start({ column: (c) => columns.push(c.seq) });
    inner.sink!.column(column(1));
    inner.sink!.column(column(2));
    await recorded.stop();
    expect(columns).toEqual([1, 2]);
    expect(errors).toEqual(['writing the recording /dev/full failed (no space left on the device): it holds what was written before, and recording stopped']);
  });
});
