/**
 * Drawing the heat map's cells and percentile lines on a surface (client/render/surface.ts): a
 * pure function of its input, no React, no DOM other than the surface it is handed. Everything
 * here is in device pixels (Px) of a picture that covers exactly the plot area.
 *
 * Cells are written as pixels into one buffer (see HeatmapRenderer). Cell edges are whole
 * device pixels: neighbours abut without seams and every cell has its exact level colour.
 * What is drawn is a list of cell groups (summed by client/state/rollup.ts): one column each, or k
 * adjacent columns summed when columns are narrower than a device pixel.
 */
import { SLOTS } from '../../shared/scheme.ts';
import { slotEdges } from '../../shared/buckets.ts';
import { partitionPoint } from '../../shared/search.ts';
import { COPIED_BY_WORD_PX, type Surface } from './surface.ts';
import {
  EMPTY_COLOR,
  LEVEL_COLORS,
  PERCENTILES,
  PERCENTILE_COLORS,
  cellValue,
  colorLevel,
  bucketedValues,
  ColorScaleCounts,
  type BucketedValues,
  mapTo,
  nearestRankSlots,
  slotsIn,
  type AxisMap,
  type ColorBy,
  type ColorScale,
  type ColorScaleKind,
  type PercentileKey,
  type YScaleKind,
} from '../../shared/view.ts';

export interface HeatmapInput {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly dpr: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly yScale: YScaleKind;
  readonly yRange: readonly [number, number];
  /** columns summed per group */
  readonly groupSize: number;
  /** ascending by seq */
  readonly groups: readonly CellGroup[];
  readonly colorBy: ColorBy;
  readonly colorScale: ColorScaleKind;
  readonly colorQuantile: number;
  readonly percentiles: boolean;
  /** the series filter the groups were summed with (filterKey): another one takes its own colour scale at once */
  readonly filterKey: string;
  /**
   * the picture is moving (a live view, or one a history answer is being added to): the colour scale may stay while it is close to the cells' own
   * (steadyScale); a fixed view is drawn with its exact scale, so a link redraws it the same
   */
  readonly moving?: boolean;
  /**
   * The times history was added in full to the columns drawn (the last answer of a load added): a
   * moving view takes its exact colour scale in the frame that sees a new count, as for any other
   * change of what the scale is of, not at the end of its period (SCALE_EVERY_FRAMES). A load's
   * slices are drawn under the scale of the cells before them, and the picture stayed under it
   * until the next period's end, which a live view waiting for its next column (a held or ended
   * source, a long interval) does not reach: the benchmark's loaded 24-h and 7-d views were shown
   * clamped above about half their exact maximum, and recoloured whole as they began to scroll.
   */
  readonly historyVersion?: number;
}

/** One drawn cell column: the columns of seqs firstSeq..firstSeq + groupSize − 1 in view, summed. */
export interface CellGroup {
  readonly firstSeq: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly histogram: ArrayLike<number>;
  /** the slot of each percentile line, -1 when the group is empty */
  readonly percentileSlots: Readonly<Record<'p50' | 'p99' | 'max', number>>;
}

/** A cell group where it was drawn (made on demand from PlacedGroups, for hover read-outs and tests). */
export interface DrawnGroup extends CellGroup {
  readonly x0Px: number;
  readonly x1Px: number;
}

/**
 * Where a frame's groups were drawn: group i (ascending by first seq, and in x) over the
 * device-pixel columns x0Px[i]..x1Px[i]. Kept in typed arrays, so that placing the groups of a
 * frame makes no object per group: an object each (~1,200 in a 1-h view) was garbage every frame.
 */
export interface PlacedGroups {
  readonly groups: readonly CellGroup[];
  readonly x0Px: Int32Array;
  readonly x1Px: Int32Array;
  /**
   * the groups' first seqs: what the walks of a frame's groups compare (the lines' pieces, what
   * changed since the last frame) read from here, not from ~1,200 objects spread over the heap
   */
  readonly firstSeqs: Float64Array;
}

/** Group i of placed groups, with where it was drawn. */
export function drawnGroup(placed: PlacedGroups, i: number): DrawnGroup {
  return { ...placed.groups[i]!, x0Px: placed.x0Px[i]!, x1Px: placed.x1Px[i]! };
}

/** The drawn group whose first seq is firstSeq, or null. */
export function drawnGroupFrom(placed: PlacedGroups, firstSeq: number): DrawnGroup | null {
  const i = partitionPoint(0, placed.groups.length, (k) => placed.groups[k]!.firstSeq < firstSeq);
  return placed.groups[i]?.firstSeq === firstSeq ? drawnGroup(placed, i) : null;
}

/** The drawn group that holds a seq (groups start at multiples of the group size), or null. */
export function drawnGroupOfSeq(geometry: HeatmapGeometry, seq: number): DrawnGroup | null {
  return drawnGroupFrom(geometry, Math.floor(seq / geometry.groupSize) * geometry.groupSize);
}

/**
 * One piece of a percentile line: the percentile of the cell groups over device-pixel columns
 * x0Px..x1Px (summed), drawn at the centre of its slot's row. `joined`: it continues the piece
 * before it (no gap in the data between them), so a connector is drawn between the two rows.
 */
export interface LineSegment {
  readonly x0Px: number;
  readonly x1Px: number;
  readonly slot: number;
  readonly firstSeq: number;
  readonly joined: boolean;
}

/** Narrowest piece of a percentile line, in CSS px: a line drawn per one-pixel group zigzags into a filled band. */
export const MIN_LINE_SEGMENT_CSS = 8;

/** The percentiles of one piece of the lines, and the groups (by identity: a group's histogram never changes) they were taken of. */
export interface PieceSlots {
  readonly groups: readonly CellGroup[];
  readonly slots: Readonly<Record<PercentileKey, number>>;
}

/**
 * A frame's pieces of the percentile lines, ascending by first seq (and in x): piece k over the
 * device-pixel columns x0Px[k]..x1Px[k], its percentiles, and its segment of each line (in
 * PERCENTILES order; null where it has none), which the next frame keeps while the piece is
 * drawn the same. In typed arrays and flat lists, not a tuple, a map entry and three new
 * segments a piece: those were most of the renderer's garbage, ~170 pieces a frame at 1 h.
 */
export interface LinePieces {
  readonly count: number;
  readonly firstSeqs: Float64Array;
  readonly x0Px: Int32Array;
  readonly x1Px: Int32Array;
  readonly taken: readonly PieceSlots[];
  readonly segments: readonly (LineSegment | null)[];
}

const NO_PIECES: LinePieces = { count: 0, firstSeqs: new Float64Array(0), x0Px: new Int32Array(0), x1Px: new Int32Array(0), taken: [], segments: [] };

/** Where the piece of the lines that starts at group `start` ends: at a gap in the data, or at the next multiple of pieceSeqs. */
function pieceEnd(firstSeqs: Float64Array, start: number, groupSize: number, pieceSeqs: number): number {
  const piece = Math.floor(firstSeqs[start]! / pieceSeqs);
  let end = start + 1;
  while (end < firstSeqs.length && Math.floor(firstSeqs[end]! / pieceSeqs) === piece && firstSeqs[end] === firstSeqs[end - 1]! + groupSize) end++;
  return end;
}

/**
 * The percentile lines over the drawn groups: `perPiece` adjacent groups summed into one piece,
 * so a line stays a line at any window (a max that jumps in every column would otherwise fill
 * the band between its highs and lows). Pieces are aligned to seqs (a multiple of perPiece
 * groups), so a scrolling view keeps them; a gap in the data ends a piece and the line.
 * Also the pieces (LinePieces): the x extent of every piece, lines or not, for repainting a
 * piece whole, and its percentiles and segments: handed back as `kept`, a piece of the same
 * histograms is not summed again (a scrolling view changes only the newest piece), nor its
 * segments made again while it is drawn where it was.
 */
export function percentileLines(
  placed: PlacedGroups,
  groupSize: number,
  perPiece: number,
  kept: LinePieces = NO_PIECES,
): { lines: Record<PercentileKey, LineSegment[]>; pieces: LinePieces } {
  const pieceSeqs = groupSize * perPiece;
  const { groups, x0Px, x1Px, firstSeqs } = placed;
  let count = 0;
  for (let start = 0; start < groups.length; start = pieceEnd(firstSeqs, start, groupSize, pieceSeqs)) count++;
  const pieces = { count, firstSeqs: new Float64Array(count), x0Px: new Int32Array(count), x1Px: new Int32Array(count), taken: new Array<PieceSlots>(count), segments: new Array<LineSegment | null>(count * PERCENTILES.length) };
  // the last frame's piece of the same first seq, found by a walk of both (they ascend)
  let keptAt = 0;
  let start = 0;
  let joined = false;
  const lineLengths = new Array<number>(PERCENTILES.length).fill(0);
  for (let k = 0; k < count; k++) {
    const end = pieceEnd(firstSeqs, start, groupSize, pieceSeqs);
    const firstSeq = firstSeqs[start]!;
    const x0 = x0Px[start]!;
    const x1 = x1Px[end - 1]!;
    while (keptAt < kept.count && kept.firstSeqs[keptAt]! < firstSeq) keptAt++;
    const before = keptAt < kept.count && kept.firstSeqs[keptAt] === firstSeq ? kept.taken[keptAt]! : undefined;
    // compared in place: a scrolling view keeps all its pieces but the newest, and a copy of each piece's groups was garbage every frame
    let same = before !== undefined && before.groups.length === end - start;
    for (let g = 0; same && g < end - start; g++) same = before!.groups[g] === groups[start + g];
    let taken: PieceSlots;
    if (same) taken = before!;
    else {
      const pieceGroups = groups.slice(start, end);
      taken = { groups: pieceGroups, slots: end - start === 1 ? pieceGroups[0]!.percentileSlots : piecePercentiles(pieceGroups.map((g) => g.histogram)) };
    }
    const drawnAlike = same && kept.x0Px[keptAt] === x0 && kept.x1Px[keptAt] === x1;
    pieces.firstSeqs[k] = firstSeq;
    pieces.x0Px[k] = x0;
    pieces.x1Px[k] = x1;
    pieces.taken[k] = taken;
    for (let line = 0; line < PERCENTILES.length; line++) {
      const slot = taken.slots[PERCENTILES[line]!.key];
      const keptSegment = drawnAlike ? kept.segments[keptAt * PERCENTILES.length + line] : null;
      const segment = slot < 0 ? null : keptSegment && keptSegment.joined === joined ? keptSegment : { x0Px: x0, x1Px: x1, slot, firstSeq, joined };
      pieces.segments[k * PERCENTILES.length + line] = segment;
      if (segment) lineLengths[line]!++;
    }
    joined = end < groups.length && firstSeqs[end] === firstSeqs[end - 1]! + groupSize;
    start = end;
  }
  // each line made at its length: grown a push at a time, its copies were garbage too
  const lines = {} as Record<PercentileKey, LineSegment[]>;
  for (let line = 0; line < PERCENTILES.length; line++) {
    const segments = new Array<LineSegment>(lineLengths[line]!);
    let n = 0;
    for (let k = 0; k < count; k++) {
      const segment = pieces.segments[k * PERCENTILES.length + line];
      if (segment) segments[n++] = segment;
    }
    lines[PERCENTILES[line]!.key] = segments;
  }
  return { lines, pieces };
}

/** The slot of each of PERCENTILES in histograms summed. */
function piecePercentiles(histograms: readonly ArrayLike<number>[]): Record<PercentileKey, number> {
  const sum = new Float64Array(histograms[0]!.length);
  for (const h of histograms) for (let slot = 0; slot < sum.length; slot++) sum[slot]! += h[slot]!;
  return percentileSlotsOf(sum);
}

/** Groups per piece of a percentile line: enough for MIN_LINE_SEGMENT_CSS at this scale. */
export function groupsPerPiece(input: Pick<HeatmapInput, 'widthPx' | 'fromMs' | 'toMs' | 'intervalMs' | 'groupSize' | 'dpr'>): number {
  const groupPx = (input.groupSize * input.intervalMs * input.widthPx) / Math.max(1, input.toMs - input.fromMs);
  return Math.max(1, Math.ceil((MIN_LINE_SEGMENT_CSS * input.dpr) / groupPx));
}

/** Where things were drawn: for hover read-outs, the legend and tests, without redrawing. */
export interface HeatmapGeometry extends PlacedGroups {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly dpr: number;
  readonly colorScale: ColorScale;
  /** columns summed per drawn cell */
  readonly groupSize: number;
  /** visible slots, inclusive */
  readonly firstSlot: number;
  readonly lastSlot: number;
  /** edgePx[s]: the device-pixel row of the lower edge of slot s; edgePx[s + 1] its upper edge */
  readonly edgePx: Float64Array;
  readonly lineWidthPx: number;
  /** the percentile lines as drawn; empty when they are off */
  readonly lines: Readonly<Record<PercentileKey, readonly LineSegment[]>>;
  readonly cellCount: number;
  /**
   * A moving view's picture is being recoloured in parts (HeatmapRenderer.drawParts): some of its
   * columns still show the colour scale before this one. Nothing that reads the picture's colours
   * as final (a test, a comparison with a fresh draw) reads it until a frame says false.
   */
  readonly settling: boolean;
}

/** The y extent of a slot's cell, at least one pixel tall, clipped to the canvas. */
export function slotRowPx(geometry: Pick<HeatmapGeometry, 'edgePx' | 'heightPx'>, slot: number): { y0: number; y1: number } {
  let y1 = Math.min(geometry.heightPx, geometry.edgePx[slot]!);
  let y0 = Math.max(0, geometry.edgePx[slot + 1]!);
  if (y1 - y0 < 1) {
    y1 = Math.max(1, Math.min(geometry.heightPx, y1));
    y0 = y1 - 1;
  }
  return { y0, y1 };
}

/** The centre row of a percentile line drawn for a slot. */
export function lineCenterPx(geometry: Pick<HeatmapGeometry, 'edgePx'>, slot: number): number {
  return Math.round((geometry.edgePx[slot]! + geometry.edgePx[slot + 1]!) / 2);
}

const LINE_QUANTILES = PERCENTILES.map((p) => p.q);
const lineSlots = new Int32Array(LINE_QUANTILES.length);

/** The slot of each of PERCENTILES in a histogram, in one walk (nearestRankSlots: quantileSlot's rule, a unit test holds them equal), -1 when it is empty. */
export function percentileSlotsOf(histogram: ArrayLike<number>): Record<PercentileKey, number> {
  nearestRankSlots(histogram, 0, histogram.length - 1, LINE_QUANTILES, lineSlots);
  const slots = {} as Record<PercentileKey, number>;
  for (let line = 0; line < PERCENTILES.length; line++) slots[PERCENTILES[line]!.key] = lineSlots[line]!;
  return slots;
}

/** How close to a whole device pixel a view's start counts as on it (as for a scroll: HeatmapRenderer.changedRanges). */
const WHOLE_PX_SLACK = 1e-3;

/**
 * The device-pixel x of a time, rounded. A view that starts on a whole pixel (a live view snaps
 * to them) places every time from a fixed origin, round(ms × pixels per ms) − the start's pixel,
 * so that a scroll by n pixels moves every edge by exactly n: placed from the start, an edge that
 * falls on a half pixel (3-s groups on pixels of 2.57 s are 7/6 px wide, so every sixth edge)
 * rounded either way from frame to frame with the float error of the start, and the kept picture
 * was repainted wherever one flipped, most of it at 1 h.
 */
export function pixelOfTime(input: Pick<HeatmapInput, 'fromMs' | 'toMs' | 'widthPx'>, xMap: AxisMap): (ms: number) => number {
  const perMs = input.widthPx / (input.toMs - input.fromMs);
  const start = input.fromMs * perMs;
  const startPx = Math.round(start);
  if (Math.abs(start - startPx) > WHOLE_PX_SLACK) return (ms) => Math.round(mapTo(xMap, ms));
  return (ms) => Math.round(ms * perMs) - startPx;
}

/** Whole device-pixel x extents of the groups, at least one pixel wide, clipped to the canvas. */
function placeGroups(input: HeatmapInput, xMap: AxisMap): PlacedGroups {
  const { groups, widthPx } = input;
  const x = pixelOfTime(input, xMap);
  const x0 = new Int32Array(groups.length);
  const x1 = new Int32Array(groups.length);
  const firstSeqs = new Float64Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    firstSeqs[i] = group.firstSeq;
    let x0Px = Math.max(0, x(group.startMs));
    let x1Px = Math.min(widthPx, x(group.endMs));
    if (x1Px - x0Px < 1) {
      x1Px = Math.max(1, Math.min(widthPx, x1Px));
      x0Px = x1Px - 1;
    }
    x0[i] = x0Px;
    x1[i] = x1Px;
  }
  return { groups, x0Px: x0, x1Px: x1, firstSeqs };
}

/** #rrggbb as one pixel of a Uint32Array view of ImageData (whose bytes are R, G, B, A in memory order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
export function pixelWord(hex: string): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  return LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}
// Pixels are handled as signed 32-bit words: V8 keeps int32 values unboxed, where words above
// 2^31 in a Uint32Array become doubles on every read (measured: 5× slower pixel loops).
const LEVEL_WORDS = Int32Array.from(LEVEL_COLORS, pixelWord);
const EMPTY_WORD = pixelWord(EMPTY_COLOR) | 0;

/** A group's visible non-empty cells: what the colour scale reads (sorted, with their buckets), and their colours under the last scale. */
interface GroupCells extends BucketedValues {
  /** colour-by and visible slots the cells were taken under */
  readonly key: string;
  /** the value of each visible non-empty cell, ascending by slot */
  readonly values: Float64Array;
  readonly slots: Uint16Array;
  /** pixel word per visible slot (index slot − first visible slot), 0 for an empty cell */
  readonly words: Int32Array;
  /** the scale the words were coloured under */
  scale: ColorScale | null;
}

/** What a group's cells are taken under (GroupCells.key). */
function cellKeyOf(colorBy: ColorBy, firstSlot: number, lastSlot: number): string {
  return `${colorBy}|${firstSlot}|${lastSlot}`;
}

/** How far the colour scale's maximum may move before the picture is recoloured: 10%, under a colour level in most of the ramp. */
const SCALE_SLACK = 0.1;

/**
 * A moving view takes a new exact colour scale (a quantile of every cell in view) once in this
 * many frames; in between it keeps the scale it has. The quantile is of the cells of the period's
 * first frame, taken there from the counts kept per value bucket (ColorScaleCounts: the frame
 * reads only the values of the rank's bucket) and shown from its last. (Selected over all the
 * cells whole in one frame, it made that frame the longest of a scrolling view's, 5–27 ms in a
 * profile under load; spread over the period's frames, it was a tenth of each one's script.
 * Taken from the kept counts it costs little, so the period no longer spreads a cost; what it
 * still buys is a picture that takes a new scale, each a recolouring of the whole plot over
 * several frames when it moves beyond SCALE_SLACK, at most once a period.) So the scale
 * lags the cells: a busier cell that first shows in a period's first frame colours the scale at
 * that period's last frame (SCALE_EVERY_FRAMES − 1 frames later), one that first shows in its
 * second frame only at the next period's last (2 × SCALE_EVERY_FRAMES − 2 frames later, the
 * longest wait); meanwhile it shows clamped (CLAMPED_COLOR), and a quieter picture keeps the higher scale.
 * A period's last frame also waits for a recolouring in parts to end (HeatmapRenderer.drawParts):
 * a recolouring of P parts, P > SCALE_EVERY_FRAMES, takes the next scale P − SCALE_EVERY_FRAMES
 * frames late (P grows with the plot's pixels: bench:client prints it for its page), so the
 * longest wait is 2 × SCALE_EVERY_FRAMES − 2 plus that. Bounded, where a scale taken
 * mid-recolouring started it over: with parts longer than the period a live view whose cells
 * kept moving was never of one scale.
 */
export const SCALE_EVERY_FRAMES = 8;

/** What a frame drew, for drawing the next one from it. */
interface Drawn {
  /** everything but the time range and the colour scale that decides a pixel: when it differs, everything is drawn again */
  readonly key: string;
  /** the colour scale the frame's changed columns were painted with */
  readonly scaleKey: string;
  readonly fromMs: number;
  readonly spanMs: number;
  /** the groups handed over, and where each was drawn */
  readonly placed: PlacedGroups;
}

/**
 * Draws into the surface's pixel buffer and puts it (client/render/surface.ts): a full frame costs
 * one write per device pixel of the plot, whatever the number of cells (a fillRect per cell costs
 * ~1 µs each in a software-rendered browser, 50 ms for a busy hour). The pixel buffers are kept between frames, and so
 * are the cells and colours of every group that is drawn again (the model hands over the same
 * group object while its columns do not change).
 *
 * And the picture itself is kept: when a frame differs from the last only in its time range,
 * moved by a whole number of device pixels (a live view snaps to them), the surface is scrolled
 * by that many pixels and only what changed is painted and put: the pixel columns that came
 * into view and the groups that are new or changed (the newest, still filling; the ones cut by
 * the edges), each with a line width to spare for the percentile lines that reach across.
 */
export class HeatmapRenderer {
  private pixels: Int32Array = new Int32Array(0);
  private readonly cells = new WeakMap<CellGroup, GroupCells>();
  private last: Drawn | null = null;
  private scale: ColorScale | null = null;
  /** the slots' edges and the rows' covering slots, kept while the y axis and the plot's height stay (a scrolling view's frames share them) */
  private rows: { key: string; edgePx: Float64Array; bands: readonly RowBand[] } | null = null;
  /** what the colour scale was taken for, and the frames drawn with it since */
  private scaleBasis = '';
  private framesOnScale = 0;
  /** The counts of the last frame's cells per value bucket, kept as groups come and go (cellsOfGroups): the colour scale is taken from them. */
  private readonly counts = new ColorScaleCounts();
  /** a moving view's next scale: that of its period's first frame, taken in its last (colorScaleFor) */
  private nextScale: ColorScale | null = null;
  /** a whole picture being painted over calls (drawParts): what it is of, and its columns painted so far */
  private partial: { readonly key: string; readonly scaleKey: string; readonly fromMs: number; readonly groups: readonly CellGroup[]; readonly paintedTo: number } | null = null;
  /**
   * A moving view being recoloured in parts: the pixel columns [from, to) of the picture that
   * still show an older colour scale than the last frame's (moved by each scroll, shrunk from
   * the left by each part painted); null when the picture is of one scale.
   */
  private stale: { from: number; to: number } | null = null;
  /** the last frame's groups and their cells (cellsOfGroups) */
  private lastCells: { readonly groups: readonly CellGroup[]; readonly cells: readonly GroupCells[] } = { groups: [], cells: [] };
  /**
   * The cells list of the frame before the last, filled again for the next one, and which of the
   * last frame's cells stay (cellsOfGroups): made anew, a list of every group in view and its
   * flags were garbage every frame.
   */
  private spareCells: GroupCells[] = [];
  private stays = new Uint8Array(0);
  /** prepareCells's walk of these groups against lastCells (sameGroupIndexes), for the draw that follows it */
  private matched: { readonly before: HeatmapRenderer['lastCells']; readonly groups: readonly CellGroup[]; readonly same: Int32Array } | null = null;
  /** the last frame's pieces of the lines, with their percentiles and segments */
  private pieces: LinePieces = NO_PIECES;
  private readonly painterScratch: PainterScratch = { words: new Int32Array(0) };
  /** device pixels painted by the last draw (the whole plot, or the changed parts) */
  paintedPx = 0;
  /** whole pictures begun (painted in one call or over several), not only the parts that changed */
  private picturesBegun = 0;

  /** Whole pictures this renderer has begun to paint: each is a repaint of the whole plot, however many frames it takes. */
  get wholePictures(): number {
    return this.picturesBegun;
  }

  /** The surface is new (or was cleared): the next frame paints it whole. */
  forget(): void {
    this.last = null;
  }

  /**
   * Takes the visible cells of up to `budget` of these groups not taken yet under this colour-by
   * and y range (cellsOf; draw takes the rest): the first draw of a view with thousands of new
   * groups (a zoom) spent as much on this as on colouring and painting them, so it is done in
   * the frames before. Says whether none is left, and how many it took.
   */
  prepareCells(groups: readonly CellGroup[], colorBy: ColorBy, yRange: readonly [number, number], budget: number): { done: boolean; taken: number } {
    const { first: firstSlot, last: lastSlot } = slotsIn(yRange[0], yRange[1]);
    const key = cellKeyOf(colorBy, firstSlot, lastSlot);
    const before = this.lastCells;
    const same = sameGroupIndexes(before.groups, groups);
    this.matched = { before, groups, same };
    let taken = 0;
    for (let j = 0; j < groups.length; j++) {
      const group = groups[j]!;
      if (same[j]! >= 0 && before.cells[same[j]!]!.key === key) continue;
      if (this.cells.get(group)?.key === key) continue;
      if (taken >= budget) return { done: false, taken };
      this.cellsOf(group, key, firstSlot, lastSlot, colorBy);
      taken++;
    }
    return { done: true, taken };
  }

  draw(surface: Surface, input: HeatmapInput): HeatmapGeometry {
    return this.drawParts(surface, input, Infinity)!;
  }

  /**
   * draw, but a new picture may take several calls (frames), at most `perCallPx` device pixels
   * painted a call besides what changed, in one of two ways:
   * - a picture that cannot be kept (a fixed view's, one whose key changed, a moving view that
   *   jumped or was resized) is painted from its left edge in parts and put whole in the call that
   *   paints the last of them. Null until then: the picture shown stays the last one. Painting a
   *   zoomed view's 1.3 million pixels took a third of the longest frame of a zoom.
   * - a kept moving view whose colour scale moved is recoloured a part a call, each put as it is
   *   painted, the rest (`stale`) scrolled with the picture; never null, and the geometry says
   *   `settling` until the last part. A week's live view repainted whole in one frame when its
   *   colour scale moved by more than SCALE_SLACK (11.8 ms of painting in a profile).
   */
  drawParts(surface: Surface, input: HeatmapInput, perCallPx: number): HeatmapGeometry | null {
    const { widthPx, heightPx } = input;
    const xMap: AxisMap = { kind: 'linear', domain: [input.fromMs, input.toMs], range: [0, widthPx] };
    const { first: firstSlot, last: lastSlot } = slotsIn(input.yRange[0], input.yRange[1]);
    const { edgePx, bands } = this.rowsOf(heightPx, input.yScale, input.yRange);
    const size = input.groupSize;
    const placed = placeGroups(input, xMap);

    const cellKey = cellKeyOf(input.colorBy, firstSlot, lastSlot);
    const cells = this.cellsOfGroups(input.groups, cellKey, firstSlot, lastSlot, input.colorBy);
    let cellCount = 0;
    for (const c of cells) cellCount += c.values.length;
    const colorScale = this.colorScaleFor(input, cells, [widthPx, heightPx, input.yScale, input.yRange[0], input.yRange[1], cellKey, input.colorScale, input.colorQuantile, size, input.intervalMs, input.filterKey, input.toMs - input.fromMs, input.historyVersion ?? 0].join('|'));
    const buffer = surface.buffer(widthPx, heightPx, input.dpr);
    this.pixels = buffer.pixels;
    if (buffer.cleared) this.last = null;
    const lineWidthPx = Math.max(2, Math.round(2 * input.dpr));
    const key = [widthPx, heightPx, input.yScale, input.yRange[0], input.yRange[1], cellKey, size, input.intervalMs, input.percentiles, lineWidthPx].join('|');
    const scaleKey = [colorScale.kind, colorScale.kind === 'log' ? colorScale.min : 0, colorScale.max].join('|');
    const { lines, pieces } = input.percentiles ? percentileLines(placed, size, groupsPerPiece(input), this.pieces) : { lines: { p50: [], p99: [], max: [] }, pieces: NO_PIECES };
    this.pieces = pieces;
    const last = this.last;
    // A moving view keeps its picture through a new colour scale and recolours it in parts (below); a fixed one is painted anew.
    const keepable = last !== null && last.key === key && (last.scaleKey === scaleKey || input.moving === true);
    const changed = keepable ? this.changedRanges(surface, input, last, placed, lineWidthPx, pieces) : null;
    const painter = new Painter(this.pixels, widthPx, heightPx, placed, cells, colorScale, firstSlot, lastSlot, edgePx, bands, this.painterScratch);
    const paint = (from: number, to: number): void => {
      painter.cells(from, to);
      if (input.percentiles) painter.lines(from, to, lines, lineWidthPx, firstSlot, lastSlot, input.dpr);
      this.paintedPx += (to - from) * heightPx;
    };
    this.paintedPx = 0;
    if (!changed) {
      if (perCallPx < widthPx * heightPx) {
        // a new picture over several calls: the part painted so far is kept while the picture painted is the same
        const partial = this.partial;
        const from = partial && partial.key === key && partial.scaleKey === scaleKey && partial.fromMs === input.fromMs && sameGroups(partial.groups, input.groups) ? partial.paintedTo : 0;
        // a picture that changed while it was being painted is painted whole: never painted in parts forever
        const to = partial && from === 0 ? widthPx : Math.min(widthPx, from + Math.max(1, Math.floor(perCallPx / heightPx)));
        if (from === 0) this.picturesBegun++;
        paint(from, to);
        if (to < widthPx) {
          this.partial = { key, scaleKey, fromMs: input.fromMs, groups: input.groups, paintedTo: to };
          return null;
        }
        this.partial = null;
        surface.put(0, widthPx);
      } else {
        this.partial = null;
        this.picturesBegun++;
        paint(0, widthPx);
        surface.put(0, widthPx);
      }
      // only here, with the whole picture put: a call that returned null left the two-scale picture shown, and a later frame kept against it recolours on
      this.stale = null;
    } else {
      this.partial = null;
      // A new scale is put in parts as they are painted, on the surface that scrolls them with the
      // picture: a part once painted is never painted again for a scroll (painting the picture
      // whole when it moved mid-repaint was 1.3 million pixels in one frame). Until the stale
      // columns are painted (a few frames, by the caller's budget) the picture shows two scales
      // and the legend the new one: acceptable for a live view, whose cells change anyway;
      // `settling` says so. The cells' next scale waits for the last part (colorScaleFor); one
      // the view asks for (another quantile, filter) starts the recolouring over.
      if (last!.scaleKey !== scaleKey) {
        this.picturesBegun++;
        this.stale = { from: 0, to: widthPx };
      }
      let ranges = changed;
      if (this.stale) {
        const part = withStalePart(changed, this.stale, Math.max(1, Math.floor(perCallPx / heightPx)), (from, to) => surface.partEnd(from, to));
        ranges = part.ranges;
        this.stale = part.staleFrom < this.stale.to ? { from: part.staleFrom, to: this.stale.to } : null;
      }
      for (const [from, to] of ranges) {
        paint(from, to);
        surface.put(from, to);
      }
    }
    this.last = { key, scaleKey, fromMs: input.fromMs, spanMs: input.toMs - input.fromMs, placed };
    return { widthPx, heightPx, dpr: input.dpr, colorScale, groupSize: size, ...placed, firstSlot, lastSlot, edgePx, lineWidthPx, lines, cellCount, settling: this.stale !== null };
  }

  /**
   * The colour scale of this frame: the exact one of the cells (a quantile of all of them), but a
   * moving view keeps the last one while it is close (steadyScale), and takes a new one only once
   * in SCALE_EVERY_FRAMES frames while nothing else about the picture changes: that of the cells
   * of the period's first frame, taken there by one ColorScaleCounts.scaleOf call and shown from
   * the period's last frame.
   */
  private colorScaleFor(input: HeatmapInput, cells: readonly GroupCells[], basis: string): ColorScale {
    const kept = this.scale;
    if (input.moving && kept && basis === this.scaleBasis) {
      // the period's last frame waits while the picture is still being recoloured (see SCALE_EVERY_FRAMES): each frame paints a part of it, so not for long
      if (this.framesOnScale === SCALE_EVERY_FRAMES - 1 && this.stale !== null) return kept;
      if (++this.framesOnScale === 1) this.nextScale = this.counts.scaleOf(cells, input.colorScale, input.colorQuantile);
      if (this.framesOnScale < SCALE_EVERY_FRAMES) return kept;
      this.framesOnScale = 0;
      return this.steadyScale(this.nextScale!);
    }
    this.scaleBasis = basis;
    this.framesOnScale = 0;
    const exact = this.counts.scaleOf(cells, input.colorScale, input.colorQuantile);
    return input.moving ? this.steadyScale(exact) : (this.scale = exact);
  }

  /**
   * The scale of the last frame while the one of this frame's cells is within SCALE_SLACK of it:
   * scrolling by a column moves the high percentile a little, and recolouring every cell for it
   * would cost a whole frame. The legend shows the scale used (it is in the geometry).
   */
  private steadyScale(scale: ColorScale): ColorScale {
    const kept = this.scale;
    // (the minimum matters only to a log scale)
    const sameMin = scale.kind !== 'log' || kept?.min === scale.min;
    if (kept && kept.kind === scale.kind && sameMin && Math.abs(scale.max - kept.max) <= SCALE_SLACK * kept.max) return kept;
    this.scale = scale;
    return scale;
  }

  /**
   * When the picture can be kept, the pixel columns [from, to) to paint after scrolling the
   * surface (and the stale columns with it): the changed ones, each widened to the pieces of the percentile lines it touches (a
   * piece's percentile is of all its groups), ascending, not overlapping. Null when nothing of
   * the last picture can be kept (nothing scrolled): the picture is painted whole.
   */
  private changedRanges(surface: Surface, input: HeatmapInput, last: Drawn, placed: PlacedGroups, lineWidthPx: number, pieces: LinePieces): [number, number][] | null {
    const { widthPx } = input;
    if (last.spanMs !== input.toMs - input.fromMs) return null;
    const shift = ((input.fromMs - last.fromMs) * widthPx) / last.spanMs;
    const dx = Math.round(shift);
    if (Math.abs(shift - dx) > WHOLE_PX_SLACK || dx < 0 || dx >= widthPx) return null;
    if (dx > 0) surface.scroll(dx);
    if (this.stale) this.stale = { from: Math.max(0, this.stale.from - dx), to: this.stale.to - dx };
    const changed: [number, number][] = dx > 0 ? [[widthPx - dx, widthPx]] : [];
    // the groups of both frames, merged by first seq (both ascend): a map of them cost an object per group per frame
    const before = last.placed;
    const gone = (i: number): void => void changed.push([before.x0Px[i]! - dx - lineWidthPx, before.x1Px[i]! - dx + lineWidthPx]);
    let i = 0;
    for (let j = 0; j < placed.groups.length; j++) {
      const firstSeq = placed.firstSeqs[j]!;
      while (i < before.groups.length && before.firstSeqs[i]! < firstSeq) gone(i++);
      if (i < before.groups.length && before.firstSeqs[i] === firstSeq) {
        // the scroll dropped what was left of the canvas: a group cut by the left edge is kept where it stays cut there
        const kept = before.groups[i] === placed.groups[j] && Math.max(0, before.x0Px[i]! - dx) === placed.x0Px[j] && before.x1Px[i]! - dx === placed.x1Px[j];
        i++;
        if (kept) continue;
      }
      changed.push([placed.x0Px[j]! - lineWidthPx, placed.x1Px[j]! + lineWidthPx]);
    }
    while (i < before.groups.length) gone(i++);
    for (const range of changed) {
      const [from, to] = range;
      for (let k = 0; k < pieces.count; k++) {
        const x0 = pieces.x0Px[k]!;
        const x1 = pieces.x1Px[k]!;
        if (x1 <= from || x0 >= to) continue;
        range[0] = Math.min(range[0], x0 - lineWidthPx);
        range[1] = Math.max(range[1], x1 + lineWidthPx);
      }
    }
    const merged: [number, number][] = [];
    for (const [from, to] of changed.map(([a, b]): [number, number] => [Math.max(0, a), Math.min(widthPx, b)]).filter(([a, b]) => b > a).sort((a, b) => a[0] - b[0])) {
      const tail = merged[merged.length - 1];
      if (tail && from <= tail[1]) tail[1] = Math.max(tail[1], to);
      else merged.push([from, to]);
    }
    return merged;
  }

  /** The device-pixel rows of the slots' edges on this y axis, and the bands of rows covered by the same slots (rowBands). */
  private rowsOf(heightPx: number, yScale: YScaleKind, yRange: readonly [number, number]): { edgePx: Float64Array; bands: readonly RowBand[] } {
    const key = `${heightPx}|${yScale}|${yRange[0]}|${yRange[1]}`;
    if (this.rows?.key === key) return this.rows;
    // the rows' covering slots are those of the y range: the key above holds them
    const { first: firstSlot, last: lastSlot } = slotsIn(yRange[0], yRange[1]);
    const yMap: AxisMap = { kind: yScale, domain: [yRange[0], yRange[1]], range: [heightPx, 0] };
    const edgePx = new Float64Array(SLOTS + 1);
    for (let slot = 0; slot < SLOTS; slot++) edgePx[slot] = Math.round(mapTo(yMap, slotEdges(slot).low));
    edgePx[SLOTS] = Math.round(mapTo(yMap, slotEdges(SLOTS - 1).high));
    this.rows = { key, edgePx, bands: rowBands(rowCover(edgePx, heightPx, firstSlot, lastSlot)) };
    return this.rows;
  }

  /**
   * The cells of each group: a group of the last frame's is matched by a walk of both lists
   * (sameGroupIndexes), the rest looked up (cellsOf). A WeakMap lookup per group in view, twice a
   * frame (prepareCells and here), was a tenth of a scrolling frame's script at 1 h.
   * The list returned is valid until the next call but one, which fills it again (spareCells):
   * use it within the frame and do not keep it.
   */
  private cellsOfGroups(groups: readonly CellGroup[], key: string, firstSlot: number, lastSlot: number, colorBy: ColorBy): readonly GroupCells[] {
    const before = this.lastCells;
    const matched = this.matched;
    // the walk of prepareCells in the same frame, over the same lists
    const same = matched && matched.before === before && matched.groups === groups ? matched.same : sameGroupIndexes(before.groups, groups);
    this.matched = null;
    const cells = this.spareCells;
    cells.length = groups.length;
    for (let j = 0; j < groups.length; j++) {
      const kept = same[j]! >= 0 ? before.cells[same[j]!]! : null;
      cells[j] = kept && kept.key === key ? kept : this.cellsOf(groups[j]!, key, firstSlot, lastSlot, colorBy);
    }
    // the counts follow the cells: those of the last frame kept stay, the rest go, the new come
    if (this.stays.length < before.cells.length) this.stays = new Uint8Array(before.cells.length);
    const stays = this.stays;
    stays.fill(0, 0, before.cells.length);
    for (let j = 0; j < cells.length; j++) {
      if (same[j]! >= 0 && cells[j] === before.cells[same[j]!]) stays[same[j]!] = 1;
      else this.counts.add(cells[j]!, 1);
    }
    for (let i = 0; i < before.cells.length; i++) if (!stays[i]) this.counts.add(before.cells[i]!, -1);
    // lastCells' list is kept read-only for its readers; only here, once no longer the last frame's, is it filled again
    this.spareCells = before.cells as GroupCells[];
    this.lastCells = { groups, cells };
    return cells;
  }

  private cellsOf(group: CellGroup, key: string, firstSlot: number, lastSlot: number, colorBy: ColorBy): GroupCells {
    const kept = this.cells.get(group);
    if (kept && kept.key === key) return kept;
    const h = group.histogram;
    let n = 0;
    for (let slot = firstSlot; slot <= lastSlot; slot++) if (h[slot]! > 0) n++;
    const values = new Float64Array(n);
    const slots = new Uint16Array(n);
    n = 0;
    for (let slot = firstSlot; slot <= lastSlot; slot++) {
      if (h[slot]! > 0) {
        values[n] = cellValue(colorBy, h[slot]!, slot);
        slots[n++] = slot;
      }
    }
    const cells: GroupCells = { key, values, ...bucketedValues(values), slots, words: new Int32Array(Math.max(0, lastSlot - firstSlot + 1)), scale: null };
    this.cells.set(group, cells);
    return cells;
  }
}

/**
 * The ranges to paint in a frame of a moving view being recoloured: the changed ones (ascending,
 * not overlapping) and the next `partPx` of the stale columns [from, to), merged; and where the
 * stale columns start after them: past the range that holds their start (the part, and a
 * changed range that reached it).
 * The part ends where `partEnd` puts it within its `partPx` (Surface.partEnd: on a tile's edge
 * within it), or at the stale columns' end.
 */
export function withStalePart(
  changed: readonly (readonly [number, number])[],
  stale: { readonly from: number; readonly to: number },
  partPx: number,
  partEnd: (from: number, to: number) => number = (_from, to) => to,
): { ranges: [number, number][]; staleFrom: number } {
  const part: [number, number] = [stale.from, Math.min(stale.to, partEnd(stale.from, stale.from + partPx))];
  const ranges: [number, number][] = [];
  for (const [from, to] of [...changed, ...(part[1] > part[0] ? [part] : [])].sort((a, b) => a[0] - b[0])) {
    const tail = ranges[ranges.length - 1];
    if (tail && from <= tail[1]) tail[1] = Math.max(tail[1], to);
    else ranges.push([from, to]);
  }
  const holding = ranges.find(([from, to]) => from <= stale.from && stale.from < to);
  return { ranges, staleFrom: holding ? holding[1] : stale.from };
}

/**
 * For each group of `groups`, the index of the same object in `before`, or -1: both ascend by
 * first seq, so one walk of the two finds them (a scrolling view's frames share all their groups
 * but the newest and those cut by the edges).
 */
export function sameGroupIndexes(before: readonly CellGroup[], groups: readonly CellGroup[]): Int32Array {
  const same = new Int32Array(groups.length).fill(-1);
  let i = 0;
  for (let j = 0; j < groups.length; j++) {
    const firstSeq = groups[j]!.firstSeq;
    while (i < before.length && before[i]!.firstSeq < firstSeq) i++;
    if (before[i] === groups[j]) same[j] = i;
  }
  return same;
}

/**
 * The same groups, one by one: the model hands over the same object while a group's columns do
 * not change, but sums the groups cut by the view's edges anew each frame: those are compared
 * by their counts.
 */
function sameGroups(a: readonly CellGroup[], b: readonly CellGroup[]): boolean {
  return a.length === b.length && a.every((group, i) => group === b[i] || sameCounts(group, b[i]!));
}

function sameCounts(a: CellGroup, b: CellGroup): boolean {
  if (a.firstSeq !== b.firstSeq || a.startMs !== b.startMs || a.endMs !== b.endMs || a.histogram.length !== b.histogram.length) return false;
  for (let slot = 0; slot < a.histogram.length; slot++) if (a.histogram[slot] !== b.histogram[slot]) return false;
  return true;
}

/** The visible slots whose row covers each pixel row, ascending: where one-pixel rows overlap (a linear axis) the highest non-empty one shows. */
function rowCover(edgePx: Float64Array, heightPx: number, firstSlot: number, lastSlot: number): number[][] {
  const cover: number[][] = Array.from({ length: heightPx }, () => []);
  for (let slot = firstSlot; slot <= lastSlot; slot++) {
    const { y0, y1 } = slotRowPx({ edgePx, heightPx }, slot);
    for (let y = y0; y < y1; y++) cover[y]!.push(slot);
  }
  return cover;
}

/** Rows y0..y1 (exclusive) covered by the same slots (ascending; empty: no visible slot): one row of pixels painted, the rest copies of it. */
export interface RowBand {
  readonly y0: number;
  readonly y1: number;
  readonly slots: readonly number[];
}

/** The rows' covers as bands of equal neighbours, top to bottom. */
export function rowBands(cover: readonly (readonly number[])[]): RowBand[] {
  const bands: RowBand[] = [];
  let y0 = 0;
  for (let y = 1; y <= cover.length; y++) {
    const first = cover[y0]!;
    const row = cover[y];
    if (row && row.length === first.length && row.every((slot, k) => slot === first[k])) continue;
    bands.push({ y0, y1: y, slots: first });
    y0 = y;
  }
  return bands;
}

/**
 * The pixel words of a group's cells under a colour scale, coloured anew when the scale is not
 * the one they were coloured under. Done for the groups a frame paints, not for all in view: a
 * new scale recoloured every cell of a 24-h view in the frame that took it (11 ms in a profile),
 * where the picture itself is painted in parts over several frames.
 */
function colouredWords(cells: GroupCells, scale: ColorScale, firstSlot: number): Int32Array {
  const kept = cells.scale;
  if (kept && kept.kind === scale.kind && kept.min === scale.min && kept.max === scale.max) return cells.words;
  cells.words.fill(0);
  for (let k = 0; k < cells.values.length; k++) cells.words[cells.slots[k]! - firstSlot] = LEVEL_WORDS[colorLevel(scale, cells.values[k]!)]!;
  cells.scale = scale;
  return cells.words;
}

/**
 * The painter's flat copy of the groups' words, kept by the renderer from frame to frame: made
 * anew for each range painted, a recolouring's part (~130 groups × the visible slots, up to
 * 323) was up to 170 KB of garbage a frame.
 */
interface PainterScratch {
  words: Int32Array;
}

/** Paints cells and percentile lines into the pixel buffer, within a range of pixel columns. */
class Painter {
  private readonly stride: number;

  constructor(
    private readonly pixels: Int32Array,
    private readonly widthPx: number,
    private readonly heightPx: number,
    private readonly placed: PlacedGroups,
    private readonly groupCells: readonly GroupCells[],
    private readonly colorScale: ColorScale,
    private readonly firstSlot: number,
    lastSlot: number,
    private readonly edgePx: Float64Array,
    private readonly bands: readonly RowBand[],
    private readonly scratch: PainterScratch,
  ) {
    this.stride = Math.max(0, lastSlot - firstSlot + 1);
  }

  /** The groups that reach into [from, to): indexes first..end (exclusive); groups ascend in x. */
  private groupsIn(from: number, to: number): [number, number] {
    const { x0Px, x1Px } = this.placed;
    const first = partitionPoint(0, x1Px.length, (i) => x1Px[i]! <= from);
    return [first, partitionPoint(first, x0Px.length, (i) => x0Px[i]! < to)];
  }

  cells(from: number, to: number): void {
    const { pixels, widthPx, bands, stride } = this;
    const [first, end] = this.groupsIn(from, to);
    // Flat copies of the groups painted, for the pixel loop, which reads them once per group and band of rows.
    if (this.scratch.words.length < (end - first) * stride) this.scratch.words = new Int32Array((end - first) * stride);
    const words = this.scratch.words;
    for (let i = first; i < end; i++) words.set(colouredWords(this.groupCells[i]!, this.colorScale, this.firstSlot), (i - first) * stride);
    const x0 = this.placed.x0Px.subarray(first, end);
    const x1 = this.placed.x1Px.subarray(first, end);
    const narrow = to - from <= COPIED_BY_WORD_PX;
    for (const { y0, y1, slots } of bands) {
      // The band's first row is painted, the rest are copies of it.
      const top = y0 * widthPx;
      pixels.fill(EMPTY_WORD, top + from, top + to);
      for (let i = 0; i < end - first; i++) {
        const base = i * stride - this.firstSlot;
        let word = 0;
        for (let k = slots.length - 1; k >= 0 && word === 0; k--) word = words[base + slots[k]!]!;
        if (word === 0) continue;
        for (let x = Math.max(from, x0[i]!), right = Math.min(to, x1[i]!); x < right; x++) pixels[top + x] = word;
      }
      // a scrolling frame paints a few columns: plain stores beat a copyWithin call per row
      for (let row = top + widthPx; row < y1 * widthPx; row += widthPx) {
        if (narrow) for (let x = from; x < to; x++) pixels[row + x] = pixels[top + x]!;
        else pixels.copyWithin(row + from, top + from, top + to);
      }
    }
  }

  /**
   * The percentile lines, clipped to [from, to): a step per piece, joined to the one before by a
   * thin connector that shows where the line goes without hiding the cells it crosses. A piece
   * whose slot is off the y axis is not drawn and breaks the line: it does not run along an edge.
   */
  lines(from: number, to: number, lines: Readonly<Record<PercentileKey, readonly LineSegment[]>>, lineWidthPx: number, firstSlot: number, lastSlot: number, dpr: number): void {
    const { pixels, widthPx, heightPx } = this;
    const half = Math.floor(lineWidthPx / 2);
    const connectorPx = Math.max(1, Math.round(dpr));
    // Lines are a few pixels wide: plain stores beat a fill() call per row.
    const rect = (x0: number, y0: number, x1: number, y1: number, word: number): void => {
      const left = Math.max(from, x0);
      const right = Math.min(to, x1);
      for (let y = Math.max(0, y0); y < Math.min(heightPx, y1); y++) {
        const row = y * widthPx;
        for (let x = left; x < right; x++) pixels[row + x] = word;
      }
    };
    for (const { key } of PERCENTILES) {
      const word = pixelWord(PERCENTILE_COLORS[key]) | 0;
      const segments = lines[key];
      // the piece before the range too: its row is where the first connector starts
      const first = Math.max(0, partitionPoint(0, segments.length, (i) => segments[i]!.x1Px <= from) - 1);
      // the centre row of the piece before, NaN when there is none to join (a gap, or off the axis)
      let previousY = Number.NaN;
      for (let i = first; i < segments.length && segments[i]!.x0Px < to; i++) {
        const segment = segments[i]!;
        if (segment.slot < firstSlot || segment.slot > lastSlot) {
          previousY = Number.NaN;
          continue;
        }
        const y = lineCenterPx({ edgePx: this.edgePx }, segment.slot);
        rect(segment.x0Px, y - half, segment.x1Px, y - half + lineWidthPx, word);
        if (segment.joined && !Number.isNaN(previousY) && previousY !== y) {
          rect(segment.x0Px, Math.min(previousY, y) - half, segment.x0Px + connectorPx, Math.max(previousY, y) - half + lineWidthPx, word);
        }
        previousY = y;
      }
    }
  }
}

/** The drawn group under a device-pixel x, or null. */
export function groupAtPx(geometry: HeatmapGeometry, xPx: number): DrawnGroup | null {
  const { x0Px, x1Px } = geometry;
  const i = partitionPoint(0, x1Px.length, (k) => x1Px[k]! <= xPx);
  return i < x0Px.length && x0Px[i]! <= xPx ? drawnGroup(geometry, i) : null;
}

/** The slot whose drawn row holds a device-pixel y, or -1. */
export function slotAtPx(geometry: HeatmapGeometry, yPx: number): number {
  for (let slot = geometry.firstSlot; slot <= geometry.lastSlot; slot++) {
    const { y0, y1 } = slotRowPx(geometry, slot);
    if (yPx >= y0 && yPx < y1) return slot;
  }
  return -1;
}

/** The device-pixel rectangle of the drawn cell holding (seq, slot), or null when it is not drawn. */
export function cellRectPx(geometry: HeatmapGeometry, seq: number, slot: number): { x0: number; y0: number; x1: number; y1: number } | null {
  if (slot < geometry.firstSlot || slot > geometry.lastSlot) return null;
  const group = drawnGroupOfSeq(geometry, seq);
  if (!group) return null;
  const { y0, y1 } = slotRowPx(geometry, slot);
  return { x0: group.x0Px, y0, x1: group.x1Px, y1 };
}
