/**
 * When a volunteer tab should try to join its room again, and after how long. The host reloading
 * (or not there yet) is normal in a classroom: the tab keeps trying with backoff, bounded, and
 * says why. A wrong token, a full room or a volunteer's own choice end it.
 */

/** Why the last attempt ended, in the words the room server and the volunteer use. */
export type RetryVerdict = { retry: true; waitingFor: 'host' | 'connection' } | { retry: false };

export function shouldRetry(reason: string): RetryVerdict {
  const r = reason.toLowerCase();
  if (
    /paused by the volunteer|left from the page|tab closed|wrong token|unknown room|room is full|refused: the coordinator|expired/.test(
      r,
    )
  )
    return { retry: false };
  if (/coordinator (is not connected|left)|host ?gone|no coordinator/.test(r))
    return { retry: true, waitingFor: 'host' };
  if (/channel closed|room server|connection|data channel|closed the connection|timed? ?out|coordinator ended/.test(r))
    return { retry: true, waitingFor: 'connection' };
  return { retry: false };
}

/** Backoff: 1, 2, 4, 8 s, then every 10 s; `attempt` counts from 0. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt));
}

/** Attempts before the tab gives up and offers a button instead (about ten minutes). */
export const MAX_ATTEMPTS = 64;
