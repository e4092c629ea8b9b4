/**
 * Giving up root: started as root, the dashboard runs as nobody (or as the SUDO_UID/SUDO_GID user)
 * before it serves anything, and /api/meta says so. Checked against the kernel's view of the
 * process too (/proc/PID/status: every uid and gid, supplementary groups, capabilities).
 *
 * With the default bpf source this needs root and BPF; without root it is skipped, except under
 * CI=true, where it must run (CI runs as root).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopDevice, directIo, type LoopDevice } from './kernel.ts';
import { Recorder, serve, sleep, wsUrl, type Served } from './server-harness.ts';

const isRoot = process.getuid?.() === 0;
const skipReason = isRoot ? null : 'dropping root needs root: run as root (sudo npm test)';
if (skipReason && process.env.CI === 'true') throw new Error(`CI=true, so these tests may not skip: ${skipReason}`);

interface ProcStatus {
  readonly uids: number[];
  readonly gids: number[];
  readonly groups: number[];
  readonly capEff: bigint;
}

function procStatus(pid: number): ProcStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1] ?? '';
  const numbers = (s: string): number[] => s.split(/\s+/).filter(Boolean).map(Number);
  return { uids: numbers(field('Uid')), gids: numbers(field('Gid')), groups: numbers(field('Groups')), capEff: BigInt(`0x${field('CapEff')}`) };
}

interface Meta {
  readonly source: string;
  readonly user: { uid: number; gid: number; user: string };
  readonly selfStatsRequested: boolean;
  readonly selfStats: {
    programs: { name: string; runCount: number; runTimeNs: number; nsPerEvent: number; eventsPerSecond: number; recursionMisses: number }[];
    missedStart: number;
  } | null;
}

async function meta(served: Served): Promise<Meta> {
  const res = await served.get('/api/meta');
  expect(res.status).toBe(200);
  return res.body as Meta;
}

describe.skipIf(skipReason !== null)('started as root with the synthetic source', () => {
  it('runs as nobody, with no groups and no capabilities, and /api/meta says so', async () => {
    const env: Record<string, string> = { SUDO_UID: '', SUDO_GID: '' };
    const served = await serve(['--source', 'synthetic', '--port', '0', '--interval', '100'], env);
    try {
      expect(served.line).toMatch(/running as nobody\)/);
      const m = await meta(served);
      expect(m.user).toEqual({ uid: 65534, gid: 65534, user: 'nobody' });
      const status = procStatus(served.child.pid!);
      expect(status.uids).toEqual([65534, 65534, 65534, 65534]); // real, effective, saved, fs
      expect(status.gids).toEqual([65534, 65534, 65534, 65534]);
      expect(status.groups).toEqual([]);
      expect(status.capEff).toBe(0n);
    } finally {
      expect((await served.stop()).code).toBe(0);
    }
  });

  it('runs as the SUDO_UID/SUDO_GID user when sudo started it', async () => {
    const served = await serve(['--source', 'synthetic', '--port', '0', '--interval', '100'], { SUDO_UID: '4321', SUDO_GID: '4322' });
    try {
      const m = await meta(served);
      expect(m.user.uid).toBe(4321);
      expect(m.user.gid).toBe(4322);
      const status = procStatus(served.child.pid!);
      expect(status.uids).toEqual([4321, 4321, 4321, 4321]);
      expect(status.gids).toEqual([4322, 4322, 4322, 4322]);
      expect(status.capEff).toBe(0n);
    } finally {
      await served.stop();
    }
  });
});

describe.skipIf(skipReason !== null)('started as root with the bpf source (the default)', () => {
  let served: Served;
  let loop: LoopDevice;
  let statsBefore: string | null = null;

  beforeAll(async () => {
    try {
      statsBefore = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    } catch {
      statsBefore = null;
    }
    loop = createLoopDevice(16);
    served = await serve(['--port', '0', '--self-stats'], { SUDO_UID: '', SUDO_GID: '' });
  });

  afterAll(async () => {
    await served?.stop();
    loop?.remove();
  });

  it('has loaded BPF and given up root before serving: /api/meta shows nobody', async () => {
    const m = await meta(served);
    expect(m.source).toBe('bpf');
    expect(m.user).toEqual({ uid: 65534, gid: 65534, user: 'nobody' });
    const status = procStatus(served.child.pid!);
    expect(status.uids).toEqual([65534, 65534, 65534, 65534]);
    expect(status.capEff).toBe(0n);
  });

  it('still reads the kernel after the drop, and reports what watching costs (--self-stats)', async () => {
    directIo(loop, 'write', 200);
    await sleep(2500); // two 1-s columns: the I/O is in a column that has been read
    const m = await meta(served);
    expect(m.selfStatsRequested).toBe(true);
    expect(m.selfStats).not.toBeNull();
    const programs = m.selfStats!.programs;
    expect(programs.length).toBeGreaterThanOrEqual(2);
    const ran = programs.filter((p) => p.runCount > 0);
    expect(ran.length).toBeGreaterThanOrEqual(2); // issue and completion both ran
    // run time is only counted while BPF statistics are on: --self-stats turned them on
    for (const p of ran) {
      expect(p.nsPerEvent).toBeGreaterThan(0);
      expect(p.nsPerEvent).toBeCloseTo(p.runTimeNs / p.runCount, 3);
      expect(p.eventsPerSecond).toBeGreaterThanOrEqual(0);
      expect(p.recursionMisses).toBeGreaterThanOrEqual(0);
    }

    // The same numbers reach a client in hello, and the loop device's writes are in the columns.
    const client = await Recorder.open(wsUrl(served));
    await client.until((r) => r.some((x) => x.message.type === 'live'), 15_000, 'live');
    await client.close();
    const hello = client.messages()[0]!;
    if (hello.type !== 'hello') throw new Error('first message is not hello');
    expect(hello.source).toBe('bpf');
    expect(hello.selfStats?.programs.map((p) => p.name).sort()).toEqual(programs.map((p) => p.name).sort());
    const device = hello.devices.find((d) => d.name === loop.name);
    expect(device, `${loop.name} in ${JSON.stringify(hello.devices)}`).toBeDefined();
    let writes = 0;
    for (const m of client.messages()) {
      if (m.type !== 'column') continue;
      for (const s of m.column.series) if (s.metric === 'latency' && s.device === device!.id && s.op === 'write') writes += s.counts.reduce((a, b) => a + b, 0);
    }
    expect(writes).toBe(200);
  });

  it('stops cleanly, leaving the sysctl kernel.bpf_stats_enabled as it found it', async () => {
    // (--self-stats enables the statistics through a BPF_ENABLE_STATS file descriptor, which the
    // kernel releases when the process exits; the sysctl itself is never written.)
    const exit = await served.stop();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('');
    if (statsBefore !== null) expect(readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim()).toBe(statsBefore);
  });
});
