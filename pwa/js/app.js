/**
 * RoadWatch PWA bootstrap: wires the screens (screens/), the router, the sync triggers
 * and the service worker together, then shows the first screen and starts a sync.
 */
import { warmUp } from './hash.js';
import { applyI18n, initLang } from './i18n.js';
import { recoverInterrupted } from './outbox/queue.js';
import { addScreen, onEveryChange, route, scheduleRender } from './router.js';
import { isBusy, startCapture } from './screens/capture.js';
import { bindDetail, renderDetail } from './screens/detail.js';
import { loadOfficer } from './screens/officer.js';
import { bindOutbox, renderBadge, renderOutbox } from './screens/outbox.js';
import { bindPush, refreshPush } from './screens/push.js';
import { bindSettings, renderSettings } from './screens/settings.js';
import { state } from './state.js';
import { checkForUpdate, startServiceWorker } from './sw-bridge.js';
import { bindTriggers, onWorkerMessage, runSync } from './triggers.js';
import { offerReload, offerUpdate } from './ui/banner.js';
import { renderNetStatus } from './ui/net-status.js';

function bindScreens() {
  addScreen('reports', renderOutbox, { live: true });
  addScreen('report', renderDetail, { live: true });
  addScreen('settings', renderSettings);
  onEveryChange(renderBadge);
  bindSettings();
  bindPush();
  bindDetail();
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
    refreshPush();
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
  initLang();
  applyI18n(document);
  renderNetStatus();
  warmUp().catch(() => {});
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
}

main();
