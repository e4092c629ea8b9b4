/**
 * Every benchmark, one after the other, then one summary table (the one README's Performance
 * section shows). Benchmarks print figures; they never pass or fail: the exit code is 0 unless
 * a part crashed, and a part that crashes or cannot run here is reported as not measured.
 *
 *   npm run bench                      all parts (about 7 minutes on 2 cores)
 *   npm run bench -- bpf iops          only these parts: bpf, iops, exemplars, fanout, client, prometheus
 *
 * The kernel parts need root, fio, bpftrace, bpftool and clang; the client part needs Chromium.
 */
import { execFileSync } from 'node:child_process';
import { benchBpfCost } from './bpf-cost.ts';
import { benchClientDraw } from './client-draw.ts';
import { benchExemplars } from './exemplars.ts';
import { benchFanout } from './fanout.ts';
import { benchIops } from './iops.ts';
import { benchPrometheus } from './prometheus.ts';
import { cleanupAll, runMain, wasInterrupted } from './lib/cleanup.ts';
import { heading, machineLine, printFigures, say, type Figure } from './lib/report.ts';
import { WARMUP_S } from './lib/tracers.ts';

interface Part {
  readonly key: string;
  readonly name: string;
  readonly run: () => Promise<Figure[]>;
}

const PARTS: readonly Part[] = [
  { key: 'bpf', name: 'BPF cost', run: () => benchBpfCost({ runtimeS: 4, rounds: 5, load: 'psync', warmupS: WARMUP_S }) },
  { key: 'iops', name: 'IOPS kept', run: () => benchIops({ runtimeS: 2, rounds: 10, load: 'uring', warmupS: WARMUP_S }) },
  { key: 'exemplars', name: 'Exemplars kept', run: () => benchExemplars({ runtimeS: 10, rate: 200 }) },
  { key: 'fanout', name: 'Fan-out', run: () => benchFanout({ seconds: 10 }) },
  { key: 'client', name: 'Client drawing', run: () => benchClientDraw({ widthCss: 1920, heightCss: 1080, dpr: 1 }) },
  { key: 'prometheus', name: 'Prometheus', run: () => benchPrometheus({ hosts: 10, steps: 1440 }) },
];

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `${sha}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

await runMain(async () => {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !PARTS.some((p) => p.key === w));
  if (unknown.length > 0) throw new Error(`unknown part ${unknown.join(', ')}: choose from ${PARTS.map((p) => p.key).join(', ')}`);
  const parts = PARTS.filter((p) => wanted.length === 0 || wanted.includes(p.key));
  const started = performance.now();
  say(`bpfheat benchmarks, ${new Date().toISOString()}, commit ${commit()}`);
  say(`machine: ${machineLine()}`);
  const figures: Figure[] = [];
  for (const part of parts) {
    try {
      figures.push(...(await part.run()));
    } catch (error) {
      if (wasInterrupted()) return;
      process.stderr.write(`bench: ${part.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      figures.push({ part: part.name, name: 'every figure', value: null, unit: '', target: '—', met: null, note: `the part failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` });
    } finally {
      await cleanupAll(); // each part leaves the machine as it found it before the next starts
    }
  }
  heading(`summary (${((performance.now() - started) / 60_000).toFixed(1)} min; reproduce with: npm run bench${wanted.length > 0 ? ` -- ${wanted.join(' ')}` : ''})`);
  say(`machine: ${machineLine()}`);
  printFigures(figures);
});
