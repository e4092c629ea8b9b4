import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../shared/column.ts';
import { devicesShown, stackedNote } from './stacking.ts';

const vda: DeviceInfo = { id: 0, name: 'vda' };
const loop3: DeviceInfo = { id: 1, name: 'loop3', stackedOn: ['vda'] };
const dm0: DeviceInfo = { id: 2, name: 'dm-0', stackedOn: ['sda', 'vda'] };
const sda: DeviceInfo = { id: 3, name: 'sda' };

describe('stackedNote', () => {
  it.each([
    ['a disk alone', [vda], null],
    ['a loop device without its disk', [loop3], null],
    ['a loop device and its disk', [vda, loop3], 'loop3 is stacked on vda: its I/Os are counted twice here (pick one in Devices)'],
    ['a dm device on two disks shown', [vda, dm0, sda], 'dm-0 is stacked on sda, dm-0 is stacked on vda: their I/Os are counted twice here (pick one in Devices)'],
  ] as const)('%s', (_name, shown, note) => {
    expect(stackedNote(shown)).toBe(note);
  });

  it('reads every device when none is chosen, else the chosen ones', () => {
    expect(devicesShown([vda, loop3, sda], [])).toEqual([vda, loop3, sda]);
    expect(devicesShown([vda, loop3, sda], ['loop3', 'sda'])).toEqual([loop3, sda]);
  });
});
