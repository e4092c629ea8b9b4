/**
 * One interface for everything that produces columns: the live BPF tracer, a seeded
 * synthetic generator, a replayed recording, an imported trace. Everything downstream
 * (history, WebSocket, text, JSONL) sees only this.
 */
import type { Column, DeviceInfo, SourceKind } from '../../shared/column.ts';
import type { ExemplarCapture, SelfStats } from '../../shared/protocol.ts';
import type { Exemplar } from '../../shared/exemplar.ts';

export interface ColumnSink {
  /** called once per column, in ascending seq order, without gaps (empty columns included) */
  column(column: Column): void;
  /** called when the device table grew (a device seen for the first time) */
  devices?(devices: readonly DeviceInfo[]): void;
  /** outlier I/Os as they arrive; those the kernel had to drop are counted in their column */
  exemplars?(batch: readonly Exemplar[]): void;
  /** a finite source (a replay, an import) has delivered everything: no column follows */
  finished?(): void;
  /** what keeps the source from reading its data now (one line naming cause and fix), null once it reads again */
  problem?(message: string | null): void;
}

export interface Source {
  readonly kind: SourceKind;
  /** the machine the data comes from when it is not this one (a replay, an import) */
  readonly host?: string;
  readonly intervalMs: number;
  devices(): readonly DeviceInfo[];
  /** Begins producing columns into the sink; resolves once the source runs. */
  start(sink: ColumnSink): Promise<void>;
  /** Flushes the last, partial column to the sink, then stops and releases everything. Idempotent. */
  stop(): Promise<void>;
  /** Sets the exemplar latency threshold (ns) while running; null: adaptive. Only live sources have it. */
  setExemplarThreshold?(ns: number | null): void;
  /** How exemplars are picked, for sources that capture them live; else absent. */
  exemplarCapture?(): ExemplarCapture;
  /** What the source costs and could not count, where it knows (the BPF tracer); else null. */
  selfStats(): SelfStats | null;
  /** The hosts it reads, summed, when it reads several (--source prometheus): each can be read alone, by forHosts. */
  hosts?(): readonly string[];
  /** The same source reading only these of its hosts (their sum); not started. */
  forHosts?(hosts: readonly string[]): Source;
}
