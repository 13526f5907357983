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

/** Equality whose time does not depend on where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
