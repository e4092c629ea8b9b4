import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import {
  accessPolicy,
  checkRequest,
  hostAllowed,
  hostOf,
  listenAddressProblem,
  originAllowed,
  tokenCookie,
  tokenMatches,
  tokenOf,
} from './security.ts';
import { isLoopback } from '../base/addresses.ts';

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true], ['127.0.0.2', true], ['127.255.255.254', true], ['::1', true], ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true], ['localhost', true], ['LOCALHOST.', true], ['app.localhost', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['128.0.0.1', false], ['::ffff:10.0.0.1', false],
    ['localhost.example', false], ['127.0.0.1.example', false], ['', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe('hostOf', () => {
  it.each([
    ['localhost:7070', 'localhost'], ['Example.COM', 'example.com'], ['example.com.:80', 'example.com'], ['[::1]:7070', '::1'], ['[::1]', '::1'],
    ['127.0.0.1', '127.0.0.1'], [undefined, null], ['', null], ['a b', null], ['x:y:z', null], ['[::1', null], ['host:99999999', null], ['a/b', null],
  ])('%s -> %s', (header, expected) => {
    expect(hostOf(header)).toBe(expected);
  });
});

describe('accessPolicy', () => {
  it('needs no token on loopback, unless one is given', () => {
    expect(accessPolicy('127.0.0.1', null).token).toBeNull();
    expect(accessPolicy('::1', null).token).toBeNull();
    expect(accessPolicy('127.0.0.1', 'given-token-of-length').token).toBe('given-token-of-length');
  });

  it('generates a fresh token for any other address', () => {
    const a = accessPolicy('0.0.0.0', null).token;
    const b = accessPolicy('0.0.0.0', null).token;
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
    expect(accessPolicy('0.0.0.0', 'given-token-of-length').token).toBe('given-token-of-length');
  });

  it('accepts the listening address and loopback names as Host; a wildcard adds this machine', () => {
    const specific = accessPolicy('10.9.8.7', null);
    expect(hostAllowed(specific, '10.9.8.7:7070')).toBe(true);
    expect(hostAllowed(specific, 'localhost:7070')).toBe(true);
    expect(hostAllowed(specific, '10.9.8.6:7070')).toBe(false);
    expect(hostAllowed(specific, 'evil.example')).toBe(false);
    const wildcard = accessPolicy('0.0.0.0', null);
    expect(hostAllowed(wildcard, `${hostname()}:7070`)).toBe(true);
    expect(hostAllowed(wildcard, 'evil.example:7070')).toBe(false);
    expect(hostAllowed(wildcard, undefined)).toBe(false);
  });
});

describe('listenAddressProblem', () => {
  it.each([['127.0.0.1', null], ['0.0.0.0', null], ['::', null], ['localhost', null], ['fe80::1', null]])('%s is fine', (address, expected) => {
    expect(listenAddressProblem(address)).toBe(expected);
  });
  it.each(['my host', 'example.com', '999.1.1.1', '', '127.0.0.1:80'])('%s is refused', (address) => {
    expect(listenAddressProblem(address)).toMatch(/--listen needs an IP address/);
  });
});

describe('originAllowed', () => {
  it.each([
    [undefined, 'localhost:7070', true],
    ['http://localhost:7070', 'localhost:7070', true],
    ['https://LOCALHOST:7070', 'localhost:7070', true],
    ['http://localhost:7071', 'localhost:7070', false],
    ['http://evil.example', 'localhost:7070', false],
    ['null', 'localhost:7070', false],
    ['file://', 'localhost:7070', false],
    ['chrome-extension://abc', 'abc', false],
    ['http://localhost:7070', undefined, false],
  ])('Origin %s with Host %s -> %s', (origin, host, expected) => {
    expect(originAllowed(origin, host)).toBe(expected);
  });
});

describe('tokens', () => {
  it('compares in constant time, and only equal strings match', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(null, 'abc')).toBe(false);
  });

  it('reads the token from the query, then a Bearer header, then the cookie of this port', () => {
    const q = (s: string): URLSearchParams => new URLSearchParams(s);
    expect(tokenOf({}, q('token=t1'), 7070)).toEqual({ token: 't1', from: 'query' });
    expect(tokenOf({ authorization: 'Bearer t2' }, q(''), 7070)).toEqual({ token: 't2', from: 'header' });
    expect(tokenOf({ cookie: 'a=b; bpfheat_token_7070=t3' }, q(''), 7070)).toEqual({ token: 't3', from: 'cookie' });
    expect(tokenOf({ cookie: 'bpfheat_token_7071=t3' }, q(''), 7070)).toBeNull();
    expect(tokenOf({}, q(''), 7070)).toBeNull();
    expect(tokenCookie(7070, 'tok')).toBe('bpfheat_token_7070=tok; Path=/; HttpOnly; SameSite=Strict');
  });

  it('checkRequest: one Host (400 for two), Host first (403), then the token (401); a token from the query sets the cookie', () => {
    const policy = accessPolicy('0.0.0.0', 'the-token-the-user-gave');
    const q = (s: string): URLSearchParams => new URLSearchParams(s);
    const raw = (headers: Record<string, string>): string[] => Object.entries(headers).flat();
    const check = (p: typeof policy, headers: Record<string, string>, query: string) => checkRequest(p, headers, raw(headers), q(query), 1);
    expect(check(policy, { host: 'evil.example' }, 'token=the-token-the-user-gave')).toMatchObject({ ok: false, status: 403 });
    expect(check(policy, { host: 'localhost:1' }, '')).toMatchObject({ ok: false, status: 401 });
    expect(check(policy, { host: 'localhost:1' }, 'token=the-token-the-user-gave')).toEqual({ ok: true, setCookie: true });
    expect(check(policy, { host: 'localhost:1', authorization: 'Bearer the-token-the-user-gave' }, '')).toEqual({ ok: true, setCookie: false });
    expect(check(accessPolicy('127.0.0.1', null), { host: '127.0.0.1:1' }, '')).toEqual({ ok: true, setCookie: false });
    const twoHosts = checkRequest(accessPolicy('127.0.0.1', null), { host: '127.0.0.1:1' }, ['Host', '127.0.0.1:1', 'HOST', 'evil.example'], q(''), 1);
    expect(twoHosts).toEqual({ ok: false, status: 400, message: 'the request has 2 Host headers: send exactly one' });
  });
});
