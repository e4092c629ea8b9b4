import { describe, expect, it } from 'vitest';
import type { Column } from '../../shared/column.ts';
import { DeviceTable } from './devices.ts';

function column(devices: number[]): Column {
  return {
    seq: 7,
    startMs: 7000,
    intervalMs: 1000,
    series: devices.map((device) => ({ metric: 'latency', device, op: 'write', slots: [100], counts: [device + 1] })),
    droppedExemplars: devices.map((device) => ({ device, op: 'write', count: 2 })),
  };
}

describe('DeviceTable', () => {
  it('takes the first server ids as they are', () => {
    const table = new DeviceTable();
    table.setServer([{ id: 0, name: 'loop3' }, { id: 1, name: 'vda' }]);
    expect(table.devices).toEqual([{ id: 0, name: 'loop3' }, { id: 1, name: 'vda' }]);
    const c = column([0, 1]);
    expect(table.column(c)).toBe(c);
  });

  it('keeps each name on its page id when a restarted server numbers the devices otherwise', () => {
    const table = new DeviceTable();
    table.setServer([{ id: 0, name: 'loop3' }, { id: 1, name: 'vda' }]);
    // the new server saw vda first, and a device the page did not know
    table.setServer([{ id: 0, name: 'vda' }, { id: 1, name: 'sdb' }, { id: 2, name: 'loop3' }]);
    expect(table.devices).toEqual([{ id: 0, name: 'loop3' }, { id: 1, name: 'vda' }, { id: 2, name: 'sdb' }]);
    const translated = table.column(column([0, 1, 2]));
    expect(translated.series.map((s) => [s.device, s.counts[0]])).toEqual([[1, 1], [2, 2], [0, 3]]);
    expect(translated.droppedExemplars!.map((d) => d.device)).toEqual([1, 2, 0]);
    expect(table.exemplars([{ timeMs: 1, latencyNs: 2, bytes: 4096, device: 2, op: 'write', sector: 0, pid: 1, comm: 'dd' }])[0]!.device).toBe(0);
    // and the other way, for the region watched on that server: a device it has not seen is -1
    table.setServer([{ id: 0, name: 'vda' }, { id: 1, name: 'loop3' }]);
    expect(table.serverIds([0, 1, 2, -1])).toEqual([1, 0, -1, -1]);
  });

  it('keeps the latest facts of a device under its page id', () => {
    const table = new DeviceTable();
    table.setServer([{ id: 0, name: 'loop3' }]);
    table.setServer([{ id: 4, name: 'loop3', stackedOn: ['vda'] }]);
    expect(table.devices).toEqual([{ id: 0, name: 'loop3', stackedOn: ['vda'] }]);
  });
});
