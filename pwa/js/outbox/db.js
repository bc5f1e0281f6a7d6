/**
 * The outbox database: its name, version, stores and the one upgrade function.
 *
 * Used by the page and by the service worker alike. Evidence bytes are stored as
 * ArrayBuffer chunks, never as Blobs: Safari has failed to store Blobs in IndexedDB
 * ("Error preparing Blob/File data"), and chunks let a video be written and hashed
 * without holding it whole in memory.
 */
import { openDB } from '../../vendor/idb/index.js';

export const DB_NAME = 'roadwatch';
export const DB_VERSION = 1;

/** One row per report: the sealed body, media declarations, sync state. Key: report id. */
export const REPORTS = 'reports';
/** Evidence bytes: {mediaId, index, data: ArrayBuffer}. Key: [mediaId, index]. */
export const CHUNKS = 'chunks';
/** Small key/value rows: the device token, the change-feed cursor, the catalogue. */
export const META = 'meta';

/** Size of a stored chunk, and of one tus PATCH. */
export const CHUNK_SIZE = 1024 * 1024;

/** Create or migrate the schema. Each version adds to the previous; nothing is dropped. */
export function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    const reports = db.createObjectStore(REPORTS, { keyPath: 'id' });
    reports.createIndex('createdAt', 'createdAt');
    db.createObjectStore(CHUNKS, { keyPath: ['mediaId', 'index'] });
    db.createObjectStore(META, { keyPath: 'key' });
  }
}

let opening = null;

/** The open database, shared by every module of this page (or of the service worker). */
export function openOutbox() {
  opening ??= openDB(DB_NAME, DB_VERSION, {
    upgrade,
    blocking() {
      // A newer release wants to upgrade the schema: let it, and ask for a reload.
      opening?.then((db) => db.close());
      opening = null;
      globalThis.dispatchEvent?.(new Event('rw-db-outdated'));
    },
    terminated() {
      opening = null;
    },
  }).catch((err) => {
    opening = null;
    throw err;
  });
  return opening;
}
