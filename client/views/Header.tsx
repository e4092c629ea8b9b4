import { memo, useEffect, useState } from 'react';
import { formatDateTime, formatSpan, formatUtcOffset, sourceLabel } from '../../shared/view.ts';
import type { Uncounted } from '../../shared/protocol.ts';
import type { ConnectionState } from '../net/connection.ts';
import type { Snapshot } from '../state/model.ts';
import { allHostsSearch, stateToUrl, type ViewState } from '../state/view.ts';
import { devicesShown, stackedNote } from './stacking.ts';

function statusText(connection: ConnectionState, ended: boolean, nowMs: number): string {
  switch (connection.kind) {
    case 'connecting':
      return connection.attempt > 1 ? `reconnecting (attempt ${connection.attempt})…` : 'connecting…';
    case 'backfilling':
      return 'loading history…';
    case 'live':
      return ended ? 'end of recording' : 'live';
    case 'offline':
      return `disconnected: ${connection.reason} — retry ${connection.attempt + 1} in ${Math.max(0, Math.ceil((connection.retryAtMs - nowMs) / 1000))} s`;
    case 'refused':
      return 'refused';
  }
}

/** Seconds until the next retry tick down while offline; one timer, only then. */
function useSecondTicker(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/** The live tracer's own account of what is not in the picture, so a total can be trusted. */
function UncountedNote({ uncounted }: { uncounted: Uncounted }) {
  const { total, unseen, missedStart, startFailed, ringOverrun } = uncounted;
  const title =
    `since the tracer started: ${unseen} completions the kernel accounted that no program saw (unseen), ` +
    `${missedStart} without a start time, ${startFailed} start records that failed, ${ringOverrun} late for their column`;
  return (
    <span className={`uncounted${total > 0 ? ' uncounted-some' : ''}`} data-total={total} data-unseen={unseen} title={title}>
      {total === 0 ? 'every completion counted' : `${total} completion${total === 1 ? '' : 's'} not in the picture (${unseen} unseen)`}
    </span>
  );
}

/** The text with every digit a 0: as wide as the text in tabular figures, and the same while only digits change. */
function digitsAsZeros(text: string): string {
  return text.replace(/[0-9]/g, '0');
}

/**
 * Text whose digits change while its width does not (a moving view's time range, once a second):
 * its box is sized by the text with every digit a 0 (drawn invisibly by the style sheet from
 * data-size) and the text is placed over it in a box of its own, so that a new time lays out
 * that box alone, not the header and the page around it.
 */
function SteadyText({ text }: { text: string }) {
  return (
    <span className="steady-text" data-size={digitsAsZeros(text)}>
      <span>{text}</span>
    </span>
  );
}

/**
 * The status line. A moving view's side-panel updates (four times a second) render it for its
 * time range: the parts that did not change are not rendered again (memo), only the range.
 */
export function Header({ snapshot }: { snapshot: Snapshot }) {
  const { meta, connection, frame, state } = snapshot;
  const view = frame?.view;
  return (
    <header className="header">
      <Identity meta={meta} chosenHosts={state.display.hosts} />
      <Status connection={connection} ended={snapshot.ended} />
      {view && <Range fromMs={view.fromMs} toMs={view.toMs} utcOffsetMin={view.utcOffsetMin} ended={snapshot.ended} live={state.extent.live} />}
      <Notes
        meta={meta}
        chosenDevices={state.display.devices}
        state={state}
        connection={connection}
        uncounted={snapshot.uncounted}
        loadingHistory={snapshot.loadingHistory}
        error={snapshot.error}
        skipped={snapshot.skipped}
      />
    </header>
  );
}

/** The page's name, the host, the source, and which of the hosts the picture sums. */
const Identity = memo(function Identity({ meta, chosenHosts }: { meta: Snapshot['meta']; chosenHosts: readonly string[] }) {
  const hosts = meta?.hosts ?? [];
  const shownHosts = chosenHosts.length === 0 ? hosts : hosts.filter((h) => chosenHosts.includes(h));
  return (
    <>
      <h1>bpfheat</h1>
      <span className="host" title="host">{meta?.host ?? '…'}</span>
      {meta && <span className={`source source-${meta.source}`}>{sourceLabel(meta.source)}</span>}
      {hosts.length > 0 && (
        <span className="hosts-shown" data-hosts={shownHosts.join(' ')} title="the hosts whose I/O the heat map shows, summed">
          {shownHosts.length === hosts.length ? `all ${hosts.length} hosts` : `${shownHosts.length} of ${hosts.length} hosts`}: {shownHosts.join(', ')}
        </span>
      )}
    </>
  );
});

const Status = memo(function Status({ connection, ended }: { connection: ConnectionState; ended: boolean }) {
  const now = useSecondTicker(connection.kind === 'offline');
  return (
    <span className={`status status-${connection.kind}`} role="status" aria-live="polite" data-status={connection.kind} data-attempt={'attempt' in connection ? connection.attempt : undefined}>
      {statusText(connection, ended, now)}
    </span>
  );
});

const Range = memo(function Range({ fromMs, toMs, utcOffsetMin, ended, live }: { fromMs: number; toMs: number; utcOffsetMin: number; ended: boolean; live: boolean }) {
  return (
    <span className="range">
      <SteadyText text={`${formatDateTime(fromMs, utcOffsetMin)} – ${formatDateTime(toMs, utcOffsetMin).slice(11)} ${formatUtcOffset(utcOffsetMin)} (${formatSpan(toMs - fromMs)})`} />
      {!ended && (
        <>
          {' · '}
          <strong>{live ? 'following now' : 'paused'}</strong>
        </>
      )}
    </span>
  );
});

interface NotesProps {
  readonly meta: Snapshot['meta'];
  readonly chosenDevices: readonly string[];
  /** the view: the "view all hosts" link opens it (the address bar's query is rewritten with every view change, which renders nothing here) */
  readonly state: ViewState;
  readonly connection: ConnectionState;
  readonly uncounted: Snapshot['uncounted'];
  readonly loadingHistory: boolean;
  readonly error: string | null;
  readonly skipped: Snapshot['skipped'];
}

/** What the picture stacks, what the tracer could not count, what is being fetched, and what went wrong. */
const Notes = memo(function Notes({ meta, chosenDevices, state, connection, uncounted, loadingHistory, error, skipped }: NotesProps) {
  const stacked = meta ? stackedNote(devicesShown(meta.devices, chosenDevices)) : null;
  return (
    <>
      {stacked && (
        <span className="stacked-note" role="note">
          {stacked}
        </span>
      )}
      {uncounted && <UncountedNote uncounted={uncounted} />}
      {loadingHistory && <span className="loading">fetching history…</span>}
      {error && (
        <span className="error" role="alert">
          {error}
          {connection.kind === 'refused' && state.display.hosts.length > 0 && (
            <>
              {' — '}
              <a href={`${window.location.pathname}${allHostsSearch(stateToUrl(state, window.location.search))}`}>view all hosts</a>
            </>
          )}
        </span>
      )}
      {skipped.count > 0 && (
        <span className="skipped" data-count={skipped.count} title={`the last: ${skipped.lastReason ?? ''}`}>
          {skipped.count} unreadable message{skipped.count === 1 ? '' : 's'} skipped
        </span>
      )}
    </>
  );
});
