/**
 * Child process of attach-after-drop.kernel.test.ts (giving up root cannot be undone, so not in
 * the test's own process): opens the tracer as root, gives up root with the dashboard's own code,
 * then attaches the issue program for unstamped devices as the dashboard would. Prints one JSON
 * line, waits for a line on stdin (the test's I/O is done), then prints how often the program ran.
 */
import { once } from 'node:events';
import * as bpf from '../server/tracer/libbpf.ts';
import { Tracer } from '../server/tracer/tracer.ts';
import { dropPrivileges } from '../server/dashboard/privileges.ts';

const statsFd = bpf.enableRunTimeStats();
const tracer = Tracer.open(1000);
const user = dropPrivileges({});
let attached: boolean | string;
try {
  attached = tracer.timeUnstampedDevices();
} catch (error) {
  attached = error instanceof Error ? error.message : String(error);
}
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), user: user.user, attached, programs: tracer.programs.map((p) => p.name) })}\n`);
await once(process.stdin, 'data');
const issue = tracer.programs.find((p) => p.name === 'time_rq_issue');
process.stdout.write(`${JSON.stringify({ runs: issue ? bpf.programRunStats(issue.fd).runCount : 0 })}\n`);
tracer.close();
bpf.closeFd(statsFd);
