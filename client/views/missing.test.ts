import { describe, expect, it } from 'vitest';
import { missingReason, type MissingContext } from './missing.ts';

describe('missingReason', () => {
  const live: MissingContext = { serverOldestSeq: 100, newestSeq: 200, ended: false };
  const cases: [string, readonly [number, number], MissingContext, RegExp][] = [
    ['nothing received', [1, 5], { serverOldestSeq: null, newestSeq: null, ended: false }, /no column received yet/],
    ['before the history', [50, 99], live, /before the server's history/],
    ['a restarted server holds none of the time before it', [150, 160], { ...live, serverOldestSeq: null }, /before the server's history/],
    ['an outage inside the history', [150, 160], live, /not reachable or not running/],
    ['reaching into the history', [90, 110], live, /not reachable or not running/],
    ['after the newest column of a live source', [201, 230], live, /not recorded yet/],
    ['after the end of a recording', [201, 230], { ...live, ended: true }, /after the end of the recording/],
  ];
  it.each(cases)('%s', (_name, run, context, expected) => {
    expect(missingReason(run, context)).toMatch(expected);
  });
});
