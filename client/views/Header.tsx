import { useEffect, useState } from 'react';
import { formatDateTime, formatSpan, formatUtcOffset, sourceLabel } from '../../shared/view.ts';
import type { Uncounted } from '../../shared/protocol.ts';
import type { ConnectionState } from '../net/connection.ts';
import type { Snapshot } from '../state/model.ts';
import { allHostsSearch } from '../state/view.ts';
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

export function Header({ snapshot }: { snapshot: Snapshot }) {
  const { meta, connection, frame, state } = snapshot;
  const now = useSecondTicker(connection.kind === 'offline');
  const view = frame?.view;
  const stacked = meta ? stackedNote(devicesShown(meta.devices, state.display.devices)) : null;
  const hosts = meta?.hosts ?? [];
  const shownHosts = state.display.hosts.length === 0 ? hosts : hosts.filter((h) => state.display.hosts.includes(h));
  return (
    <header className="header">
      <h1>bpfheat</h1>
      <span className="host" title="host">{meta?.host ?? '…'}</span>
      {meta && <span className={`source source-${meta.source}`}>{sourceLabel(meta.source)}</span>}
      {hosts.length > 0 && (
        <span className="hosts-shown" data-hosts={shownHosts.join(' ')} title="the hosts whose I/O the heat map shows, summed">
          {shownHosts.length === hosts.length ? `all ${hosts.length} hosts` : `${shownHosts.length} of ${hosts.length} hosts`}: {shownHosts.join(', ')}
        </span>
      )}
      <span className={`status status-${connection.kind}`} role="status" aria-live="polite" data-status={connection.kind} data-attempt={'attempt' in connection ? connection.attempt : undefined}>
        {statusText(connection, snapshot.ended, now)}
      </span>
      {view && (
        <span className="range">
          <SteadyText text={`${formatDateTime(view.fromMs, view.utcOffsetMin)} – ${formatDateTime(view.toMs, view.utcOffsetMin).slice(11)} ${formatUtcOffset(view.utcOffsetMin)} (${formatSpan(view.toMs - view.fromMs)})`} />
          {!snapshot.ended && (
            <>
              {' · '}
              <strong>{state.extent.live ? 'following now' : 'paused'}</strong>
            </>
          )}
        </span>
      )}
      {stacked && (
        <span className="stacked-note" role="note">
          {stacked}
        </span>
      )}
      {snapshot.uncounted && <UncountedNote uncounted={snapshot.uncounted} />}
      {snapshot.loadingHistory && <span className="loading">fetching history…</span>}
      {snapshot.error && (
        <span className="error" role="alert">
          {snapshot.error}
          {connection.kind === 'refused' && state.display.hosts.length > 0 && (
            <>
              {' — '}
              <a href={`${window.location.pathname}${allHostsSearch(window.location.search)}`}>view all hosts</a>
            </>
          )}
        </span>
      )}
      {snapshot.skipped.count > 0 && (
        <span className="skipped" data-count={snapshot.skipped.count} title={`the last: ${snapshot.skipped.lastReason ?? ''}`}>
          {snapshot.skipped.count} unreadable message{snapshot.skipped.count === 1 ? '' : 's'} skipped
        </span>
      )}
    </header>
  );
}
