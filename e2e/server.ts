/**
 * Starting and stopping real bpfheat servers for end-to-end tests: `node bin/bpfheat.js
 * --source synthetic` (or the live BPF tracer, as root) on a free loopback port, waited for
 * until /healthz answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** what the server printed, for failure messages */
  output(): string;
  stop(): Promise<void>;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bpfheat exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bpfheat did not answer ${url}healthz within ${timeoutMs} ms:\n${output()}`);
}

/** `source`: a live source, or a recording to serve (`--replay FILE`, at any --speed in `args`). */
export async function startServer(options: { port?: number; source?: 'synthetic' | 'bpf' | 'prometheus'; replay?: string; args?: readonly string[] } = {}): Promise<RunningServer> {
  const port = options.port ?? (await freePort());
  const chosen = options.replay !== undefined ? ['--replay', options.replay] : ['--source', options.source ?? 'synthetic'];
  const child = spawn(process.execPath, ['bin/bpfheat.js', ...chosen, '--port', String(port), ...(options.args ?? [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const url = `http://127.0.0.1:${port}/`;
  const running: RunningServer = {
    port,
    url,
    process: child,
    output: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitForHealth(url, child, running.output, 30_000);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}
