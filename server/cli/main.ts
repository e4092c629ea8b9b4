/**
 * The bpfheat command: parse the flags once, make the source, and hand its columns to the
 * chosen output. Every user-facing failure ends here as one line and an exit code.
 */
import { hostname } from 'node:os';
import { historyColumns, parseArgs, helpText, type Config } from './config.ts';
import { UserError } from '../base/errors.ts';
import type { Source } from '../sources/source.ts';

async function createSource(config: Config): Promise<Source> {
  if (config.source === 'replay') {
    const { createReplaySource } = await import('../sources/replay.ts');
    return createReplaySource({ path: config.inputFile!, speed: config.speed ?? 1, strict: config.strict });
  }
  if (config.source === 'import') {
    const { createImportSource } = await import('../sources/import.ts');
    return createImportSource({ ...config, path: config.inputFile!, format: config.importFormat, speed: config.speed ?? 0 });
  }
  if (config.source === 'prometheus') {
    const { createPrometheusSource } = await import('../sources/prometheus.ts');
    return createPrometheusSource({
      url: config.prometheus!,
      match: config.match,
      hostLabel: config.hostLabel,
      hosts: config.hosts,
      // the page draws the fleet's sum first, which Prometheus sums; the hosts it narrows to are read when it asks (hostViews.ts)
      sumHosts: config.sumHosts || config.mode === 'dashboard',
      intervalMs: config.intervalMs,
      historyMs: historyColumns(config) * config.intervalMs,
    });
  }
  if (config.source === 'synthetic') {
    const { createSyntheticSource } = await import('../sources/synthetic.ts');
    return createSyntheticSource({ seed: config.seed, intervalMs: config.intervalMs });
  }
  const { createBpfSource } = await import('../sources/bpf.ts');
  return createBpfSource({
    intervalMs: config.intervalMs,
    selfStats: config.selfStats,
    // per-process histograms are built from exemplars, so by default every I/O is one
    thresholdNs: config.byProcess && config.thresholdNs === null ? 0 : config.thresholdNs,
    exemplarRate: config.exemplarRate,
    mode: { startMap: config.startMap, exemplars: config.exemplars, issueStore: config.issueStore },
    sayOnStderr: config.mode !== 'dashboard',
  });
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'snapshot') {
    const { runSnapshot } = await import('./snapshot.ts');
    await runSnapshot(argv.slice(1));
    return;
  }
  const config = parseArgs(argv);
  if (config.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  let source = await createSource(config);
  if (config.record !== null) {
    const { recordSource } = await import('../sources/record.ts');
    source = recordSource(source, config.record, { host: source.host ?? hostname() });
  }
  if (config.mode === 'dashboard' || config.mode === 'exporter') {
    const { runDashboard } = await import('./dashboard.ts');
    await runDashboard(source, config);
  } else {
    const { runTerminal } = await import('./terminal.ts');
    await runTerminal(source, config);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UserError) {
    process.stderr.write(`bpfheat: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`bpfheat: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(70);
});
