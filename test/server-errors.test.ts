/**
 * Failures a user meets when starting the dashboard: each is one clear line on stderr and a
 * non-zero exit, never a stack trace.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, serve, type Exit } from './server-harness.ts';
import { tempDir } from './temp-dirs.ts';

const SYNTH = ['--source', 'synthetic', '--interval', '100'];

function oneLine(exit: Exit, pattern: RegExp): void {
  expect(exit.code).not.toBe(0);
  expect(exit.code).not.toBeNull();
  const lines = exit.stderr.trimEnd().split('\n');
  expect(lines, exit.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^bpfheat: /);
  expect(lines[0]).toMatch(pattern);
  expect(exit.stderr).not.toMatch(/\n\s+at /);
  expect(exit.stdout).toBe('');
}

describe('starting the dashboard fails clearly', () => {
  let blocker: Server;
  let busyPort: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busyPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => {
    blocker.close();
  });

  it('when the port is in use', async () => {
    oneLine(await runToExit([...SYNTH, '--port', String(busyPort)]), new RegExp(`port ${busyPort} on 127.0.0.1 is in use`));
  });

  it('when --listen is not an IP address', async () => {
    const exit = await runToExit([...SYNTH, '--port', '0', '--listen', 'my host']);
    oneLine(exit, /--listen needs an IP address/);
    expect(exit.code).toBe(2); // a usage error
  });

  it('when --listen is not an address of this machine', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a real machine. Binding fails; nothing is sent.
    oneLine(await runToExit([...SYNTH, '--port', '0', '--listen', '192.0.2.1']), /192\.0\.2\.1 is not an address of this machine/);
  });

  it('when the client bundle is missing, naming the command that builds it', async () => {
    const empty = tempDir('bpfheat-nodist-');
    oneLine(await runToExit([...SYNTH, '--port', '0'], { BPFHEAT_CLIENT_DIR: empty }), /npm run build:client/);
  });

  it('but stops cleanly, with exit 0, on SIGINT and on SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const served = await serve([...SYNTH, '--port', '0']);
      const exit = await served.stop(signal);
      expect(exit.code, signal).toBe(0);
      expect(exit.stderr).toBe('');
    }
  });

  it('and --duration ends it by itself', async () => {
    const started = Date.now();
    const exit = await runToExit([...SYNTH, '--port', '0', '--duration', '2']);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toMatch(/^bpfheat: dashboard on http:\/\/127\.0\.0\.1:\d+\/ \(SYNTHETIC data, running as \S+\)\n$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });
});
