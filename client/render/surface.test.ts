import { describe, expect, it } from 'vitest';
import { CanvasSurface, TiledSurface, copyColumns, tileLeftPx, tilePartColumns, tileRuns, tilesFor, type TileMaker, type TileRun } from './surface.ts';

// A ring of four 256-pixel tiles (1,024 pixels), as TiledSurface makes for a picture 513 to 768 pixels wide.
const TILE = 256;
const RING = 1024;

describe('tilesFor: one tile more than cover the picture', () => {
  it.each([
    [1, 2],
    [255, 2],
    [256, 2],
    [257, 3],
    [768, 4],
    [1000, 5],
    [1024, 5],
    [1025, 6],
  ])('%i pixels wide: %i tiles', (widthPx, tiles) => {
    expect(tilesFor(widthPx, TILE)).toBe(tiles);
  });
});

describe('tileLeftPx: where each tile shows, with the ring column originPx at the left edge', () => {
  it.each([
    ['no scroll: in order from the left edge', 0, [0, 256, 512, 768]],
    ['scrolled 10: the first tile is cut at the left edge', 10, [-10, 246, 502, 758]],
    ['scrolled 300: the first tile wraps round to the right', 300, [724, -44, 212, 468]],
    ['scrolled 768: tile 3 is at the left edge', 768, [256, 512, 768, 0]],
    ['scrolled 1023: the last tile wraps round to the left', 1023, [1, 257, 513, -255]],
  ])('%s', (_, originPx, lefts) => {
    expect([0, 1, 2, 3].map((k) => tileLeftPx(k, TILE, RING, originPx))).toEqual(lefts);
  });

  it('covers every column from the left edge to a tile beyond the ring less a tile, once, at any origin', () => {
    for (let originPx = 0; originPx < RING; originPx += 37) {
      const lefts = [0, 1, 2, 3].map((k) => tileLeftPx(k, TILE, RING, originPx)).sort((a, b) => a - b);
      expect(lefts[0], `origin ${originPx}`).toBeGreaterThan(-TILE);
      expect(lefts[0], `origin ${originPx}`).toBeLessThanOrEqual(0);
      for (let k = 1; k < 4; k++) expect(lefts[k]! - lefts[k - 1]!, `origin ${originPx}: abutting`).toBe(TILE);
    }
  });
});

describe('tileRuns: picture columns split by the tiles they land on', () => {
  it.each<[string, number, number, number, TileRun[]]>([
    ['nothing', 5, 5, 0, []],
    ['within one tile', 0, 10, 0, [{ tile: 0, localPx: 0, fromPx: 0, widthPx: 10 }]],
    ['across a tile edge', 250, 262, 0, [{ tile: 0, localPx: 250, fromPx: 250, widthPx: 6 }, { tile: 1, localPx: 0, fromPx: 256, widthPx: 6 }]],
    ['scrolled: column 0 is ring column 300, in tile 1', 0, 20, 300, [{ tile: 1, localPx: 44, fromPx: 0, widthPx: 20 }]],
    ["across the ring's end: back to tile 0", 0, 40, 1000, [{ tile: 3, localPx: 232, fromPx: 0, widthPx: 24 }, { tile: 0, localPx: 0, fromPx: 24, widthPx: 16 }]],
    ['over three tiles', 0, 600, 100, [{ tile: 0, localPx: 100, fromPx: 0, widthPx: 156 }, { tile: 1, localPx: 0, fromPx: 156, widthPx: 256 }, { tile: 2, localPx: 0, fromPx: 412, widthPx: 188 }]],
    ["the right edge, ring columns past the ring's end", 700, 768, 700, [{ tile: 1, localPx: 120, fromPx: 700, widthPx: 68 }]],
  ])('%s', (_, from, to, originPx, runs) => {
    expect(tileRuns(from, to, TILE, RING, originPx)).toEqual(runs);
  });

  it('lands each column where tileLeftPx shows its tile', () => {
    for (const originPx of [0, 1, 255, 256, 700, 1023]) {
      for (const run of tileRuns(0, 768, TILE, RING, originPx)) {
        expect(tileLeftPx(run.tile, TILE, RING, originPx) + run.localPx, `origin ${originPx}`).toBe(run.fromPx);
      }
    }
  });
});

describe('copyColumns: a part of the buffer into the first columns of an image', () => {
  // a buffer 100 pixels wide and 3 tall whose pixel (x, y) is the word y × 1000 + x
  const width = 100;
  const height = 3;
  const pixels = Int32Array.from({ length: width * height }, (_, k) => Math.floor(k / width) * 1000 + (k % width));
  it.each([
    ['narrow: copied word by word', 10, 17, 8],
    ['one column', 99, 100, 1],
    ['wide: copied by rows', 0, 100, 128],
    ['wide, into an image as wide', 20, 90, 70],
  ])('%s (columns %i..%i into an image %i wide)', (_, from, to, imageWidth) => {
    const image = { width: imageWidth, height, data: new Uint8ClampedArray(imageWidth * height * 4) } as unknown as ImageData;
    copyColumns(pixels, width, height, from, to, image);
    const words = new Int32Array(image.data.buffer);
    for (let y = 0; y < height; y++) {
      const row = Array.from(words.subarray(y * imageWidth, (y + 1) * imageWidth));
      expect(row, `row ${y}`).toEqual([...Array.from({ length: to - from }, (_, x) => y * 1000 + from + x), ...new Array<number>(imageWidth - (to - from)).fill(0)]);
    }
  });
});

describe('partEnd: where a part of the picture ends, on a tile edge when it is at most a tile wide', () => {
  // tiles that show nothing: partEnd reads only where the ring lies
  const maker: TileMaker = {
    tile: () => ({ put: () => {}, place: () => {}, read: () => [0, 0, 0], source: {} as CanvasImageSource, remove: () => {} }),
    image: (width, height) => ({ width, height, data: new Uint8ClampedArray(width * height * 4) }) as unknown as ImageData,
  };
  // a picture 700 pixels wide: a ring of four tiles (RING)
  const surfaceScrolled = (dx: number): TiledSurface => {
    const surface = new TiledSurface(maker);
    surface.buffer(700, 4, 1);
    if (dx > 0) surface.scroll(dx);
    return surface;
  };
  it.each([
    ['within one tile: its end', 0, 0, 200, 200],
    ['up to an edge: its end', 0, 56, 256, 256],
    ['across an edge: cut there', 0, 100, 294, 256],
    ['a tile wide, across an edge: cut there', 0, 100, 356, 256],
    ['wider than a tile: its end', 0, 100, 357, 357],
    ['across two edges: its end (wider than a tile)', 0, 0, 600, 600],
    ['no bound (a picture painted whole): its end', 0, 0, Infinity, Infinity],
    ['narrow, across an edge: cut there', 0, 200, 300, 256],
    ['narrow, before an edge: its end', 0, 200, 255, 255],
    ['scrolled 10: the edges at 246 and 502', 10, 200, 400, 246],
    ["scrolled 1000: the ring's end is an edge (column 24)", 1000, 0, 200, 24],
  ])('%s (scrolled %i, columns %i..%i: ends at %i)', (_, dx, from, to, end) => {
    expect(surfaceScrolled(dx).partEnd(from, to)).toBe(end);
  });

  it('lands every part it cuts on one tile, half-tile parts one more than uncut at most', () => {
    for (const dx of [0, 1, 100, 255, 256, 700, 1023]) {
      const surface = surfaceScrolled(dx);
      let parts = 0;
      for (let from = 0; from < 700; from = surface.partEnd(from, Math.min(700, from + 128))) {
        const end = surface.partEnd(from, Math.min(700, from + 128));
        expect(tileRuns(from, end, TILE, RING, dx % RING).length, `scrolled ${dx}, from ${from}`).toBe(1);
        parts++;
      }
      expect(parts, `scrolled ${dx}`).toBeLessThanOrEqual(Math.ceil(700 / 128) + 1);
    }
  });

  it('one canvas: a part ends where it was asked to', () => {
    const surface = new CanvasSurface({} as CanvasRenderingContext2D);
    expect(surface.partEnd(100, 294)).toBe(294);
  });
});

describe('tilePartColumns: a tile split in equal parts, the widest within a budget of pixels', () => {
  it.each([
    ['a short plot: half a tile', 40, 150_000, 128],
    ['the benchmark at ratio 1 (~900 tall): half a tile', 909, 150_000, 128],
    ['half a tile just within', 1171, 150_000, 128],
    ['half a tile just over: a third', 1172, 150_000, 86],
    ['ratio 2 (~1,800 tall): a quarter', 1818, 150_000, 64],
    ['taller than the budget: a column', 200_000, 150_000, 1],
  ])('%s (%i tall, %i px: %i columns)', (_, heightPx, maxPx, columns) => {
    expect(tilePartColumns(heightPx, maxPx)).toBe(columns);
  });

  it('lands every part after the first edge on one tile, each within the budget', () => {
    for (const heightPx of [100, 770, 1172, 1500, 1818, 3000]) {
      const columns = tilePartColumns(heightPx, 150_000);
      expect(columns * heightPx, `${heightPx} tall`).toBeLessThanOrEqual(150_000);
      // from a tile's edge: the parts split the tile with none of a few columns before the next edge
      const parts: number[] = [];
      for (let from = 0; from < TILE; from = Math.min(TILE, from + columns)) parts.push(Math.min(TILE, from + columns) - from);
      expect(Math.min(...parts), `${heightPx} tall: ${parts.join(' ')}`).toBeGreaterThanOrEqual(columns - parts.length);
    }
  });
});
