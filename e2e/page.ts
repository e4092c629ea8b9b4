/**
 * What the end-to-end tests do to and read from the dashboard page: wait for its explicit
 * ready/idle flags (client/testing.ts), never for a fixed time, and read what the user sees.
 */
import { expect, type Page } from '@playwright/test';
import '../client/testing.ts';

export async function openDashboard(page: Page, url: string): Promise<void> {
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto(url);
  await waitReady(page);
}

export async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__bpfheat?.ready === true && window.__bpfheat.live, null, { timeout: 30_000 });
  await waitIdle(page);
}

/** Nothing is waiting to be drawn or fetched. */
export async function waitIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => window.__bpfheat?.idle === true, null, { timeout: 30_000 });
}

/** Stops live scrolling with the space bar, so that what is measured stays put. */
export async function pause(page: Page): Promise<void> {
  await page.locator('body').press(' ');
  await expect(page.getByRole('button', { name: /Resume/ })).toBeVisible();
  await waitIdle(page);
}

export interface Domains {
  readonly x: [number, number];
  readonly y: [number, number];
  readonly xLabels: string[];
  readonly yLabels: string[];
}

/** The axes' domains and tick labels, as the overlay shows them. */
export async function axisDomains(page: Page): Promise<Domains> {
  const read = async (axis: string): Promise<{ domain: [number, number]; labels: string[] }> => {
    const g = page.locator(`.heatmap-overlay .${axis}`);
    const [a, b] = (await g.getAttribute('data-domain'))!.split(',').map(Number);
    return { domain: [a!, b!], labels: await g.locator('text').allTextContents() };
  };
  const x = await read('axis-x');
  const y = await read('axis-y');
  return { x: x.domain, y: y.domain, xLabels: x.labels, yLabels: y.labels };
}

/** The plot's rectangle in page CSS pixels. */
export async function plotBox(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator('.heatmap-picture').boundingBox();
  if (!box) throw new Error('the heat map is not visible');
  return box;
}

/** Drags a rectangle over the plot, from and to fractions of its width and height. */
export async function brush(page: Page, from: [number, number], to: [number, number]): Promise<void> {
  const box = await plotBox(page);
  await page.mouse.move(box.x + from[0] * box.width, box.y + from[1] * box.height);
  await page.mouse.down();
  await page.mouse.move(box.x + ((from[0] + to[0]) / 2) * box.width, box.y + ((from[1] + to[1]) / 2) * box.height, { steps: 4 });
  await page.mouse.move(box.x + to[0] * box.width, box.y + to[1] * box.height, { steps: 4 });
  await page.mouse.up();
}
