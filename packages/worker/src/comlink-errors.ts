/**
 * GradroomError across comlink: its default 'throw' handler keeps only message, name and stack, so
 * a worker's BAD_CONFIG or STALE arrived as a plain Error. Both sides of a comlink seam (the worker
 * entry points and the coordinator's handles) register this once; the code then survives the trip
 * and the error arrives as a GradroomError.
 */
import { type ErrorCode, GradroomError } from '@gradroom/core';
import * as Comlink from 'comlink';

interface Serialized {
  isError: boolean;
  value: { message: string; name: string; stack?: string; code?: string };
}

let registered = false;

export function registerComlinkErrors(): void {
  if (registered) return;
  registered = true;
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, Serialized>;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown) {
      const [s, transfers] = base.serialize(thrown);
      const err = (thrown as { value?: unknown }).value;
      if (s.isError && err instanceof GradroomError) s.value.code = err.code;
      return [s, transfers];
    },
    deserialize(s: Serialized) {
      if (s.isError && typeof s.value.code === 'string') {
        const e = new GradroomError(s.value.code as ErrorCode, s.value.message);
        if (s.value.stack) e.stack = s.value.stack;
        throw e;
      }
      return base.deserialize(s);
    },
  } as Comlink.TransferHandler<unknown, Serialized>);
}
