/**
 * --record FILE: a source wrapped so that everything it produces is appended to a recording
 * (formats/recording.ts) before it goes on.
 */
import { RecordingWriter, columnLine, describeFsError, devicesLine, endLine, exemplarLine, headerLine } from '../formats/recording.ts';
import type { ColumnSink, Source } from './source.ts';

export interface RecordOptions {
  readonly host: string;
  /** the wall clock, for the header and end lines */
  readonly now?: () => number;
  /** called once when a write fails (disk full...): by default one line on stderr and exit 1 */
  readonly onError?: (message: string) => void;
}

function failLoudly(message: string): void {
  process.stderr.write(`bpfheat: ${message}\n`);
  process.exit(1);
}

/**
 * Wraps a source so that everything it produces is appended to a recording before it goes on.
 * The file is opened now (so a bad path fails before tracing starts); the header is written on
 * start, the end line on stop.
 */
export function recordSource(source: Source, path: string, options: RecordOptions): Source {
  const writer = new RecordingWriter(path);
  const now = options.now ?? Date.now;
  const onError = options.onError ?? failLoudly;
  let columns = 0;
  let failed = false;

  const append = (lines: string): void => {
    if (failed) return;
    try {
      writer.write(lines);
    } catch (error) {
      failed = true;
      writer.close();
      onError(`writing the recording ${path} failed (${describeFsError(error)}): it holds what was written before, and recording stopped`);
    }
  };

  // Everything else (devices, selfStats, a live source's extra controls, a replay's host) is the source's own.
  return {
    ...source,
    async start(sink: ColumnSink) {
      append(headerLine({ intervalMs: source.intervalMs, source: source.kind, host: options.host, startedMs: now(), devices: source.devices() }));
      const tee: ColumnSink = {
        column(column) {
          append(columnLine(column));
          columns++;
          sink.column(column);
        },
        devices(devices) {
          append(devicesLine(devices));
          sink.devices?.(devices);
        },
        exemplars(batch) {
          if (batch.length > 0) append(batch.map(exemplarLine).join(''));
          sink.exemplars?.(batch);
        },
        finished() {
          sink.finished?.();
        },
      };
      await source.start(tee);
    },
    async stop() {
      try {
        await source.stop();
      } finally {
        if (!failed) append(endLine(now(), columns));
        writer.close();
      }
    },
  };
}
