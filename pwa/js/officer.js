/**
 * A patrol officer's sign-in (PROTOCOL §3.3a). The officer's device token is kept beside
 * the phone's citizen token: a report is sent with the token it was captured under
 * (its id belongs to that token), so signing in or out never orphans a queued report.
 */
import { API, SyncError, failure, request } from './net.js';
import { getMeta, listReports, setMeta } from './outbox/queue.js';

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
  return creds;
}

/** An officer's reports not yet sent: signing out would strand them. */
export async function unsentOfficerReports() {
  return (await listReports()).filter((r) => isOfficerRecord(r) && r.phase !== 'sent');
}

/** Sign out, unless reports captured as the officer are still unsent: returns how many. */
export async function signOut() {
  const unsent = await unsentOfficerReports();
  if (unsent.length) return unsent.length;
  await setMeta('officer', null);
  return 0;
}
