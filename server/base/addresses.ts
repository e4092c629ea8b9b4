/** Network addresses: which ones are this machine's own (the dashboard's token rules, and whether a Prometheus answer is worth compressing). */
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1, their IPv4-mapped form and the name localhost (RFC 6761: also *.localhost). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

