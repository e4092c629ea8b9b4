/**
 * The built browser client (vite's dist/), read into memory once at start. Served from memory
 * because the server gives up root before it accepts a connection, and the unprivileged user may
 * not be able to read the files any more (a checkout under /root, say). The bundle is small; a
 * limit keeps a wrong directory from being slurped whole.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../base/errors.ts';

export interface BundleFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** vite's hashed assets never change under their name */
  readonly immutable: boolean;
}

export interface ClientBundle {
  readonly dir: string;
  /** URL path ("/index.html", "/assets/index-abc.js") to file */
  readonly files: ReadonlyMap<string, BundleFile>;
  readonly index: BundleFile;
}

export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const MAX_BUNDLE_FILES = 5000;

/** dist/ next to the package; BPFHEAT_CLIENT_DIR overrides it (tests, packaging). */
export function defaultClientDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.BPFHEAT_CLIENT_DIR || fileURLToPath(new URL('../../dist', import.meta.url));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export function loadClientBundle(dir: string): ClientBundle {
  const missing = `the browser client is not built (no ${join(dir, 'index.html')}): run \`npm run build:client\` (or \`npm run setup\`)`;
  if (!existsSync(join(dir, 'index.html'))) throw new UserError(missing);
  const files = new Map<string, BundleFile>();
  let bytes = 0;
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      if (!entry.isFile()) continue;
      bytes += statSync(path).size;
      if (bytes > MAX_BUNDLE_BYTES || files.size >= MAX_BUNDLE_FILES) {
        throw new UserError(`${dir} holds more than ${MAX_BUNDLE_BYTES >> 20} MiB or ${MAX_BUNDLE_FILES} files: is it really the client bundle? rebuild it with \`npm run build:client\``);
      }
      const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
      files.set(urlPath, {
        body: readFileSync(path),
        contentType: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
        immutable: urlPath.startsWith('/assets/'),
      });
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`could not read the browser client in ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const index = files.get('/index.html');
  if (!index) throw new UserError(missing);
  return { dir, files, index };
}

/** A bundle from given files, for tests and for callers that build one in memory. */
export function bundleOf(files: Record<string, string>): ClientBundle {
  const map = new Map<string, BundleFile>();
  for (const [path, text] of Object.entries(files)) {
    map.set(path, { body: Buffer.from(text), contentType: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream', immutable: path.startsWith('/assets/') });
  }
  const index = map.get('/index.html');
  if (!index) throw new Error('a bundle needs /index.html');
  return { dir: '(memory)', files: map, index };
}
