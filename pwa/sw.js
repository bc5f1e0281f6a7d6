// RoadWatch service worker (an ES module): event listeners only.
// The server writes this release's version and precache list into this file.
import { cleanOldCaches, precache, route } from './a/__RW_VERSION__/sw/cache.js';
import { backgroundSync } from './a/__RW_VERSION__/sw/background.js';
import { SYNC_TAG } from './a/__RW_VERSION__/js/sync.js';

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
