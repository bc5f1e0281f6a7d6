// RoadWatch service worker (an ES module): event listeners only.
// The server writes this release's version and precache list into this file.
import { cleanOldCaches, precache, route } from './a/__RW_VERSION__/sw/cache.js';
import { backgroundSync } from './a/__RW_VERSION__/sw/background.js';
import { SYNC_TAG, pullChanges } from './a/__RW_VERSION__/js/sync.js';
import { parsePayload, subscriptionChanged } from './a/__RW_VERSION__/js/push.js';
import { getMeta } from './a/__RW_VERSION__/js/outbox/queue.js';

const VERSION = '__RW_VERSION__';
const PRECACHE = ['__RW_PRECACHE__'];

// Install quietly; the new release waits until the user accepts it (see js/sw-bridge.js).
self.addEventListener('install', (event) => {
  event.waitUntil(precache(VERSION, PRECACHE));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(cleanOldCaches(VERSION).then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const response = route(event.request, VERSION);
  if (response) event.respondWith(response);
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  if (event.data?.type === 'version') event.ports[0]?.postMessage({ version: VERSION });
});

self.addEventListener('sync', (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(backgroundSync(event.lastChance));
});

// Web Push (PROTOCOL §3.7): show the message, and pull the change feed (the truth) so
// the new status is stored before the user opens the app; then tell open pages.
const FALLBACK = { vi: 'Có cập nhật về phản ánh của bạn', en: 'There is news about your report' };

async function onPush(payload) {
  const lang = (await getMeta('push_lang').catch(() => null)) || 'vi';
  const id = typeof payload.report_id === 'string' ? payload.report_id : '';
  const shown = self.registration.showNotification(String(payload.title || 'RoadWatch'), {
    body: String(payload.body || FALLBACK[lang] || FALLBACK.vi),
    tag: id || 'rw-status',
    data: { report_id: id || null },
    icon: '/icons/icon-192.png',
    badge: '/icons/favicon-32.png',
    lang,
  });
  // The same lock as the page's pull: one reader of the feed at a time (Safari < 15.4: none).
  const pull = () => pullChanges();
  const pulled = (navigator.locks ? navigator.locks.request('rw-changes', pull) : pull()).catch(() => 0);
  await Promise.all([shown, pulled]);
  for (const client of await self.clients.matchAll({ type: 'window' })) {
    client.postMessage({ type: 'status-changed', report_id: id || null });
  }
}

async function onNotificationClick(notification) {
  notification.close();
  const id = notification.data?.report_id;
  const hash = id ? `#report/${id}` : '#reports';
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (app) {
    app.postMessage({ type: 'open', hash });
    return app.focus().catch(() => app); // focus needs the user's tap
  }
  return self.clients.openWindow(`/${hash}`);
}

// waitUntil throws for a synthetic event; the work still runs.
const keep = (event, promise) => {
  try {
    event.waitUntil(promise);
  } catch {
    // not dispatched by the browser
  }
};

self.addEventListener('push', (event) => keep(event, onPush(parsePayload(event.data))));

self.addEventListener('notificationclick', (event) => keep(event, onNotificationClick(event.notification)));

self.addEventListener('pushsubscriptionchange', (event) => {
  keep(event, subscriptionChanged(self.registration, event.oldSubscription, event.newSubscription));
});
