/**
 * The chart history of the saved run, kept in IndexedDB next to the coordinator's checkpoint, so
 * "Continue the saved run" shows the whole run, not only what comes after the resume point.
 * Saved with each checkpoint (each epoch, and on stop).
 */
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
}

export async function saveHistory(series: SeriesRecord, iteration: number): Promise<void> {
  try {
    await tx('readwrite', (s) => s.put({ iteration, series } satisfies SavedHistory, KEY));
  } catch (e) {
    console.warn(`the chart history could not be saved: ${(e as Error).message}`);
  }
}

export async function loadHistory(): Promise<SavedHistory | null> {
  const v = (await tx('readonly', (s) => s.get(KEY))) as SavedHistory | undefined;
  return v && typeof v.iteration === 'number' && v.series ? v : null;
}
