/**
 * What the page needs of the sync engine before it is loaded: the Background Sync tag,
 * and the reports this context is sending right now (sync.js adds and removes them).
 */
export const SYNC_TAG = 'rw-outbox';
export const ACTIVE = new Set();

/** Reports this context is sending right now. */
export const activeIds = () => new Set(ACTIVE);
