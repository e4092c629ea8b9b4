/** The flags of record, replay and import, and of `bpfheat snapshot`. */
import { describe, expect, it } from 'vitest';
import { helpText, parseArgs } from './config.ts';
import { UsageError } from '../base/errors.ts';
import { parseSnapshotArgs, snapshotHelp } from './snapshot.ts';

describe('parseArgs: record, replay, import', () => {
  it('--replay chooses the replay source; --speed paces it', () => {
    expect(parseArgs(['--replay', 'a.jsonl', '--speed', '0', '--jsonl'])).toMatchObject({ source: 'replay', inputFile: 'a.jsonl', speed: 0, mode: 'jsonl' });
    expect(parseArgs(['--replay=a.jsonl', '--speed=2.5'])).toMatchObject({ source: 'replay', speed: 2.5 });
    expect(parseArgs(['--replay', 'a.jsonl'])).toMatchObject({ speed: null });
    expect(parseArgs(['--replay', '-'])).toMatchObject({ source: 'replay', inputFile: '-' });
  });

  it('--import with its units, columns, format and time base; trace2heatmap.pl\'s unit flags work too', () => {
    expect(parseArgs(['--import', 't.csv', '--time-unit', 'ms', '--latency-unit', 'ns', '--time-column', 'ts', '--latency-column', 'lat', '--import-format', 'csv', '--time-base', '1764076800000', '--interval', '100'])).toMatchObject({
      source: 'import',
      inputFile: 't.csv',
      timeUnit: 'ms',
      latencyUnit: 'ns',
      timeColumn: 'ts',
      latencyColumn: 'lat',
      importFormat: 'csv',
      timeBaseMs: 1_764_076_800_000,
      intervalMs: 100,
    });
    expect(parseArgs(['--import', 'out.lat_us', '--unitstime=us', '--unitslatency', 'us'])).toMatchObject({ timeUnit: 'us', latencyUnit: 'us' });
  });

  it('--record goes with any source', () => {
    expect(parseArgs(['--record', 'r.jsonl'])).toMatchObject({ source: 'bpf', record: 'r.jsonl' });
    expect(parseArgs(['--replay', 'a.jsonl', '--record', 'b.jsonl'])).toMatchObject({ source: 'replay', record: 'b.jsonl' });
  });

  it.each([
    [['--replay', 'a', '--import', 'b'], /--replay and --import each name the one source/],
    [['--replay', 'a', '--replay', 'b'], /--replay and --import each name the one source/],
    [['--replay', 'a', '--source', 'synthetic'], /--source and --replay both choose the source/],
    [['--import', 'a', '--source', 'bpf'], /--source and --import both choose the source/],
    [['--replay', 'a', '--interval', '100'], /--interval cannot be used with --replay: a recording keeps the interval/],
    [['--speed', '2'], /--speed paces --replay or --import/],
    [['--replay', 'a', '--speed', '-1'], /--speed needs a number from 0/],
    [['--replay', 'a', '--speed', 'fast'], /--speed needs a number from 0/],
    [['--time-unit', 'ms'], /--time-unit describes the file of --import/],
    [['--replay', 'a', '--latency-column', 'x'], /--latency-column describes the file of --import/],
    [['--import', 'a', '--time-unit', 'min'], /--time-unit must be one of s, ms, us, ns, got "min"/],
    [['--import', 'a', '--import-format', 'json'], /--import-format must be one of text, csv/],
    [['--import', 'a', '--time-base', '-5'], /--time-base needs a whole number of ms/],
    [['--import', '--jsonl'], /--import needs a file name \(or - for standard input\), got "--jsonl"/],
    [['--record'], /--record needs a value \(FILE\)/],
    [['--record', '-'], /--record needs a file name, got "-"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it('--help shows the snapshot command and record/replay examples', () => {
    expect(helpText()).toMatch(/bpfheat snapshot \(--replay FILE \| --import FILE\)/);
    expect(helpText()).toMatch(/--replay today.bpfheat.jsonl --speed 0/);
  });
});

describe('parseSnapshotArgs', () => {
  it('turns the flags into the query of /api/snapshot.svg', () => {
    const args = parseSnapshotArgs(['--replay', 'a.jsonl', '--from', '1000', '--to=5000', '--device', 'sda', '--device', 'vdb', '--op', 'write', '--metric', 'size', '--width', '800', '-o', 'out.svg']);
    expect(args.output).toBe('out.svg');
    expect(args.config).toMatchObject({ source: 'replay', inputFile: 'a.jsonl' });
    expect([...args.query]).toEqual([
      ['from', '1000'],
      ['to', '5000'],
      ['width', '800'],
      ['metric', 'size'],
      ['device', 'sda'],
      ['device', 'vdb'],
      ['op', 'write'],
    ]);
  });

  it('leaves the range to the server\'s defaults when not given, and reads import flags', () => {
    const args = parseSnapshotArgs(['--import', 't.txt', '--unitstime', 'us', '--interval', '250', '--output', '-']);
    expect(args.config).toMatchObject({ source: 'import', timeUnit: 'us', intervalMs: 250 });
    expect([...args.query]).toEqual([]);
    expect(args.output).toBe('-');
  });

  it.each([
    [['-o', 'x.svg'], /bpfheat snapshot draws a recording, a trace or hosts in Prometheus: give --replay FILE, --import FILE or --source prometheus --prometheus URL/],
    [['--replay', 'a'], /bpfheat snapshot needs -o FILE/],
    [['--replay', 'a', '-o', 'x', '-o', 'y'], /-o is given twice/],
    [['--replay', 'a', '-o', 'x', '--from', 'yesterday'], /--from needs a whole number \(MS\), got "yesterday"/],
    [['--replay', 'a', '-o', 'x', '--jsonl'], /--jsonl is not an option of bpfheat snapshot/],
    [['--replay', 'a', '-o', 'x', '--port', '1'], /--port is not an option of bpfheat snapshot/],
    [['--replay', 'a', '-o', 'x', '--bogus'], /unknown option "--bogus" for bpfheat snapshot/],
    [['--replay', 'a', '--speed', '0', '-o', 'x'], /--speed is not an option of bpfheat snapshot/],
    [['--replay', 'a', '-o'], /-o needs a value \(FILE\)/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseSnapshotArgs(argv)).toThrow(UsageError);
    expect(() => parseSnapshotArgs(argv)).toThrow(message);
  });

  it('has help', () => {
    expect(parseSnapshotArgs(['--help']).help).toBe(true);
    expect(snapshotHelp()).toMatch(/-o, --output FILE/);
  });
});
