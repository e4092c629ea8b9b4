/**
 * The split view: one heat map per device shown, in bands of the plot one above the other, on
 * the time and value axes of the whole (small multiples). The model draws each band's canvas;
 * this places the canvases and draws, per band, the device's name, its value axis and the
 * hatching of unknown time, and one time axis under them all.
 */
import { useEffect, useRef } from 'react';
import { axisTicks, mapTo, timeMap } from '../../shared/view.ts';
import type { AppModel, FrameData, SplitPanel } from '../state/model.ts';
import { TimeAxis, ValueTicks } from './AxisParts.tsx';

function SplitCanvas({ model, panel }: { model: AppModel; panel: SplitPanel }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const { device, name, band } = panel;
  useEffect(() => {
    model.setSplitCanvas(device, canvas.current);
    return () => model.setSplitCanvas(device, null);
  }, [model, device]);
  return (
    <canvas
      className="heatmap-canvas split-canvas"
      ref={canvas}
      data-device={name}
      style={{ left: band.x, top: band.y, width: band.width, height: band.height }}
      role="img"
      aria-label={`Heat map of ${name}`}
    />
  );
}

export function SplitCanvases({ model, frame }: { model: AppModel; frame: FrameData }) {
  return (
    <>
      {frame.split.map((panel) => (
        <SplitCanvas key={panel.device} model={model} panel={panel} />
      ))}
    </>
  );
}

/** Names, value axes and hatching of every band, and the time axis under the last. */
export function SplitAxes({ frame }: { frame: FrameData }) {
  const { plot } = frame.layout;
  const xMap = timeMap(frame.view.fromMs, frame.view.toMs, plot);
  return (
    <g className="axes split-axes" aria-hidden="true">
      {frame.split.map((panel) => {
        const ticks = axisTicks(frame.view, panel.band, frame.yRange);
        return (
          <g key={panel.device} className="split-band" data-device={panel.name}>
            <text className="split-name" x={panel.band.x + 4} y={panel.band.y - 3}>
              {panel.name}
            </text>
            <line x1={panel.band.x} x2={panel.band.x} y1={panel.band.y} y2={panel.band.y + panel.band.height} />
            <ValueTicks x={panel.band.x} ticks={ticks.y} />
            {frame.missing.map(([first, last]) => {
              const x0 = Math.max(plot.x, mapTo(xMap, first * frame.intervalMs));
              const x1 = Math.min(plot.x + plot.width, mapTo(xMap, (last + 1) * frame.intervalMs));
              return x1 > x0 ? <rect key={first} className="split-missing" x={x0} y={panel.band.y} width={x1 - x0} height={panel.band.height} fill="url(#missing-hatch)" /> : null;
            })}
          </g>
        );
      })}
      <TimeAxis fromMs={frame.view.fromMs} toMs={frame.view.toMs} plot={plot} ticks={axisTicks(frame.view, plot, frame.yRange).x} />
    </g>
  );
}
