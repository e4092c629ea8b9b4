import { describe, expect, it } from 'vitest';
import { FLAGS, helpText, historyColumns, parseArgs, resolveToken } from './config.ts';
import { UsageError, UserError } from '../base/errors.ts';

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

  it('takes the power-of-two rows of --text as --log2 or --buckets log2, fine by default', () => {
    expect(parseArgs(['--text']).buckets).toBe('fine');
    expect(parseArgs(['--text', '--log2']).buckets).toBe('log2');
    expect(parseArgs(['--buckets=log2', '--text']).buckets).toBe('log2');
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
    [['--text', '--jsonl'], /--text, --jsonl and --exporter each choose the output: use one/],
    [['--exporter', '--jsonl'], /--text, --jsonl and --exporter each choose the output: use one/],
    [['--source', 'prometheus'], /--source prometheus needs --prometheus URL/],
    [['--source', 'prometheus', '--prometheus', 'localhost:9090'], /--prometheus needs an http:\/\/ or https:\/\/ address/],
    [['--source', 'prometheus', '--prometheus', 'http://p:9090', '--match', 'job="db"'], /--match needs a series selector in braces/],
    [['--source', 'prometheus', '--prometheus', 'http://p:9090', '--match', '{__name__="x"}'], /--match chooses hosts, not metrics/],
    [['--match', '{job="db"}'], /--match is for reading hosts back from Prometheus: use it with --source prometheus/],
    [['--source', 'prometheus', '--prometheus', 'http://p:9090', '--host-label', 'a-b'], /--host-label needs a Prometheus label name/],
    [['--port', '70000'], /--port needs a whole number from 1 to 65535/],
    [['--token', 'short'], /--token needs 16 to 256 URL-safe characters/],
    [['--bogus'], /unknown option "--bogus"/],
    [['--interval'], /--interval needs a value \(MS\)/],
    [['--text=yes'], /--text takes no value/],
    [['--log2'], /--log2 chooses the rows of --text: use it with --text/],
    [['--jsonl', '--buckets', 'log2'], /--buckets chooses the rows of --text: use it with --text/],
    [['--text', '--buckets', 'octave'], /--buckets must be one of fine, log2, got "octave"/],
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

describe('resolveToken', () => {
  const TOKEN = 'a-token-of-twenty-chars';
  const files: Record<string, { text: string; mode: number }> = {
    '/secret/token': { text: `${TOKEN}\n`, mode: 0o100600 },
    '/secret/shared': { text: TOKEN, mode: 0o100644 },
    '/secret/short': { text: 'short\n', mode: 0o100600 },
    '/secret/two-lines': { text: `${TOKEN}\n${TOKEN}\n`, mode: 0o100600 },
  };
  const readFile = (path: string): { text: string; mode: number } => {
    const file = files[path];
    if (!file) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return file;
  };
  const resolve = (argv: string[], env: Record<string, string> = {}) => resolveToken(parseArgs(argv), { env, readFile });

  it.each([
    [[], {}, null, []],
    [[], { BPFHEAT_TOKEN: TOKEN }, TOKEN, []],
    [['--token-file', '/secret/token'], { BPFHEAT_TOKEN: 'another-token-from-env' }, TOKEN, []],
    [['--token-file', '/secret/shared'], {}, TOKEN, [/warning: the token file \/secret\/shared can be read by other users \(mode 644\): chmod 600 \/secret\/shared/]],
    [['--token', TOKEN], {}, TOKEN, [/warning: --token puts the token on the command line, where every local user can read it .*: use --token-file FILE or BPFHEAT_TOKEN instead/]],
  ] as const)('%j with %j gives %s', (argv, env, token, warnings) => {
    const resolved = resolve([...argv], env);
    expect(resolved.token).toBe(token);
    expect(resolved.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(resolved.warnings[i]).toMatch(w));
  });

  it.each([
    [['--token-file', '/secret/missing'], {}, 'cannot read the token file /secret/missing (--token-file): no such file or directory'],
    [['--token-file', '/secret/short'], {}, 'the token file /secret/short must hold one line of 16 to 256 URL-safe characters (letters, digits, . _ ~ -), and nothing else'],
    [['--token-file', '/secret/two-lines'], {}, 'the token file /secret/two-lines must hold one line of 16 to 256 URL-safe characters (letters, digits, . _ ~ -), and nothing else'],
    [[], { BPFHEAT_TOKEN: 'has spaces in it, sixteen+' }, 'BPFHEAT_TOKEN needs 16 to 256 URL-safe characters (letters, digits, . _ ~ -)'],
  ] as const)('%j with %j fails: %s', (argv, env, message) => {
    expect(() => resolve([...argv], env)).toThrow(UserError);
    expect(() => resolve([...argv], env)).toThrow(message);
  });

  it('refuses --token with --token-file', () => {
    expect(() => parseArgs(['--token', TOKEN, '--token-file', '/secret/token'])).toThrow(/--token and --token-file both give the token: use --token-file/);
  });
});
