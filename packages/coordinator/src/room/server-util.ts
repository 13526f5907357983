/**
 * Small helpers shared by the room server's HTTP front and its signalling hub: request targets,
 * refusals on a raw socket, log-safe error text, and the guard that keeps exceptions inside
 * listeners.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { cleanText } from '@gradroom/core';

/** An error's message, made safe for a log line. */
export function errText(e: unknown): string {
  return cleanText(e instanceof Error ? e.message : String(e), 200) || 'unknown error';
}

/** Rooms are keyed by the hash of their token, so the map never holds a usable secret. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The path of a request target, or null when it is not origin-form ('/...'). Parsed against a fixed
 * origin so that '//' or '//host/ws' stay paths here instead of naming another host.
 */
export function pathOf(target: string | undefined): string | null {
  if (!target?.startsWith('/')) return null;
  try {
    return new URL(`http://x${target}`).pathname;
  } catch {
    return null;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** Answers an upgrade request that will not become a WebSocket, then closes the socket. */
export function refuseUpgrade(socket: Socket, status: number, reason: string): void {
  if (socket.destroyed) return;
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/** A WebSocket close reason: at most 123 bytes of UTF-8 (ws throws on more), cut between characters. */
export function closeReason(s: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > 123) break;
    out += ch;
  }
  return out;
}

/**
 * Runs a listener's body: whatever it throws is logged and `answer` runs, so no listener can
 * throw (an exception out of an event listener would end the process).
 */
export function guard(log: (line: string) => void, where: string, body: () => void, answer?: () => void): void {
  try {
    body();
  } catch (e) {
    try {
      log(`${where} failed: ${errText(e)}`);
      answer?.();
    } catch {
      // the log or the answer failed too; nothing more to do for this event
    }
  }
}
