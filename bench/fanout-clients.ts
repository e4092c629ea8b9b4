/**
 * Many dashboard WebSocket clients in one process, for bench/fanout.ts (a separate process, so
 * the server's CPU is measured alone).
 *
 *   node --import tsx bench/fanout-clients.ts --port P --clients N --after SEQ
 *
 * Connects N clients to ws://127.0.0.1:P/ws?after=SEQ (after: no backfill, straight to live),
 * prints "connected" once every client has had `live`. Then reads commands on stdin:
 *   start   forget what was counted so far
 *   stop    print one JSON line: columns received, wire bytes per column, delivery delays
 *           (receive time - end of the column, ms), then close every client and exit.
 * A column's seq and start are read from the head of the message (the wire's compact form
 * starts with them), so a client costs this process as little as possible.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { numberOption, quantile } from './lib/report.ts';

const port = numberOption('port', 0);
const count = numberOption('clients', 1);
const after = numberOption('after', 0);
const url = `ws://127.0.0.1:${port}/ws?after=${after}`;
const HEAD = /^\{"type":"column","c":\[(\d+),(\d+),(\d+)/;
/** WebSocket frame header of a server message (unmasked): 2 bytes, 4 from 126 bytes, 10 from 64 KiB */
const frameHeader = (bytes: number): number => (bytes < 126 ? 2 : bytes < 65536 ? 4 : 10);

const nowMs = (): number => performance.timeOrigin + performance.now();

let counting = false;
const delays: number[] = [];
let columns = 0;
let payloadBytes = 0;
let maxPayload = 0;
const newestSeen: number[] = new Array(count).fill(0);
let out = 0;
let closedEarly = 0;

function connect(index: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let live = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const received = nowMs();
      if (!live) {
        if (data.includes('"type":"live"')) {
          live = true;
          resolve(ws);
        }
        return;
      }
      const head = HEAD.exec(data.toString('latin1', 0, 80));
      if (!head) return;
      const seq = Number(head[1]);
      newestSeen[index] = Math.max(newestSeen[index]!, seq);
      if (!counting) return;
      columns++;
      payloadBytes += data.length;
      maxPayload = Math.max(maxPayload, data.length);
      delays.push(received - (Number(head[2]) + Number(head[3])));
    });
    ws.on('error', (error) => (live ? undefined : reject(error)));
    ws.on('close', () => {
      if (!live) reject(new Error(`client ${index} closed before live`));
      else if (!stopping) closedEarly++;
    });
  });
}

let stopping = false;
const sockets: WebSocket[] = [];
for (let k = 0; k < count; k += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, count - k) }, (_, j) => connect(k + j)));
  sockets.push(...batch);
}
process.stdout.write('connected\n');

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const command = line.trim();
  if (command === 'start') {
    delays.length = 0;
    columns = payloadBytes = maxPayload = 0;
    counting = true;
  } else if (command === 'stop') {
    counting = false;
    stopping = true;
    const newest = Math.max(...newestSeen);
    out = newestSeen.filter((seq) => seq < newest - 1).length;
    const meanPayload = columns > 0 ? payloadBytes / columns : 0;
    process.stdout.write(
      `${JSON.stringify({
        clients: count,
        columns,
        meanPayloadBytes: meanPayload,
        maxPayloadBytes: maxPayload,
        meanWireBytes: meanPayload + frameHeader(meanPayload),
        delayP50Ms: quantile(delays, 0.5),
        delayP99Ms: quantile(delays, 0.99),
        delayMaxMs: delays.reduce((max, d) => Math.max(max, d), Number.NEGATIVE_INFINITY),
        clientsBehind: out,
        closedEarly,
      })}\n`,
    );
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
