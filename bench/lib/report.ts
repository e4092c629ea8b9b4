/**
 * What every benchmark prints: the machine it ran on, tables of figures, and one summary row per
 * headline figure with its target. Benchmarks report; they never pass or fail, so nothing here
 * changes the exit code.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { OptionError } from './cleanup.ts';

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly memoryGiB: number;
}

export function machine(): Machine {
  let cpuModel = 'unknown CPU';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep "unknown"
  }
  return { cores: availableParallelism(), cpuModel, kernel: release(), memoryGiB: Math.round(totalmem() / 2 ** 30) };
}

export function machineLine(m: Machine = machine()): string {
  return `${m.cores} cores (${m.cpuModel}), Linux ${m.kernel}, ${m.memoryGiB} GiB, Node ${process.versions.node}`;
}

/** One headline figure, as the README's Performance table shows it. */
export interface Figure {
  readonly part: string;
  readonly name: string;
  /** null: could not be measured here (the note says why) */
  readonly value: number | null;
  readonly unit: string;
  /** the target as words, e.g. "≤ 456 ns" */
  readonly target: string;
  /** whether the value meets the target; null when there is no value */
  readonly met: boolean | null;
  /** by how much it misses, or any caveat */
  readonly note?: string;
}

/** A figure with an upper bound: met when value ≤ limit, and by how much it is over when not. */
export function atMost(part: string, name: string, value: number | null, unit: string, limit: number, targetText: string, digits = 0): Figure {
  if (value === null) return { part, name, value, unit, target: targetText, met: null, note: 'not measured' };
  const met = value <= limit;
  const over = ((value - limit) / limit) * 100;
  return { part, name, value: round(value, digits), unit, target: targetText, met, note: met ? undefined : `over by ${formatNumber(value - limit, digits)} ${unit} (${over.toFixed(0)}%)` };
}

/** A figure with a lower bound: met when value ≥ limit. */
export function atLeast(part: string, name: string, value: number | null, unit: string, limit: number, targetText: string, digits = 0): Figure {
  if (value === null) return { part, name, value, unit, target: targetText, met: null, note: 'not measured' };
  const met = value >= limit;
  return { part, name, value: round(value, digits), unit, target: targetText, met, note: met ? undefined : `short by ${formatNumber(limit - value, digits)} ${unit}` };
}

/** A figure without a target (context for the others). */
export function info(part: string, name: string, value: number | null, unit: string, digits = 0, note?: string): Figure {
  return { part, name, value: value === null ? null : round(value, digits), unit, target: '—', met: null, note };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile (0..1) by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A plain-text table with right-aligned numbers. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell, Number.isInteger(cell) ? 0 : 1) : cell)));
  const widths = headers.map((h, k) => Math.max(h.length, ...cells.map((row) => row[k]?.length ?? 0)));
  const numeric = headers.map((_, k) => rows.every((row) => typeof row[k] === 'number' || row[k] === '—'));
  const line = (row: readonly string[]): string =>
    row.map((cell, k) => (numeric[k] ? cell.padStart(widths[k]!) : cell.padEnd(widths[k]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function heading(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The summary as a Markdown table (what README's Performance section holds). */
export function figuresMarkdown(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const value = f.value === null ? 'not measured' : `${formatNumber(f.value, Number.isInteger(f.value) ? 0 : decimals(f.value))} ${f.unit}`.trim();
    const met = f.met === null ? '—' : f.met ? 'yes' : 'no';
    return `| ${f.part} | ${f.name} | ${value} | ${f.target} | ${met}${f.note ? `: ${f.note}` : ''} |`;
  });
  return ['| part | figure | value | target | met? |', '|---|---|---|---|---|', ...rows].join('\n');
}

function decimals(value: number): number {
  const text = String(value);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : Math.min(3, text.length - dot - 1);
}

export function printFigures(figures: readonly Figure[]): void {
  say(figuresMarkdown(figures));
}

/** The text of the first `--name VALUE` (or `--name=VALUE`) among the benchmark's arguments. */
function optionText(name: string, argv: readonly string[]): string | undefined {
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === `--${name}`) return argv[k + 1] ?? '';
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** A numeric command-line option `--name N` (or `--name=N`) of the benchmark being run. */
export function numberOption(name: string, fallback: number, argv: readonly string[] = process.argv.slice(2)): number {
  const text = optionText(name, argv);
  if (text === undefined) return fallback;
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < 0) throw new OptionError(`--${name} needs a number ≥ 0, got "${text}"`);
  return value;
}

/** A command-line option `--name WORD` (or `--name=WORD`) that takes one of the given words. */
export function choiceOption<C extends string>(name: string, choices: readonly C[], fallback: C, argv: readonly string[] = process.argv.slice(2)): C {
  const text = optionText(name, argv);
  if (text === undefined) return fallback;
  const choice = choices.find((c) => c === text);
  if (choice === undefined) throw new OptionError(`--${name} takes ${choices.join(' or ')}, got "${text}"`);
  return choice;
}

/** A command-line option `--name A,B` (or `--name=A,B`) that takes any of the given words, comma-separated. */
export function choicesOption<C extends string>(name: string, choices: readonly C[], fallback: readonly C[], argv: readonly string[] = process.argv.slice(2)): C[] {
  const text = optionText(name, argv);
  if (text === undefined) return [...fallback];
  return text.split(',').map((word) => {
    const choice = choices.find((c) => c === word);
    if (choice === undefined) throw new OptionError(`--${name} takes a comma-separated list of ${choices.join(', ')}, got "${word}"`);
    return choice;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
