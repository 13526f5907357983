/**
 * Checkpoints in a browser's IndexedDB. Each save is one put of the whole encoded checkpoint in one
 * readwrite transaction, so a reader sees either the previous checkpoint or the new one, never a mix;
 * save() resolves only once the transaction has committed.
 */
import type { CheckpointStore } from './checkpoint.js';

export interface IndexedDbCheckpointOptions {
  /** Database name (default 'gradroom'). */
  database?: string;
  /** Object store name (default 'checkpoints'). */
  store?: string;
  /** The record this store reads and writes, e.g. one per room or run (default 'latest'). */
  key?: string;
  /** The IndexedDB factory (default globalThis.indexedDB). */
  indexedDB?: IDBFactory;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction was aborted'));
  });
}

export class IndexedDbCheckpointStore implements CheckpointStore {
  readonly database: string;
  readonly store: string;
  readonly key: string;
  private readonly factory: IDBFactory;
  private db?: Promise<IDBDatabase>;

  constructor(opts: IndexedDbCheckpointOptions = {}) {
    this.database = opts.database ?? 'gradroom';
    this.store = opts.store ?? 'checkpoints';
    this.key = opts.key ?? 'latest';
    const factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new Error('IndexedDB is not available here (use FileCheckpointStore in Node)');
    this.factory = factory;
  }

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      const req = this.factory.open(this.database, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(this.store)) req.result.createObjectStore(this.store);
      };
      this.db = request(req).then((db) => {
        // another tab upgrading the database: let it, and reopen on the next call
        db.onversionchange = () => {
          db.close();
          this.db = undefined;
        };
        db.onclose = () => {
          this.db = undefined;
        };
        return db;
      });
      this.db.catch(() => {
        this.db = undefined;
      });
    }
    return this.db;
  }

  async save(bytes: Uint8Array): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(this.store, 'readwrite', { durability: 'strict' });
    const done = committed(tx);
    // an own copy of exactly these bytes (a view may cover a larger buffer)
    tx.objectStore(this.store).put(bytes.slice(), this.key);
    await done;
  }

  async load(): Promise<Uint8Array | null> {
    const db = await this.open();
    const tx = db.transaction(this.store, 'readonly');
    const value = await request(tx.objectStore(this.store).get(this.key));
    if (value === undefined) return null;
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    throw new Error(`IndexedDB record ${this.database}/${this.store}/${this.key} is not a checkpoint`);
  }

  /** Removes this store's checkpoint. */
  async clear(): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(this.store, 'readwrite');
    const done = committed(tx);
    tx.objectStore(this.store).delete(this.key);
    await done;
  }

  /** Closes the database connection (it reopens on the next call). */
  close(): void {
    void this.db?.then((db) => db.close()).catch(() => {});
    this.db = undefined;
  }
}
