/**
 * The floor for bench/bpf-cost.ts: builds bench/minimal.bpf.c (clang, into a temporary
 * directory), loads and attaches it through the project's libbpf binding, prints "ready", and
 * holds it attached until SIGINT/SIGTERM. Run as root: `node --import tsx bench/minimal-tracer.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bpf from '../server/tracer/libbpf.ts';

const SOURCE = fileURLToPath(new URL('./minimal.bpf.c', import.meta.url));
const PROGRAMS = ['min_rq_issue', 'min_rq_complete', 'empty_probe'];

function multiarch(): string {
  try {
    return execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  } catch {
    return `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bpfheat-minimal-'));
const objectPath = join(dir, 'minimal.bpf.o');
const links: bpf.BpfLink[] = [];
let obj: bpf.BpfObject | null = null;

function close(): void {
  for (const link of links.splice(0)) bpf.destroyLink(link);
  if (obj) bpf.closeObject(obj);
  obj = null;
  rmSync(dir, { recursive: true, force: true });
}

try {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  execFileSync('clang', ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`, `-I/usr/include/${multiarch()}`, '-c', SOURCE, '-o', objectPath]);
  obj = bpf.openObject(objectPath);
  bpf.loadObject(obj);
  for (const name of PROGRAMS) links.push(bpf.attachProgram(bpf.findProgram(obj, name)));
} catch (error) {
  close();
  process.stderr.write(`minimal-tracer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

process.stdout.write('ready\n');
const keepAlive = setInterval(() => {}, 1 << 30);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    close();
  });
}
