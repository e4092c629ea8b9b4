import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OptionError } from './cleanup.ts';
import { choiceOption, choicesOption, numberOption } from './report.ts';

describe('benchmark options', () => {
  it.each([
    [['--runtime', '4'], 4],
    [['--runtime=2.5'], 2.5],
    [['--rounds', '3', '--runtime', '6'], 6],
    [[], 8],
  ])('numberOption reads %j', (argv, expected) => {
    expect(numberOption('runtime', 8, argv)).toBe(expected);
  });

  it.each([[['--runtime']], [['--runtime', 'fast']], [['--runtime=-1']]])('numberOption refuses %j with a line naming the option', (argv) => {
    expect(() => numberOption('runtime', 8, argv)).toThrow(/^--runtime needs a number ≥ 0/);
  });

  it.each([
    [['--load', 'psync'], 'psync'],
    [['--load=uring'], 'uring'],
    [['--runtime', '2'], 'uring'],
  ])('choiceOption reads %j', (argv, expected) => {
    expect(choiceOption('load', ['uring', 'psync'], 'uring', argv)).toBe(expected);
  });

  it('choiceOption refuses a word it does not take, naming the ones it does', () => {
    expect(() => choiceOption('load', ['uring', 'psync'], 'uring', ['--load', 'aio'])).toThrow(new OptionError('--load takes uring or psync, got "aio"'));
  });

  it.each([
    [['--tracers', 'bpftrace'], ['bpftrace']],
    [['--tracers=bpftrace,placebo'], ['bpftrace', 'placebo']],
    [[], ['bpfheat', 'bpftrace', 'placebo']],
  ])('choicesOption reads %j', (argv, expected) => {
    expect(choicesOption('tracers', ['bpfheat', 'bpftrace', 'placebo'], ['bpfheat', 'bpftrace', 'placebo'], argv)).toEqual(expected);
  });

  it('choicesOption refuses a word it does not take, naming the ones it does', () => {
    expect(() => choicesOption('tracers', ['bpfheat', 'placebo'], [], ['--tracers', 'bpfheat,perf'])).toThrow(new OptionError('--tracers takes a comma-separated list of bpfheat, placebo, got "perf"'));
  });

  it.each([
    [['--load', 'aio'], 'bench: --load takes psync or uring, got "aio"\n'],
    [['--tracers', 'perf'], 'bench: --tracers takes a comma-separated list of bpfheat, bpfheat-no-exemplars, bpfheat-start-map, bpftrace, placebo, got "perf"\n'],
    [['--runtime', 'fast'], 'bench: --runtime needs a number ≥ 0, got "fast"\n'],
  ])('bench:iops %j says one line, no stack, and exits 2', async (argv, said) => {
    const iops = fileURLToPath(new URL('../iops.ts', import.meta.url));
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', iops, ...argv], { encoding: 'utf8' });
    await expect(run).rejects.toMatchObject({ code: 2, stdout: '', stderr: said });
  });
});
