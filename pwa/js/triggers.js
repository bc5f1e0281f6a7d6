/**
 * When the page syncs: at start, on `online`, on becoming visible, on a timer (the next
 * backoff, or every minute), on "Send now", and when the service worker asks (Background
 * Sync). Also what makes the screens re-render: outbox changes in this tab, in other
 * tabs and in the worker.
 */
import { CHANNEL } from './outbox/queue.js';
import { scheduleRender } from './router.js';
import { later, pushScreen, syncEngine } from './lazy.js';
import { state } from './state.js';
import { checkForUpdate, requestBackgroundSync } from './sw-bridge.js';
import { renderNetStatus } from './ui/net-status.js';

const POLL_MS = 60_000;

/** Run a sync pass and plan the next one. */
export async function runSync(opts) {
  try {
    state.lastSync = await (await syncEngine()).syncNow(opts);
  } catch (err) {
    console.error('sync pass failed', err);
  }
  // No Background Sync registration here: after a failed pass it would fire at once
  // (the browser thinks it is online), ask this page again, fail again... It is
  // registered when a report is saved and when the app goes to the background.
  planNext();
  scheduleRender();
  return state.lastSync;
}

function planNext() {
  clearTimeout(state.syncTimer);
  if (document.visibilityState !== 'visible') return;
  const { pending, nextAttemptAt } = state.lastSync;
  let wait = POLL_MS;
  if (pending > 0 && nextAttemptAt) wait = Math.max(2000, Math.min(POLL_MS, nextAttemptAt - Date.now()));
  state.syncTimer = setTimeout(() => runSync({ reason: 'timer' }), wait);
}

function onVisibility() {
  if (document.visibilityState === 'visible') {
    runSync({ force: true, reason: 'visible' });
    checkForUpdate();
  } else {
    clearTimeout(state.syncTimer);
    // Leaving the app with reports still queued: the browser (Chromium) sends them.
    if (state.lastSync.pending > 0) requestBackgroundSync();
  }
}

/** A message on the outbox channel from another tab or the service worker. */
function onChannelMessage(data) {
  if (data?.active) state.remoteActive.set(data.id, Date.now());
  else if (data?.active === false) state.remoteActive.delete(data.id);
  if (data?.phase === 'sent') later(pushScreen, 'maybeOfferPush');
  scheduleRender();
}

/** Listen for everything that starts a sync pass or changes what the screens show. */
export function bindTriggers() {
  window.addEventListener('online', () => {
    renderNetStatus();
    runSync({ force: true, reason: 'online' });
    if (!state.pushRefreshed) later(pushScreen, 'refreshPush');
  });
  window.addEventListener('offline', () => {
    renderNetStatus();
    scheduleRender();
  });
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('rw-outbox', (e) => {
    if (e.detail?.phase === 'sent') later(pushScreen, 'maybeOfferPush');
    scheduleRender();
  });
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e) => onChannelMessage(e.data);
}

/** The service worker's other messages: a status changed (a push), a notification was tapped. */
export function onWorkerMessage(data) {
  if (data?.type === 'status-changed') scheduleRender();
  if (data?.type === 'open' && typeof data.hash === 'string') location.hash = data.hash;
}
