/**
 * A patrol officer's sign-in (PROTOCOL §3.3a). The officer's device token is kept beside
 * the phone's citizen token: a report is sent with the token it was captured under
 * (its id belongs to that token), so signing in or out never orphans a queued report.
 *
 * Shared phones (issue 14): signing out hides the officer's reports from "My reports"
 * (each is marked `hidden`, with `officerDevice`, the officer token's device id, and
 * `officerUsername`, to show them again when the same officer signs in here again);
 * the unsent ones stay queued and are sent with that token, kept under
 * `officers_signed_out` until the last of them is sent.
 */
import { API, SyncError, failure, request } from './net.js';
import { getMeta, listReports, setMeta, updateReports } from './outbox/queue.js';

const SIGNED_OUT = 'officers_signed_out'; // [{device_id, token, name, username}]

/** The signed-in officer's credentials {device_id, token, name, username}, or null. */
export const officerCreds = async () => {
  const creds = await getMeta('officer');
  return creds?.token ? creds : null;
};

/** Whether a stored report was captured as an officer's. */
export const isOfficerRecord = (record) => record?.body?.reporter?.kind === 'officer';

/**
 * Sign in; resolves with the credentials, or throws a SyncError whose code is the
 * server's (invalid_credentials, rate_limited, ...) or 'network'.
 */
export async function signIn(username, password) {
  const resp = await request('POST', `${API}/officers/login`, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: username.trim(), password }),
    timeoutMs: 30_000,
  });
  if (resp.status !== 201) throw await failure(resp);
  const body = await resp.json().catch(() => null);
  if (!body?.device_id || !body?.token) throw new SyncError('retry', 'not_our_server');
  const creds = {
    device_id: body.device_id,
    token: body.token,
    name: body.officer?.display_name || username.trim(),
    username: username.trim(),
    at: Date.now(),
  };
  await setMeta('officer', creds);
  // The same officer back on this phone: their own earlier reports show again.
  const back = (await listReports()).filter((r) => r.hidden && r.officerUsername === creds.username);
  if (back.length) await updateReports(back.map((r) => [r.id, (rec) => { rec.hidden = false; }]));
  return creds;
}

/** Signed-out officers whose reports are still being sent: their credentials. */
export async function signedOutOfficers() {
  return (await getMeta(SIGNED_OUT)) || [];
}

/**
 * The credentials a report captured as an officer is sent with: those of the officer
 * it was captured under (signed out since, or signed in now), or null.
 */
export async function officerCredsFor(record) {
  if (record?.officerDevice) {
    const current = await officerCreds();
    if (current?.device_id === record.officerDevice) return current;
    return (await signedOutOfficers()).find((o) => o.device_id === record.officerDevice) || null;
  }
  return officerCreds();
}

/** Forget the tokens of signed-out officers none of whose reports is left to send. */
export async function forgetSignedOutOfficers() {
  const kept = await signedOutOfficers();
  if (!kept.length) return;
  const waiting = new Set((await listReports()).filter((r) => r.phase !== 'sent').map((r) => r.officerDevice));
  const still = kept.filter((o) => waiting.has(o.device_id));
  if (still.length !== kept.length) await setMeta(SIGNED_OUT, still);
}

/** An officer's reports not yet sent: signing out would strand them. */
export async function unsentOfficerReports() {
  const creds = await officerCreds();
  return (await listReports()).filter(
    (r) =>
      isOfficerRecord(r) &&
      (!creds || !r.officerUsername || r.officerUsername === creds.username) &&
      (r.phase !== 'sent' || (r.answers || []).some((a) => a.phase !== 'sent')),
  );
}

/**
 * Sign out. The officer's reports leave "My reports" at once; those not sent yet stay
 * queued and are sent with the officer's token. Returns how many are still to send.
 */
export async function signOut() {
  const creds = await officerCreds();
  if (!creds) return 0;
  // Captured since sign-in, or earlier by the same officer (shown again at sign-in).
  const theirs = (await listReports()).filter(
    (r) => isOfficerRecord(r) && (!r.officerDevice || r.officerUsername === creds.username),
  );
  const unsent = theirs.filter((r) => r.phase !== 'sent').length;
  if (theirs.some((r) => r.phase !== 'sent' && !r.officerDevice)) {
    const { device_id, token, name, username } = creds;
    const others = (await signedOutOfficers()).filter((o) => o.device_id !== device_id);
    await setMeta(SIGNED_OUT, [...others, { device_id, token, name, username }]);
  }
  const hide = (rec) => {
    rec.officerDevice ||= creds.device_id; // the token it was captured under, kept
    rec.officerUsername = creds.username;
    rec.hidden = true;
  };
  await updateReports(theirs.map((r) => [r.id, hide]), { meta: { key: 'officer', value: null } });
  return unsent;
}
