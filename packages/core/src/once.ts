/** A promise settled once, with the first reason given: how handles say they are closed. */
export function settleOnce(): { promise: Promise<string>; settle: (reason: string) => void; settled: () => boolean } {
  let done = false;
  let resolve: (r: string) => void = () => {};
  const promise = new Promise<string>((r) => {
    resolve = r;
  });
  return {
    promise,
    settle: (reason) => {
      if (done) return;
      done = true;
      resolve(reason);
    },
    settled: () => done,
  };
}

/**
 * Makes calls reject as soon as `closed` settles (comlink never settles a call whose worker died).
 * Each pending call registers its reject and removes it when it settles, so a settled call leaves
 * nothing behind: racing every call against the long-lived `closed` promise instead kept every
 * result reachable until the worker closed (about 800 KiB an iteration).
 */
export function rejectWhenClosed(
  closed: Promise<string>,
  error: (reason: string) => Error,
): <T>(call: Promise<T>) => Promise<T> {
  const pending = new Set<(e: Error) => void>();
  let gone: Error | undefined;
  closed.then((reason) => {
    gone = error(reason);
    for (const reject of pending) reject(gone);
    pending.clear();
  });
  return <T>(call: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      if (gone) {
        call.catch(() => {});
        return reject(gone);
      }
      pending.add(reject);
      call.then(
        (v) => {
          pending.delete(reject);
          resolve(v);
        },
        (e) => {
          pending.delete(reject);
          reject(e);
        },
      );
    });
}
