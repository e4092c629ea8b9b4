/**
 * Temporary directories for tests, removed once the test file that made them is done: without
 * this every run of the suite left ~20 MB behind in the system's temporary directory (recordings,
 * replays, stand-in client bundles). The hook is registered on the importing file's suite, and runs
 * after that file's own (vitest runs after-hooks in reverse order), so a server is stopped before
 * its files go.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new directory in the system's temporary directory, its name starting with prefix. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
