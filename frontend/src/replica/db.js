// Opening the replica's IndexedDB database: versioned migrations and the connection's error
// paths. Nothing here knows about sync; replica.js holds the rules.

import { openDB, deleteDB } from 'idb';

export const DB_NAME = 'teamtalk';

/**
 * Migrations, oldest first. Index i upgrades a database from version i to i + 1. Never edit a
 * shipped migration; add a new one (an old tab with the old schema may still be open).
 */
/** @type {((db: import('idb').IDBPDatabase<unknown>, tx: import('idb').IDBPTransaction<unknown, string[], 'versionchange'>) => void)[]} */
export const MIGRATIONS = [
  (db) => {
    // Confirmed state only: what the server accepted, merged. Key [collection, id].
    const records = db.createObjectStore('records', { keyPath: ['collection', 'id'] });
    records.createIndex('scope', 'scope');
    // Pending mutations in the order they were made. Never evicted.
    db.createObjectStore('outbox', { keyPath: 'mid' });
    // Mutations the server refused, with its reason, until the user retries or discards them.
    db.createObjectStore('failed', { keyPath: 'mid' });
    // device, user, session, nextMid, hlc, hlcSeen, offset, cursors, scopes, csrf.
    db.createObjectStore('meta');
  },
  (db) => {
    // Backfilled history in chunks of messages (held.js), key [scope, bucket]. Records already in
    // `records` stay there: a record's state is the merge of both (held.js, Rule 2).
    db.createObjectStore('held', { keyPath: ['scope', 'bucket'] });
  },
];

export const DB_VERSION = MIGRATIONS.length;

/** Every store the migrations make (a sign-out or a reply's transaction spans them all). */
export const STORES = ['records', 'outbox', 'failed', 'meta', 'held'];

/** Raised for storage failures the user must hear about. `kind` is 'quota' or 'storage'. */
export class StorageError extends Error {
  constructor(kind, cause) {
    super(cause?.message || kind);
    this.name = 'StorageError';
    this.kind = kind;
    this.cause = cause;
  }
}

export function isQuotaError(error) {
  return (
    error?.name === 'QuotaExceededError' ||
    error?.inner?.name === 'QuotaExceededError' ||
    error?.cause?.name === 'QuotaExceededError'
  );
}

/** Turn any IndexedDB failure into a StorageError the UI knows how to show. */
export function storageError(error) {
  if (error instanceof StorageError) return error;
  return new StorageError(isQuotaError(error) ? 'quota' : 'storage', error);
}

/**
 * Open the database. `events` are called when the connection can no longer be used:
 * - onBlocked(): our upgrade waits for another tab that holds an older version;
 * - onVersionChange(): another tab wants to upgrade; we have closed our connection;
 * - onTerminated(): the browser closed the connection (e.g. storage cleared).
 * @param {string} [name]
 * @param {{onBlocked?: () => void, onVersionChange?: () => void, onTerminated?: () => void}} [events]
 */
export async function openReplicaDB(name = DB_NAME, events = {}) {
  let db;
  try {
    db = await openDB(name, DB_VERSION, {
      upgrade(database, oldVersion, newVersion, tx) {
        for (let v = oldVersion; v < (newVersion ?? DB_VERSION); v++) MIGRATIONS[v](database, tx);
      },
      blocked() {
        events.onBlocked?.();
      },
      blocking() {
        db?.close();
        events.onVersionChange?.();
      },
      terminated() {
        events.onTerminated?.();
      },
    });
  } catch (error) {
    throw storageError(error);
  }
  return db;
}

export async function deleteReplicaDB(name = DB_NAME, events = {}) {
  await deleteDB(name, { blocked: () => events.onBlocked?.() });
}
