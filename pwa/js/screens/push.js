/**
 * Notifications (Web Push, PROTOCOL §3.7) as the user sees them: the one-time offer
 * after a report is sent, the switch in Settings, and re-sending the subscription.
 */
import { currentLang, t } from '../i18n.js';
import { getMeta } from '../outbox/queue.js';
import { pushSupported, refreshSubscription, subscribe, unsubscribe } from '../push.js';
import { state } from '../state.js';
import { $ } from '../ui/dom.js';
import { toast } from '../ui/toast.js';

const PUSH_LATER_MS = 7 * 24 * 3600_000; // "Later" is not asked again for a week
const LATER_KEY = 'rw-push-later';

const pushSubscription = async () => (await state.swReady)?.pushManager?.getSubscription().catch(() => null);

/** After a report reaches "sent" (never on first load): offer notifications, once. */
export async function maybeOfferPush() {
  if (state.pushOffered || !pushSupported() || Notification.permission === 'denied') return;
  if (Date.now() - Number(localStorage.getItem(LATER_KEY) || 0) < PUSH_LATER_MS) return;
  if (await getMeta('push_off')) return; // turned off in Settings: not nagged again
  if (!(await state.swReady) || (Notification.permission === 'granted' && (await pushSubscription()))) return;
  state.pushOffered = true;
  $('#push-offer').hidden = false;
}

async function enablePush() {
  try {
    if ((await Notification.requestPermission()) !== 'granted') return false;
    await subscribe(await state.swReady, currentLang());
    return true;
  } catch (err) {
    console.warn('push subscription failed', err);
    toast(t('push_failed'), { kind: 'error' });
    return false;
  }
}

/** App start, `online`, a new language: send the subscription again (it changes silently). */
export async function refreshPush() {
  if (!pushSupported()) return;
  state.pushRefreshed = await refreshSubscription(await state.swReady, currentLang()).catch(() => false);
}

/** The switch in Settings: on only with permission, a subscription, and not turned off. */
export async function renderPushSettings() {
  const box = $('#push-settings');
  box.hidden = !pushSupported();
  if (box.hidden) return;
  const denied = Notification.permission === 'denied';
  const on = Notification.permission === 'granted' && !(await getMeta('push_off')) && Boolean(await pushSubscription());
  $('#push-toggle').checked = on;
  $('#push-toggle').disabled = denied;
  $('#push-hint').hidden = !denied;
  $('#push-hint').textContent = t('push_blocked');
}

/** The offer's buttons and the Settings switch. */
export function bindPush() {
  $('#push-on').addEventListener('click', () => {
    $('#push-offer').hidden = true;
    enablePush();
  });
  $('#push-later').addEventListener('click', () => {
    $('#push-offer').hidden = true;
    localStorage.setItem(LATER_KEY, String(Date.now()));
  });
  $('#push-toggle').addEventListener('change', async (e) => {
    if (e.target.checked) await enablePush();
    else await unsubscribe(await state.swReady).catch(() => {});
    renderPushSettings();
  });
}
