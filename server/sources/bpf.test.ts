import { describe, expect, it } from 'vitest';
import { LibbpfError } from '../tracer/libbpf.ts';
import { stoppedLine, timeUnstamped, unstampedLine } from './bpf.ts';

describe('the line said for a device without the issue stamp', () => {
  const exemplarsOn = { startMap: false, exemplars: true };

  it('says the device is timed from the store once the issue program is attached', () => {
    const timing = timeUnstamped({ mode: exemplarsOn, timeUnstampedDevices: () => true });
    expect(unstampedLine('loop3', timing)).toBe('bpfheat: loop3 puts no issue time stamp on its requests (its queue keeps no I/O statistics): timed from the issue-side store from now on\n');
  });

  it("names libbpf's cause and errno when attaching fails, not a guess", () => {
    const refused = () => {
      throw new LibbpfError('bpf_program__attach', 1, 'Operation not permitted');
    };
    const line = unstampedLine('loop3', timeUnstamped({ mode: exemplarsOn, timeUnstampedDevices: refused }));
    expect(line).toMatch(/counted as missedStart \(the issue program that would time them could not be attached: bpf_program__attach failed: Operation not permitted \(errno 1\)\); run with --start-map/);
  });

  it('says exemplars are off, or that tracing has stopped, when the tracer declines', () => {
    expect(timeUnstamped({ mode: { startMap: false, exemplars: false }, timeUnstampedDevices: () => false })).toBe('exemplars are off');
    expect(timeUnstamped({ mode: exemplarsOn, timeUnstampedDevices: () => false })).toBe('tracing has stopped');
  });
});

describe('the line said when tracing stops', () => {
  it('names every counter with its value, so a difference from the kernel\'s totals can be placed', () => {
    const counters = { missedStart: 3, startFailed: 0, ringOverrun: 1, deviceOverflow: 0, partial: 5, unseen: 12, storeCollisions: 2 };
    expect(stoppedLine(counters)).toBe(
      'bpfheat: tracing stopped (counters over every device: unseen 12, missedStart 3, startFailed 0, ringOverrun 1, partial 5, deviceOverflow 0, storeCollisions 2)\n',
    );
  });
});
