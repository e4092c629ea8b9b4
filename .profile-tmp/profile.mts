import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
const span = Number(process.argv[2] ?? 86400);
const server = spawn(process.execPath, ['--import', 'tsx', '/work/wt-13/bench/bench-server.ts', '--interval', '1000', '--prefill', String(span + 600), '--history', String(Math.min(span + 4200, 90000)), '--backlog', '300', '--scroll-rate', '10', '--client-dir', '/work/wt-13/dist'], { cwd: '/work/wt-13', stdio: ['pipe', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => server.stdout!.on('data', (d: Buffer) => { const m = /bench-server: (\S+)/.exec(d.toString()); if (m) resolve(m[1]!); }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
const t0 = Date.now();
await page.goto(`${url}?span=${span}`);
await page.waitForFunction(() => { const h = (window as any).__bpfheat; return h && h.ready && h.idle && !h.fetching && h.missing().length === 0; }, null, { timeout: 120000, polling: 50 });
console.log('loaded in', Date.now() - t0, 'ms');
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
const plot = await page.evaluate(() => (window as any).__bpfheat.frame().plot);
const mode = process.argv[3] ?? 'zoom';
await cdp.send('Profiler.start');
if (mode === 'zoom') {
  await page.mouse.move(plot.x + plot.width * 0.3, plot.y + plot.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(plot.x + plot.width * 0.7, plot.y + plot.height * 0.8, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => { const h = (window as any).__bpfheat; return h.idle && !h.fetching && h.missing().length === 0; }, null, { timeout: 60000, polling: 50 });
} else {
  server.stdin!.write('scroll 30\n');
  const painted: number[] = [];
  for (let k = 0; k < 40; k++) { await page.waitForTimeout(100); painted.push(await page.evaluate(() => (window as any).__bpfheat.paintedPx)); }
  console.log('painted px samples', painted.join(' '));
}
const { profile } = (await cdp.send('Profiler.stop')) as any;
const self = new Map<string, number>();
const dt = profile.timeDeltas as number[];
const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
profile.samples.forEach((id: number, k: number) => { const n: any = byId.get(id); const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`; self.set(key, (self.get(key) ?? 0) + (dt[k] ?? 0) / 1000); });
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log('total sampled ms', total.toFixed(0));
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(v.toFixed(1).padStart(8), k);
await browser.close();
server.kill();
