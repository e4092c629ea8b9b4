/**
 * Export: the frame on screen, through the same pure renderer the server's /api/snapshot.svg
 * uses, as a file named after host and time range.
 */
import { renderHeatmapSvg } from '../../shared/svg.ts';
import { exportFileName } from '../../shared/view.ts';
import type { FrameData } from './model.ts';

/** Exports stay legible when the window is small, and the same size as the screen when it is large. */
const MIN_EXPORT_WIDTH_CSS = 900;
const MIN_EXPORT_HEIGHT_CSS = 480;

export function exportSvg(frame: FrameData): { fileName: string; svg: string } {
  const view = {
    ...frame.view,
    widthCss: Math.max(MIN_EXPORT_WIDTH_CSS, Math.round(frame.view.widthCss)),
    heightCss: Math.max(MIN_EXPORT_HEIGHT_CSS, Math.round(frame.view.heightCss)),
  };
  return { fileName: exportFileName(view), svg: renderHeatmapSvg(frame.columns, view) };
}

/** Hands the document to the browser as a download. */
export function download(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once click() returns in every current browser.
  URL.revokeObjectURL(url);
}
