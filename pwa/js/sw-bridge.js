/**
 * Page <-> service worker: registration, the update offer, Background Sync requests.
 *
 * A new release installs in the background and waits. The user is offered it; if they
 * accept while a capture is being filled in or a report is being sent, it is applied
 * as soon as that is over, never in the middle (squoosh's consent-based update).
 */
import { SYNC_TAG } from './sync-active.js';

let registration = null;
let applyRequested = false;
let reloading = false;

/**
 * Register /sw.js. `hooks`: {onUpdate(worker), onReplaced(), onSyncRequest() -> Promise,
 * onMessage(data)} (the worker's other messages: a push arrived, a notification was tapped).
 * Without service workers (old Firefox, private modes) the app still works online and
 * keeps its outbox; it just cannot open offline.
 */
export async function startServiceWorker(hooks) {
  if (!('serviceWorker' in navigator)) return null;
  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data?.type === 'sync-request') {
      hooks.onSyncRequest().then(
        (result) => event.ports[0]?.postMessage(result),
        () => event.ports[0]?.postMessage(null),
      );
    } else hooks.onMessage?.(event.data);
  });
  let hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // Only a release the user accepted reloads the page; the first install does not.
    if (applyRequested && !reloading) {
      reloading = true;
      location.reload();
    } else if (hadController) {
      hooks.onReplaced?.(); // accepted in another tab: this page should reload when idle
    }
    hadController = true;
  });
  try {
    registration = await navigator.serviceWorker.register('/sw.js', {
      type: 'module',
      scope: '/',
      updateViaCache: 'none',
    });
  } catch (err) {
    console.warn('service worker not registered', err);
    return null;
  }
  const offer = () => {
    if (registration.waiting && navigator.serviceWorker.controller) hooks.onUpdate(registration.waiting);
  };
  offer();
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer();
    });
  });
  return registration;
}

/** Look for a new release (on start, when the app becomes visible, hourly). */
export async function checkForUpdate() {
  try {
    await registration?.update();
  } catch {
    // offline: try again later
  }
}

/** The user accepted the update: apply it now, or once `isBusy()` turns false. */
export function applyUpdate(isBusy) {
  applyRequested = true;
  const tryApply = () => {
    const waiting = registration?.waiting;
    if (!waiting) return true;
    if (isBusy()) return false;
    waiting.postMessage({ type: 'skip-waiting' });
    return true;
  };
  if (tryApply()) return 'applying';
  const timer = setInterval(() => {
    if (tryApply()) clearInterval(timer);
  }, 1000);
  return 'deferred';
}

/** Ask for a Background Sync; browsers without it (iOS Safari) rely on the page's triggers. */
export async function requestBackgroundSync() {
  try {
    const reg = registration || (await navigator.serviceWorker?.ready);
    if (reg && 'sync' in reg) await reg.sync.register(SYNC_TAG);
    return Boolean(reg && 'sync' in reg);
  } catch {
    return false;
  }
}

/** The version of the running service worker's release (shown in Settings). */
export function controllerVersion() {
  const controller = navigator.serviceWorker?.controller;
  if (!controller) return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => resolve(e.data?.version || null);
    controller.postMessage({ type: 'version' }, [channel.port2]);
    setTimeout(() => resolve(null), 2000);
  });
}
