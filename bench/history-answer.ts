/**
 * The server's side of a week's answer: a 1-min level holding a week of roll-ups of the
 * synthetic busy disk, and one 10,000-roll-up /api/columns answer, packed and as JSON, asked of
 * the dashboard app in process over a local socket (the time to the last byte read), and the
 * packed one built in process, split into taking the held roll-ups and joining them.
 *
 *   npx tsx bench/history-answer.ts [--rounds 9]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ColumnSum } from '../shared/rollup.ts';
import type { Column } from '../shared/column.ts';
import { createDashboard } from '../server/dashboard/app.ts';
import { bundleOf } from '../server/dashboard/bundle.ts';
import { History, packedAnswer } from '../server/dashboard/history.ts';
import { accessPolicy } from '../server/dashboard/security.ts';
import { SYNTHETIC_DEVICES, syntheticColumn } from '../server/sources/synthetic.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const ROUNDS = Number(values.rounds);
const WEEK_MINUTES = 7 * 24 * 60;
const ANSWER_ROLLUPS = 10_000;

/** An hour of the busy disk's 1-s columns summed into 10-s steps, repeated shifted over a week: far fewer sums than a week of columns, the same roll-ups' shape. */
function weekHistory(): History {
  const tenSeconds: Column[] = [];
  for (let step = 0; step < 360; step++) {
    const sum = new ColumnSum();
    for (let s = 0; s < 10; s++) sum.add(syntheticColumn(7, step * 10 + s, 1000));
    tenSeconds.push(sum.toColumn(step, step * 10_000, 10_000));
  }
  const history = new History(1, [{ stepMs: 60_000, capacity: WEEK_MINUTES }]);
  const level = history.level(60_000)!;
  for (let hour = 0; hour <= WEEK_MINUTES / 60; hour++) {
    for (const c of tenSeconds) level.add({ ...c, seq: hour * 360 + c.seq, startMs: hour * 3600_000 + c.startMs });
  }
  return history;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function timed<T>(into: number[], work: () => T): T {
  const start = performance.now();
  const result = work();
  into.push(performance.now() - start);
  return result;
}

async function fetchTime(into: number[], url: string): Promise<number> {
  const start = performance.now();
  const bytes = (await (await fetch(url)).arrayBuffer()).byteLength;
  into.push(performance.now() - start);
  return bytes;
}

const built = performance.now();
const history = weekHistory();
const level = history.level(60_000)!;
console.log(`week of 1-min roll-ups: ${level.ring.size} held, ${(level.bytes / 2 ** 20).toFixed(1)} MiB (${Math.round(level.bytes / level.ring.size)} B each), built in ${((performance.now() - built) / 1000).toFixed(1)} s`);
const toMs = (WEEK_MINUTES + 60) * 60_000;
const fromMs = toMs - ANSWER_ROLLUPS * 60_000;
const source = { kind: 'synthetic' as const, intervalMs: 1000, devices: () => SYNTHETIC_DEVICES, selfStats: () => null };
const dashboard = createDashboard({ source, history, bundle: bundleOf({ '/index.html': '<!doctype html><title>t</title>' }), policy: accessPolicy('127.0.0.1', null), listen: '127.0.0.1' });
await new Promise<void>((resolve) => dashboard.server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${dashboard.port()}/api/columns?from=${fromMs}&to=${toMs}&step=60000`;
const take: number[] = [];
const join: number[] = [];
const packedHttp: number[] = [];
const jsonHttp: number[] = [];
let sizes = '';
for (let round = 0; round < ROUNDS; round++) {
  const held = timed(take, () => history.heldAt(60_000, fromMs, toMs));
  const packed = timed(join, () => packedAnswer(held, 60_000));
  const packedBytes = await fetchTime(packedHttp, `${url}&format=packed`);
  const jsonBytes = await fetchTime(jsonHttp, url);
  sizes = `packed ${(packed.byteLength / 2 ** 20).toFixed(1)} MiB (${(packedBytes / 2 ** 20).toFixed(1)} MiB sent), JSON ${(jsonBytes / 2 ** 20).toFixed(1)} MiB`;
}
await dashboard.close();
const ms = (xs: number[]): string => `${median(xs).toFixed(1)} ms`;
console.log(`one answer of ${ANSWER_ROLLUPS} roll-ups (median of ${ROUNDS}): ${sizes}`);
console.log(`in process: take ${ms(take)}, join ${ms(join)}; over HTTP, to the last byte: packed ${ms(packedHttp)}, JSON (latency, all devices) ${ms(jsonHttp)}`);
