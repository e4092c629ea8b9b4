/**
 * Reads the input of --replay and --import line by line, from a file or a pipe alike ("-":
 * standard input; <(awk …) works), so memory is bounded by what the reader builds from the
 * lines, never by the size of the input. Every way it can fail is one clear line (a UserError):
 * a path that cannot be read, a device, a NUL byte on any line (not a text file), a line too long.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { UserError } from '../base/errors.ts';
import { describeFsError } from '../formats/recording.ts';

/** The longest line read: far above any trace line or recorded column, far below what strains memory. */
export const MAX_LINE_BYTES = 16 * 2 ** 20;
const NEWLINE = 0x0a;

export interface LinesRead {
  readonly lines: number;
  /** the last line ended in "\n" (or there was none) */
  readonly endsWithNewline: boolean;
}

function describe(path: string): string {
  return path === '-' ? 'standard input' : path;
}

function open(path: string, flag: string): Readable {
  if (path === '-') return process.stdin;
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new UserError(`cannot read ${path} (${flag}): ${describeFsError(error)}`);
  }
  if (stat.isDirectory()) throw new UserError(`cannot read ${path} (${flag}): it is a directory`);
  if (stat.isCharacterDevice() || stat.isBlockDevice() || stat.isSocket()) {
    throw new UserError(`${path} is a device, not a file (${flag}): give a file, a pipe, or - for standard input`);
  }
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

/**
 * Calls `onLine` with each line (UTF-8, without its "\n", a leading byte-order mark removed) and
 * its 1-based number, in order, as the input arrives.
 */
export async function readLines(path: string, flag: string, onLine: (line: string, number: number) => void): Promise<LinesRead> {
  const input = open(path, flag);
  let number = 0;
  const emit = (bytes: Buffer): void => {
    number++;
    const nul = bytes.indexOf(0);
    if (nul >= 0) throw new UserError(`${describe(path)} is not a text file (a NUL byte on line ${number}, column ${nul + 1}): ${flag} reads text; is it the right file?`);
    const line = bytes.toString('utf8');
    onLine(number === 1 && line.startsWith('\uFEFF') ? line.slice(1) : line, number);
  };
  let carry: Buffer[] = [];
  let carryBytes = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
        emit(carryBytes > 0 ? Buffer.concat([...carry, chunk.subarray(start, end)]) : chunk.subarray(start, end));
        carry = [];
        carryBytes = 0;
        start = end + 1;
      }
      if (start < chunk.length) {
        carry.push(chunk.subarray(start));
        carryBytes += chunk.length - start;
        if (carryBytes > MAX_LINE_BYTES) {
          throw new UserError(`${describe(path)} line ${number + 1} is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB (${flag}): it is not a trace or a recording; is it the right file?`);
        }
      }
    }
  } catch (error) {
    input.destroy();
    if (error instanceof Error && !(error instanceof UserError) && 'code' in error) {
      throw new UserError(`cannot read ${describe(path)} (${flag}): ${describeFsError(error)}`);
    }
    throw error;
  }
  if (carryBytes > 0) emit(Buffer.concat(carry));
  return { lines: number, endsWithNewline: carryBytes === 0 };
}
