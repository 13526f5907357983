/**
 * Short-lived TURN credentials, the TURN REST API scheme that coturn's `use-auth-secret` checks:
 * username "expiry:name" (expiry in Unix seconds), password base64(HMAC-SHA1(secret, username)).
 * The room server shares the secret with coturn and mints a pair for each member as it joins, so a
 * credential that leaks stops working after its TTL and names whom it was given to.
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '@gradroom/core';

export function turnCredentials(
  secret: string,
  name: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${name}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

const isTurn = (s: IceServer) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u));

/** `servers` with fresh credentials on each TURN entry that has none of its own. */
export function withTurnCredentials(
  servers: IceServer[],
  secret: string | undefined,
  name: string,
  ttlSeconds: number,
): IceServer[] {
  if (!secret) return servers;
  return servers.map((s) =>
    isTurn(s) && s.username === undefined ? { ...s, ...turnCredentials(secret, name, ttlSeconds) } : s,
  );
}
