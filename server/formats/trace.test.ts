import { describe, expect, it } from 'vitest';
import { floorBound, slotOf } from '../../shared/buckets.ts';
import { histogramOf, type Column } from '../../shared/column.ts';
import { SLOTS } from '../../shared/scheme.ts';
import { ImportError, MAX_IMPORT_COLUMNS, MAX_REPORTED_LINES, badLinesNote, detectFormat, importTrace, splitCsvLine, toNanoseconds, type ImportOptions, type TimeUnit } from './trace.ts';

const OPTIONS: ImportOptions = { format: null, timeUnit: null, latencyUnit: null, timeColumn: null, latencyColumn: null, intervalMs: 1000, timeBaseMs: 0 };

describe('toNanoseconds: exact decimals, rounded to the nearest ns (halves up)', () => {
  it.each<[string, TimeUnit, bigint | null]>([
    ['0', 'ns', 0n],
    ['8026', 'us', 8_026_000n],
    ['12.5', 'us', 12_500n],
    ['12.3456', 'us', 12_346n],
    ['12.3454', 'us', 12_345n],
    ['0.0005', 'us', 1n],
    ['0.0004999', 'us', 0n],
    ['.5', 'ms', 500_000n],
    ['5.', 'ms', 5_000_000n],
    ['+3', 's', 3_000_000_000n],
    ['1e3', 'ns', 1000n],
    ['1.5E-3', 's', 1_500_000n],
    ['2.5e-10', 's', 0n],
    ['17442020318913', 'us', 17_442_020_318_913_000n],
    ['1764076800.123456789', 's', 1_764_076_800_123_456_789n],
    // 0.1 + 0.2 style values are exact here, unlike in floating point
    ['0.3', 's', 300_000_000n],
    ['', 'ns', null],
    ['.', 'ns', null],
    ['-1', 'ns', null],
    ['1,5', 'ns', null],
    ['0x10', 'ns', null],
    ['NaN', 'ns', null],
    ['Infinity', 'ns', null],
    ['1e', 'ns', null],
    ['12 ms', 'ns', null],
  ])('%j in %s is %s', (text, unit, expected) => {
    expect(toNanoseconds(text, unit)).toBe(expected);
  });
});

describe('splitCsvLine', () => {
  it.each<[string, string[] | null]>([
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,c', ['a', '', 'c']],
    ['"x, y",2', ['x, y', '2']],
    ['"say ""hi""",3', ['say "hi"', '3']],
    ['"open,2', null],
  ])('%j', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });
});

describe('detectFormat', () => {
  it.each([
    ['trace.txt', '17442020318913 8026\n', 'text'],
    ['trace.txt', '# from perf\n\ntime,latency\n1,2\n', 'csv'],
    ['io.CSV', 'time latency\n', 'csv'],
    ['out.lat_us', 'time latency\n1 2\n', 'text'],
  ])('%s holding %j is %s', (name, text, format) => {
    expect(detectFormat(text, name)).toBe(format);
  });
});

/** Every slot's upper bound and its successor, in ns: the values where the bucket math is most easily wrong. */
function boundaryLatencies(): number[] {
  const values = [0, 1, 2, 3];
  for (let i = 1; i < 8 * 34; i += 3) {
    const bound = Number(floorBound(i));
    values.push(bound, bound + 1);
  }
  return values;
}

function cellsOf(columns: readonly Column[]): Map<string, number> {
  const cells = new Map<string, number>();
  for (const column of columns) {
    const histogram = histogramOf(column, { metric: 'latency' });
    for (let slot = 0; slot < SLOTS; slot++) if (histogram[slot]! > 0) cells.set(`${column.seq}/${slot}`, histogram[slot]!);
  }
  return cells;
}

describe('importTrace puts every event in the column and bucket the bucket math predicts', () => {
  const latencies = boundaryLatencies();

  it.each<[TimeUnit, TimeUnit, number]>([
    ['us', 'us', 1000],
    ['ns', 'ns', 250],
    ['s', 'ms', 100],
    ['ms', 's', 1000],
  ])('text, time in %s, latency in %s, %d ms columns', (timeUnit, latencyUnit, intervalMs) => {
    const perUnit = { s: 1e9, ms: 1e6, us: 1e3, ns: 1 }[latencyUnit];
    const timePerUnit = { s: 1e9, ms: 1e6, us: 1e3, ns: 1 }[timeUnit];
    const expected = new Map<string, number>();
    const lines = ['# latency trace, time latency'];
    latencies.forEach((ns, k) => {
      // times from 1764076800 s on, 37 ms apart, written in the time unit (exact decimals)
      const timeNs = 1_764_076_800_000_000_000n + BigInt(k) * 37_000_000n;
      const timeText = timeUnit === 'ns' ? String(timeNs) : `${timeNs / BigInt(timePerUnit)}.${String(timeNs % BigInt(timePerUnit)).padStart(Math.log10(timePerUnit), '0')}`;
      // latency written in its unit with all the digits needed to be exact
      const latencyText = perUnit === 1 ? String(ns) : (ns / perUnit).toFixed(Math.log10(perUnit));
      lines.push(`${timeText} ${latencyText}`);
      const key = `${Number(timeNs / BigInt(intervalMs * 1_000_000))}/${slotOf(ns)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    });
    const result = importTrace(lines.join('\n'), 't.txt', { ...OPTIONS, timeUnit, latencyUnit, intervalMs });
    expect(result).toMatchObject({ format: 'text', events: latencies.length, badCount: 0, timeUnit, latencyUnit });
    expect(cellsOf(result.columns)).toEqual(expected);
  });

  it('makes consecutive columns, empty ones included, one latency series on device 0', () => {
    const result = importTrace('10.2 5\n13.9 7\n', 't.txt', OPTIONS);
    expect(result.columns.map((c) => [c.seq, c.startMs, c.series.length])).toEqual([
      [10, 10_000, 1],
      [11, 11_000, 0],
      [12, 12_000, 0],
      [13, 13_000, 1],
    ]);
    expect(result.columns[0]!.series[0]).toEqual({ metric: 'latency', device: 0, op: 'other', slots: [slotOf(5000)], counts: [1] });
  });

  it('rounds latency to integer ns before placing it', () => {
    // 1.0005 us = 1000.5 ns rounds to 1001; 1.0004 to 1000: different slots only if a bound lies between
    const bound = Number(floorBound(80)); // 1024
    const result = importTrace(`0 ${(bound - 0.4) / 1000}\n0 ${(bound + 0.5) / 1000}\n`, 't.txt', OPTIONS);
    expect(cellsOf(result.columns)).toEqual(new Map([[`0/${slotOf(bound)}`, 1], [`0/${slotOf(bound + 1)}`, 1]]));
  });

  it('adds --time-base to every time', () => {
    const result = importTrace('0 5\n2.5 5\n', 't.txt', { ...OPTIONS, timeBaseMs: 1_764_076_800_000 });
    expect(result.columns[0]!.startMs).toBe(1_764_076_800_000);
    expect(result.columns.at(-1)!.startMs).toBe(1_764_076_802_000);
  });

  it('skips a first line with letters (a header), as trace2heatmap.pl does, but not 1e3 numbers', () => {
    expect(importTrace('time latency\n1 5\n', 't.txt', OPTIONS)).toMatchObject({ events: 1, badCount: 0 });
    expect(importTrace('1e3 5\n1 5\n', 't.txt', OPTIONS)).toMatchObject({ events: 2, badCount: 0 });
    expect(importTrace('1 5 postgres 4096\n', 't.txt', OPTIONS)).toMatchObject({ events: 1 });
  });
});

describe('importTrace of CSV', () => {
  it('finds the time and latency columns by name, and their units from the header', () => {
    const result = importTrace('pid,Time_ms,comm,LAT(us)\n7,1500.5,"a, b",250\n8,2600,x,1000.0005\n', 'io.csv', OPTIONS);
    expect(result).toMatchObject({ format: 'csv', timeColumn: 'Time_ms', latencyColumn: 'LAT(us)', timeUnit: 'ms', latencyUnit: 'us', events: 2 });
    expect(cellsOf(result.columns)).toEqual(new Map([[`1/${slotOf(250_000)}`, 1], [`2/${slotOf(1_000_001)}`, 1]]));
  });

  it('takes --time-column/--latency-column and explicit units over the header', () => {
    const result = importTrace('start,end,wait\n3,4,12\n', 'x.csv', { ...OPTIONS, timeColumn: 'END', latencyColumn: 'wait', timeUnit: 's', latencyUnit: 'ms' });
    expect(result).toMatchObject({ timeColumn: 'end', latencyColumn: 'wait', events: 1 });
    expect(cellsOf(result.columns)).toEqual(new Map([[`4/${slotOf(12_000_000)}`, 1]]));
  });

  it.each([
    ['a,b\n1,2\n', {}, /x.csv: no time column in the CSV header \(looked for time, timestamp, ts\); it has "a", "b": name the time column with --time-column/],
    ['time,b\n1,2\n', {}, /no latency column .*--latency-column/],
    ['time,lat\n1,2\n', { timeColumn: 'when' }, /the CSV header has no column "when" \(--time-column\); it has "time", "lat"/],
    ['time,lat\n1,2\n', { latencyColumn: 'time' }, /the time and the latency column are both "time"/],
    ['"time,lat\n1,2\n', {}, /line 1: the CSV header has an unbalanced quote/],
  ])('refuses %j: %s', (text, options, message) => {
    expect(() => importTrace(text, 'x.csv', { ...OPTIONS, ...options })).toThrow(ImportError);
    expect(() => importTrace(text, 'x.csv', { ...OPTIONS, ...options })).toThrow(message);
  });
});

describe('malformed lines', () => {
  it('skips them, counting them and naming each by line number and reason', () => {
    const text = ['1 10', '2', 'x 5', '3 -4', '', '# comment', '4 abc', '5 6', '6\t7\textra'].join('\n');
    const result = importTrace(text, 't.txt', OPTIONS);
    expect(result.events).toBe(3);
    expect(result.badCount).toBe(4);
    expect(result.badLines).toEqual([
      { line: 2, reason: 'expected two numbers, time and latency, found one field' },
      { line: 3, reason: 'time "x" is not a number >= 0' },
      { line: 4, reason: 'latency "-4" is not a number >= 0' },
      { line: 7, reason: 'latency "abc" is not a number >= 0' },
    ]);
    expect(badLinesNote('t.txt', result)).toBe(
      'note: t.txt: 4 malformed lines skipped (3 events read): line 2: expected two numbers, time and latency, found one field; line 3: time "x" is not a number >= 0; line 4: latency "-4" is not a number >= 0; line 7: latency "abc" is not a number >= 0',
    );
  });

  it('names the first ten and counts the rest', () => {
    const text = ['1 1', ...Array.from({ length: 25 }, () => 'bad line'), '2 2'].join('\n');
    const result = importTrace(text, 't.txt', OPTIONS);
    expect(result.badCount).toBe(25);
    expect(result.badLines.map((b) => b.line)).toEqual(Array.from({ length: MAX_REPORTED_LINES }, (_, k) => k + 2));
    expect(badLinesNote('t.txt', result)).toMatch(/25 malformed lines skipped .*line 11: .*; and 15 more$/);
  });

  it('in CSV: too few fields and unclosed quotes', () => {
    const result = importTrace('time,latency\n1,2\n3\n"4,5\n', 'x.csv', OPTIONS);
    expect(result.badLines).toEqual([
      { line: 3, reason: 'expected 2 comma-separated fields, found one field' },
      { line: 4, reason: 'a quote is not closed' },
    ]);
  });
});

describe('files that cannot be imported at all', () => {
  it.each([
    ['', /t.txt is empty: there is nothing to import/],
    ['\n  \n\t\n', /t.txt is empty/],
    ['time latency\n# nothing else\n', /t.txt has no usable line \(only a header, comments or blank lines\): --import reads "time latency" lines/],
    ['a b\nc d\ne\n', /t.txt has no usable line \(2 malformed: line 2: time "c" is not a number >= 0; line 3: expected two numbers/],
    ['0 1\n99999999999 1\n', /span more than 1,000,000 columns of 1000 ms \(line 2 is far from the others\): choose a larger --interval, or check --time-unit \(now s\)/],
  ])('%j', (text, message) => {
    expect(() => importTrace(text, 't.txt', OPTIONS)).toThrow(ImportError);
    expect(() => importTrace(text, 't.txt', OPTIONS)).toThrow(message);
  });

  it('refuses column flags for the text format', () => {
    expect(() => importTrace('1 2\n', 't.txt', { ...OPTIONS, timeColumn: 'time' })).toThrow(/--time-column and --latency-column name CSV columns/);
  });

  it('the column limit is what the message says', () => {
    expect(importTrace(`0 1\n${MAX_IMPORT_COLUMNS - 1} 1\n`, 't.txt', OPTIONS).columns).toHaveLength(MAX_IMPORT_COLUMNS);
  });
});
