import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { HeavyAnswers, Turns } from './slicing.ts';

describe('HeavyAnswers', () => {
  it('lets `max` in at once, queues `maxWaiting` in order, refuses the rest; leave() hands the place on', async () => {
    const heavy = new HeavyAnswers(2, 2);
    const order: string[] = [];
    expect(await heavy.enter()).toBe(true);
    expect(await heavy.enter()).toBe(true);
    const third = heavy.enter().then((ok) => order.push(`third ${ok}`));
    const fourth = heavy.enter().then((ok) => order.push(`fourth ${ok}`));
    expect(await heavy.enter()).toBe(false);
    expect([heavy.running, heavy.queued]).toEqual([2, 2]);
    heavy.leave();
    await third;
    expect(order).toEqual(['third true']);
    expect([heavy.running, heavy.queued]).toEqual([2, 1]);
    heavy.leave();
    await fourth;
    heavy.leave();
    heavy.leave();
    expect(order).toEqual(['third true', 'fourth true']);
    expect([heavy.running, heavy.queued]).toEqual([0, 0]);
  });
});

describe('Turns', () => {
  it('lets work run on within the budget, then yields to the event loop, shared by every caller', async () => {
    const turns = new Turns(5);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const busy = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    const worker = async (log: number[]): Promise<void> => {
      for (let part = 0; part < 20; part++) {
        busy(1);
        log.push(part);
        await turns.pause();
      }
    };
    const a: number[] = [];
    const b: number[] = [];
    const started = performance.now();
    await Promise.all([worker(a), worker(b)]);
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(timerRan).toBe(true); // the 40 ms of work gave the timer its turn
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
  });
});
