/**
 * Saving a capture into the outbox (loaded when the user first picks a file; the sync
 * engine uses storedIntact()).
 *
 * saveCapture() writes the record, then the evidence chunks while hashing them, then
 * reads every chunk back and hashes it again; only when both hashes agree is the record
 * sealed as `saved`.
 */
import { CHUNK_SIZE, CHUNKS, REPORTS, openOutbox } from './db.js';
import { CaptureError, announce } from './queue.js';
import { newRecord, putBody, uuidv7 } from './serialize.js';
import { streamingSha256 } from '../hash.js';
import { sealRecord } from '../signing.js';

// Write this many bytes per transaction: a video never sits whole in memory.
const WRITE_BATCH = 8 * CHUNK_SIZE;

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

/**
 * Save the reporter's answer to a request for information (PROTOCOL §3.10) on the sent
 * report `reportId`: the files' chunks are written, hashed, read back and checked as a
 * capture's are, then the answer is appended to the report's record (`record.answers`)
 * in one transaction, phase `saved`. The sync engine sends it when the network allows.
 * Resolves with the answer.
 */
export async function saveAnswer(reportId, text, files) {
  const db = await openOutbox();
  const now = Date.now();
  const answer = {
    answer_id: uuidv7(now),
    text: (text || '').trim(),
    createdAt: now,
    phase: 'saved',
    registered: false,
    attempt: 0,
    nextAttemptAt: 0,
    lastError: null,
    attention: null,
    media: newRecord(reportId, {}, files, now).media,
  };
  try {
    for (let i = 0; i < files.length; i++) {
      const media = answer.media[i];
      const written = await writeFile(db, media.media_id, files[i], true, null);
      media.chunks = written.chunks;
      media.sha256 = written.sha256;
    }
    for (const media of answer.media) {
      if ((await hashStored(db, media)) !== media.sha256) throw new CaptureError('verify_failed');
    }
    const tx = db.transaction(REPORTS, 'readwrite', { durability: 'strict' });
    const record = await tx.store.get(reportId);
    if (!record) {
      tx.abort();
      throw new CaptureError('write_failed');
    }
    record.answers = [...(record.answers || []), answer];
    await tx.store.put(record);
    await tx.done;
  } catch (err) {
    const tx = db.transaction(CHUNKS, 'readwrite');
    for (const m of answer.media) {
      tx.store.delete(IDBKeyRange.bound([m.media_id, 0], [m.media_id, Infinity]));
    }
    await tx.done.catch(() => {});
    if (err instanceof CaptureError) throw err;
    throw new CaptureError(err?.name === 'QuotaExceededError' ? 'storage_full' : 'write_failed', err);
  }
  announce(reportId, { phase: 'answer' });
  return answer;
}
