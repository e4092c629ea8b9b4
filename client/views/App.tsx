/**
 * The page: status header, toolbar, heat map with its summary strip, and the selection panel.
 * React renders from the model's snapshot, published at most once per animation frame and only
 * when something React shows changed: not for a frame that only moved time (client/state/overlay.ts).
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { Exemplar } from '../../shared/exemplar.ts';
import type { AppModel } from '../state/model.ts';
import { back, reset } from '../state/view.ts';
import { download, exportSvg } from '../state/export.ts';
import { Header } from './Header.tsx';
import { Toolbar } from './Toolbar.tsx';
import { HeatmapPanel } from './HeatmapPanel.tsx';
import { SummaryStrip } from './SummaryStrip.tsx';
import { SelectionPanel } from './SelectionPanel.tsx';

/**
 * Keys typed into a control that takes text or choices belong to it, not to the page's shortcuts.
 * A focused button does not: after a click on Pause, Space must pause again, not press the
 * button last clicked (its own key is Enter).
 */
function ownsKeys(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

export function App({ model }: { model: AppModel }) {
  const snapshot = useSyncExternalStore(model.subscribe, model.getSnapshot);
  // The exemplar row under the pointer, marked on the heat map's overlay.
  const [highlight, setHighlight] = useState<Exemplar | null>(null);
  // A row can leave the list under the pointer (scrolled off a live view, a new region): no mark then.
  const marked = highlight && snapshot.exemplars.listed.includes(highlight) ? highlight : null;

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'Escape') {
        // Esc works from anywhere, even inside a control.
        model.update(reset);
        return;
      }
      if (ownsKeys(event.target)) return;
      if (event.key === ' ') model.togglePause();
      else if (event.key === 'Backspace') model.update(back);
      else if (event.key === '-') model.zoomOut();
      else if (event.key === '+' || event.key === '=') model.zoomIn();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [model]);

  // the same function in every render, so that the toolbar is rendered only when its own props change
  const onExport = useCallback((): void => {
    const frame = model.shownFrame;
    if (!frame) return;
    const { fileName, svg } = exportSvg(frame);
    download(fileName, svg, 'image/svg+xml');
  }, [model]);

  return (
    <div className="app">
      <Header snapshot={snapshot} />
      <Toolbar model={model} state={snapshot.state} meta={snapshot.meta} drawn={snapshot.frame !== null} onExport={onExport} />
      <main className="main">
        <section className="heatmap-column" aria-label="Heat map">
          <HeatmapPanel model={model} snapshot={snapshot} highlight={marked} />
          <SummaryStrip frame={snapshot.panel} />
        </section>
        <SelectionPanel model={model} frame={snapshot.panel} meta={snapshot.meta} state={snapshot.state} exemplars={snapshot.exemplars} onHighlight={setHighlight} />
      </main>
    </div>
  );
}
