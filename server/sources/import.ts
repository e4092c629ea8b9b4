/**
 * --import FILE: a trace another tool wrote (formats/trace.ts parses it), played as a finite source.
 */
import type { DeviceInfo } from '../../shared/column.ts';
import { UserError } from '../base/errors.ts';
import { plural } from '../base/words.ts';
import { ImportError, TraceReader, badLinesNote, type ImportOptions, type ImportResult } from '../formats/trace.ts';
import { readLines } from './lines.ts';
import { createPlayback, inputName, type FiniteSource } from './replay.ts';

/** A device name for the imported data: the file's name, as the other sources' device names are written. */
export function importDeviceName(path: string): string {
  return inputName(path).replace(/[^A-Za-z0-9._!-]+/g, '_').slice(0, 64) || 'import';
}

export interface ImportSourceOptions extends ImportOptions {
  readonly path: string;
  /** default 0: everything at once */
  readonly speed: number;
  /** notes (malformed lines, what was read); default: stderr */
  readonly warn?: (line: string) => void;
}

/** Reads the trace (streaming, see lines.ts) into columns and plays them. */
export async function createImportSource(options: ImportSourceOptions): Promise<FiniteSource> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`bpfheat: ${line}\n`));
  const name = inputName(options.path);
  let result: ImportResult;
  try {
    const reader = new TraceReader(name, options);
    await readLines(options.path, '--import', (line, number) => reader.line(line, number));
    result = reader.finish();
  } catch (error) {
    if (error instanceof ImportError) throw new UserError(error.message);
    throw error;
  }
  const note = badLinesNote(name, result);
  if (note) warn(note);
  const first = result.columns[0]!;
  const last = result.columns[result.columns.length - 1]!;
  const columnsRead = result.format === 'csv' ? `, columns "${result.timeColumn}" and "${result.latencyColumn}"` : '';
  warn(
    `imported ${plural(result.events, 'event')} from ${name} (${result.format}${columnsRead}; time in ${result.timeUnit}, latency in ${result.latencyUnit}) ` +
      `into ${plural(result.columns.length, 'column')} of ${options.intervalMs} ms: unix ms ${first.startMs} to ${last.startMs + last.intervalMs}`,
  );
  const devices: DeviceInfo[] = [{ id: 0, name: importDeviceName(options.path) }];
  return createPlayback({
    kind: 'import',
    intervalMs: options.intervalMs,
    host: name,
    devices,
    events: result.columns.map((column) => ({ type: 'column', column })),
    speed: options.speed,
  });
}
