/**
 * The sync engine (PROTOCOL §4, §5): register each saved report, upload its evidence
 * through tus from the server's offset, confirm, then pull status changes.
 *
 * Runs in the page and in the service worker (Background Sync). Whoever runs it takes
 * a Web Lock per report, so one report is never sent by two tabs, or a tab and the
 * service worker, at once; the tus 409 is the server's backstop.
 */
import { ACTIVE } from './sync-active.js';
import { API, SyncError, backoffMs, failure, reportAck, request } from './net.js';
import { discover, putWhole, upload } from './tus.js';
import {
  announce,
  answerPending,
  getMeta,
  getReport,
  mediaBlob,
  pendingReports,
  readRange,
  scrubIdentity,
  setMeta,
  updateReport,
  updateReports,
} from './outbox/queue.js';
import { storedIntact } from './outbox/save.js';
import { mediaDecl } from './outbox/serialize.js';
import { sealForSending, wireBody } from './signing.js';
import { forgetSignedOutOfficers, isOfficerRecord, officerCreds, officerCredsFor } from './officer.js';

export { SYNC_TAG, activeIds } from './sync-active.js';
// Per-PATCH Upload-Checksum is off: the server then keeps the bytes of a PATCH cut off
// midway (a checked chunk must arrive whole, so a cut on 2G would cost up to 1 MiB
// again). The whole file's SHA-256 is verified by the server at completion, and TLS
// protects each chunk in transit.
const CHUNK_CHECKSUMS = false;
const localLocks = new Set();
// Codes of a completed upload whose bytes the server refused (PROTOCOL §7).
const BYTES_REFUSED = new Set(['checksum_mismatch', 'size_mismatch', 'content_type_mismatch']);

/** Run `fn` holding the named lock, or skip (return undefined) if someone holds it. */
async function exclusive(name, fn) {
  if (globalThis.navigator?.locks?.request) {
    return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? fn() : undefined));
  }
  if (localLocks.has(name)) return undefined; // no Web Locks (Safari < 15.4): this tab only
  localLocks.add(name);
  try {
    return await fn();
  } finally {
    localLocks.delete(name);
  }
}

/** The device's credentials; registers the phone on first use (PROTOCOL §3.1). */
async function device() {
  const known = await getMeta('device');
  if (known?.token) return known;
  const register = async () => {
    const again = await getMeta('device');
    if (again?.token) return again;
    const resp = await request('POST', `${API}/devices`);
    if (resp.status !== 201) throw await failure(resp);
    const body = await resp.json().catch(() => null);
    if (!body?.device_id || !body?.token) throw new SyncError('retry', 'not_our_server');
    const creds = { device_id: body.device_id, token: body.token, at: Date.now() };
    await setMeta('device', creds);
    return creds;
  };
  return globalThis.navigator?.locks?.request
    ? navigator.locks.request('rw-device', register)
    : register();
}

const authOf = (creds) => ({ Authorization: `Bearer ${creds.token}` });

/**
 * The token a report is sent with: the officer's for a report captured as an officer
 * (PROTOCOL §3.3a), else the phone's own. An officer's report whose officer has signed
 * out (or was deactivated) waits for the officer to sign in again.
 */
async function credsFor(record) {
  if (!isOfficerRecord(record)) return device();
  const creds = await officerCredsFor(record); // a signed-out officer's too (officer.js)
  if (!creds) throw new SyncError('attention', 'officer_signed_out');
  return creds;
}

let running = null;
let again = false;

/**
 * Send what is due, then pull statuses. Calls made while a pass runs join it (and ask
 * for one more pass). `force` ignores the backoff (the network just came back).
 * Resolves with {pending, nextAttemptAt, offline}.
 */
export function syncNow({ force = false, reason = 'manual' } = {}) {
  if (running) {
    again = again || force;
    return running;
  }
  running = (async () => {
    let result;
    let pass = { force, reason };
    for (;;) {
      again = false;
      result = await syncPass(pass);
      if (!again || result.offline) break;
      pass = { force: true, reason: 'again' };
    }
    return result;
  })().finally(() => {
    running = null;
  });
  return running;
}

async function syncPass({ force }) {
  let pending = await pendingReports();
  const online = globalThis.navigator?.onLine !== false;
  if (!online) return summary(pending, true);
  const now = Date.now();
  let networkDown = false;
  for (const record of pending) {
    if (!force && (record.nextAttemptAt || 0) > now) continue;
    const outcome = await exclusive(`rw-report:${record.id}`, () => sendReport(record.id, force));
    if (outcome === 'network') {
      networkDown = true;
      break;
    }
  }
  if (!networkDown) {
    await exclusive('rw-changes', pullChanges).catch(() => {});
  }
  pending = await pendingReports();
  await forgetSignedOutOfficers().catch(() => {});
  return summary(pending, networkDown);
}

function summary(pending, offline) {
  const next = pending.map((r) => r.nextAttemptAt || 0).filter(Boolean);
  return { pending: pending.length, nextAttemptAt: next.length ? Math.min(...next) : 0, offline };
}

/** Send one report, holding its lock. Returns 'sent', 'attention', 'later' or 'network'. */
async function sendReport(id, force = false) {
  const record = await getReport(id);
  if (!record) return 'skip';
  if (record.phase === 'sent') return sendAnswers(id, force);
  if (record.phase !== 'saved' && record.phase !== 'uploading') return 'skip';
  ACTIVE.add(id);
  announce(id, { active: true });
  let reregistered = false;
  let reput = false;
  try {
    for (;;) {
      try {
        await sendSteps(id);
        return 'sent';
      } catch (err) {
        if (!(err instanceof SyncError)) throw err;
        if (err.action === 'reregister' && isOfficerRecord(await getReport(id))) {
          // The officer's token was revoked: only the officer can get a new one.
          if (!(await getReport(id)).officerDevice) await setMeta('officer', null);
          return await recordFailure(id, new SyncError('attention', 'officer_signed_out'));
        }
        if (err.action === 'reregister' && !reregistered) {
          reregistered = true;
          await setMeta('device', null); // keep the outbox, get a new token
          continue;
        }
        if (err.action === 'reput' && !reput) {
          reput = true;
          await updateReport(id, (r) => {
            r.registered = false;
          });
          continue;
        }
        return await recordFailure(id, err);
      }
    }
  } catch (err) {
    // Stored bytes gone (storage evicted?) need a person; a bug is retried later.
    // Either way the report stays on the phone.
    if (err?.code === 'missing_chunk') {
      return recordFailure(id, new SyncError('attention', 'local_copy_damaged'));
    }
    console.error('sync failed', err);
    return recordFailure(id, new SyncError('retry', 'client_error'));
  } finally {
    ACTIVE.delete(id);
    announce(id, { active: false });
  }
}

async function recordFailure(id, err) {
  const attention = err.action === 'attention' || err.action === 'reput' || err.action === 'recreate';
  await updateReport(id, (r) => {
    r.lastError = { code: err.code, status: err.status, at: Date.now() };
    if (attention) {
      r.phase = 'attention';
      r.attention = { code: err.code, status: err.status, message: err.serverMessage };
    } else {
      r.attempt = (r.attempt || 0) + 1;
      const wait = Math.max(backoffMs(r.attempt), err.retryAfter * 1000);
      r.nextAttemptAt = Date.now() + wait;
    }
  });
  if (attention) return 'attention';
  return err.code === 'network' || err.code === 'not_our_server' ? 'network' : 'later';
}

/** Progress was acknowledged: the backoff starts over (PROTOCOL §5). */
const progressed = (r) => {
  r.attempt = 0;
  r.nextAttemptAt = 0;
  r.lastError = null;
};

async function sendSteps(id) {
  let record = await getReport(id);
  const creds = await credsFor(record);
  const auth = authOf(creds);

  if (!record.registered) {
    record = await sealForSending(id, creds); // PROTOCOL §3.2a (signing.js)
    const resp = await request('PUT', `${API}/reports/${id}`, {
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(wireBody(record)),
    });
    if (resp.status !== 201 && resp.status !== 200) throw await failure(resp);
    const stored = await reportAck(resp, id);
    record = await applyServerView(id, stored, (r) => {
      r.registered = true;
      if (r.phase === 'saved') r.phase = 'uploading';
      progressed(r);
    });
  }

  const caps = await discover();
  for (const media of record.media) {
    if (media.received) continue;
    await sendMedia(id, media, auth, caps);
  }

  const resp = await request('GET', `${API}/reports/${id}`, { headers: auth });
  if (resp.status !== 200) throw await failure(resp);
  const stored = await reportAck(resp, id);
  await applyServerView(id, stored, (r) => {
    if (r.media.every((m) => m.received)) {
      r.phase = 'sent';
      r.sentAt = Date.now();
      r.attention = null;
      progressed(r);
      scrubIdentity(r);
    }
  });
  const after = await getReport(id);
  if (after.phase !== 'sent') throw new SyncError('retry', 'evidence_missing');
}

async function sendMedia(id, media, auth, caps) {
  const save = (change) =>
    updateReport(id, (r) => {
      const m = r.media.find((x) => x.media_id === media.media_id);
      if ('uploadUrl' in change) m.uploadUrl = change.uploadUrl;
      if ('offset' in change) {
        if (change.offset > (m.offset || 0)) progressed(r);
        m.offset = change.offset;
      }
      // Not "received" here: an upload at its full offset may not be finished on the
      // server yet (PROTOCOL §3.5). Only the server's report says received.
    });
  for (let tries = 0; ; tries++) {
    try {
      if (caps.tus) {
        await upload({
          auth,
          reportId: id,
          media: (await getReport(id)).media.find((m) => m.media_id === media.media_id),
          read: (start, end) => readRange(media.media_id, start, end),
          save,
          checksum: CHUNK_CHECKSUMS ? caps.checksum : null,
        });
      } else {
        await putWhole(auth, id, media, await mediaBlob(media));
        await save({ offset: media.size });
      }
      return;
    } catch (err) {
      if (!(err instanceof SyncError) || !BYTES_REFUSED.has(err.code) || tries >= 1) throw err;
      // The server refused the assembled bytes. Re-hash the outbox copy: if it is intact,
      // the damage was in transit and the upload starts again; if not, a person decides.
      if (!(await storedIntact(media))) {
        throw new SyncError('attention', 'local_copy_damaged');
      }
      await save({ uploadUrl: null, offset: 0 });
      await updateReport(id, (r) => {
        r.media.find((x) => x.media_id === media.media_id).received = false;
      });
    }
  }
}

/**
 * Send the answers to a request for information still on the phone for the sent report
 * `id` (PROTOCOL §3.10): PUT the answer (idempotent by its id), then its files through
 * tus, as a capture's. A failure stays on the answer (the report stays `sent`).
 * Returns 'sent', 'attention', 'later' or 'network' like sendReport.
 */
async function sendAnswers(id, force = false) {
  let outcome = 'sent';
  const now = Date.now();
  for (const answer of (await getReport(id)).answers || []) {
    if (!answerPending(answer)) continue;
    if (!force && (answer.nextAttemptAt || 0) > now) continue;
    ACTIVE.add(id);
    announce(id, { active: true });
    try {
      await sendAnswer(id, answer.answer_id);
    } catch (err) {
      const known = err instanceof SyncError ? err : new SyncError('retry', 'client_error');
      if (!(err instanceof SyncError)) console.error('answer failed', err);
      outcome = await recordAnswerFailure(id, answer.answer_id, err?.code === 'missing_chunk' ? new SyncError('attention', 'local_copy_damaged') : known);
      if (outcome === 'network') return outcome;
    } finally {
      ACTIVE.delete(id);
      announce(id, { active: false });
    }
  }
  return outcome;
}

const changeAnswer = (id, answerId, change) =>
  updateReport(id, (r) => {
    const a = (r.answers || []).find((x) => x.answer_id === answerId);
    if (!a) return false;
    return change(a, r);
  });

async function recordAnswerFailure(id, answerId, err) {
  const attention = err.action === 'attention' || err.action === 'reput' || err.action === 'recreate';
  await changeAnswer(id, answerId, (a) => {
    a.lastError = { code: err.code, status: err.status, at: Date.now() };
    if (attention) {
      a.phase = 'attention';
      a.attention = { code: err.code, status: err.status, message: err.serverMessage };
    } else {
      a.attempt = (a.attempt || 0) + 1;
      a.nextAttemptAt = Date.now() + Math.max(backoffMs(a.attempt), (err.retryAfter || 0) * 1000);
    }
  });
  if (attention) return 'attention';
  return err.code === 'network' || err.code === 'not_our_server' ? 'network' : 'later';
}

async function sendAnswer(id, answerId) {
  const record = await getReport(id);
  const auth = authOf(await credsFor(record));
  let answer = record.answers.find((a) => a.answer_id === answerId);
  if (!answer.registered) {
    const body = { text: answer.text, media: answer.media.map(mediaDecl) };
    const resp = await request('PUT', `${API}/reports/${id}/answers/${answerId}`, {
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (resp.status !== 201 && resp.status !== 200) throw await failure(resp);
    const stored = await resp.json().catch(() => null);
    if (stored?.answer_id !== answerId) throw new SyncError('retry', 'not_our_server');
    await changeAnswer(id, answerId, (a) => {
      a.registered = true;
      a.phase = 'uploading';
      a.at = stored.at;
      a.attempt = 0;
      a.nextAttemptAt = 0;
      a.lastError = null;
    });
  }
  const caps = await discover();
  answer = (await getReport(id)).answers.find((a) => a.answer_id === answerId);
  for (const media of answer.media) {
    if (media.received) continue;
    const save = (change) =>
      changeAnswer(id, answerId, (a) => {
        const m = a.media.find((x) => x.media_id === media.media_id);
        if ('uploadUrl' in change) m.uploadUrl = change.uploadUrl;
        if ('offset' in change) {
          if (change.offset > (m.offset || 0)) {
            a.attempt = 0;
            a.nextAttemptAt = 0;
          }
          m.offset = change.offset;
        }
        if (m.offset >= m.size) m.received = true;
      });
    const current = () => getReport(id).then((r) => r.answers.find((a) => a.answer_id === answerId).media.find((m) => m.media_id === media.media_id));
    if (caps.tus) {
      await upload({
        auth,
        reportId: id,
        media: await current(),
        read: (start, end) => readRange(media.media_id, start, end),
        save,
        checksum: CHUNK_CHECKSUMS ? caps.checksum : null,
      });
    } else {
      await putWhole(auth, id, media, await mediaBlob(media));
      await save({ offset: media.size });
    }
  }
  // The server's word: every file of the answer received.
  const resp = await request('GET', `${API}/reports/${id}`, { headers: auth });
  if (resp.status !== 200) throw await failure(resp);
  const stored = await reportAck(resp, id);
  const received = new Set(stored.evidence.filter((e) => e.received).map((e) => e.media_id));
  await changeAnswer(id, answerId, (a, r) => {
    for (const m of a.media) if (received.has(m.media_id)) m.received = true;
    if (a.media.every((m) => m.received)) {
      a.phase = 'sent';
      a.sentAt = Date.now();
      a.attention = null;
    }
    r.server = { ...(r.server || {}), status: stored.status };
  });
}

/** Copy what the server says about a report onto the record (received flags, status). */
function applyServerView(id, stored, extra) {
  return updateReport(id, (r) => {
    const byId = new Map(stored.evidence.map((e) => [e.media_id, e]));
    for (const m of r.media) {
      const e = byId.get(m.media_id);
      if (e?.received) {
        m.received = true;
        m.offset = m.size;
      } else if (e) {
        // The server has not received it (also after the upload reached its full
        // offset, if finishing failed there): send it again, from HEAD.
        m.received = false;
      }
    }
    r.server = { ...(r.server || {}), status: stored.status, flags: stored.flags || [] };
    if (stored.plate_normalized) r.server.plate = stored.plate_normalized;
    // What the detail shows a person (issue 14): the short code, who handles it, when stored.
    if (stored.report_code) r.server.code = stored.report_code;
    if ('district' in stored) r.server.district = stored.district;
    if ('police_unit' in stored) r.server.police_unit = stored.police_unit;
    if (stored.received_at) r.server.received_at = stored.received_at;
    extra?.(r);
  });
}

/**
 * Pull the change feed (PROTOCOL §3.6) of each token this phone holds (its own, and a
 * signed-in officer's), each from its own cursor.
 */
export async function pullChanges() {
  let applied = 0;
  const own = await getMeta('device');
  if (own?.token) applied += await pullFeed(own, 'changes_cursor');
  const officer = await officerCreds();
  if (officer) {
    try {
      applied += await pullFeed(officer, `changes_cursor:${officer.device_id}`);
    } catch (err) {
      // A revoked officer token (account deactivated) is of no further use.
      if (err instanceof SyncError && err.action === 'reregister') await setMeta('officer', null);
      else throw err;
    }
  }
  return applied;
}

/** Copy one change of the feed (a status, the reason, the public note) onto its record. */
function applyChange(record, change) {
  record.server = {
    ...(record.server || {}),
    status: change.status,
    reason_code: change.reason_code || null,
    public_note: change.public_note || null,
    at: change.at,
    cursor: change.cursor,
  };
}

/** Apply every change of one token's feed, then store its cursor. */
async function pullFeed(creds, cursorKey) {
  let applied = 0;
  for (let page = 0; page < 20; page++) {
    const since = (await getMeta(cursorKey)) || '';
    const url = `${API}/changes?limit=200${since ? `&since=${encodeURIComponent(since)}` : ''}`;
    const resp = await request('GET', url, { headers: authOf(creds) });
    if (resp.status === 404 && !(resp.headers.get('Content-Type') || '').includes('problem')) {
      return applied; // a server without the feed yet
    }
    if (resp.status !== 200) {
      const err = await failure(resp);
      if (err.code === 'invalid_cursor' && since) {
        // Read the feed from the start: applying a change twice is harmless.
        await setMeta(cursorKey, null);
        continue;
      }
      throw err;
    }
    const body = await resp.json().catch(() => null);
    if (!body || !Array.isArray(body.changes) || typeof body.next !== 'string') {
      throw new SyncError('retry', 'not_our_server');
    }
    // The page's changes and the new cursor are stored in one transaction.
    await updateReports(body.changes.map((c) => [c.report_id, (r) => applyChange(r, c)]), {
      meta: { key: cursorKey, value: body.next },
      extra: { status: true },
    });
    applied += body.changes.length;
    if (!body.has_more) break;
  }
  return applied;
}
