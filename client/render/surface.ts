/**
 * Where the heat map's pixels are shown, kept between frames. HeatmapRenderer paints into the
 * surface's pixel buffer and puts the pixel columns it painted; when the view moved by whole
 * device pixels it scrolls the surface first and paints only what came into view.
 *
 *   CanvasSurface  one canvas: a scroll draws the canvas onto itself (the split view's bands)
 *   TiledSurface   canvases side by side in a ring, moved by CSS transforms (the heat map):
 *                  a scroll copies no pixels, and a put touches only the tiles it lands on
 */

/** The pixel buffer of a surface: rows of widthPx words, in ImageData's byte order. */
export interface SurfaceBuffer {
  readonly pixels: Int32Array;
  /** the picture shown is gone (a new size, or nothing put yet): the next frame puts it whole */
  readonly cleared: boolean;
}

export interface Surface {
  /** The buffer for a picture of this size in device pixels (kept while the size stays). */
  buffer(widthPx: number, heightPx: number, dpr: number): SurfaceBuffer;
  /** Moves the picture left by dx > 0 device pixels; the columns [width − dx, width) are put next. */
  scroll(dx: number): void;
  /** Shows the buffer's pixel columns [from, to) at the same columns of the picture. */
  put(from: number, to: number): void;
  /**
   * Where a part of the picture that starts at `from` and may run to `to` (Infinity: no bound)
   * ends: at `to`, or before it at the last edge between the surface's pieces within it (as they
   * lie now: a scroll moves them), so that its put touches one piece.
   */
  partEnd(from: number, to: number): number;
}

/**
 * Widest range of pixel columns whose rows are copied word by word, here and by the heat map's
 * painter: for so few words a call per row (a subarray and set(), copyWithin) costs more than the stores.
 */
export const COPIED_BY_WORD_PX = 64;

/** Copies the columns [from, to) of a buffer width pixels wide into the first columns of an image (of at least that width). */
export function copyColumns(pixels: Int32Array, width: number, height: number, from: number, to: number, image: ImageData): void {
  const words = new Int32Array(image.data.buffer);
  const columns = to - from;
  if (columns > COPIED_BY_WORD_PX) {
    for (let y = 0; y < height; y++) words.set(pixels.subarray(y * width + from, y * width + to), y * image.width);
    return;
  }
  for (let y = 0, source = from, target = 0; y < height; y++, source += width, target += image.width) {
    for (let x = 0; x < columns; x++) words[target + x] = pixels[source + x]!;
  }
}

/**
 * A small canvas a part of the picture is put on before it is drawn onto the canvas (see
 * CanvasSurface.put): `put` copies its `image` (of its size) onto it. It is put again for the
 * next part; what was drawn from it before stays as it was.
 */
export interface Staging {
  readonly image: ImageData;
  readonly source: CanvasImageSource;
  put(): void;
}

/** The browser's staging: an OffscreenCanvas. */
export function offscreenStaging(width: number, height: number): Staging {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { alpha: false })!;
  const image = ctx.createImageData(width, height);
  return { image, source: canvas, put: () => ctx.putImageData(image, 0, 0) };
}

/** The widest part put through a staging canvas after a shift (CanvasSurface.put). */
export const STAGED_MAX_PX = 256;

/** The picture on one canvas, sized by the surface. */
export class CanvasSurface implements Surface {
  private image: ImageData | null = null;
  private pixels = new Int32Array(0);
  /** staging canvases by width (powers of two up to STAGED_MAX_PX), for the parts put after a shift */
  private readonly staging = new Map<number, Staging>();
  /** the canvas was drawn onto itself in this frame */
  private shifted = false;

  constructor(
    private readonly ctx: CanvasRenderingContext2D,
    private readonly makeStaging: (width: number, height: number) => Staging = offscreenStaging,
  ) {}

  buffer(widthPx: number, heightPx: number): SurfaceBuffer {
    const canvas = this.ctx.canvas;
    let cleared = false;
    // a canvas given a size is cleared, even the same one
    if (canvas.width !== widthPx || canvas.height !== heightPx) {
      canvas.width = widthPx;
      canvas.height = heightPx;
      cleared = true;
    }
    if (!this.image || this.image.width !== widthPx || this.image.height !== heightPx) {
      this.image = this.ctx.createImageData(widthPx, heightPx);
      this.pixels = new Int32Array(this.image.data.buffer);
      cleared = true;
    }
    this.shifted = false;
    return { pixels: this.pixels, cleared };
  }

  scroll(dx: number): void {
    const { width, height } = this.image!;
    this.ctx.drawImage(this.ctx.canvas, dx, 0, width - dx, height, 0, 0, width - dx, height);
    this.shifted = true;
  }

  /**
   * The whole plot is put as it is; a part goes through an ImageData of its own size
   * (putImageData with a dirty rectangle still converts the whole image: measured in Chromium,
   * as slow as putting it all). After a shift it is put on a staging canvas (of the next
   * power-of-two width, kept) and drawn from there: putImageData on the canvas right after it
   * was drawn onto itself waits for that to be done (measured in Chromium: 4 ms median, 13 ms
   * p95 for a 7-pixel strip), where the drawImage of the strip is queued like the shift. Only
   * parts up to STAGED_MAX_PX wide are staged (what a live view's shift paints), so the kept
   * staging canvases stay few and small; a wider part (a jump) is put directly and waits.
   */
  put(from: number, to: number): void {
    const image = this.image!;
    if (from === 0 && to === image.width) {
      this.ctx.putImageData(image, 0, 0);
      return;
    }
    const width = to - from;
    const staged = this.shifted && width <= STAGED_MAX_PX;
    const stagingWidth = 2 ** Math.ceil(Math.log2(width));
    let staging = staged ? this.staging.get(stagingWidth) : undefined;
    if (staged && (!staging || staging.image.height !== image.height)) this.staging.set(stagingWidth, (staging = this.makeStaging(stagingWidth, image.height)));
    const part = staging?.image ?? this.ctx.createImageData(width, image.height);
    copyColumns(this.pixels, image.width, image.height, from, to, part);
    if (!staging) {
      this.ctx.putImageData(part, from, 0);
      return;
    }
    staging.put();
    this.ctx.drawImage(staging.source, 0, 0, width, image.height, from, 0, width, image.height);
  }

  partEnd(_from: number, to: number): number {
    return to;
  }
}

/** Device pixels across one tile of a TiledSurface. */
export const TILE_PX = 256;

/**
 * The pixel columns of a part of a recolouring put tile by tile (TiledSurface.partEnd): a tile
 * split in equal parts, the widest of at most `maxPx` pixels at this height, and at most half a
 * tile (a part frame of a whole tile measured no shorter than one of 150,000 px). Parts that
 * split a tile evenly stay on one tile from the first edge on, with no sliver of a part before
 * the next edge.
 */
export function tilePartColumns(heightPx: number, maxPx: number): number {
  let parts = 2;
  while (parts < TILE_PX && Math.ceil(TILE_PX / parts) * heightPx > maxPx) parts++;
  return Math.ceil(TILE_PX / parts);
}

/** Tiles in the ring of a picture this wide: one more than cover it, so that a scroll never shows a gap. */
export function tilesFor(widthPx: number, tilePx: number): number {
  return Math.ceil(widthPx / tilePx) + 1;
}

/**
 * Where tile k shows, as the device-pixel x of its left edge in the picture, with the ring's
 * column `originPx` at the picture's left edge: in (−tilePx, ringPx − tilePx], so that the tiles
 * cover the picture from its left edge on, one tile-width beyond its right.
 */
export function tileLeftPx(k: number, tilePx: number, ringPx: number, originPx: number): number {
  const left = (((k * tilePx - originPx) % ringPx) + ringPx) % ringPx;
  return left > ringPx - tilePx ? left - ringPx : left;
}

/** A run of the picture's columns that lands on one tile: picture columns [fromPx, fromPx + widthPx) at the tile's column localPx. */
export interface TileRun {
  readonly tile: number;
  readonly localPx: number;
  readonly fromPx: number;
  readonly widthPx: number;
}

/** The picture's columns [from, to) split by the tiles they land on: picture column x is the ring's column (origin + x) mod ring. */
export function tileRuns(from: number, to: number, tilePx: number, ringPx: number, originPx: number): TileRun[] {
  const runs: TileRun[] = [];
  for (let x = from; x < to; ) {
    const ring = (originPx + x) % ringPx;
    const tile = Math.floor(ring / tilePx);
    const localPx = ring - tile * tilePx;
    const widthPx = Math.min(to - x, tilePx - localPx);
    runs.push({ tile, localPx, fromPx: x, widthPx });
    x += widthPx;
  }
  return runs;
}

/** One tile of a TiledSurface: a canvas in the page, or a fake over its own pixels in a test. */
export interface Tile {
  /** Puts the first `widthPx` columns of the image at the tile's column xPx. */
  put(image: ImageData, xPx: number, widthPx: number): void;
  /** Shows the tile with its left edge at this device-pixel x of the picture. */
  place(leftPx: number): void;
  /** The pixel at the tile's (x, y), as [r, g, b]. */
  read(xPx: number, yPx: number): readonly [number, number, number];
  readonly source: CanvasImageSource;
  remove(): void;
}

/** What a TiledSurface makes its tiles and their images with. */
export interface TileMaker {
  tile(widthPx: number, heightPx: number, dpr: number): Tile;
  image(widthPx: number, heightPx: number): ImageData;
}

/** Tiles as canvases in an element the size of the picture (which clips them: overflow hidden). */
export function domTiles(parent: HTMLElement): TileMaker {
  return {
    tile(widthPx, heightPx, dpr) {
      const canvas = document.createElement('canvas');
      canvas.className = 'heatmap-tile';
      canvas.width = widthPx;
      canvas.height = heightPx;
      canvas.style.width = `${widthPx / dpr}px`;
      canvas.style.height = `${heightPx / dpr}px`;
      parent.append(canvas);
      const ctx = canvas.getContext('2d', { alpha: false })!;
      return {
        put: (image, xPx, width) => ctx.putImageData(image, xPx, 0, 0, 0, width, heightPx),
        place: (leftPx) => void (canvas.style.transform = `translateX(${leftPx / dpr}px)`),
        read: (xPx, yPx) => {
          const [r, g, b] = ctx.getImageData(xPx, yPx, 1, 1).data;
          return [r!, g!, b!];
        },
        source: canvas,
        remove: () => canvas.remove(),
      };
    },
    image: (widthPx, heightPx) => new ImageData(widthPx, heightPx),
  };
}

/**
 * The picture as a ring of tiles, each TILE_PX wide, one more than cover it. Picture column x
 * lives in the ring's column (origin + x) mod ring; a scroll by dx moves the origin by dx and the
 * tiles by CSS transforms (the compositor moves them: no pixel is copied, where drawing a
 * 1.3-million-pixel canvas onto itself cost the main thread milliseconds a frame), and the
 * columns that come in are put on the tile or two they land on, each through an image of the
 * next power-of-two width (kept), with a dirty rectangle of the part's width.
 */
export class TiledSurface implements Surface {
  private tiles: Tile[] = [];
  private pixels = new Int32Array(0);
  private size = { widthPx: 0, heightPx: 0, dpr: 0 };
  private originPx = 0;
  private readonly images = new Map<number, ImageData>();
  /** something was put since the tiles were made: before that they show nothing drawn */
  private drawn = false;

  constructor(private readonly maker: TileMaker) {}

  private get ringPx(): number {
    return this.tiles.length * TILE_PX;
  }

  buffer(widthPx: number, heightPx: number, dpr: number): SurfaceBuffer {
    const size = this.size;
    if (size.widthPx === widthPx && size.heightPx === heightPx && size.dpr === dpr) return { pixels: this.pixels, cleared: false };
    this.dispose();
    this.size = { widthPx, heightPx, dpr };
    this.pixels = new Int32Array(widthPx * heightPx);
    this.originPx = 0;
    this.images.clear();
    this.tiles = Array.from({ length: tilesFor(widthPx, TILE_PX) }, () => this.maker.tile(TILE_PX, heightPx, dpr));
    this.place();
    return { pixels: this.pixels, cleared: true };
  }

  scroll(dx: number): void {
    this.originPx = (this.originPx + dx) % this.ringPx;
    this.place();
  }

  put(from: number, to: number): void {
    const { widthPx, heightPx } = this.size;
    for (const run of tileRuns(from, to, TILE_PX, this.ringPx, this.originPx)) {
      const imageWidth = 2 ** Math.ceil(Math.log2(run.widthPx));
      let image = this.images.get(imageWidth);
      if (!image) this.images.set(imageWidth, (image = this.maker.image(imageWidth, heightPx)));
      copyColumns(this.pixels, widthPx, heightPx, run.fromPx, run.fromPx + run.widthPx, image);
      this.tiles[run.tile]!.put(image, run.localPx, run.widthPx);
    }
    if (to > from) this.drawn = true;
  }

  /**
   * At the tile's left edge within (from, to), if there is one (the ring's wrap is one too: the
   * ring is whole tiles): each tile a put touches is a canvas Chromium copies whole to show, and a
   * part that crossed an edge changed two. A part wider than a tile ends at `to`: it touches two
   * or more tiles however it is cut, and cutting it would only add frames (a picture painted
   * whole, by draw or in the first load, is such a part).
   */
  partEnd(from: number, to: number): number {
    if (to - from > TILE_PX) return to;
    const edge = from + TILE_PX - ((this.originPx + from) % TILE_PX);
    return edge < to ? edge : to;
  }

  /** Something is drawn: a picture was put on the tiles since they were made. */
  get hasPicture(): boolean {
    return this.drawn;
  }

  /**
   * The picture's pixel at (x, y) as #rrggbb, read from the tile it is on (for tests); null while
   * nothing is drawn.
   */
  pixel(xPx: number, yPx: number): string | null {
    if (!this.drawn) return null;
    const { widthPx, heightPx } = this.size;
    if (!(Number.isInteger(xPx) && xPx >= 0 && xPx < widthPx && Number.isInteger(yPx) && yPx >= 0 && yPx < heightPx)) {
      throw new RangeError(`pixel (${xPx}, ${yPx}) is outside the ${widthPx}×${heightPx} picture: give whole device pixels within it`);
    }
    const [run] = tileRuns(xPx, xPx + 1, TILE_PX, this.ringPx, this.originPx);
    const rgb = this.tiles[run!.tile]!.read(run!.localPx, yPx);
    return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  }

  /** Draws the picture as shown onto a context of its size (for tests that compare whole pictures). */
  copyTo(ctx: CanvasRenderingContext2D): void {
    this.tiles.forEach((tile, k) => ctx.drawImage(tile.source, tileLeftPx(k, TILE_PX, this.ringPx, this.originPx), 0));
  }

  /** Removes the tiles (the surface is no longer shown). */
  dispose(): void {
    for (const tile of this.tiles) tile.remove();
    this.tiles = [];
    this.drawn = false;
    this.size = { widthPx: 0, heightPx: 0, dpr: 0 };
  }

  private place(): void {
    this.tiles.forEach((tile, k) => tile.place(tileLeftPx(k, TILE_PX, this.ringPx, this.originPx)));
  }
}
