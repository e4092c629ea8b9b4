/**
 * Entry point: one model for the page, built from the URL, started once; React renders it.
 */
import { createRoot } from 'react-dom/client';
import { App } from './views/App.tsx';
import { AppModel } from './state/model.ts';
import { stateFromUrl, stateToUrl, urlChoosesExtent } from './state/view.ts';
import { workerFetchColumns } from './net/history.ts';
import { installTestHooks } from './testing.ts';

const model = new AppModel({
  initial: stateFromUrl(window.location.search),
  explicitExtent: urlChoosesExtent(window.location.search),
  location: window.location,
  // fetched and decoded off the main thread (net/columns-worker.ts)
  fetchColumns: workerFetchColumns(new Worker(new URL('./net/columns-worker.ts', import.meta.url), { type: 'module' }), window.location),
  writeUrl: (state) => {
    const search = stateToUrl(state, window.location.search);
    if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}`);
  },
});
installTestHooks(model);
model.start();
createRoot(document.getElementById('root')!).render(<App model={model} />);
