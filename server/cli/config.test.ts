import { describe, expect, it } from 'vitest';
import { FLAGS, helpText, historyColumns, parseArgs } from './config.ts';
import { UsageError } from '../base/errors.ts';

describe('parseArgs', () => {
  it('defaults to the dashboard tracing every device at 1 s columns', () => {
    const config = parseArgs([]);
    expect(config).toMatchObject({ mode: 'dashboard', source: 'bpf', intervalMs: 1000, metric: 'latency', port: 7070, listen: '127.0.0.1', durationS: null });
    expect(historyColumns(config)).toBe(86_400);
  });

  it('reads every kind of flag, with a value after a space or an equals sign', () => {
    const config = parseArgs(['--jsonl', '--interval=250', '--duration', '5', '--device', 'loop3', '--device=vda', '--op', 'write', '--op', 'flush', '--metric', 'size', '-m']);
    expect(config).toMatchObject({ mode: 'jsonl', intervalMs: 250, durationS: 5, devices: ['loop3', 'vda'], ops: ['write', 'flush'], metric: 'size', milliseconds: true });
  });

  it.each([
    ['30m', 1000, 1800],
    ['24h', 250, 345_600],
    ['1000', 1000, 1000],
  ])('--history %s at %d ms keeps %d columns', (span, interval, columns) => {
    expect(historyColumns(parseArgs(['--history', span, '--interval', String(interval)]))).toBe(columns);
  });

  it.each([
    [['--interval', '0'], /--interval needs a whole number from 1 to 3600000, got "0"/],
    [['--interval', 'fast'], /--interval needs a whole number/],
    [['--op', 'trim'], /--op must be one of read, write, flush, discard, other, got "trim"/],
    [['--metric', 'iops'], /--metric must be one of latency, size/],
    [['--device', '../sda'], /--device needs a block device name/],
    [['--text', '--jsonl'], /--text and --jsonl cannot be used together/],
    [['--port', '70000'], /--port needs a whole number from 1 to 65535/],
    [['--token', 'short'], /--token needs 16 to 256 URL-safe characters/],
    [['--bogus'], /unknown option "--bogus"/],
    [['--interval'], /--interval needs a value \(MS\)/],
    [['--text=yes'], /--text takes no value/],
  ])('rejects %j with a line naming the problem', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
    expect(() => parseArgs(argv)).toThrow(/see bpfheat --help/);
  });
});

describe('helpText', () => {
  it('documents every flag', () => {
    const help = helpText();
    for (const flag of FLAGS) for (const name of flag.names) expect(help).toContain(name);
    expect(help).toMatch(/examples:/);
  });
});

describe('--max-clients', () => {
  it('leaves the stream its default unless given, and takes a positive count', () => {
    expect(parseArgs([]).maxClients).toBeNull();
    expect(parseArgs(['--max-clients', '1000']).maxClients).toBe(1000);
    expect(() => parseArgs(['--max-clients', '0'])).toThrow(/--max-clients needs a whole number from 1 to 100000/);
  });
});
