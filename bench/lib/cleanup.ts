/**
 * One cleanup path for everything a benchmark changes on the machine (loop devices, child
 * processes, sysctls, a tracefs mount): each step registers its undo here, and the undos run in
 * reverse order when the part ends, when it throws, and on SIGINT/SIGTERM. So `losetup -a` is
 * clean after a benchmark however it ended.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Undo = () => void | Promise<void>;

const undos: { readonly what: string; readonly undo: Undo }[] = [];
let signalsInstalled = false;
/** set on SIGINT/SIGTERM: what fails after it (a killed fio, say) is the interrupt, not an error */
let interrupted = false;
let running: Promise<void> | null = null;

/** Registers an undo; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(what: string, undo: Undo): () => Promise<void> {
  installSignals();
  const entry = { what, undo };
  undos.push(entry);
  return async () => {
    const k = undos.indexOf(entry);
    if (k < 0) return;
    undos.splice(k, 1);
    await runOne(entry);
  };
}

async function runOne(entry: { readonly what: string; readonly undo: Undo }): Promise<void> {
  try {
    await entry.undo();
  } catch (error) {
    process.stderr.write(`bench: cleanup "${entry.what}" failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

export function wasInterrupted(): boolean {
  return interrupted;
}

/** Runs every registered undo, newest first. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (undos.length > 0) await runOne(undos.pop()!);
  })().finally(() => (running = null));
  return running;
}

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\nbench: ${signal}: cleaning up\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

/** A benchmark's command line was wrong: its message says what to give instead, with no stack. */
export class OptionError extends Error {}

/** Runs a benchmark part as a program: prints its error (if any), always cleans up, exits 0 unless
 * it crashed (1, with the stack) or its command line was wrong (2, one line). */
export async function runMain(main: () => Promise<unknown>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (interrupted) return;
    const told = error instanceof OptionError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`bench: ${told}\n`);
    process.exitCode = error instanceof OptionError ? 2 : 1;
  } finally {
    await cleanupAll();
  }
}

/** Whether this module is the program being run (`node --import tsx bench/x.ts`), not imported by run.ts. */
export function isMain(url: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(url);
}
