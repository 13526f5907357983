/** A minimal typed event emitter that runs in Node and browsers alike. */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private listeners = new Map<keyof Events, Set<(e: never) => void>>();

  on<K extends keyof Events>(type: K, fn: (e: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(fn as (e: never) => void);
    return () => set.delete(fn as (e: never) => void);
  }

  protected emit<K extends keyof Events>(type: K, e: Events[K]): void {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        (fn as (e: Events[K]) => void)(e);
      } catch (err) {
        // a listener's bug must not stop the training run
        console.error(`gradroom: a '${String(type)}' listener threw:`, err);
      }
    }
  }
}
