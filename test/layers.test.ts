import { describe, expect, it } from 'vitest';
import { importsOf, layerViolations, projectFiles, ruleOf } from '../scripts/layers.ts';

describe('the layout', () => {
  it('every import in the project flows downward', () => {
    const files = projectFiles();
    expect(files.size).toBeGreaterThan(100);
    expect(layerViolations(files)).toEqual([]);
  });
});

describe('the layering check itself', () => {
  it('finds static, type-only, re-exported, multi-line and dynamic imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      'import {\n  d,\n  e,\n} from "./de.ts";',
      "const f = await import('./f.ts');",
      "import 'side-effect';",
      ' * --import FILE: columns built from per-event trace data',
    ].join('\n');
    expect(importsOf(source)).toEqual(['./a.ts', '../b.ts', './c.ts', './de.ts', './f.ts', 'side-effect']);
  });

  it.each([
    ['server/tracer/tracer.ts', "import { History } from '../dashboard/history.ts';", /server\/tracer\/tracer.ts: imports server\/dashboard\/history.ts: the tracer knows/],
    ['server/sources/bpf.ts', "import { parseArgs } from '../cli/config.ts';", /imports server\/cli\/config.ts/],
    ['server/dashboard/ws.ts', "const { runTerminal } = await import('../cli/terminal.ts');", /imports server\/cli\/terminal.ts/],
    ['server/formats/recording.ts', "import type { Source } from '../sources/source.ts';", /imports server\/sources\/source.ts/],
    ['shared/column.ts', "import { History } from '../server/dashboard/history.ts';", /shared\/ is imported by the page and the server alike/],
    ['shared/column.ts', "import { readFileSync } from 'node:fs';", /imports the package node:fs/],
    ['client/state/store.ts', "import { History } from '../../server/dashboard/history.ts';", /the page runs in a browser/],
    ['server/sources/bpf.ts', "import koffi from 'koffi';", /the package koffi/],
    ['server/loose.ts', "import { x } from './base/errors.ts';", /every server file lives in a layer folder/],
  ])('refuses %s importing upward: %s', (file, source, message) => {
    const problems = layerViolations(new Map([[file, source]]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it.each([
    ['server/cli/main.ts', "import { x } from '../dashboard/app.ts';\nimport { y } from '../../shared/column.ts';"],
    ['server/dashboard/app.ts', "import type { Source } from '../sources/source.ts';\nimport express from 'express';"],
    ['server/tracer/libbpf.ts', "import koffi from 'koffi';"],
    ['client/views/App.tsx', "import { useState } from 'react';\nimport { encode } from '../../shared/protocol.ts';"],
    ['shared/buckets.test.ts', "import { readFileSync } from 'node:fs';\nimport { parseXml } from '../test/xml.ts';"],
    ['test/anything.test.ts', "import { x } from '../server/cli/main.ts';\nimport { y } from '../client/state/store.ts';"],
  ])('allows %s', (file, source) => {
    expect(layerViolations(new Map([[file, source]]))).toEqual([]);
  });

  it('the most specific rule wins, and top-level folders have none', () => {
    expect(ruleOf('server/tracer/libbpf.ts')?.layer).toBe('server/tracer/libbpf.ts');
    expect(ruleOf('server/tracer/tracer.ts')?.layer).toBe('server/tracer/');
    expect(ruleOf('bench/iops.ts')).toBeNull();
  });
});
