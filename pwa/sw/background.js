/**
 * Background Sync (Chromium only): send the outbox when the phone is back online,
 * also with the app closed. When a visible page is open, it is already sending (it
 * listens for `online`), so the worker asks it to, instead of racing it.
 */
import { syncNow } from '../js/sync.js';

const PAGE_TIMEOUT_MS = 4 * 60_000;

function askPage(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), PAGE_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data);
    };
    client.postMessage({ type: 'sync-request' }, [channel.port2]);
  });
}

/** Handle a `sync` event. Rejects while reports remain, so the browser retries later. */
export async function backgroundSync(lastChance) {
  const windows = await self.clients.matchAll({ type: 'window' });
  const isApp = (c) => ['/', '/index.html'].includes(new URL(c.url).pathname);
  const visible = windows.find((c) => c.visibilityState === 'visible' && isApp(c));
  const result = visible ? await askPage(visible) : await syncNow({ force: true, reason: 'background-sync' });
  if ((!result || result.pending > 0) && !lastChance) {
    throw new Error('reports still waiting; the browser will try again');
  }
}
