/**
 * A small tus 1.0.0 client for evidence already in the outbox (PROTOCOL §3.5).
 *
 * Not tus-js-client: our bytes are ArrayBuffer chunks in IndexedDB, not a File, and the
 * resume URL, offset and retries belong to the outbox record, not to localStorage.
 * The server's offset is the only truth: every resume starts with HEAD, and every
 * PATCH starts where the server says it has durable bytes.
 */
import { API, SyncError, failure, request, sleep } from './net.js';
import { CHUNK_SIZE } from './outbox/db.js';
import { sha256Base64 } from './hash.js';

export const TUS_VERSION = '1.0.0';
export const ENDPOINT = `${API}/uploads`;
const DISCOVERY_TTL_MS = 10 * 60_000;
// Generous deadline for one PATCH: 30 s plus 64 kbit/s for its bytes (2G).
const patchTimeout = (bytes) => 30_000 + (bytes / 8000) * 1000;

let discovered = null;

/**
 * What the server offers: {tus: bool, checksum: 'sha256'|null}. A server without
 * /uploads (404/405) is answered by the one-shot PUT instead.
 */
export async function discover() {
  if (discovered && Date.now() - discovered.at < DISCOVERY_TTL_MS) return discovered;
  const resp = await request('OPTIONS', ENDPOINT, { headers: { 'Tus-Resumable': TUS_VERSION } });
  const versions = (resp.headers.get('Tus-Version') || '').split(',').map((s) => s.trim());
  const ok = resp.ok && resp.headers.get('Tus-Resumable') === TUS_VERSION;
  if (!ok && resp.status !== 404 && resp.status !== 405) throw await failure(resp);
  const algorithms = (resp.headers.get('Tus-Checksum-Algorithm') || '').split(',');
  discovered = {
    at: Date.now(),
    tus: ok && versions.includes(TUS_VERSION),
    checksum: algorithms.map((s) => s.trim()).includes('sha256') ? 'sha256' : null,
  };
  return discovered;
}

const b64 = (text) => btoa(text);

/** The server's offset from a tus answer; anything without it is not an acknowledgement. */
function offsetOf(resp) {
  const raw = resp.headers.get('Upload-Offset');
  if (resp.headers.get('Tus-Resumable') !== TUS_VERSION || raw === null || !/^\d+$/.test(raw)) {
    throw new SyncError('retry', 'not_our_server', { status: resp.status });
  }
  return Number(raw);
}

async function create(auth, reportId, media) {
  const resp = await request('POST', ENDPOINT, {
    headers: {
      ...auth,
      'Tus-Resumable': TUS_VERSION,
      'Upload-Length': String(media.size),
      'Upload-Metadata': `report_id ${b64(reportId)},media_id ${b64(media.media_id)}`,
    },
  });
  if (resp.status !== 201 || !resp.headers.get('Location')) throw await failure(resp, { tus: true });
  const url = new URL(resp.headers.get('Location'), location.href).pathname;
  const offset = resp.headers.get('Upload-Offset') === null ? null : offsetOf(resp);
  return { url, offset };
}

async function head(auth, url) {
  const resp = await request('HEAD', url, { headers: { ...auth, 'Tus-Resumable': TUS_VERSION } });
  if (resp.status !== 200 && resp.status !== 204) throw await failure(resp, { tus: true });
  return offsetOf(resp);
}

async function patch(auth, url, offset, bytes, checksum) {
  const headers = {
    ...auth,
    'Tus-Resumable': TUS_VERSION,
    'Upload-Offset': String(offset),
    'Content-Type': 'application/offset+octet-stream',
  };
  if (checksum) headers['Upload-Checksum'] = `sha256 ${await sha256Base64(bytes)}`;
  const resp = await request('PATCH', url, {
    headers,
    body: bytes,
    timeoutMs: patchTimeout(bytes.byteLength),
  });
  if (resp.status !== 204 && resp.status !== 200) throw await failure(resp, { tus: true });
  return offsetOf(resp);
}

/**
 * Upload one media item from the outbox, resuming from the server's offset.
 *
 * @param {object} o
 * @param {object} o.auth         the Authorization header
 * @param {string} o.reportId
 * @param {object} o.media        the record's media entry (uploadUrl, size, media_id)
 * @param {function} o.read       (start, end) => ArrayBuffer of stored bytes
 * @param {function} o.save       ({uploadUrl?, offset?}) => persist progress
 * @param {string|null} o.checksum 'sha256' to send Upload-Checksum with each PATCH
 */
export async function upload({ auth, reportId, media, read, save, checksum }) {
  let url = media.uploadUrl;
  let offset = null;
  let recreations = 0;
  let stale = 0;
  let locked = 0;
  for (;;) {
    try {
      if (url) offset = await head(auth, url);
      else {
        const made = await create(auth, reportId, media);
        url = made.url;
        await save({ uploadUrl: url });
        offset = made.offset ?? (await head(auth, url));
      }
      await save({ offset });
      while (offset < media.size) {
        const end = Math.min(media.size, (Math.floor(offset / CHUNK_SIZE) + 1) * CHUNK_SIZE);
        const bytes = await read(offset, end);
        const next = await patch(auth, url, offset, bytes, checksum);
        if (next <= offset || next > media.size) {
          throw new SyncError('retry', 'offset_mismatch');
        }
        offset = next;
        await save({ offset });
      }
      return;
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      if (err.action === 'recreate' && recreations++ < 2) {
        url = null; // expired or removed: a new upload for the same media_id, from 0
        await save({ uploadUrl: null, offset: 0 });
        continue;
      }
      // A stale offset (409) or a damaged chunk (460): ask the server again, a few times.
      if ((err.status === 409 || err.status === 460 || err.code === 'offset_mismatch') && stale++ < 3) {
        continue;
      }
      // 423: the server is still writing a PATCH of this upload (often the one of a
      // connection that just broke). Wait as told, then HEAD for the settled offset.
      if (err.status === 423 && locked++ < 5) {
        await sleep(Math.min(10, err.retryAfter || 1) * 1000);
        continue;
      }
      throw err;
    }
  }
}

/** The one-shot upload (PROTOCOL §3.4), for a server without the tus endpoint. */
export async function putWhole(auth, reportId, media, blob) {
  const resp = await request('PUT', `${API}/reports/${reportId}/media/${media.media_id}`, {
    headers: { ...auth, 'Content-Type': 'application/octet-stream' },
    body: blob,
    timeoutMs: patchTimeout(media.size),
  });
  if (resp.status !== 201 && resp.status !== 200) throw await failure(resp);
}
