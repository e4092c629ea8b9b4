import { describe, expect, it } from 'vitest';
import { UserError } from '../base/errors.ts';
import { currentEnvironment, preflight } from './tracer.ts';

const ALL_CAPABILITIES = (1n << 41n) - 1n;

describe('preflight', () => {
  const here = currentEnvironment();

  it('asks for root when the process lacks CAP_BPF/CAP_PERFMON and CAP_SYS_ADMIN', () => {
    expect(() => preflight({ ...here, capabilities: 0n })).toThrow(UserError);
    expect(() => preflight({ ...here, capabilities: 0n })).toThrow(/needs root.*sudo.*--source synthetic/);
  });

  it('accepts CAP_BPF with CAP_PERFMON without CAP_SYS_ADMIN', () => {
    expect(() => preflight({ ...here, capabilities: (1n << 38n) | (1n << 39n), btfPath: '/nonexistent' })).toThrow(/no BTF/);
  });

  it('names the missing BTF file and the kernel option', () => {
    expect(() => preflight({ ...here, capabilities: ALL_CAPABILITIES, btfPath: '/nonexistent/vmlinux' })).toThrow(
      /this kernel has no BTF \(\/nonexistent\/vmlinux is missing\).*CONFIG_DEBUG_INFO_BTF=y/,
    );
  });

  it('tells how to build a missing BPF object', () => {
    expect(() => preflight({ ...here, capabilities: ALL_CAPABILITIES, btfPath: '/proc/self/status', objectPath: '/nonexistent.o' })).toThrow(
      /npm run setup/,
    );
  });
});
