/**
 * The address a request is counted, limited and banned under. By default the socket's peer: behind
 * a reverse proxy that is the proxy, for every user. With trusted proxies (`trustProxy`), a request
 * whose socket comes from one of them is taken to be from the address its X-Forwarded-For names:
 * the rightmost entry that is not itself a trusted proxy, since entries to the left of what the
 * proxy appended are whatever the client wrote. From any other socket the header is ignored, so a
 * client cannot name its own address.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { GradroomError } from '@gradroom/core';

/** One spelling per address: an IPv4-mapped IPv6 address ('::ffff:10.0.0.1') as plain IPv4, lower case. */
export function canonicalAddress(addr: string): string {
  const a = addr.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1] : a;
}

/** Checks and canonicalizes the trusted proxies' addresses; a name or a range is a configuration error. */
export function trustedProxies(list: readonly string[]): ReadonlySet<string> {
  for (const a of list) {
    if (isIP(a.trim()) === 0) {
      throw new GradroomError('BAD_CONFIG', `a trusted proxy must be an IP address (no names, no ranges), got "${a}"`);
    }
  }
  return new Set(list.map(canonicalAddress));
}

/** Returns the function that gives a request's client address under these trusted proxies. */
export function clientAddress(trusted: ReadonlySet<string>): (req: IncomingMessage) => string {
  return (req) => {
    if (trusted.size === 0) return req.socket.remoteAddress ?? '?';
    const peer = canonicalAddress(req.socket.remoteAddress ?? '?');
    if (!trusted.has(peer)) return peer;
    // repeated headers arrive joined with ', '; a proxy appends the address it saw on the right
    const header = req.headers['x-forwarded-for'];
    const hops = (typeof header === 'string' ? header : '').split(',').map(canonicalAddress);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      if (trusted.has(hop)) continue;
      // a malformed entry where the proxy's own should be: the proxy's word is not usable, so its address
      return isIP(hop) === 0 ? peer : hop;
    }
    return peer;
  };
}
