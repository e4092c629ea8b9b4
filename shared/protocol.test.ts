import { describe, expect, it } from 'vitest';
import { histogramOf, type Column, type Filter } from './column.ts';
import { METRICS, OPS, SLOTS } from './scheme.ts';
import {
  BUCKET_SCHEME,
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeClientMessage,
  decodeColumn,
  decodeOwnColumnMessage,
  decodePackedColumns,
  decodeServerMessage,
  encodeClientMessage,
  encodePackedColumns,
  encodeServerMessage,
  joinPackedColumns,
  packedHistogramOf,
  ownPackedColumns,
  packedColumnAt,
  uncountedOf,
  type ClientMessage,
  type ServerMessage,
} from './protocol.ts';

const column: Column = {
  seq: 1_764_000_000,
  startMs: 1_764_000_000_000,
  intervalMs: 1000,
  series: [
    { metric: 'latency', device: 0, op: 'read', slots: [0, 1, 100, SLOTS - 1], counts: [3, 1, 250_000, 2] },
    { metric: 'size', device: 15, op: 'other', slots: [97], counts: [9] },
  ],
};

const selfStats = {
  programs: [{ name: 'block_rq_complete', runCount: 12345, runTimeNs: 2_716_000, nsPerEvent: 220.0081, eventsPerSecond: 1500.5, recursionMisses: 2 }],
  missedStart: 1,
  startFailed: 0,
  ringOverrun: 2,
  deviceOverflow: 0,
  partial: 3,
  unseen: 4,
  unstampedDevices: ['loop3'],
};

const serverMessages: ServerMessage[] = [
  {
    type: 'hello',
    version: PROTOCOL_VERSION,
    source: 'synthetic',
    host: 'db-07',
    scheme: BUCKET_SCHEME,
    devices: [{ id: 0, name: 'nvme0n1' }, { id: 1, name: 'sda' }],
    ops: OPS,
    metrics: METRICS,
    intervalMs: 1000,
    steps: [1000, 10_000, 60_000],
    oldestSeq: 10,
    newestSeq: 99,
    selfStats,
    exemplarCapture: { thresholdNs: 2_000_000, perBucketPerSecond: 200 },
  },
  { type: 'hello', version: PROTOCOL_VERSION, source: 'prometheus', host: '', scheme: BUCKET_SCHEME, devices: [], hosts: ['db1:9464', 'db2:9464'], ops: OPS, metrics: METRICS, intervalMs: 1, steps: [1], oldestSeq: null, newestSeq: null, selfStats: null, exemplarCapture: null },
  { type: 'column', column },
  { type: 'column', column: { seq: 0, startMs: 0, intervalMs: 5, series: [] } },
  { type: 'live', lastSeq: 99 },
  { type: 'live', lastSeq: null },
  { type: 'gap', fromSeq: 5, toSeq: 9 },
  { type: 'devices', devices: [{ id: 3, name: 'loop3' }] },
  { type: 'devices', devices: [{ id: 0, name: 'sda' }], hosts: ['db1:9464', 'db2:9464', 'db3:9464'] },
  { type: 'devices', devices: [{ id: 0, name: 'vda' }, { id: 1, name: 'loop3', stackedOn: ['vda'] }, { id: 2, name: 'dm-0', stackedOn: ['sda', 'sdb'] }] },
  { type: 'end', lastSeq: 99 },
  { type: 'end', lastSeq: null },
  { type: 'problem', message: 'cannot reach Prometheus at http://127.0.0.1:9 (connect ECONNREFUSED): is it running?' },
  { type: 'problem', message: null },
  { type: 'stats', selfStats },
  { type: 'pong', id: 7 },
  { type: 'column', column: { ...column, droppedExemplars: [{ device: 2, op: 'write', count: 17 }, { device: 0, op: 'read', count: 3, slot: 150 }] } },
  { type: 'column', column: { ...column, unseen: [{ device: 0, op: 'read', count: 3 }, { device: 1, op: 'discard', count: 1 }] } },
  { type: 'column', column: { ...column, droppedExemplars: [{ device: 2, op: 'write', count: 17, slot: 150 }], unseen: [{ device: 2, op: 'write', count: 2 }] } },
  {
    type: 'exemplars',
    replace: true,
    matched: 3,
    exemplars: [
      { timeMs: 1_764_000_000_123.456, latencyNs: 812_345, bytes: 4096, device: 2, op: 'write', sector: 8192, pid: 4242, comm: 'postgres' },
      { timeMs: 1_764_000_000_124, latencyNs: 9_000_000_000, bytes: 0, device: 0, op: 'flush', sector: null, pid: 1, comm: '' },
    ],
  },
  { type: 'exemplars', replace: false, matched: 0, exemplars: [] },
  { type: 'exemplar-capture', capture: { thresholdNs: null, perBucketPerSecond: 200 } },
  { type: 'error', message: 'after must be an integer >= 0' },
];

const clientMessages: ClientMessage[] = [
  { type: 'resume', after: 41 },
  { type: 'resume', after: null },
  { type: 'ping', id: 0 },
  { type: 'watch', region: { fromMs: 1000, toMs: null, latMinNs: 1_000_000, latMaxNs: 1e12, sizeMinBytes: 0, sizeMaxBytes: Number.MAX_SAFE_INTEGER, devices: [0, 3], ops: ['read'] }, order: 'slowest' },
  { type: 'watch', region: { fromMs: 1000, toMs: 2000.5, latMinNs: 0, latMaxNs: 5, sizeMinBytes: 112_000, sizeMaxBytes: 1 << 20, devices: null, ops: null }, order: 'largest' },
  { type: 'watch', region: null, order: 'newest' },
  { type: 'set-threshold', thresholdNs: 0 },
  { type: 'set-threshold', thresholdNs: null },
];

describe('decodeOwnColumnMessage', () => {
  const columnMessages = serverMessages.flatMap((m) => (m.type === 'column' ? [m.column] : []));

  it.each(columnMessages.map((c, k) => [k, c] as const))('reads column message %i back as the validating decoder does', (_k, original) => {
    const text = encodeServerMessage({ type: 'column', column: original });
    const checked = decodeServerMessage(text);
    expect(checked.type).toBe('column');
    const own = decodeOwnColumnMessage(text);
    expect(own).toStrictEqual(checked.type === 'column' ? checked.column : null);
    expect(encodeServerMessage({ type: 'column', column: own })).toBe(text);
  });
});

describe('round trip', () => {
  it.each(serverMessages.map((m) => [m.type, m] as const))('server message %s decodes to what was encoded', (_type, message) => {
    const text = encodeServerMessage(message);
    expect(decodeServerMessage(text)).toEqual(message);
    // and encoding is a function of the message: the same bytes again
    expect(encodeServerMessage(decodeServerMessage(text))).toBe(text);
  });

  it.each(clientMessages.map((m) => [m.type, m] as const))('client message %s decodes to what was encoded', (_type, message) => {
    expect(decodeClientMessage(encodeClientMessage(message))).toEqual(message);
  });

  it('keeps a column compact on the wire', () => {
    const text = encodeServerMessage({ type: 'column', column });
    expect(text).toBe('{"type":"column","c":[1764000000,1764000000000,1000,[[0,0,0,[0,3,1,1,100,250000,322,2]],[1,15,4,[97,9]]]]}');
  });
});

describe('the decoders refuse and name', () => {
  const cases: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    ['[1,2]', /must be a JSON object/],
    ['{"x":1}', /no "type"/],
    ['{"type":"nope"}', /unknown message type "nope"/],
    ['{"type":"hello","version":2}', /protocol version 2 is not 1/],
    ['{"type":"gap","fromSeq":-1,"toSeq":2}', /fromSeq must be an integer >= 0/],
    ['{"type":"pong","id":1.5}', /id must be an integer/],
    ['{"type":"column","c":[1,2,3]}', /column must be \[seq, startMs, intervalMs, series, drops\?, unseen\?\]/],
    ['{"type":"column","c":[1,2,3,[],[[0,9,1]]]}', /drops\[0\]\.op is out of range/],
    ['{"type":"exemplars","matched":1,"e":[[1,2,3]]}', /exemplars\[0\] must be \[timeMs, latencyNs/],
    ['{"type":"exemplars","matched":1,"e":[[1,-2,0,0,0,0,0,""]]}', /latencyNs must be an integer >= 0/],
    ['{"type":"column","c":[1,2,0,[]]}', /intervalMs must be an integer >= 1/],
    ['{"type":"column","c":[1,2,3,[[0,0,0,[5,1,5,1]]]]}', /slots must ascend/],
    ['{"type":"column","c":[1,2,3,[[0,0,0,[5,0]]]]}', /count must be an integer >= 1/],
    ['{"type":"column","c":[1,2,3,[[9,0,0,[]]]]}', /metric is out of range/],
    ['{"type":"column","c":[1,2,3,[[0,0,0,[323,1]]]]}', /slots must ascend within 0\.\.322/],
    ['{"type":"devices","devices":[{"id":1,"name":"loop3","stackedOn":"vda"}]}', /devices\[0\]\.stackedOn must be an array/],
    ['{"type":"end","lastSeq":-1}', /lastSeq must be an integer >= 0/],
  ];
  it.each(cases)('server message %s', (text, message) => {
    expect(() => decodeServerMessage(text)).toThrow(ProtocolError);
    expect(() => decodeServerMessage(text)).toThrow(message);
  });

  const clientCases: [string, RegExp][] = [
    ['{"type":"resume","after":-3}', /after must be an integer >= 0/],
    ['{"type":"resume","after":"5"}', /after must be an integer/],
    ['{"type":"resume"}', /after must be an integer/],
    ['{"type":"ping","id":1e300}', /id must be an integer/],
    ['{"type":"hello"}', /expected "resume", "ping", "watch" or "set-threshold"/],
    ['{"type":"watch","region":{"fromMs":5,"toMs":4,"latMinNs":0,"latMaxNs":1,"sizeMinBytes":0,"sizeMaxBytes":1,"devices":null,"ops":null}}', /toMs must be after region.fromMs/],
    ['{"type":"watch","region":{"fromMs":5,"toMs":null,"latMinNs":9,"latMaxNs":1,"sizeMinBytes":0,"sizeMaxBytes":1,"devices":null,"ops":null}}', /latMaxNs must not be below/],
    ['{"type":"watch","region":{"fromMs":5,"toMs":null,"latMinNs":0,"latMaxNs":1,"sizeMinBytes":0,"sizeMaxBytes":1,"devices":null,"ops":["trim"]}}', /region.ops must hold read/],
    ['{"type":"watch","region":7,"order":"slowest"}', /region must be an object or null/],
    ['{"type":"watch","region":{"fromMs":5,"toMs":null,"latMinNs":0,"latMaxNs":1,"sizeMinBytes":9,"sizeMaxBytes":1,"devices":null,"ops":null},"order":"slowest"}', /sizeMaxBytes must not be below/],
    ['{"type":"watch","region":{"fromMs":5,"toMs":null,"latMinNs":0,"latMaxNs":1,"devices":null,"ops":null},"order":"slowest"}', /region.sizeMinBytes must be/],
    ['{"type":"watch","region":null,"order":"first"}', /order must be one of slowest, largest, newest, oldest/],
    ['{"type":"set-threshold","thresholdNs":-1}', /thresholdNs must be an integer >= 0/],
    ['"resume"', /must be a JSON object/],
    [`{"type":"ping","id":1,"pad":"${'x'.repeat(MAX_CLIENT_MESSAGE_BYTES)}"}`, /longer than 4096 bytes/],
  ];
  it.each(clientCases)('client message %s', (text, message) => {
    expect(() => decodeClientMessage(text)).toThrow(ProtocolError);
    expect(() => decodeClientMessage(text)).toThrow(message);
  });

  it('decodeColumn accepts exactly what the encoder writes', () => {
    const wire = JSON.parse(encodeServerMessage({ type: 'column', column })) as { c: unknown };
    expect(decodeColumn(wire.c)).toEqual(column);
  });
});

describe('packed columns', () => {
  const columns: Column[] = [
    column,
    { seq: 1_764_000_001, startMs: 1_764_000_001_000, intervalMs: 1000, series: [] },
    { seq: 1_764_000_005, startMs: 1_764_000_005_000, intervalMs: 1000, series: column.series.slice(1), droppedExemplars: [{ device: 2, op: 'write', count: 7 }, { device: 3, op: 'discard', count: 1, slot: 130 }] },
  ];
  const all = (bytes: Uint8Array): Column[] => {
    const p = decodePackedColumns(bytes);
    return Array.from({ length: p.count }, (_, i) => packedColumnAt(p, i));
  };

  it('round-trips columns, the step and the newest seq counted', () => {
    const bytes = encodePackedColumns(columns, 1000, 1_764_000_009);
    const p = decodePackedColumns(bytes);
    expect([p.count, p.stepMs, p.throughSeq]).toEqual([3, 1000, 1_764_000_009]);
    expect(all(bytes)).toEqual(columns);
    expect(decodePackedColumns(encodePackedColumns([], 60_000, null))).toMatchObject({ count: 0, stepMs: 60_000, throughSeq: -1 });
  });

  it('keeps counts beyond 32 bits exact (a roll-up of a busy week)', () => {
    const big: Column = { seq: 3, startMs: 1_800_000, intervalMs: 600_000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [5, 6], counts: [2 ** 40 + 3, 1] }] };
    expect(all(encodePackedColumns([big], 600_000, 3))).toEqual([big]);
  });

  it('is several times smaller than the JSON of the same columns', () => {
    const many = Array.from({ length: 100 }, (_, k) => ({ ...column, seq: column.seq + k, startMs: column.startMs + 1000 * k }));
    const json = many.reduce((n, c) => n + encodeServerMessage({ type: 'column', column: c }).length, 0);
    expect(encodePackedColumns(many, 1000, null).byteLength).toBeLessThan(json);
  });

  it('reads a message at any byte offset (a Node Buffer from the pool)', () => {
    const bytes = encodePackedColumns(columns, 1000, 5);
    const shifted = new Uint8Array(bytes.byteLength + 3).subarray(3);
    shifted.set(bytes);
    expect(all(shifted)).toEqual(columns);
  });

  it('refuses and names what is wrong', () => {
    const good = encodePackedColumns(columns, 1000, 5);
    const broken = (change: (view: DataView, bytes: Uint8Array) => void): Uint8Array => {
      const bytes = good.slice();
      change(new DataView(bytes.buffer), bytes);
      return bytes;
    };
    const cases: [Uint8Array, RegExp][] = [
      [good.slice(0, 20), /shorter than the 40-byte header/],
      [broken((v) => v.setUint32(0, 0x1234, true)), /bad magic/],
      [broken((v) => v.setUint32(4, 2, true)), /version 2 is not 1/],
      [good.slice(0, good.byteLength - 1), /bytes where the header announces/],
      [broken((v) => v.setUint32(12, 4, true)), /bytes where the header announces/],
      [broken((v) => v.setFloat64(48, 1_764_000_000, true)), /seq must be an integer above the one before/], // seq[1] = seq[0]
      [broken((v) => v.setFloat64(32, 0.5, true)), /throughSeq/],
    ];
    for (const [bytes, error] of cases) {
      expect(() => decodePackedColumns(bytes)).toThrow(ProtocolError);
      expect(() => decodePackedColumns(bytes)).toThrow(error);
    }
    // a slot out of range and one out of order: find the u16 slots section from the end
    const p = decodePackedColumns(good);
    const slotsAt = p.slots.byteOffset;
    expect(() => decodePackedColumns(broken((v) => v.setUint16(slotsAt, SLOTS, true)))).toThrow(/slots must ascend/);
    expect(() => decodePackedColumns(broken((v) => v.setUint16(slotsAt + 2, 0, true)))).toThrow(/slots must ascend/);
    const countsAt = p.counts.byteOffset;
    expect(() => decodePackedColumns(broken((v) => v.setUint32(countsAt, 0, true)))).toThrow(/not a positive integer/);
    // wide (f64) counts must be whole
    const wide = encodePackedColumns([{ seq: 1, startMs: 1000, intervalMs: 1000, series: [{ metric: 'latency', device: 0, op: 'read', slots: [3], counts: [2 ** 40] }] }], 1000, 1);
    const wideCountsAt = decodePackedColumns(wide).counts.byteOffset;
    const fractional = wide.slice();
    new DataView(fractional.buffer).setFloat64(wideCountsAt, 2.5, true);
    expect(() => decodePackedColumns(fractional)).toThrow(/not a positive integer/);
  });
});

describe('joinPackedColumns: ranges of packed messages joined by copying', () => {
  const wide: Column = { seq: 1_764_000_006, startMs: 1_764_000_006_000, intervalMs: 1000, series: [{ metric: 'size', device: 4, op: 'write', slots: [60, 61], counts: [2 ** 40, 5] }] };
  const first: Column[] = [
    column,
    { seq: 1_764_000_001, startMs: 1_764_000_001_000, intervalMs: 1000, series: [] },
    { seq: 1_764_000_002, startMs: 1_764_000_002_000, intervalMs: 1000, series: column.series, droppedExemplars: [{ device: 2, op: 'write', count: 7 }] },
  ];
  const second: Column[] = [
    { seq: 1_764_000_005, startMs: 1_764_000_005_000, intervalMs: 1000, series: [...column.series].reverse(), droppedExemplars: [{ device: 3, op: 'discard', count: 1, slot: 130 }] },
    wide,
    { seq: 1_764_000_007, startMs: 1_764_000_007_000, intervalMs: 1000, series: column.series.slice(0, 1) },
  ];
  const range = (columns: Column[], from: number, to: number) => ({ columns: ownPackedColumns(encodePackedColumns(columns, 1, null)), from, to });
  const filtered = (columns: Column[], keep: (s: Column['series'][number]) => boolean): Column[] => columns.map((c) => ({ ...c, series: c.series.filter(keep) }));

  it('gives the bytes encodePackedColumns gives for the columns of the ranges, in order', () => {
    const cases: [ReturnType<typeof range>[], Column[]][] = [
      [[range(first, 0, 3), range(second, 0, 3)], [...first, ...second]],
      [[range(first, 1, 3), range(second, 0, 1)], [...first.slice(1), second[0]!]],
      [[range(first, 2, 3), range(second, 2, 3)], [first[2]!, second[2]!]],
      [[range(second, 1, 2)], [wide]],
      [[range(first, 1, 2)], [first[1]!]],
      [[], []],
    ];
    for (const [parts, expected] of cases) {
      const joined = joinPackedColumns(parts, 60_000, 1_764_000_009);
      expect(Buffer.from(joined).equals(encodePackedColumns(expected, 60_000, 1_764_000_009)), `${expected.map((c) => c.seq).join(',')}`).toBe(true);
    }
  });

  it('keeps only the series the filter takes, the drops of every column, and counts narrow unless a kept one is wide', () => {
    const parts = [range(first, 0, 3), range(second, 0, 3)];
    const filters: ((s: Column['series'][number]) => boolean)[] = [
      (s) => s.metric === 'latency',
      (s) => s.metric === 'size' && s.device === 4,
      (s) => s.op === 'other' || s.op === 'write',
      () => false,
    ];
    for (const keep of filters) {
      const expected = encodePackedColumns(filtered([...first, ...second], keep), 1000, null);
      const joined = joinPackedColumns(parts, 1000, null, (metric, device, op) => keep({ metric, device, op, slots: [], counts: [] }));
      expect(Buffer.from(joined).equals(expected), String(keep)).toBe(true);
    }
    expect(decodePackedColumns(joinPackedColumns(parts, 1000, null, (metric) => metric === 'latency')).counts).toBeInstanceOf(Uint32Array);
  });
});

describe('packedHistogramOf: a packed column summed under a filter', () => {
  it('gives what histogramOf gives for the column, wide counts included', () => {
    const wide: Column = { seq: 3, startMs: 3000, intervalMs: 1000, series: [...column.series, { metric: 'size', device: 4, op: 'write', slots: [60, 61], counts: [2 ** 40, 5] }] };
    const columns: Column[] = [column, { seq: 2, startMs: 2000, intervalMs: 1000, series: [] }, wide];
    const p = ownPackedColumns(encodePackedColumns(columns, 1, null));
    const filters: Filter[] = [{ metric: 'latency' }, { metric: 'size' }, { metric: 'size', devices: [4], ops: ['write'] }, { metric: 'latency', devices: [], ops: ['read'] }, { metric: 'size', devices: [9] }];
    for (const filter of filters) {
      const sums = columns.map((c) => Array.from(histogramOf(c, filter)));
      expect(sums.some((h) => h.some((n) => n > 0)) || filter.devices?.[0] === 9, JSON.stringify(filter)).toBe(true);
      expect(columns.map((_, i) => Array.from(packedHistogramOf(p, i, filter))), JSON.stringify(filter)).toEqual(sums);
    }
  });
});

describe('uncountedOf: what the tracer could not put in a cell', () => {
  it('sums unseen, missed starts, failed starts and overruns; partial completions and the shared device are counted elsewhere', () => {
    expect(uncountedOf(selfStats)).toEqual({ total: 4 + 1 + 0 + 2, unseen: 4, missedStart: 1, startFailed: 0, ringOverrun: 2 });
    expect(uncountedOf({ ...selfStats, unseen: 0, missedStart: 0, ringOverrun: 0, partial: 9, deviceOverflow: 5 }).total).toBe(0);
  });
});
