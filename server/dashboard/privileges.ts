/**
 * Giving up root once the BPF object is loaded and its maps and links are open: file descriptors
 * opened before keep working (STACK.md), and nothing the dashboard does afterwards needs root.
 *
 * Order matters: supplementary groups, then the group, then the user (after setuid the process
 * may no longer change its groups). It must run on the main thread (Node refuses in workers).
 */
import { userInfo } from 'node:os';
import { UserError } from '../base/errors.ts';

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  /** the user name, or "uid N" when the password database has none */
  readonly user: string;
}

/** Who to become: the user who ran sudo, else nobody. Numbers are ids; strings are names. */
export interface DropTarget {
  readonly uid: number | 'nobody';
  readonly gid: number | 'nogroup';
  readonly why: string;
}

const ID = /^\d{1,10}$/;

function idFrom(value: string | undefined): number | null {
  if (value === undefined || !ID.test(value)) return null;
  const id = Number(value);
  // 0 is root itself (sudo run by root); 2^32 - 1 is (uid_t)-1, "no change" to the kernel.
  return id > 0 && id < 2 ** 32 - 1 ? id : null;
}

export function dropTarget(env: Readonly<Record<string, string | undefined>>): DropTarget {
  const uid = idFrom(env.SUDO_UID);
  const gid = idFrom(env.SUDO_GID);
  if (uid !== null && gid !== null) return { uid, gid, why: 'SUDO_UID/SUDO_GID' };
  return { uid: 'nobody', gid: 'nogroup', why: 'nobody (no usable SUDO_UID/SUDO_GID)' };
}

export function currentUser(): RunAs {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  let user = `uid ${uid}`;
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid (e.g. a SUDO_UID from another system): keep the number
  }
  return { uid, gid, user };
}

function setGroup(gid: number | 'nogroup'): void {
  if (typeof gid === 'number') {
    process.setgid!(gid);
    return;
  }
  // Debian calls the unprivileged group nogroup; Fedora and Arch call it nobody.
  for (const name of ['nogroup', 'nobody']) {
    try {
      process.setgid!(name);
      return;
    } catch {
      // try the next name
    }
  }
  process.setgid!(65534);
}

/**
 * When running as root, becomes the target user for good (real, effective and saved ids) and
 * checks that root cannot be taken back. Does nothing for an unprivileged process.
 */
export function dropPrivileges(env: Readonly<Record<string, string | undefined>> = process.env): RunAs {
  if (typeof process.getuid !== 'function' || typeof process.setuid !== 'function' || !process.setgroups || !process.setgid) {
    return currentUser(); // not a POSIX system: nothing to drop
  }
  if (process.getuid() !== 0 && process.geteuid!() !== 0) return currentUser();
  const target = dropTarget(env);
  try {
    process.setgroups([]);
    setGroup(target.gid);
    process.setuid(target.uid);
  } catch (error) {
    throw new UserError(`could not give up root (to ${target.why}): ${error instanceof Error ? error.message : String(error)}`);
  }
  let regained = false;
  try {
    process.setuid(0);
    regained = true;
  } catch {
    // expected: EPERM
  }
  if (regained || process.geteuid!() === 0) throw new UserError('gave up root but could take it back: refusing to serve as root');
  return currentUser();
}
