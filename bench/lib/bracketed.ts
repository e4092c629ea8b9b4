/**
 * Ratios of runs that were measured between two reference runs: each run's figure over the mean
 * of the reference runs right before and after it. The machine's speed drifts (here untraced fio
 * IOPS moved 3× within minutes under other work), and a run compared with its own neighbours
 * carries only the drift of a few seconds, where a ratio of medians over the whole sitting
 * carries all of it.
 */
export interface Run<C extends string> {
  readonly config: C;
  readonly value: number;
}

/** For every config but the reference, the ratio of each of its runs to the reference runs beside it
 * (the one reference neighbour at an end of the sequence; none: the run is left out). */
export function bracketedRatios<C extends string>(runs: readonly Run<C>[], reference: C): Map<C, number[]> {
  const ratios = new Map<C, number[]>();
  runs.forEach((run, k) => {
    if (run.config === reference) return;
    const beside = [runs[k - 1], runs[k + 1]].filter((r): r is Run<C> => r?.config === reference);
    if (beside.length === 0) return;
    const base = beside.reduce((sum, r) => sum + r.value, 0) / beside.length;
    const list = ratios.get(run.config) ?? [];
    list.push(run.value / base);
    ratios.set(run.config, list);
  });
  return ratios;
}

/** The order of one sitting: a reference run, then each other config followed by a reference run,
 * the configs' order rotating every round so that none always follows the same one. */
export function bracketedOrder<C extends string>(configs: readonly C[], reference: C, rounds: number): C[] {
  const order: C[] = [reference];
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < configs.length; k++) order.push(configs[(k + round) % configs.length]!, reference);
  }
  return order;
}
