/**
 * The outbox: captures written to the phone before anything is sent.
 *
 * Captures are written by save.js (loaded when the user picks a file). Nothing here
 * deletes evidence the server has not acknowledged,
 * except deleteReport(), which only an explicit confirmation in the UI calls.
 * Every change is announced on the `rw-outbox` BroadcastChannel, so all tabs and the
 * service worker see it.
 */
import { CHUNK_SIZE, CHUNKS, META, REPORTS, openOutbox } from './db.js';
import { putBody, uuidv7 } from './serialize.js';

export const CHANNEL = 'rw-outbox';
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
  const answered = (record?.answers || []).filter((a) => a.phase === 'sent' && a.media.every((m) => m.received));
  if (!record || record.phase !== 'sent' || !record.media.every((m) => m.received)) {
    tx.abort();
    throw new Error('not acknowledged by the server');
  }
  for (const m of [...record.media, ...answered.flatMap((a) => a.media)]) {
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
  for (const m of [...record.media, ...(record.answers || []).flatMap((a) => a.media)]) {
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

/** An answer to a request for information still to be sent (PROTOCOL §3.10). */
export const answerPending = (a) => a.phase === 'saved' || a.phase === 'uploading';

/** Whether the record has anything still to send: itself, or an answer. */
export const hasUnsent = (r) =>
  r.phase === 'saved' || r.phase === 'uploading' || (r.answers || []).some(answerPending);

/** Reports still waiting for the server (saved, or part-way through sending), and sent
 * reports with an answer still to send. */
export async function pendingReports() {
  return (await listReports()).filter(hasUnsent).reverse();
}

/**
 * What the phone holds that the server has not acknowledged (issue 26): `waiting` to be
 * sent (reports and answers saved or part-way), `attention` (could not be sent, a person
 * must act). Reports hidden after an officer signed out count too: they are still sent
 * from this phone. A capture still being written is not counted yet.
 */
export async function unsentCounts(records = null) {
  let waiting = 0;
  let attention = 0;
  for (const r of records || (await listReports())) {
    if (r.phase === 'saved' || r.phase === 'uploading') waiting += 1;
    else if (r.phase === 'attention') attention += 1;
    for (const a of r.answers || []) {
      if (answerPending(a)) waiting += 1;
      else if (a.phase === 'attention') attention += 1;
    }
  }
  return { waiting, attention, total: waiting + attention };
}
