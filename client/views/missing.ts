/**
 * What a hatched stretch (seqs the page holds no column for) stands for, in words for the hover
 * text: the picture never shows unknown time as idle, and says why it is unknown.
 */

export interface MissingContext {
  /** the oldest column the server's history held when the page connected; null: it held none */
  readonly serverOldestSeq: number | null;
  /** the newest column the page holds; null: none */
  readonly newestSeq: number | null;
  /** the server's source has delivered everything (a replay at its end) */
  readonly ended: boolean;
}

/** Why the columns first..last (inclusive) are unknown. */
export function missingReason([first, last]: readonly [number, number], context: MissingContext): string {
  const { serverOldestSeq, newestSeq, ended } = context;
  if (newestSeq === null) return 'no column received yet';
  if (first > newestSeq) return ended ? 'after the end of the recording' : 'not recorded yet';
  if (serverOldestSeq === null || last < serverOldestSeq) return "before the server's history: it was not running, or no longer holds this time";
  return 'the server was not reachable or not running, or these columns are still being fetched';
}
