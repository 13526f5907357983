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
