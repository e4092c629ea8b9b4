/**
 * Every control is a real button, select or checkbox: reachable with Tab, named for screen
 * readers, with the page's shortcut in its title.
 */
import { OPS, METRICS, type Metric, type Op } from '../../shared/scheme.ts';
import { COLOR_BYS, COLOR_SCALES, Y_SCALES, formatSpan, type ColorBy, type ColorScaleKind, type YScaleKind } from '../../shared/view.ts';
import { memo, useState } from 'react';
import type { AppModel, Snapshot } from '../state/model.ts';
import { SPAN_PRESETS_MS, back, reset, setSpan } from '../state/view.ts';

function Choice<T extends string>({ label, value, choices, onChange }: { label: string; value: T; choices: readonly T[]; onChange: (v: T) => void }) {
  return (
    <label className="choice">
      {label}
      <select value={value} onChange={(e) => onChange(choices.find((c) => c === e.target.value) ?? value)}>
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}

function toggled<T>(list: readonly T[], item: T): T[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}

/**
 * Other hosts are another picture, which the server reads for them, and the page starts over on
 * it: the hosts checked apply together, with one button, so three hosts are one read, not three.
 */
function HostsFilter({ model, hosts, shown }: { model: AppModel; hosts: readonly string[]; shown: readonly string[] }) {
  const [chosen, setChosen] = useState<readonly string[]>(shown);
  const unchanged = chosen.length === shown.length && chosen.every((host) => shown.includes(host));
  return (
    <details className="hosts">
      <summary>Hosts: {shown.length === 0 ? `all ${hosts.length}, summed` : shown.join(', ')}</summary>
      <fieldset>
        <legend>Show hosts (none checked: all, summed)</legend>
        {hosts.map((host) => (
          <label key={host}>
            <input type="checkbox" checked={chosen.includes(host)} onChange={() => setChosen(toggled(chosen, host))} />
            {host}
          </label>
        ))}
        <button type="button" disabled={unchanged} onClick={() => model.setDisplay({ hosts: chosen })}>
          Show {chosen.length === 0 ? 'all hosts' : chosen.length === 1 ? 'this host' : `these ${chosen.length} hosts`}
        </button>
      </fieldset>
    </details>
  );
}

export interface ToolbarProps {
  readonly model: AppModel;
  readonly state: Snapshot['state'];
  readonly meta: Snapshot['meta'];
  /** a frame is drawn: there is something to export */
  readonly drawn: boolean;
  readonly onExport: () => void;
}

/** Rendered only when one of its props changes: not on every frame of a scrolling view (each render sets every checkbox's attributes again). */
export const Toolbar = memo(function Toolbar({ model, state, meta, drawn, onExport }: ToolbarProps) {
  const { display, extent } = state;
  const devices = meta?.devices ?? [];
  const deviceNames = devices.map((d) => d.name);
  const hosts = meta?.hosts ?? [];
  return (
    <nav className="toolbar" aria-label="View controls">
      <div className="group">
        <button type="button" onClick={() => model.togglePause()} aria-pressed={!extent.live} title="Pause or resume live scrolling (Space)">
          {extent.live ? '❚❚ Pause' : '▶ Resume'}
        </button>
        <button type="button" onClick={() => model.update(back)} disabled={state.stack.length === 0} title="Previous view (Backspace)">
          ← Back
        </button>
        <button type="button" onClick={() => model.update(reset)} title="Live view of the last 5 minutes (Esc)">
          Reset
        </button>
        <button type="button" onClick={() => model.zoomOut()} title="Twice the time range (−)">
          − Zoom out
        </button>
        {SPAN_PRESETS_MS.map((span) => (
          <button
            type="button"
            key={span}
            className="span"
            aria-pressed={extent.live && extent.spanMs === span}
            onClick={() => model.update((s) => setSpan(s, span))}
            title={`Live view of the last ${formatSpan(span)}`}
          >
            {formatSpan(span).replace(' ', '')}
          </button>
        ))}
      </div>
      <div className="group">
        <Choice<Metric> label="Metric" value={display.metric} choices={METRICS} onChange={(metric) => model.setDisplay({ metric })} />
        <details className="devices">
          <summary>Devices: {display.devices.length === 0 ? 'all' : display.devices.join(', ')}</summary>
          <fieldset>
            <legend>Show devices (none checked: all)</legend>
            {deviceNames.map((name) => (
              <label key={name}>
                <input type="checkbox" checked={display.devices.includes(name)} onChange={() => model.setDisplay({ devices: toggled(display.devices, name) })} />
                {name}
              </label>
            ))}
          </fieldset>
        </details>
        {hosts.length > 0 && <HostsFilter model={model} hosts={hosts} shown={display.hosts} />}
        <fieldset className="ops">
          <legend>Ops</legend>
          {OPS.map((op: Op) => (
            <button
              type="button"
              key={op}
              aria-pressed={display.ops.includes(op)}
              onClick={() => model.setDisplay({ ops: toggled(display.ops, op) })}
              title={`Show ${op} (none selected: all)`}
            >
              {op}
            </button>
          ))}
        </fieldset>
      </div>
      <div className="group">
        <Choice<YScaleKind> label="Y" value={display.yScale} choices={Y_SCALES} onChange={(yScale) => model.setDisplay({ yScale })} />
        <Choice<ColorScaleKind> label="Colour" value={display.colorScale} choices={COLOR_SCALES} onChange={(colorScale) => model.setDisplay({ colorScale })} />
        <Choice<ColorBy> label="By" value={display.colorBy} choices={COLOR_BYS} onChange={(colorBy) => model.setDisplay({ colorBy })} />
        <label className="choice">
          <input type="checkbox" checked={display.percentiles} onChange={(e) => model.setDisplay({ percentiles: e.target.checked })} />
          p50/p99/max
        </label>
        <label className="choice" title="The legend in I/Os per second instead of per cell (a cell of a long window is many seconds)">
          <input type="checkbox" checked={display.perSecond} onChange={(e) => model.setDisplay({ perSecond: e.target.checked })} />
          per second
        </label>
        <label className="choice" title="One heat map per device shown, on the same axes (hover and zoom on the summed view)">
          <input type="checkbox" checked={display.split} onChange={(e) => model.setDisplay({ split: e.target.checked })} />
          split by device
        </label>
        <button type="button" className="export" onClick={onExport} disabled={!drawn} title="Download the current view as a standalone SVG">
          Export SVG
        </button>
      </div>
    </nav>
  );
});
