/**
 * Cache strategies of the service worker (squoosh-style): one versioned cache holds the
 * app shell of one release; activate deletes every other RoadWatch cache.
 */

const SHELL_PREFIX = 'rw-shell-';
const DATA_CACHE = 'rw-data';

export const shellCacheName = (version) => SHELL_PREFIX + version;

/** Fetch and store every file of this release; the install fails if one is missing. */
export async function precache(version, urls) {
  const cache = await caches.open(shellCacheName(version));
  await cache.addAll(urls.map((url) => new Request(url, { cache: 'no-cache' })));
}

/** Delete the caches of older releases (never the data cache). */
export async function cleanOldCaches(version) {
  const keep = new Set([shellCacheName(version), DATA_CACHE]);
  const names = await caches.keys();
  await Promise.all(
    names.filter((n) => n.startsWith('rw-') && !keep.has(n)).map((n) => caches.delete(n)),
  );
}

/** The response for a request, or null to let the browser go to the network itself. */
export function route(request, version) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (url.pathname === '/api/v1/violations' || url.pathname === '/api/v1/places' || url.pathname.startsWith('/api/v1/places/')) {
    return networkFirst(request, version);
  }
  if (url.pathname.startsWith('/api/')) return null; // the outbox owns retries, not the SW
  if (request.mode === 'navigate') {
    if (url.pathname === '/' || url.pathname === '/index.html') return shellPage(version);
    return null;
  }
  return cacheFirst(request, version);
}

/** The shell page from this release's cache: opens instantly, online or not. */
async function shellPage(version) {
  const cache = await caches.open(shellCacheName(version));
  return (await cache.match('/')) || fetch('/');
}

async function cacheFirst(request, version) {
  const cache = await caches.open(shellCacheName(version));
  const hit = await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

/** The catalogue and the area outlines: fresh when online, the last copy when not. */
async function networkFirst(request, version) {
  const data = await caches.open(DATA_CACHE);
  try {
    const resp = await fetch(request);
    if (resp.ok) await data.put(request, resp.clone());
    return resp;
  } catch (err) {
    const hit = (await data.match(request)) || (await caches.match(request, { cacheName: shellCacheName(version) }));
    if (hit) return hit;
    throw err;
  }
}
