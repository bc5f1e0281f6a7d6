/**
 * Signed captures (PROTOCOL §3.1a, §3.2a): the phone's ECDSA P-256 key, the canonical
 * manifest of a report, its signature.
 *
 * The key pair is made once with WebCrypto, the private key non-extractable, and kept in
 * the outbox database (IndexedDB stores CryptoKey objects as they are: the private key's
 * bytes never reach JavaScript). A report is sealed when it is saved (sealRecord, from
 * outbox/queue.js) and, if that failed or its ids changed since (a re-keyed report),
 * again just before it is first sent (sealForSending, from sync.js). The public key is
 * registered with each device token that sends reports (PUT /devices/key), once.
 * Without WebCrypto (an old browser, a page not served over HTTPS) reports go unsigned:
 * the server stores them and flags them `unsigned`.
 */
import { API, failure, request } from './net.js';
import { getMeta, getReport, setMeta, updateReport } from './outbox/queue.js';
import { putBody } from './outbox/serialize.js';

const KEY = 'signing-key';
const REGISTERED = 'signing-registered';
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const VERSION = (import.meta.url.match(/\/a\/([^/]+)\//)?.[1] || 'dev').slice(0, 40);
export const APP_VERSION = `roadwatch-pwa/${VERSION}`;

const subtle = () => globalThis.crypto?.subtle;

/** Canonical JSON (§3.2a): members sorted by name at every level, no whitespace. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The manifest of a sealed record: its report id, time, place and files. The same text as
 * sync/seal.py's for the vectors of tests/data/capture_manifest_vectors.json. */
export function manifestOf(record, appVersion = APP_VERSION) {
  const loc = record.body.location;
  return canonical({
    v: 1,
    report_id: record.id,
    captured_at: new Date(record.body.captured_at).toISOString(),
    location: {
      lat: Number(loc.lat).toFixed(6),
      lon: Number(loc.lon).toFixed(6),
      source: loc.source,
    },
    media: record.media.map((m) => ({ media_id: m.media_id, sha256: m.sha256, size: m.size })),
    app_version: appVersion,
  });
}

const base64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const base64url = (bytes) =>
  base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

let making = null;

/** The phone's key pair {privateKey, publicKey, spki}, made on first use; null without
 * WebCrypto. */
export async function deviceKey() {
  if (!subtle()) return null;
  const known = await getMeta(KEY);
  if (known?.privateKey) return known;
  making ??= (async () => {
    const make = async () => {
      const again = await getMeta(KEY);
      if (again?.privateKey) return again;
      const pair = await subtle().generateKey(ALGORITHM, false, ['sign', 'verify']);
      const spki = base64(await subtle().exportKey('spki', pair.publicKey));
      const stored = { privateKey: pair.privateKey, publicKey: pair.publicKey, spki };
      await setMeta(KEY, stored);
      return stored;
    };
    return globalThis.navigator?.locks?.request
      ? navigator.locks.request('rw-signing-key', make)
      : make();
  })().finally(() => {
    making = null;
  });
  return making;
}

/** The report's `signature` member {manifest, value}, or null when it cannot be signed. */
export async function sealRecord(record) {
  try {
    const key = await deviceKey();
    if (!key) return null;
    const manifest = manifestOf(record);
    const bytes = new TextEncoder().encode(manifest);
    const raw = await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, bytes);
    return { manifest, value: base64url(raw) }; // WebCrypto gives r || s, as §3.2a wants
  } catch (err) {
    console.warn('capture not sealed', err);
    return null;
  }
}

/** Whether the record's seal still names its own report and files (a re-keyed one does not). */
function sealFits(record) {
  if (!record.signature) return false;
  try {
    const m = JSON.parse(record.signature.manifest);
    return (
      m.report_id === record.id &&
      m.media.length === record.media.length &&
      m.media.every((x, i) => x.media_id === record.media[i].media_id)
    );
  } catch {
    return false;
  }
}

/** Register the public key with the device behind `creds` (once per device id). */
async function registerKey(creds, key) {
  const done = (await getMeta(REGISTERED)) || {};
  if (done[creds.device_id]) return;
  const resp = await request('PUT', `${API}/devices/key`, {
    headers: { Authorization: `Bearer ${creds.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ spki: key.spki }),
  });
  let outcome = 'registered';
  if (resp.status === 409) outcome = 'other_key'; // the server flags; a new device seals again
  else if (resp.status !== 200 && resp.status !== 201) throw await failure(resp);
  const now = (await getMeta(REGISTERED)) || {};
  await setMeta(REGISTERED, { ...now, [creds.device_id]: outcome });
}

/**
 * Before a report's first PUT: its key is registered with the sending device, and the
 * record carries a seal that fits it. Decided once: a report sent unsigned is never
 * signed later (its body would change and the server answer 409). Returns the record.
 */
export async function sealForSending(id, creds) {
  const key = await deviceKey().catch(() => null);
  if (key) await registerKey(creds, key);
  const record = await getReport(id);
  if (sealFits(record) || (record.sealDecided && !record.signature)) return record;
  const signature = key ? await sealRecord(record) : null;
  return updateReport(id, (r) => {
    r.signature = signature;
    r.sealDecided = true;
  });
}

/** The JSON body of PUT /reports/{id}: the sealed body plus its seal, if any. */
export function wireBody(record) {
  const body = putBody(record);
  return record.signature ? { ...body, signature: record.signature } : body;
}
