// RoadWatch review console: service worker for scope /console/ (apart from the PWA's at /).
// Push only: it shows the digest of new cases and opens the queue (or the case) on a tap.
// No fetch handler: the console is always loaded from the network.
'use strict';

const FALLBACK = { vi: 'Có vụ việc mới ở địa bàn của bạn', en: 'New cases in your districts' };

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function parse(data) {
  if (!data) return {};
  try {
    const value = data.json();
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

// Only pages of the console, on this origin.
function consoleUrl(url) {
  try {
    const u = new URL(String(url || ''), self.location.origin);
    if (u.origin === self.location.origin && u.pathname.startsWith('/console/')) return u.href;
  } catch {
    // not a URL
  }
  return new URL('/console/queue', self.location.origin).href;
}

self.addEventListener('push', (event) => {
  const p = parse(event.data);
  const lang = p.lang === 'en' ? 'en' : 'vi';
  event.waitUntil(
    self.registration.showNotification(String(p.title || 'RoadWatch'), {
      body: String(p.body || FALLBACK[lang]),
      tag: 'rw-new-cases', // a newer digest replaces the older one
      renotify: true,
      data: { url: consoleUrl(p.url) },
      icon: '/icons/icon-192.png',
      badge: '/icons/favicon-32.png',
      lang,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = consoleUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((c) => new URL(c.url).pathname.startsWith('/console/'));
      if (open) {
        const focused = await open.focus().catch(() => open);
        return focused.navigate ? focused.navigate(url).catch(() => focused) : focused;
      }
      return self.clients.openWindow(url);
    })(),
  );
});
