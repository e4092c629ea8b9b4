/**
 * The heat map as a standalone SVG document: the browser's Export button and the server's
 * /api/snapshot.svg both call renderHeatmapSvg, so the file is the same from either side.
 *
 * One <rect class="cell"> per non-empty (column, slot) pair inside the view, carrying
 * data-seq, data-slot and data-count so a test (or a person) can read the numbers back.
 * Only presentation attributes and the generic sans-serif family: no CSS, no fonts, no links.
 */
import { quantileSlot, type Column } from './column.ts';
import {
  CLAMPED_COLOR,
  CLAMPED_LEVEL,
  EMPTY_COLOR,
  LEVEL_COLORS,
  MISSING_HATCH_COLOR,
  MISSING_LABEL,
  PERCENTILES,
  PERCENTILE_COLORS,
  RAMP,
  axisTicks,
  cellValue,
  cellLabel,
  colorByLabel,
  colorLevel,
  colorScaleOf,
  columnsInRange,
  filterLabel,
  formatDateTime,
  formatSpan,
  formatUtcOffset,
  histogramsOf,
  layoutOf,
  legendKeyY,
  legendTicks,
  mapTo,
  resolveYRange,
  slotRange,
  slotsIn,
  sourceLabel,
  timeMap,
  valueMap,
  type SnapshotView,
} from './view.ts';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Two decimals are finer than any screen and keep files of many cells small. */
function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

const TEXT = '#c9d1d9';
const MUTED = '#8b949e';
const PAGE = '#0d1117';

/** Columns drawn per part of heatmapSvgParts: a part is a few milliseconds of work at most. */
export const SVG_PART_COLUMNS = 32;

export function renderHeatmapSvg(columns: readonly Column[], view: SnapshotView): string {
  let svg = '';
  for (const part of heatmapSvgParts(columns, view)) svg += part;
  return svg;
}

/**
 * The same document in consecutive parts, the cells and percentile lines of SVG_PART_COLUMNS
 * columns at a time, so a server can send a large one in slices without holding all of it. The
 * histograms and the colour values come first, also SVG_PART_COLUMNS at a time: those parts are
 * empty strings, there only to let the caller pause.
 */
export function* heatmapSvgParts(columns: readonly Column[], view: SnapshotView): Generator<string> {
  const layout = layoutOf(view.widthCss, view.heightCss, true);
  const { plot } = layout;
  const shown = columnsInRange(columns, view.fromMs, view.toMs);
  const histograms: Float64Array[] = [];
  for (let from = 0; from < shown.length; from += SVG_PART_COLUMNS) {
    histograms.push(...histogramsOf(shown.slice(from, from + SVG_PART_COLUMNS), view.filter));
    yield '';
  }
  const yRange = resolveYRange(view, histograms);
  const xMap = timeMap(view.fromMs, view.toMs, plot);
  const yMap = valueMap(view.yScale, yRange, plot);
  const { first, last } = slotsIn(yRange[0], yRange[1]);
  const clampX = (x: number): number => Math.min(plot.x + plot.width, Math.max(plot.x, x));
  const clampY = (y: number): number => Math.min(plot.y + plot.height, Math.max(plot.y, y));

  const values: number[] = [];
  for (let i = 0; i < histograms.length; i++) {
    const histogram = histograms[i]!;
    for (let slot = first; slot <= last; slot++) if (histogram[slot]! > 0) values.push(cellValue(view.colorBy, histogram[slot]!, slot));
    if ((i + 1) % SVG_PART_COLUMNS === 0) yield '';
  }
  const scale = colorScaleOf(values, view.colorScale, view.colorQuantile);

  const cellsOf = (column: Column, histogram: Float64Array): string => {
    let cells = '';
    const x0 = clampX(mapTo(xMap, column.startMs));
    const x1 = clampX(mapTo(xMap, column.startMs + column.intervalMs));
    for (let slot = first; slot <= last; slot++) {
      const count = histogram[slot]!;
      if (count === 0) continue;
      const { low, high } = slotRange(slot);
      const y0 = clampY(mapTo(yMap, high));
      const y1 = clampY(mapTo(yMap, low));
      const level = colorLevel(scale, cellValue(view.colorBy, count, slot));
      const clamped = level === CLAMPED_LEVEL;
      cells +=
        `<rect class="cell${clamped ? ' clamped' : ''}" x="${n(x0)}" y="${n(y0)}" width="${n(x1 - x0)}" height="${n(y1 - y0)}" fill="${LEVEL_COLORS[level]}"` +
        ` data-seq="${column.seq}" data-slot="${slot}" data-count="${count}"/>`;
    }
    return cells;
  };

  // Seqs of the range without a column are unknown, not idle: hatched, as on the page.
  const interval = shown[0]?.intervalMs;
  const held = new Set(shown.map((c) => c.seq));
  const unknown: [number, number][] = [];
  if (interval === undefined) {
    unknown.push([plot.x, plot.x + plot.width]);
  } else {
    const toSeq = Math.ceil(view.toMs / interval) - 1;
    for (let seq = Math.floor(view.fromMs / interval); seq <= toSeq; seq++) {
      if (held.has(seq)) continue;
      const x0 = clampX(mapTo(xMap, seq * interval));
      const x1 = clampX(mapTo(xMap, (seq + 1) * interval));
      const previous = unknown[unknown.length - 1];
      if (previous && previous[1] >= x0) previous[1] = x1;
      else unknown.push([x0, x1]);
    }
  }
  const hatched = unknown
    .filter(([x0, x1]) => x1 > x0)
    .map(([x0, x1]) => `<rect x="${n(x0)}" y="${n(plot.y)}" width="${n(x1 - x0)}" height="${n(plot.height)}" fill="url(#bpfheat-hatch)"/>`)
    .join('');

  /** One percentile's path, drawn in parts; `previousSeq` carries across parts. */
  function* percentileLine(key: (typeof PERCENTILES)[number]['key'], q: number): Generator<string> {
    let previousSeq = Number.NaN;
    let started = false;
    for (let from = 0; from < shown.length; from += SVG_PART_COLUMNS) {
      let d = '';
      for (let i = from; i < Math.min(shown.length, from + SVG_PART_COLUMNS); i++) {
        const column = shown[i]!;
        const slot = quantileSlot(histograms[i]!, q);
        if (slot < 0) continue;
        const { low, high } = slotRange(slot);
        const y = (mapTo(yMap, low) + mapTo(yMap, high)) / 2;
        const x0 = clampX(mapTo(xMap, column.startMs));
        const x1 = clampX(mapTo(xMap, column.startMs + column.intervalMs));
        d += `${column.seq === previousSeq + 1 ? 'L' : 'M'}${n(x0)} ${n(y)}H${n(x1)}`;
        previousSeq = column.seq;
      }
      if (d === '') continue;
      yield started ? d : `<path class="percentile" data-percentile="${key}" d="${d}`;
      started = true;
    }
    if (started) yield `" fill="none" stroke="${PERCENTILE_COLORS[key]}" stroke-width="1.5"/>`;
  }

  const ticks = axisTicks(view, plot, yRange);
  const bottom = plot.y + plot.height;
  const xAxis = ticks.x
    .map((t) => `<line x1="${n(t.px)}" x2="${n(t.px)}" y1="${n(bottom)}" y2="${n(bottom + 5)}" stroke="${MUTED}"/><text x="${n(t.px)}" y="${n(bottom + 17)}" text-anchor="middle">${escapeXml(t.label)}</text>`)
    .join('');
  const yAxis = ticks.y
    .map((t) => `<line x1="${n(plot.x - 5)}" x2="${n(plot.x)}" y1="${n(t.px)}" y2="${n(t.px)}" stroke="${MUTED}"/><text x="${n(plot.x - 8)}" y="${n(t.px + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`)
    .join('');

  const bar = layout.legendBar;
  const labelX = bar.x + bar.width + 5;
  const stops = RAMP.map((color, k) => `<stop offset="${n((k / (RAMP.length - 1)) * 100)}%" stop-color="${color}"/>`).join('');
  const legendLabels = legendTicks(scale, view)
    .map((t) => {
      const y = bar.y + bar.height * (1 - t.position);
      return `<line x1="${n(bar.x + bar.width)}" x2="${n(bar.x + bar.width + 3)}" y1="${n(y)}" y2="${n(y)}" stroke="${MUTED}"/><text x="${n(labelX)}" y="${n(y + 4)}">${escapeXml(t.label)}</text>`;
    })
    .join('');
  const key = legendKeyY(bar);
  const percentileKey = view.percentiles
    ? PERCENTILES.map(({ key: percentile }, k) => {
        const y = key.line(k);
        return `<line x1="${n(bar.x)}" x2="${n(bar.x + 14)}" y1="${n(y - 4)}" y2="${n(y - 4)}" stroke="${PERCENTILE_COLORS[percentile]}" stroke-width="2"/><text x="${n(bar.x + 18)}" y="${n(y)}">${percentile}</text>`;
      }).join('')
    : '';

  const offset = formatUtcOffset(view.utcOffsetMin);
  const title = `bpfheat · ${view.host || 'unknown host'} · ${sourceLabel(view.source)}`;
  const subtitle = `${formatDateTime(view.fromMs, view.utcOffsetMin)} – ${formatDateTime(view.toMs, view.utcOffsetMin)} ${offset} (${formatSpan(view.toMs - view.fromMs)}) · ${filterLabel(view.filter, view.devices)} · ${view.yScale} y, ${view.colorScale} colour`;
  const yTitle = view.filter.metric === 'latency' ? 'latency' : 'I/O size';

  yield [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(view.widthCss)}" height="${n(view.heightCss)}" viewBox="0 0 ${n(view.widthCss)} ${n(view.heightCss)}" font-family="sans-serif" font-size="11" fill="${TEXT}">`,
    `<title>${escapeXml(`${title} · ${subtitle}`)}</title>`,
    `<defs><linearGradient id="bpfheat-ramp" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient>`,
    `<pattern id="bpfheat-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line y2="6" stroke="${MISSING_HATCH_COLOR}" stroke-width="2"/></pattern></defs>`,
    `<rect class="page" width="100%" height="100%" fill="${PAGE}"/>`,
    `<g class="title"><text x="${n(plot.x)}" y="${n(layout.titleY ?? 18)}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${n(plot.x)}" y="${n((layout.titleY ?? 18) + 17)}" fill="${MUTED}">${escapeXml(subtitle)}</text></g>`,
    `<rect class="plot" x="${n(plot.x)}" y="${n(plot.y)}" width="${n(plot.width)}" height="${n(plot.height)}" fill="${EMPTY_COLOR}"/>`,
    '<g class="cells" shape-rendering="crispEdges">',
  ].join('\n');
  for (let from = 0; from < shown.length; from += SVG_PART_COLUMNS) {
    let cells = '';
    for (let i = from; i < Math.min(shown.length, from + SVG_PART_COLUMNS); i++) cells += cellsOf(shown[i]!, histograms[i]!);
    yield cells;
  }
  yield [
    '</g>',
    `<g class="missing">${hatched}</g>`,
    `<clipPath id="bpfheat-plot"><rect x="${n(plot.x)}" y="${n(plot.y)}" width="${n(plot.width)}" height="${n(plot.height)}"/></clipPath>`,
    '<g class="percentiles" clip-path="url(#bpfheat-plot)">',
  ].join('\n');
  if (view.percentiles) for (const { key: percentile, q } of PERCENTILES) yield* percentileLine(percentile, q);
  yield [
    '</g>',
    `<g class="axis axis-x"><line x1="${n(plot.x)}" x2="${n(plot.x + plot.width)}" y1="${n(bottom)}" y2="${n(bottom)}" stroke="${MUTED}"/>${xAxis}`,
    `<text x="${n(plot.x + plot.width)}" y="${n(bottom + 31)}" text-anchor="end" fill="${MUTED}">time (${offset})</text>`,
    `<text class="cell-size" x="${n(plot.x)}" y="${n(bottom + 31)}" fill="${MUTED}">${escapeXml(cellLabel(interval ?? view.toMs - view.fromMs, view.filter.metric))}</text></g>`,
    `<g class="axis axis-y"><line x1="${n(plot.x)}" x2="${n(plot.x)}" y1="${n(plot.y)}" y2="${n(bottom)}" stroke="${MUTED}"/>${yAxis}`,
    `<text transform="translate(12 ${n(plot.y + plot.height / 2)}) rotate(-90)" text-anchor="middle" fill="${MUTED}">${yTitle} (${view.yScale})</text></g>`,
    `<g class="legend"><text x="${n(bar.x)}" y="${n(plot.y + 8)}" fill="${MUTED}">${escapeXml(colorByLabel(view))}</text>`,
    `<rect class="legend-clamped" x="${n(bar.x)}" y="${n(bar.y - 22)}" width="${n(bar.width)}" height="10" fill="${CLAMPED_COLOR}"/><text x="${n(labelX)}" y="${n(bar.y - 13)}">clamped</text>`,
    `<rect class="legend-ramp" x="${n(bar.x)}" y="${n(bar.y)}" width="${n(bar.width)}" height="${n(bar.height)}" fill="url(#bpfheat-ramp)"/>${legendLabels}`,
    `<rect class="legend-empty" x="${n(bar.x)}" y="${n(key.empty)}" width="${n(bar.width)}" height="10" fill="${EMPTY_COLOR}" stroke="${MUTED}" stroke-width="0.5"/><text x="${n(labelX)}" y="${n(key.empty + 9)}">empty</text>`,
    `<rect class="legend-missing" x="${n(bar.x)}" y="${n(key.missing)}" width="${n(bar.width)}" height="10" fill="url(#bpfheat-hatch)" stroke="${MUTED}" stroke-width="0.5"/><text x="${n(labelX)}" y="${n(key.missing + 9)}">${MISSING_LABEL}</text>`,
    `${percentileKey}</g>`,
    '</svg>',
    '',
  ].join('\n');
}
