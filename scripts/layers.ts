/**
 * The import rules that keep the layout true: data flows kernel → column → history → wire →
 * store → canvas, and each folder may import only from the folders below it.
 *
 *   shared/                  protocol, bucket math, SVG renderer: imported by both sides
 *   server/base/             errors, message words and loopback addresses every server layer uses
 *   server/tracer/           the libbpf binding and the BPF tracer
 *   server/formats/          file formats: recordings, imported traces
 *   server/sources/          everything that produces columns, behind one interface
 *   server/dashboard/        history, HTTP, WebSocket, security
 *   server/cli/              the commands: flags, terminal output, the dashboard, snapshots
 *   client/                  the page
 *
 * test/, e2e/, bench/, scripts/, examples/ and bin/ sit above everything and may import anything.
 * `npm test` runs the check (scripts/layers.test.ts); `node --import tsx scripts/layers.ts` prints it.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LayerRule {
  /** path prefix of the layer, relative to the project root */
  readonly layer: string;
  /** the project folders its files may import from (its own included) */
  readonly mayImport: readonly string[];
  /** npm packages and node: built-ins it may import; '*' for any */
  readonly packages: readonly string[] | '*';
  readonly why: string;
}

const TEST_PACKAGES = ['vitest'];
/** Node's built-ins, for the layers that run only in the server process */
const NODE = ['node:*', ...TEST_PACKAGES];

export const RULES: readonly LayerRule[] = [
  {
    layer: 'shared/',
    mayImport: ['shared/'],
    packages: TEST_PACKAGES,
    why: 'shared/ is imported by the page and the server alike: no I/O, no Node or DOM API, nothing above it',
  },
  { layer: 'client/', mayImport: ['client/', 'shared/'], packages: ['react', 'react-dom', 'react-dom/client', 'd3', ...TEST_PACKAGES], why: 'the page runs in a browser: it talks to the server over the wire protocol in shared/, never by importing it' },
  { layer: 'server/base/', mayImport: ['server/base/', 'shared/'], packages: '*', why: 'base is what every server layer uses: it can use none of them' },
  {
    layer: 'server/tracer/libbpf.ts',
    mayImport: ['server/base/', 'shared/'],
    packages: ['koffi'],
    why: 'the libbpf binding is the one file that calls into C',
  },
  { layer: 'server/tracer/', mayImport: ['server/tracer/', 'server/base/', 'shared/'], packages: NODE, why: 'the tracer knows the kernel and the column, not who reads the columns' },
  {
    layer: 'server/formats/',
    mayImport: ['server/formats/', 'server/base/', 'shared/'],
    packages: [...NODE, 'protobufjs'],
    why: 'a file format is bytes in, columns out (or counts in, bytes out): it knows no source and no server; protobufjs encodes the Prometheus exposition',
  },
  {
    layer: 'server/sources/',
    mayImport: ['server/sources/', 'server/tracer/', 'server/formats/', 'server/base/', 'shared/'],
    packages: NODE,
    why: 'sources produce columns; history, the wire and the commands consume them',
  },
  {
    layer: 'server/dashboard/',
    mayImport: ['server/dashboard/', 'server/sources/', 'server/formats/', 'server/base/', 'shared/'],
    packages: ['express', 'ws', ...NODE],
    why: 'the dashboard serves what a source produced; the commands that start it sit above it',
  },
  { layer: 'server/cli/', mayImport: ['server/', 'shared/'], packages: NODE, why: 'the commands are the top of the server: they may use every layer below' },
  { layer: 'server/', mayImport: [], packages: [], why: 'every server file lives in a layer folder (base, tracer, formats, sources, dashboard, cli)' },
];

const TOP_LEVEL = ['test/', 'e2e/', 'bench/', 'scripts/', 'examples/', 'bin/'];

/** The most specific rule for a file, or null for folders above every layer. */
export function ruleOf(file: string): LayerRule | null {
  if (TOP_LEVEL.some((top) => file.startsWith(top)) || !file.includes('/')) return null;
  const rules = RULES.filter((rule) => file.startsWith(rule.layer));
  return rules.sort((a, b) => b.layer.length - a.layer.length)[0] ?? null;
}

const IMPORT = /^\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/gm;

/** Every module a source file names in an import or re-export (static or dynamic). */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}

function packageAllowed(specifier: string, packages: readonly string[] | '*'): boolean {
  if (packages === '*') return true;
  return packages.some((allowed) => (allowed.endsWith('*') ? specifier.startsWith(allowed.slice(0, -1)) : specifier === allowed));
}

/** One line per import that breaks a rule: "file: imports X: why". */
export function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    const rule = ruleOf(file);
    if (!rule) continue;
    // a test runs in Node beside its code: it may read fixtures and use the helpers in test/
    const isTest = file.endsWith('.test.ts');
    const mayImport = isTest ? [...rule.mayImport, 'test/'] : rule.mayImport;
    const packages = isTest && rule.packages !== '*' ? [...rule.packages, 'node:*'] : rule.packages;
    for (const specifier of importsOf(source)) {
      if (specifier.startsWith('.')) {
        const target = normalize(join(dirname(file), specifier));
        if (!mayImport.some((allowed) => target.startsWith(allowed))) problems.push(`${file}: imports ${target}: ${rule.why}`);
      } else if (!packageAllowed(specifier, packages)) {
        problems.push(`${file}: imports the package ${specifier}: ${rule.why}`);
      }
    }
  }
  return problems;
}

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The project's TypeScript files as git knows them (tracked or new), with their text. */
export function projectFiles(root = ROOT): Map<string, string> {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.ts', '*.tsx'], { cwd: root, encoding: 'utf8' });
  const files = new Map<string, string>();
  for (const file of listed.split('\n').filter(Boolean)) {
    try {
      files.set(relative(root, join(root, file)), readFileSync(join(root, file), 'utf8'));
    } catch {
      // deleted in the work tree but still in the index: nothing to check
    }
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = layerViolations(projectFiles());
  for (const problem of problems) console.log(problem);
  console.log(problems.length === 0 ? 'layers: every import flows downward' : `layers: ${problems.length} imports break the layout`);
  process.exit(problems.length === 0 ? 0 : 1);
}
