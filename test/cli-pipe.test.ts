/**
 * --text and --jsonl piped into a reader that stops reading (`bpfheat --jsonl | head`): the
 * command ends as an interrupt ends it, exit 0, with no stack trace.
 */
import { describe, expect, it } from 'vitest';
import { startBpfheat } from './cli.ts';

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
