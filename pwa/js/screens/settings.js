/**
 * Settings: the language, the phone's storage (persistence, freeing sent reports'
 * space), notifications, the officer's sign-in, and the version and device id.
 */
import { currentLang, formatBytes, setLang, t } from '../i18n.js';
import { getMeta, listReports, purgeSentMedia } from '../outbox/queue.js';
import { state } from '../state.js';
import { controllerVersion } from '../sw-bridge.js';
import { confirmDialog } from '../ui/dialog.js';
import { $ } from '../ui/dom.js';
import { renderNetStatus } from '../ui/net-status.js';
import { renderStorage } from '../ui/storage.js';
import { bindOfficer, renderOfficer } from './officer.js';
import { later, pushScreen } from '../lazy.js';

const VERSION = document.documentElement.dataset.version;

/** Sent reports whose bytes are still on the phone, and how many bytes that is. */
async function purgeable() {
  const sent = (await listReports()).filter((r) => r.phase === 'sent' && !r.purged);
  const bytes = sent.reduce((n, r) => n + r.media.reduce((k, m) => k + m.size, 0), 0);
  return { sent, bytes };
}

export async function renderSettings() {
  for (const radio of document.querySelectorAll('input[name=lang]')) radio.checked = radio.value === currentLang();
  renderOfficer();
  renderStorage($('#settings-storage'), $('#settings-persist'));
  const { sent, bytes } = await purgeable();
  const purge = $('#purge-all');
  purge.textContent = sent.length ? t('purge_all', { size: formatBytes(bytes) }) : t('nothing_to_purge');
  purge.disabled = sent.length === 0;
  const swVersion = await controllerVersion();
  $('#about-version').textContent = t('version', { v: swVersion && swVersion !== VERSION ? `${VERSION} (SW ${swVersion})` : VERSION });
  (await pushScreen()).renderPushSettings();
  const creds = await getMeta('device');
  $('#about-device').textContent = creds?.device_id ? t('device', { id: creds.device_id }) : t('device_none');
}

export function bindSettings() {
  for (const radio of document.querySelectorAll('input[name=lang]')) {
    radio.addEventListener('change', async () => {
      await setLang(radio.value);
      state.capture.relabel();
      later(pushScreen, 'refreshPush');
      renderNetStatus();
      renderSettings();
    });
  }
  bindOfficer();
  pushScreen(); // wires the notifications switch
  $('#welcome-again').addEventListener('click', () => import('./welcome.js').then((m) => m.showWelcome()));
  $('#persist-btn').addEventListener('click', async () => {
    await navigator.storage?.persist?.();
    renderSettings();
  });
  $('#purge-all').addEventListener('click', async () => {
    const { sent, bytes } = await purgeable();
    if (!sent.length || !(await confirmDialog(t('confirm_purge_all', { size: formatBytes(bytes) })))) return;
    for (const r of sent) await purgeSentMedia(r.id);
    renderSettings();
  });
  $('#licences').href = `/a/${VERSION}/vendor/README.md`;
}
