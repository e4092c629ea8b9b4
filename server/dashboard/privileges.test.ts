import { describe, expect, it } from 'vitest';
import { currentUser, dropPrivileges, dropTarget } from './privileges.ts';

describe('dropTarget', () => {
  it.each([
    [{ SUDO_UID: '1000', SUDO_GID: '1000' }, { uid: 1000, gid: 1000 }],
    [{ SUDO_UID: '1000', SUDO_GID: '27' }, { uid: 1000, gid: 27 }],
    [{}, { uid: 'nobody', gid: 'nogroup' }],
    [{ SUDO_UID: '1000' }, { uid: 'nobody', gid: 'nogroup' }], // both or neither
    [{ SUDO_UID: '0', SUDO_GID: '0' }, { uid: 'nobody', gid: 'nogroup' }], // sudo run by root: still give root up
    [{ SUDO_UID: '-1', SUDO_GID: '5' }, { uid: 'nobody', gid: 'nogroup' }],
    [{ SUDO_UID: 'abc', SUDO_GID: '5' }, { uid: 'nobody', gid: 'nogroup' }],
    [{ SUDO_UID: '4294967295', SUDO_GID: '5' }, { uid: 'nobody', gid: 'nogroup' }], // (uid_t)-1 means "no change"
    [{ SUDO_UID: '', SUDO_GID: '' }, { uid: 'nobody', gid: 'nogroup' }],
  ])('%j -> %j', (env, expected) => {
    expect(dropTarget(env)).toMatchObject(expected);
  });
});

describe('dropPrivileges', () => {
  // In the test process itself only the unprivileged path can run: dropping root here would
  // drop it for every test after. test/server-privileges.test.ts checks the drop on the real command.
  it.skipIf(process.getuid?.() === 0)('does nothing for an unprivileged process', () => {
    const before = currentUser();
    expect(dropPrivileges({ SUDO_UID: '1', SUDO_GID: '1' })).toEqual(before);
  });

  it('currentUser names the user it runs as', () => {
    const me = currentUser();
    expect(me.uid).toBe(process.getuid!());
    expect(me.gid).toBe(process.getgid!());
    expect(me.user.length).toBeGreaterThan(0);
  });
});
