/** Histograms of every slot written as { slot: count } in tests, and read back the same way. */
import { SLOTS } from '../shared/scheme.ts';

export function counts(slots: Record<number, number>): Float64Array {
  const c = new Float64Array(SLOTS);
  for (const [slot, n] of Object.entries(slots)) c[Number(slot)] = n;
  return c;
}

export function sparse(c: Float64Array): Record<number, number> {
  const out: Record<number, number> = {};
  c.forEach((n, slot) => {
    if (n !== 0) out[slot] = n;
  });
  return out;
}
