/**
 * Web Push (PROTOCOL §3.7), in the page and in the service worker alike.
 *
 * Push is only a prompt: on a message the app pulls the change feed from its stored
 * cursor (sync.js pullChanges) and never applies a status from the payload alone.
 * The subscription is sent on every app start and on `pushsubscriptionchange`, because
 * subscriptions change silently. The VAPID key is cached in IndexedDB for offline use.
 */
import { API, request } from './net.js';
import { getMeta, setMeta } from './outbox/queue.js';
import { officerCreds } from './officer.js';

/** base64url -> Uint8Array (the applicationServerKey). */
function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The server's VAPID public key: fetched, or the cached copy when offline. */
export async function vapidKey() {
  try {
    const resp = await request('GET', `${API}/push/vapid-public-key`, { timeoutMs: 15_000 });
    const body = resp.status === 200 ? await resp.json().catch(() => null) : null;
    if (typeof body?.public_key === 'string') {
      if (body.public_key !== (await getMeta('vapid_key'))) await setMeta('vapid_key', body.public_key);
      return body.public_key;
    }
  } catch {
    // offline: the cached key
  }
  return getMeta('vapid_key');
}

/**
 * The subscription belongs to one token on the server (it moves to the last one that
 * sent it): the signed-in officer's, else the phone's own. A push for either makes the
 * app pull both feeds, so nothing is missed when it moves.
 */
async function authed(method, body) {
  const creds = (await officerCreds()) || (await getMeta('device'));
  if (!creds?.token) return null;
  return request(method, `${API}/push/subscription`, {
    headers: { Authorization: `Bearer ${creds.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    timeoutMs: 15_000,
  });
}

/** PUT the subscription with the UI language; true if the server stored it. */
export async function sendSubscription(subscription, lang) {
  lang = lang || (await getMeta('push_lang')) || 'vi';
  await setMeta('push_lang', lang);
  try {
    const resp = await authed('PUT', { ...subscription.toJSON(), lang });
    const ok = resp?.status === 200 || resp?.status === 201;
    await setMeta('push_sent', ok ? { endpoint: subscription.endpoint, at: Date.now() } : null);
    return ok;
  } catch {
    return false; // offline: sent again on the next start or `online`
  }
}

/** DELETE an endpoint on the server (best effort). */
export async function forgetEndpoint(endpoint) {
  try {
    await authed('DELETE', { endpoint });
  } catch {
    // offline: the server drops it when the push service answers 404/410
  }
}

export const pushSupported = () =>
  'serviceWorker' in navigator && 'PushManager' in globalThis && 'Notification' in globalThis;

/** Subscribe `registration` with the server's key and send the subscription. */
export async function subscribe(registration, lang) {
  const key = await vapidKey();
  if (!key) throw new Error('no VAPID key');
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key),
  });
  await setMeta('push_off', false);
  await sendSubscription(subscription, lang);
  return subscription;
}

/** App start (and `online`): re-send an existing subscription; true if sent. */
export async function refreshSubscription(registration, lang) {
  if (!registration?.pushManager || Notification.permission !== 'granted') return false;
  if (await getMeta('push_off')) return false;
  const subscription = await registration.pushManager.getSubscription();
  return subscription ? sendSubscription(subscription, lang) : false;
}

/** The user turned notifications off in Settings. */
export async function unsubscribe(registration) {
  await setMeta('push_off', true);
  const subscription = await registration?.pushManager?.getSubscription();
  if (!subscription) return;
  const { endpoint } = subscription;
  await subscription.unsubscribe().catch(() => {});
  await forgetEndpoint(endpoint);
}

/** Service worker: the browser replaced (or dropped) the subscription. */
export async function subscriptionChanged(registration, oldSubscription, newSubscription) {
  if (await getMeta('push_off')) return;
  let fresh = newSubscription;
  if (!fresh) {
    const key = await getMeta('vapid_key');
    if (!key) return;
    fresh = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  }
  await sendSubscription(fresh);
  if (oldSubscription?.endpoint && oldSubscription.endpoint !== fresh.endpoint) {
    await forgetEndpoint(oldSubscription.endpoint);
  }
}

/** Service worker: a push message's payload, or {} (tolerates empty and non-JSON data). */
export function parsePayload(data) {
  if (!data) return {};
  try {
    const value = data.json();
    return value && typeof value === 'object' ? value : {};
  } catch {
    return { body: data.text?.() || '' };
  }
}
