/**
 * RoadWatch PWA bootstrap: wires the screens (screens/), the router, the sync triggers
 * and the service worker together, then shows the first screen and starts a sync.
 */
import { applyI18n, initLang } from './i18n.js';
import { recoverInterrupted } from './outbox/queue.js';
import { addScreen, onEveryChange, route, scheduleRender } from './router.js';
import { isBusy, startCapture } from './screens/capture.js';
import { later, pushScreen } from './lazy.js';
import { loadPlaces } from './places.js';
import { loadOfficer } from './screens/officer.js';
import { bindOutbox, renderBadge, renderOutbox } from './screens/outbox.js';
import { state } from './state.js';
import { checkForUpdate, startServiceWorker } from './sw-bridge.js';
import { bindTriggers, onWorkerMessage, runSync } from './triggers.js';
import { offerReload, offerUpdate } from './ui/banner.js';
import { renderNetStatus } from './ui/net-status.js';

/** A screen whose module is loaded when it is first shown: bind it once, then render. */
function lazyScreen(load, bind, render) {
  let bound = null;
  return (id) => {
    bound ??= load().then((m) => {
      m[bind]();
      return m;
    });
    return bound.then((m) => m[render](id)).catch((err) => console.error('screen failed', err));
  };
}

function bindScreens() {
  addScreen('reports', renderOutbox, { live: true });
  addScreen('report', lazyScreen(() => import('./screens/detail.js'), 'bindDetail', 'renderDetail'), { live: true });
  addScreen('settings', lazyScreen(() => import('./screens/settings.js'), 'bindSettings', 'renderSettings'));
  onEveryChange(renderBadge);
  bindOutbox();
  window.addEventListener('hashchange', route);
  bindTriggers();
  window.addEventListener('rw-db-outdated', offerReload);
}

function startWorker() {
  state.swReady = startServiceWorker({
    onUpdate: () => offerUpdate(isBusy),
    onReplaced: offerReload,
    onSyncRequest: () => runSync({ force: true, reason: 'background-sync' }),
    onMessage: onWorkerMessage,
  });
  state.swReady.then(() => {
    checkForUpdate();
    later(pushScreen, 'refreshPush');
  });
}

// The browser's install prompt, kept for the first-visit screen (screens/welcome.js).
window.addEventListener('beforeinstallprompt', (event) => {
  event.preventDefault();
  state.installPrompt = event;
});

/** The first-visit screen, once (loaded only then); Settings shows it again. */
function firstVisit() {
  let seen = '1';
  try {
    seen = localStorage.getItem('rw-welcome-seen');
  } catch {
    // No storage: do not insist.
  }
  if (!seen) import('./screens/welcome.js').then((m) => m.showWelcome());
}

async function main() {
  await initLang();
  applyI18n(document);
  renderNetStatus();
  const capture = startCapture();
  loadOfficer();
  capture.relabel();
  bindScreens();

  route();
  firstVisit();
  await recoverInterrupted().catch(() => {});
  capture.loadCatalogue().then(() => {
    state.catalogueNames = new Map(capture.catalogue.map((v) => [v.code, v]));
    scheduleRender();
  });
  capture.startLocation();
  renderBadge();
  document.documentElement.dataset.ready = 'true';
  performance.mark('rw-ready');

  startWorker();
  runSync({ force: true, reason: 'start' });
  // What the first screen did not need, ready before the first capture.
  import('./outbox/save.js').catch(() => {});
  // The district outlines (map picker, place names), kept by the service worker so that
  // they are there offline; the HTTP cache and the ETag make this cheap after the first.
  if (navigator.onLine) setTimeout(() => loadPlaces(), 2000);
  import('./hash.js').then((m) => m.warmUp()).catch(() => {});
}

main();
