/**
 * Who may talk to the dashboard. Three checks, the same for HTTP and for the WebSocket upgrade:
 *   1. Host: exactly one Host header (two are refused, 400), naming a loopback name, or the address the server listens on (with --listen 0.0.0.0 / ::,
 *      any address of this machine or its host name). Anything else is refused (403): a page
 *      whose DNS name was rebound to 127.0.0.1 still sends its own name as Host.
 *   2. Token: required when the server listens on a non-loopback address (or --token is given).
 *      Given as ?token=, as "Authorization: Bearer", or as the cookie set when a ?token= was
 *      accepted (so the page's own requests and its WebSocket carry it). Without it: 401.
 *   3. Origin (WebSocket only): a browser's upgrade must come from the page's own origin; a
 *      foreign Origin is refused (403). Clients that send no Origin (not browsers) pass.
 */
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback } from '../base/addresses.ts';

export interface AccessPolicy {
  /** the token every request must carry, or null when none is needed */
  readonly token: string | null;
  /** host names (lower case, no port, IPv6 without brackets) accepted besides the loopback names */
  readonly hosts: ReadonlySet<string>;
}

/** --listen accepts IP addresses and "localhost"; returns why not, or null. */
export function listenAddressProblem(address: string): string | null {
  if (address === 'localhost' || isIP(address) !== 0) return null;
  return `--listen needs an IP address of this machine such as 127.0.0.1, ::1 or 0.0.0.0, got "${address}"`;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The policy for a listening address: a token (given or generated) whenever it is not loopback. */
export function accessPolicy(listen: string, token: string | null): AccessPolicy {
  const hosts = new Set<string>([listen.toLowerCase()]);
  if (isWildcard(listen)) {
    hosts.add(hostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) hosts.add(a.address.toLowerCase().replace(/%.*$/, ''));
    }
  }
  return { token: token ?? (isLoopback(listen) ? null : generateToken()), hosts };
}

/** The host name of a Host header ("[::1]:7070" -> "::1", "Example.com:80" -> "example.com"), or null when malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header || header.length > 300) return null;
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  const plain = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(header);
  return plain ? plain[1]!.toLowerCase().replace(/\.$/, '') : null;
}

export function hostAllowed(policy: AccessPolicy, header: string | undefined): boolean {
  const host = hostOf(header);
  return host !== null && (isLoopback(host) || policy.hosts.has(host));
}

/** A WebSocket upgrade's Origin must be the page's own: scheme http(s), and host:port equal to Host. */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser: browsers always send Origin on a WebSocket
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
}

export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieName(port: number): string {
  return `bpfheat_token_${port}`;
}

function cookie(headers: IncomingHttpHeaders, name: string): string | null {
  const header = headers.cookie;
  if (!header || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Where a request's token came from, if it carries one. */
export function tokenOf(headers: IncomingHttpHeaders, query: URLSearchParams, port: number): { token: string; from: 'query' | 'header' | 'cookie' } | null {
  const fromQuery = query.get('token');
  if (fromQuery !== null) return { token: fromQuery, from: 'query' };
  const auth = headers.authorization;
  if (auth && /^Bearer /i.test(auth)) return { token: auth.slice(7).trim(), from: 'header' };
  const fromCookie = cookie(headers, cookieName(port));
  return fromCookie === null ? null : { token: fromCookie, from: 'cookie' };
}

/** The Set-Cookie value that lets a page that arrived with ?token= make its own requests. */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

export type Verdict = { readonly ok: true; readonly setCookie: boolean } | { readonly ok: false; readonly status: 400 | 401 | 403; readonly message: string };

/** How many times a header appears in a request's raw [name, value, name, value, ...] list. */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) count++;
  return count;
}

/**
 * Host and token checks of one request (HTTP or upgrade). `rawHeaders` are the headers as sent:
 * Node keeps only the first of two Host headers, and a proxy in front may have read the other.
 */
export function checkRequest(policy: AccessPolicy, headers: IncomingHttpHeaders, rawHeaders: readonly string[], query: URLSearchParams, port: number): Verdict {
  const hosts = headerCount(rawHeaders, 'host');
  if (hosts > 1) return { ok: false, status: 400, message: `the request has ${hosts} Host headers: send exactly one` };
  if (!hostAllowed(policy, headers.host)) {
    return { ok: false, status: 403, message: `host "${String(headers.host ?? '').slice(0, 100)}" is not this dashboard's address: use the URL bpfheat printed` };
  }
  if (policy.token === null) return { ok: true, setCookie: false };
  const given = tokenOf(headers, query, port);
  if (!given || !tokenMatches(given.token, policy.token)) {
    return { ok: false, status: 401, message: 'a valid token is needed: open the URL bpfheat printed at start (it ends in ?token=...)' };
  }
  return { ok: true, setCookie: given.from === 'query' };
}
