/**
 * The outbox: captures written to the phone before anything is sent.
 *
 * saveCapture() writes the record, then the evidence chunks while hashing them, then
 * reads every chunk back and hashes it again; only when both hashes agree is the record
 * sealed as `saved`. Nothing here deletes evidence the server has not acknowledged,
 * except deleteReport(), which only an explicit confirmation in the UI calls.
 * Every change is announced on the `rw-outbox` BroadcastChannel, so all tabs and the
 * service worker see it.
 */
import { CHUNK_SIZE, CHUNKS, META, REPORTS, openOutbox } from './db.js';
import { newRecord, putBody, uuidv7 } from './serialize.js';
import { streamingSha256 } from '../hash.js';
import { sealRecord } from '../signing.js';

export const CHANNEL = 'rw-outbox';
// Write this many bytes per transaction: a video never sits whole in memory.
const WRITE_BATCH = 8 * CHUNK_SIZE;
// A capture still `capturing` after this long was cut off (tab closed, crash).
const STALE_CAPTURE_MS = 60_000;

let channel = null;

/** Tell every tab and the service worker that a report changed. */
export function announce(id, extra = {}) {
  channel ??= new BroadcastChannel(CHANNEL);
  const message = { type: 'changed', id, ...extra };
  channel.postMessage(message);
  globalThis.dispatchEvent?.(new CustomEvent('rw-outbox', { detail: message }));
}

export class CaptureError extends Error {
  constructor(code, cause) {
    super(code);
    this.code = code;
    this.cause = cause;
  }
}

/**
 * Save a capture: `fields` from serialize.reportFields, `files` File objects, and
 * optionally `hashes` (promises of each file's SHA-256, started when it was picked).
 * Resolves with the sealed record once its bytes were read back and verified.
 */
export async function saveCapture(fields, files, { id = uuidv7(), hashes = [] } = {}) {
  const db = await openOutbox();
  const record = newRecord(id, fields, files);
  try {
    let pending = record; // the record rides in the first chunk transaction
    for (let i = 0; i < files.length; i++) {
      const media = record.media[i];
      const written = await writeFile(db, media.media_id, files[i], !hashes[i], pending);
      pending = null;
      media.chunks = written.chunks;
      media.sha256 = hashes[i] ? await hashes[i] : written.sha256;
    }
    performance.mark?.('rw-save-hashed');
    performance.mark?.('rw-save-written');
    for (const media of record.media) {
      if ((await hashStored(db, media)) !== media.sha256) throw new CaptureError('verify_failed');
    }
    performance.mark?.('rw-save-verified');
    record.signature = await sealRecord(record); // sealed at capture (signing.js, §3.2a)
    record.phase = 'saved';
    record.savedAt = Date.now();
    // The seal is flushed to disk (and with it the chunks written before it).
    const seal = db.transaction(REPORTS, 'readwrite', { durability: 'strict' });
    seal.store.put(record);
    await seal.done;
    const stored = await db.get(REPORTS, id);
    if (JSON.stringify(putBody(stored)) !== JSON.stringify(putBody(record))) {
      throw new CaptureError('verify_failed');
    }
  } catch (err) {
    // The capture failed and the user still has the form and the files: take back the
    // partial write, so it never looks like a saved report.
    await discardPartial(db, record).catch(() => {});
    if (err instanceof CaptureError) throw err;
    throw new CaptureError(err?.name === 'QuotaExceededError' ? 'storage_full' : 'write_failed', err);
  }
  announce(id, { phase: 'saved' });
  return record;
}

/** SHA-256 of a File, read in chunks (started when the user picks it). */
export async function hashFile(file) {
  const hasher = await streamingSha256();
  for (let start = 0; start < file.size; start += CHUNK_SIZE) {
    hasher.update(new Uint8Array(await file.slice(start, start + CHUNK_SIZE).arrayBuffer()));
  }
  return hasher.hex();
}

async function writeFile(db, mediaId, file, hash, record) {
  const hasher = hash ? await streamingSha256() : null;
  let index = 0;
  let batch = [];
  let batchBytes = 0;
  const flush = async () => {
    if (!batch.length && !record) return;
    const tx = db.transaction([REPORTS, CHUNKS], 'readwrite');
    if (record) tx.objectStore(REPORTS).put(record); // "capturing": first the row...
    record = null;
    for (const row of batch) tx.objectStore(CHUNKS).put(row); // ...then the bytes
    await tx.done;
    batch = [];
    batchBytes = 0;
  };
  for (let start = 0; start < file.size; start += CHUNK_SIZE) {
    const data = await file.slice(start, start + CHUNK_SIZE).arrayBuffer();
    hasher?.update(new Uint8Array(data));
    batch.push({ mediaId, index: index++, data });
    batchBytes += data.byteLength;
    if (batchBytes >= WRITE_BATCH) await flush();
  }
  await flush();
  return { sha256: hasher?.hex() ?? null, chunks: index };
}

/** SHA-256 of a media item's stored chunks, read back WRITE_BATCH bytes at a time. */
async function hashStored(db, media) {
  const hasher = await streamingSha256();
  const perRead = WRITE_BATCH / CHUNK_SIZE;
  let size = 0;
  for (let first = 0; first < media.chunks; first += perRead) {
    const last = Math.min(media.chunks, first + perRead) - 1;
    const rows = await db.getAll(CHUNKS, IDBKeyRange.bound([media.media_id, first], [media.media_id, last]));
    if (rows.length !== last - first + 1) return null;
    for (const row of rows) {
      hasher.update(new Uint8Array(row.data));
      size += row.data.byteLength;
    }
  }
  return size === media.size ? hasher.hex() : null;
}

/** Whether a media item's stored chunks are all there and still hash to its SHA-256. */
export async function storedIntact(media) {
  return (await hashStored(await openOutbox(), media)) === media.sha256;
}

async function discardPartial(db, record) {
  const tx = db.transaction([REPORTS, CHUNKS], 'readwrite');
  for (const m of record.media) {
    tx.objectStore(CHUNKS).delete(IDBKeyRange.bound([m.media_id, 0], [m.media_id, Infinity]));
  }
  tx.objectStore(REPORTS).delete(record.id);
  await tx.done;
}

/** Bytes [start, end) of a stored media item, as one ArrayBuffer. */
export async function readRange(mediaId, start, end) {
  const db = await openOutbox();
  const out = new Uint8Array(end - start);
  let pos = start;
  while (pos < end) {
    const index = Math.floor(pos / CHUNK_SIZE);
    const row = await db.get(CHUNKS, [mediaId, index]);
    if (!row) throw new CaptureError('missing_chunk');
    const from = pos - index * CHUNK_SIZE;
    const take = Math.min(row.data.byteLength - from, end - pos);
    if (take <= 0) throw new CaptureError('missing_chunk');
    out.set(new Uint8Array(row.data, from, take), pos - start);
    pos += take;
  }
  return out.buffer;
}

/** A media item as a Blob, for display or a one-shot upload (assembled in memory). */
export async function mediaBlob(media) {
  const db = await openOutbox();
  const parts = [];
  for (let index = 0; index < media.chunks; index++) {
    const row = await db.get(CHUNKS, [media.media_id, index]);
    if (!row) throw new CaptureError('missing_chunk');
    parts.push(row.data);
  }
  return new Blob(parts, { type: media.content_type });
}

export async function listReports() {
  const db = await openOutbox();
  const all = await db.getAllFromIndex(REPORTS, 'createdAt');
  return all.reverse();
}

export async function getReport(id) {
  return (await openOutbox()).get(REPORTS, id);
}

/**
 * In the readwrite transaction `tx`: apply `change(record)` to the record `id` and store
 * it, unless `change` returns false. The sealed body and media declarations are checked
 * to be untouched (the transaction is aborted if they were not). Resolves with the
 * record and whether it was stored, or null if there is no such record.
 */
async function changeRecord(tx, id, change) {
  const store = tx.objectStore(REPORTS);
  const record = await store.get(id);
  if (!record) return null;
  const sealed = record.phase === 'capturing' ? null : JSON.stringify(putBody(record));
  if (change(record) === false) return { record, stored: false };
  if (sealed !== null && !record.scrubbed && JSON.stringify(putBody(record)) !== sealed) {
    tx.abort();
    throw new Error('a sealed report is read-only');
  }
  await store.put(record);
  return { record, stored: true };
}

/**
 * Change a record's sync bookkeeping in one transaction: `change(record)` mutates it
 * (or returns false to leave it). The sealed body and media declarations are checked
 * to be untouched.
 */
export async function updateReport(id, change) {
  const db = await openOutbox();
  const tx = db.transaction(REPORTS, 'readwrite');
  const changed = await changeRecord(tx, id, change);
  await tx.done;
  if (changed?.stored) announce(id, { phase: changed.record.phase });
  return changed?.record ?? null;
}

/**
 * Change several records, each `[id, change]` as in updateReport (unknown ids are
 * skipped), and set the meta row `meta` ({key, value}) in the same transaction: a page
 * of the change feed and its cursor are stored together or not at all. Each stored
 * record is announced with `extra`.
 */
export async function updateReports(changes, { meta = null, extra = {} } = {}) {
  const db = await openOutbox();
  const tx = db.transaction([REPORTS, META], 'readwrite');
  const stored = [];
  for (const [id, change] of changes) {
    const changed = await changeRecord(tx, id, change);
    if (changed?.stored) stored.push(id);
  }
  if (meta) await tx.objectStore(META).put(meta);
  await tx.done;
  for (const id of stored) announce(id, extra);
  return stored.length;
}

/**
 * Captures cut off before their seal (the tab died mid-write) become `attention`:
 * the user sees them and decides; they are never removed silently.
 */
export async function recoverInterrupted(now = Date.now()) {
  const reports = await listReports();
  for (const r of reports) {
    if (r.phase === 'capturing' && now - r.createdAt > STALE_CAPTURE_MS) {
      await updateReport(r.id, (rec) => {
        rec.phase = 'attention';
        rec.attention = { code: 'capture_incomplete' };
        rec.scrubbed = true; // never sealed, so never sendable
      });
    }
  }
}

/** After the server acknowledged every byte: drop the identity kept for retries. */
export function scrubIdentity(record) {
  const { reporter } = record.body;
  const named = Boolean(reporter.name || reporter.national_id || reporter.phone);
  record.body = { ...record.body, reporter: { kind: reporter.kind } };
  record.named = named;
  record.scrubbed = true;
}

/** Delete the local bytes of a sent report (the user asked; the server has them all). */
export async function purgeSentMedia(id) {
  const db = await openOutbox();
  const tx = db.transaction([REPORTS, CHUNKS], 'readwrite');
  const record = await tx.objectStore(REPORTS).get(id);
  if (!record || record.phase !== 'sent' || !record.media.every((m) => m.received)) {
    tx.abort();
    throw new Error('not acknowledged by the server');
  }
  for (const m of record.media) {
    tx.objectStore(CHUNKS).delete(IDBKeyRange.bound([m.media_id, 0], [m.media_id, Infinity]));
  }
  record.purged = true;
  tx.objectStore(REPORTS).put(record);
  await tx.done;
  announce(id, { phase: record.phase });
}

/**
 * The server holds this report's id (or a media id) for something else (409): copy the
 * sealed content and its bytes under fresh ids, in one transaction, and drop the old
 * ids. Only on the user's request; the evidence is never absent from the phone.
 */
export async function rekeyReport(id) {
  const db = await openOutbox();
  const tx = db.transaction([REPORTS, CHUNKS], 'readwrite');
  const reports = tx.objectStore(REPORTS);
  const chunks = tx.objectStore(CHUNKS);
  const old = await reports.get(id);
  if (!old || old.phase !== 'attention' || old.scrubbed) {
    tx.abort();
    throw new Error('only a sealed report needing attention can be re-sent');
  }
  const now = Date.now();
  const fresh = {
    ...old,
    id: uuidv7(now),
    createdAt: old.createdAt,
    phase: 'saved',
    registered: false,
    attention: null,
    lastError: null,
    attempt: 0,
    nextAttemptAt: 0,
    server: null,
    replaces: old.id,
    media: old.media.map((m) => ({ ...m, media_id: uuidv7(now), uploadUrl: null, offset: 0, received: false })),
  };
  for (let i = 0; i < old.media.length; i++) {
    for (let index = 0; index < old.media[i].chunks; index++) {
      const row = await chunks.get([old.media[i].media_id, index]);
      if (!row) {
        tx.abort();
        throw new CaptureError('missing_chunk');
      }
      await chunks.put({ mediaId: fresh.media[i].media_id, index, data: row.data });
      await chunks.delete([old.media[i].media_id, index]);
    }
  }
  await reports.put(fresh);
  await reports.delete(old.id);
  await tx.done;
  announce(old.id, { phase: 'deleted' });
  announce(fresh.id, { phase: 'saved' });
  return fresh;
}

/** Remove a report and its bytes from the phone. Only after the user confirmed. */
export async function deleteReport(id) {
  const db = await openOutbox();
  const record = await db.get(REPORTS, id);
  if (!record) return;
  const tx = db.transaction([REPORTS, CHUNKS], 'readwrite');
  for (const m of record.media) {
    tx.objectStore(CHUNKS).delete(IDBKeyRange.bound([m.media_id, 0], [m.media_id, Infinity]));
  }
  tx.objectStore(REPORTS).delete(id);
  await tx.done;
  announce(id, { phase: 'deleted' });
}

export async function getMeta(key) {
  return (await (await openOutbox()).get(META, key))?.value;
}

export async function setMeta(key, value) {
  await (await openOutbox()).put(META, { key, value });
}

/** Reports still waiting for the server (saved, or part-way through sending). */
export async function pendingReports() {
  return (await listReports())
    .filter((r) => r.phase === 'saved' || r.phase === 'uploading')
    .reverse();
}
