/**
 * The drill-down in the selection panel: how many outlier I/Os (exemplars) the region holds and
 * lists, which of them are listed (the slowest, or the order picked), which processes issued
 * them, the table of them, and the capture threshold. Hovering a row hands the exemplar up, and
 * the heat map marks its cell in its overlay: the canvas is not redrawn.
 */
import { memo, useMemo, useState, type FormEvent } from 'react';
import { droppedIn, EXEMPLAR_ORDERS, type Exemplar, type ExemplarOrder } from '../../shared/exemplar.ts';
import type { ExemplarCapture } from '../../shared/protocol.ts';
import { formatBytes, formatClock, formatCount, formatLatency } from '../../shared/view.ts';
import type { AppModel, FrameData, Snapshot } from '../state/model.ts';
import { describeCapture, nextSort, parseThreshold, sortExemplars, sortForOrder, topProcesses, type SortKey } from './drilldown.ts';

/** Rows drawn at first: enough to read, few enough that a live list stays cheap to re-render. */
const FIRST_ROWS = 200;

const COLUMNS: readonly { key: SortKey; label: string }[] = [
  { key: 'timeMs', label: 'time' },
  { key: 'latencyNs', label: 'latency' },
  { key: 'bytes', label: 'size' },
  { key: 'device', label: 'device' },
  { key: 'op', label: 'op' },
  { key: 'pid', label: 'pid' },
  { key: 'comm', label: 'comm' },
  { key: 'sector', label: 'sector' },
];

export interface ExemplarsProps {
  readonly model: AppModel;
  /** the snapshot's panel frame */
  readonly frame: FrameData | null;
  readonly meta: Snapshot['meta'];
  readonly exemplars: Snapshot['exemplars'];
  /** I/Os in the cells the exemplars were asked for */
  readonly held: number;
  readonly onHighlight: (exemplar: Exemplar | null) => void;
}

export function Exemplars({ model, frame, meta, exemplars, held, onHighlight }: ExemplarsProps) {
  const capture = meta?.exemplarCapture ?? null;
  const region = exemplars.region;
  // The region names the server's device ids; the page's columns carry its own (the filter's).
  const dropped = useMemo(
    () => (frame && region ? droppedIn(frame.columns, { ...region, toMs: region.toMs ?? Infinity, devices: frame.view.filter.devices ?? null }) : 0),
    [frame, region],
  );
  const processes = useMemo(() => topProcesses(exemplars.listed), [exemplars.listed]);
  const listed = exemplars.listed.length;
  const order = exemplars.order;
  const sizes = frame?.view.filter.metric === 'size';
  return (
    <section className="exemplars" aria-label="Exemplars">
      <h3>Outlier I/Os</h3>
      {capture && <ThresholdControl model={model} capture={capture} />}
      <dl className="stats-block exemplar-counts" data-pending={exemplars.pending}>
        <div>
          <dt title="I/Os counted in the region's cells">held</dt>
          <dd data-stat="held">{formatCount(held)} I/O{held === 1 ? '' : 's'}</dd>
        </div>
        <div>
          <dt title="I/Os of the region the kernel captured as exemplars">captured</dt>
          <dd data-stat="captured">
            {exemplars.captured}
            {exemplars.pending && ' (updating…)'}
          </dd>
        </div>
        <div>
          <dt
            title={`exemplars the kernel could not send (over the cap per latency bucket, or the ring full), in the region's columns and latency buckets${sizes ? ', at any size: a drop carries its latency, not its size' : ''}`}
          >
            dropped
          </dt>
          <dd data-stat="dropped">{dropped}</dd>
        </div>
        <div>
          <dt>listed</dt>
          <dd data-stat="listed" data-listed={listed} data-truncated={exemplars.truncated}>
            showing {listed} of {exemplars.captured}
            {exemplars.truncated > 0 && ` (the ${order})`}
          </dd>
        </div>
      </dl>
      {exemplars.captured > 0 && (
        <label className="exemplar-order">
          List first{' '}
          <select value={order} onChange={(e) => model.setExemplarOrder(orderOf(e.target.value) ?? order)} title="Which of the region's exemplars to list when it holds more than can be shown">
            {EXEMPLAR_ORDERS.map((o) => (
              <option key={o} value={o}>
                the {o}
              </option>
            ))}
          </select>
        </label>
      )}
      {listed === 0 ? (
        <p className="hint">
          {capture
            ? 'No I/O in this region was captured.'
            : meta?.source === 'prometheus'
              ? "Exemplars are not available from Prometheus: it keeps the counts, not the I/Os. Open the host's own bpfheat (live, or a --record of it) to see this region's outlier I/Os."
              : 'This source captures no exemplars: only live tracing (or a recording of it) has them.'}
        </p>
      ) : (
        <>
          <h3>Top processes{exemplars.truncated > 0 ? ` (of the ${listed} ${order} listed)` : ''}</h3>
          <ProcessTable rows={processes} />
          <h3>Exemplars</h3>
          <ExemplarTable key={order} order={order} exemplars={exemplars.listed} offsetMin={frame?.view.utcOffsetMin ?? 0} meta={meta} onHighlight={onHighlight} />
        </>
      )}
    </section>
  );
}

function orderOf(value: string): ExemplarOrder | undefined {
  return EXEMPLAR_ORDERS.find((o) => o === value);
}

function ThresholdControl({ model, capture }: { model: AppModel; capture: ExemplarCapture }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault();
    const parsed = parseThreshold(text);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    setText('');
    model.setThreshold(parsed.thresholdNs);
  };
  return (
    <form className="threshold" onSubmit={onSubmit} data-threshold={capture.thresholdNs ?? 'adaptive'}>
      <p className="muted">
        Capturing {describeCapture(capture)}, at most {formatCount(capture.perBucketPerSecond)}/s per latency bucket
      </p>
      <label>
        Threshold{' '}
        <input
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="2ms, 500us, adaptive"
          aria-invalid={error !== null}
          aria-describedby={error ? 'threshold-error' : undefined}
          size={14}
        />
      </label>{' '}
      <button type="submit" title="Change what the kernel captures, for every page of this server">
        Set
      </button>
      {error && (
        <p id="threshold-error" className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

/** Rendered again only when the list changes, not with the region's counts four times a second. */
const ProcessTable = memo(function ProcessTable({ rows }: { rows: ReturnType<typeof topProcesses> }) {
  return (
    <table className="breakdown processes" aria-label="Top processes">
      <thead>
        <tr>
          <th scope="col">comm</th>
          <th scope="col">pid</th>
          <th scope="col">count</th>
          <th scope="col">p50</th>
          <th scope="col">p99</th>
          <th scope="col">max</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.pid}:${row.comm}`} data-comm={row.comm} data-pid={row.pid} data-count={row.count}>
            <th scope="row">{row.comm}</th>
            <td>{row.pid}</td>
            <td>{row.count}</td>
            <td>{formatLatency(row.p50Ns)}</td>
            <td>{formatLatency(row.p99Ns)}</td>
            <td>{formatLatency(row.maxNs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
});

interface ExemplarTableProps {
  /** the order the rows were chosen by: the table opens sorted by it */
  readonly order: ExemplarOrder;
  readonly exemplars: readonly Exemplar[];
  /** the view's offset from UTC, minutes */
  readonly offsetMin: number;
  readonly meta: Snapshot['meta'];
  readonly onHighlight: (exemplar: Exemplar | null) => void;
}

/**
 * Rendered again only when one of its props changes (the list, the time zone, the devices' names):
 * not with the region's counts, which a moving view changes four times a second, so its rows
 * (up to all of them, 9 elements each) are not rendered and compared every time.
 */
const ExemplarTable = memo(function ExemplarTable({ order, exemplars, offsetMin, meta, onHighlight }: ExemplarTableProps) {
  const [sort, setSort] = useState(() => sortForOrder(order));
  const [all, setAll] = useState(false);
  const sorted = useMemo(() => sortExemplars(exemplars, sort), [exemplars, sort]);
  const shown = all ? sorted : sorted.slice(0, FIRST_ROWS);
  const deviceName = (id: number): string => meta?.devices.find((d) => d.id === id)?.name ?? `dev${id}`;
  return (
    <>
      <div className="exemplar-scroll">
        <table className="breakdown exemplar-table" aria-label="Exemplars in the region">
          <thead>
            <tr>
              {COLUMNS.map(({ key, label }) => (
                <th key={key} scope="col" aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="sort" onClick={() => setSort(nextSort(sort, key))} title={`Sort by ${label}`}>
                    {label}
                    {sort.key === key ? (sort.descending ? ' ▾' : ' ▴') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          {/* One leave for the body, not one per row: moving between rows does not flicker the mark. */}
          <tbody onMouseLeave={() => onHighlight(null)}>
            {shown.map((e, k) => (
              <tr key={k} onMouseEnter={() => onHighlight(e)} data-time={e.timeMs} data-pid={e.pid} data-comm={e.comm} data-latency={e.latencyNs} data-sector={e.sector ?? ''}>
                <td>{formatClock(e.timeMs, offsetMin, 1)}</td>
                <td>{formatLatency(e.latencyNs)}</td>
                <td>{formatBytes(e.bytes)}</td>
                <td>{deviceName(e.device)}</td>
                <td>{e.op}</td>
                <td>{e.pid}</td>
                <td className="comm">{e.comm}</td>
                <td>{e.sector ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length < sorted.length && (
        <button type="button" className="more" onClick={() => setAll(true)}>
          Show all {sorted.length} rows
        </button>
      )}
    </>
  );
});
