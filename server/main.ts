/**
 * The bpfheat command: parse the flags once, make the source, and hand its columns to the
 * chosen output. Every user-facing failure ends here as one line and an exit code.
 */
import { parseArgs, helpText, type Config } from './config.ts';
import { UserError } from './errors.ts';
import type { Source } from './sources/source.ts';

async function createSource(config: Config): Promise<Source> {
  if (config.source === 'synthetic') {
    const { createSyntheticSource } = await import('./sources/synthetic.ts');
    return createSyntheticSource({ seed: config.seed, intervalMs: config.intervalMs });
  }
  const { createBpfSource } = await import('./sources/bpf.ts');
  return createBpfSource({
    intervalMs: config.intervalMs,
    selfStats: config.selfStats,
    // per-process histograms are built from exemplars, so by default every I/O is one
    thresholdNs: config.byProcess && config.thresholdNs === null ? 0 : config.thresholdNs,
    exemplarRate: config.exemplarRate,
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const config = parseArgs(argv);
  if (config.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const source = await createSource(config);
  if (config.mode === 'dashboard') {
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
