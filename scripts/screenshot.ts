/**
 * Photographs a running dashboard: waits for the page's explicit ready and idle flags
 * (client/testing.ts), then writes a PNG. Usage: node --import tsx scripts/screenshot.ts URL FILE
 */
import { chromium } from '@playwright/test';
import '../client/testing.ts';

const [url, file] = process.argv.slice(2);
if (!url || !file) {
  process.stderr.write('usage: node --import tsx scripts/screenshot.ts URL FILE\n');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForFunction(() => window.__bpfheat?.ready === true && window.__bpfheat.live && window.__bpfheat.idle, null, { timeout: 60_000 });
  await page.screenshot({ path: file });
} finally {
  await browser.close();
}
