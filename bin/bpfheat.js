#!/usr/bin/env node
// The npm bin: runs the TypeScript entry point through tsx, so there is no separate compile step.
import { register } from 'tsx/esm/api';

register();
await import('../server/cli/main.ts');
