/**
 * Entry point: one model for the page, built from the URL, started once; React renders it.
 */
import { createRoot } from 'react-dom/client';
import { App } from './views/App.tsx';
import { AppModel } from './state/model.ts';
import { stateFromUrl, stateToUrl, urlChoosesExtent } from './state/view.ts';
import { workerFetchColumns } from './net/history.ts';
import { installTestHooks } from './testing.ts';

// History is fetched and decoded off the main thread (net/columns-worker.ts); if the worker fails, in the page, said once.
const worker = new Worker(new URL('./net/columns-worker.ts', import.meta.url), { type: 'module' });
const fetchColumns = workerFetchColumns(worker, window.location, {
  warn: (message) => {
    console.warn(`bpfheat: ${message}`);
    model.reportPageProblem(message);
  },
});
const model = new AppModel({
  initial: stateFromUrl(window.location.search),
  explicitExtent: urlChoosesExtent(window.location.search),
  location: window.location,
  fetchColumns,
  writeUrl: (state) => {
    const search = stateToUrl(state, window.location.search);
    if (search === window.location.search) return;
    // other hosts are another picture, which the server reads for them: the page starts over on it
    if (new URLSearchParams(search).get('host') !== new URLSearchParams(window.location.search).get('host')) window.location.assign(`${window.location.pathname}${search}`);
    else window.history.replaceState(null, '', `${window.location.pathname}${search}`);
  },
});
installTestHooks(model);
model.start();
createRoot(document.getElementById('root')!).render(<App model={model} />);
