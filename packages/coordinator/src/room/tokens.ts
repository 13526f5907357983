/** Room tokens and host keys: 160 random bits each, URL-safe; compared in constant time. */

/** A fresh secret of `bytes` random bytes (default 20, i.e. 160 bits), base64url without padding. */
export function randomToken(bytes = 20): string {
  if (bytes < 16) throw new Error('a room secret needs at least 128 bits');
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A short room code's letters: no 0/O, 1/I/L, so a student copies it off a projector without doubt. */
export const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 6;

/**
 * A random short room code (31^6, about 8.9e8 codes). Not a secret on its own: guesses are
 * rate-limited per address (http-front.ts), and the code lives only as long as its room.
 */
export function randomCode(): string {
  const b = new Uint32Array(CODE_LENGTH);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += CODE_ALPHABET[x % CODE_ALPHABET.length];
  return s;
}

/** A code as typed (any case, spaces or a dash in the middle) in its stored form, or null. */
export function normalizeCode(typed: string): string | null {
  const c = typed.replace(/[\s-]/g, '').toUpperCase();
  if (c.length !== CODE_LENGTH) return null;
  for (const ch of c) if (!CODE_ALPHABET.includes(ch)) return null;
  return c;
}

/** Equality whose time does not depend on where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
