/**
 * The chart history of the saved run, kept in IndexedDB next to the coordinator's checkpoint, so
 * "Continue the saved run" shows the whole run, not only what comes after the resume point.
 * Saved with each checkpoint (every few seconds of training, each epoch, and on stop), with the
 * per-person ledger and the run's clock, so a reloaded page goes on with every figure it showed.
 */
import type { RosterRecord } from './roster.js';
import type { SeriesRecord } from './series.js';

const DB = 'gradroom-host';
const STORE = 'history';
const KEY = 'host-run';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export interface SavedHistory {
  /** The checkpoint's iteration this history goes with. */
  iteration: number;
  series: SeriesRecord;
  /** The per-person ledger at that iteration (absent in histories saved before it existed). */
  roster?: RosterRecord;
  /** Seconds the run had trained by then, and the α changes made by hand. */
  seconds?: number;
  lrChanges?: { iteration: number; lr: number }[];
}

export async function saveHistory(h: SavedHistory): Promise<void> {
  try {
    await tx('readwrite', (s) => s.put(h, KEY));
  } catch (e) {
    console.warn(`the chart history could not be saved: ${(e as Error).message}`);
  }
}

export async function loadHistory(): Promise<SavedHistory | null> {
  const v = (await tx('readonly', (s) => s.get(KEY))) as SavedHistory | undefined;
  return v && typeof v.iteration === 'number' && v.series ? v : null;
}
