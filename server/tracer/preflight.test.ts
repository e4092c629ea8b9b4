import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../base/errors.ts';
import { currentEnvironment, DEFAULT_MODE, missingKernelFeature, preflight } from './tracer.ts';

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

/** This kernel's BTF, when it names everything every mode needs (Linux 6.5 or later): the tests take names out of it. */
const completeBtf = ((): Buffer | null => {
  if (!existsSync('/sys/kernel/btf/vmlinux')) return null;
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  return ['bpf_rdonly_cast', 'btf_trace_block_io_start'].every((name) => btf.includes(`\0${name}\0`)) ? btf : null;
})();

describe.skipIf(completeBtf === null)(`missingKernelFeature${completeBtf ? '' : ' (skipped: no BTF, or a kernel older than 6.5)'}`, () => {
  const modes = { default: DEFAULT_MODE, startMap: { startMap: true, exemplars: true }, exemplarsOff: { startMap: false, exemplars: false } };
  const btf = completeBtf ?? Buffer.alloc(0);
  /** This kernel's BTF with one name made unrecognisable, as a kernel without it would have. */
  const without = (name: string): Buffer => {
    const copy = Buffer.from(btf);
    const at = copy.indexOf(`\0${name}\0`);
    expect(at).toBeGreaterThan(0);
    copy[at + 1] = 'X'.charCodeAt(0);
    return copy;
  };

  it('finds everything every mode needs in this kernel', () => {
    for (const mode of Object.values(modes)) expect(missingKernelFeature(btf, mode)).toBeNull();
  });

  it('asks a kernel without block_io_start for --exemplars off or --start-map, which do without it', () => {
    const older = without('btf_trace_block_io_start');
    expect(missingKernelFeature(older, modes.default)).toMatch(/no block_io_start tracepoint \(Linux 6\.5\).*--exemplars off, or with --start-map/);
    expect(missingKernelFeature(older, modes.startMap)).toBeNull();
    expect(missingKernelFeature(older, modes.exemplarsOff)).toBeNull();
  });

  it('names Linux 6.2 to a kernel without bpf_rdonly_cast, in every mode', () => {
    const older = without('bpf_rdonly_cast');
    for (const mode of Object.values(modes)) expect(missingKernelFeature(older, mode)).toMatch(/no bpf_rdonly_cast.*Linux 6\.2 or later/);
  });
});
