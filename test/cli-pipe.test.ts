/**
 * --text and --jsonl piped into a reader that stops reading (`bpfheat --jsonl | head`): the
 * command ends as an interrupt ends it, exit 0, with no stack trace; output it cannot write (a
 * full disk) ends it with one line, exit 1.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, startBpfheat } from './cli.ts';

describe('a reader that stops reading', () => {
  it.each([['--jsonl'], ['--text']])('ends %s quietly, exit 0', async (mode) => {
    const running = startBpfheat(['--source', 'synthetic', mode, '--interval', '100']);
    await running.firstLine;
    running.child.stdout.destroy();
    const result = await running.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});

describe('output that cannot be written', () => {
  it('ends the run with one line naming why, exit 1', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [BIN, '--source', 'synthetic', '--jsonl', '--interval', '100', '--duration', '5'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('bpfheat: cannot write the output (ENOSPC: no space left on device, write): stopped\n');
    } finally {
      closeSync(full);
    }
  });
});
