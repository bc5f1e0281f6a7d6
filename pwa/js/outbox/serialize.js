/**
 * Shapes of the outbox: the stored report record, and the wire body built from it.
 *
 * A record is created at capture and sealed once its bytes are verified; from then on
 * its `body` is never edited, so every retry of PUT /reports/{id} sends the same body
 * and gets 200 (PROTOCOL §3.2). Only sync bookkeeping changes afterwards.
 */

/** Phases stored on a record. `capturing` is the only one before the seal. */
export const PHASES = ['capturing', 'saved', 'uploading', 'sent', 'attention'];

/** A UUIDv7: time-ordered, so ids sort in capture order (RFC 9562 §5.7). */
export function uuidv7(now = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** ISO 8601 in the phone's local time with its offset: 2026-11-20T08:15:30+07:00. */
export function isoLocal(date) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(off / 60)}:${pad(off % 60)}`
  );
}

/** The report fields of PUT /reports/{id}, without media (added at the seal). */
export function reportFields(input) {
  const reporter = { kind: input.reporterKind || 'citizen' };
  for (const key of ['name', 'national_id', 'phone']) {
    const value = (input.reporter?.[key] || '').trim();
    if (value) reporter[key] = value;
  }
  return {
    violation: input.violation,
    vehicle_class: input.vehicleClass,
    plate: (input.plate || '').trim(),
    vehicle_description: (input.vehicleDescription || '').trim(),
    note: (input.note || '').trim(),
    captured_at: input.capturedAt,
    location: {
      lat: round(input.location.lat, 7),
      lon: round(input.location.lon, 7),
      accuracy_m: input.location.accuracy == null ? null : round(input.location.accuracy, 1),
      source: input.location.source,
    },
    reporter,
  };
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A new record, before any byte is written. */
export function newRecord(id, fields, files, now = Date.now()) {
  return {
    id,
    createdAt: now,
    phase: 'capturing',
    body: fields,
    media: files.map((f) => ({
      media_id: uuidv7(now),
      content_type: f.type,
      size: f.size,
      name: f.name || '',
      sha256: null,
      chunks: 0,
      uploadUrl: null,
      offset: 0,
      received: false,
    })),
    registered: false,
    attempt: 0,
    nextAttemptAt: 0,
    lastError: null,
    attention: null,
    server: null,
    sentAt: null,
    purged: false,
    thumb: null,
  };
}

/** The declaration of one media item, as the server checks it. */
export const mediaDecl = (m) => ({
  media_id: m.media_id,
  sha256: m.sha256,
  size: m.size,
  content_type: m.content_type,
});

/** The sealed JSON body of PUT /reports/{id}. */
export function putBody(record) {
  return { ...record.body, media: record.media.map(mediaDecl) };
}

/** Bytes of evidence acknowledged by the server, and in total. */
export function progress(record) {
  const total = record.media.reduce((n, m) => n + m.size, 0);
  const done = record.media.reduce((n, m) => n + (m.received ? m.size : m.offset || 0), 0);
  return { done, total, percent: total ? Math.floor((100 * done) / total) : 0 };
}

/**
 * The state shown to the user and exposed as data-state: saved, sending, sent or
 * attention. `active` is true while this page (or another tab) is sending it.
 */
export function displayState(record, active = false) {
  if (record.phase === 'sent') return 'sent';
  if (record.phase === 'attention' || record.phase === 'capturing') return 'attention';
  if (active || record.phase === 'uploading') return 'sending';
  return 'saved';
}
