/**
 * A group of the overlay placed in time (the time axis's ticks, the missing-data bands, the
 * hover and exemplar marks), drawn on the placed time scale of the frame React rendered
 * (client/state/overlay.ts) and moved to the frame the picture shows by one transform: after
 * every frame the model shows, as the model moves its tiles, and after every render. A frame
 * that only moved time so renders nothing in React, and the model writes no DOM of React's.
 */
import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';
import type { AppModel, FrameData } from '../state/model.ts';
import { layerShiftCss } from '../state/overlay.ts';

/** The ref to give the layer's `<g>`; `frame` is the one the component rendered it for. */
export function useTimeLayer(model: AppModel, frame: FrameData | null): (g: SVGGElement | null) => void {
  const layer = useRef<SVGGElement | null>(null);
  const rendered = useRef<FrameData | null>(null);
  const place = useCallback((): void => {
    const g = layer.current;
    const placed = rendered.current;
    const shown = model.shownFrame;
    // an empty layer (no band, no hover: most frames) is left alone
    if (!g || !placed || !shown || !g.hasChildNodes()) return;
    const transform = `translate(${layerShiftCss(placed, shown.view.fromMs)} 0)`;
    if (g.getAttribute('transform') !== transform) g.setAttribute('transform', transform);
  }, [model]);
  useEffect(() => model.subscribeFrames(place), [model, place]);
  // after every render: what React just wrote into the layer is moved on to the picture shown
  useLayoutEffect(() => {
    rendered.current = frame;
    place();
  });
  return useCallback(
    (g: SVGGElement | null) => {
      layer.current = g;
      place();
    },
    [place],
  );
}
