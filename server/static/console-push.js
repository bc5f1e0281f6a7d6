// RoadWatch review console: "Bật thông báo" (turn on notifications) on the queue page.
// Registers the console's own service worker (/console/sw.js, scope /console/), subscribes
// with the server's VAPID key and sends the subscription with the page's CSRF token.
// On every load an existing subscription is sent again: it follows whoever is signed in
// to the console in this browser, and the server re-learns it if it was dropped.
const control = document.getElementById('push-control');
const OFF_KEY = 'rw-console-push-off';

// The words come from the page (data-text), in the console's language; Vietnamese if absent.
const TEXT = {
  enable: 'Bật thông báo',
  disable: 'Tắt thông báo',
  on: 'Đang nhận thông báo vụ việc mới',
  unsupported: 'Trình duyệt này không hỗ trợ thông báo',
  denied: 'Thông báo đang bị trình duyệt chặn',
  failed: 'Không bật được thông báo. Thử lại sau.',
  ...JSON.parse(control?.dataset.text || '{}'),
};

function keyBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// Digests come in the console's language (the page's <html lang>), Vietnamese first.
function lang() {
  return document.documentElement.lang === 'en' ? 'en' : 'vi';
}

async function post(url, fields) {
  const body = new URLSearchParams({ ...fields, csrf_token: control.dataset.csrf });
  return fetch(url, { method: 'POST', body, credentials: 'same-origin' });
}

async function send(subscription) {
  const json = subscription.toJSON();
  const resp = await post(control.dataset.subscribe, {
    endpoint: json.endpoint,
    p256dh: json.keys.p256dh,
    auth: json.keys.auth,
    lang: lang(),
  });
  return resp.status === 200 || resp.status === 201;
}

function show(state) {
  const button = control.querySelector('button');
  const status = control.querySelector('.push-status');
  status.textContent = state === 'enable' ? '' : TEXT[state] || '';
  button.hidden = state === 'unsupported' || state === 'denied';
  button.textContent = state === 'on' ? TEXT.disable : TEXT.enable;
  control.dataset.state = state;
}

async function registration() {
  return navigator.serviceWorker.register(control.dataset.sw, { scope: control.dataset.scope });
}

async function enable() {
  if ((await Notification.requestPermission()) !== 'granted') return show('denied');
  const reg = await registration();
  await navigator.serviceWorker.ready;
  const resp = await fetch(control.dataset.key, { credentials: 'same-origin' });
  const { public_key: key } = await resp.json();
  const subscription =
    (await reg.pushManager.getSubscription()) ||
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  if (!(await send(subscription))) return show('failed');
  localStorage.removeItem(OFF_KEY);
  return show('on');
}

async function disable() {
  localStorage.setItem(OFF_KEY, '1');
  const reg = await navigator.serviceWorker.getRegistration(control.dataset.scope);
  const subscription = await reg?.pushManager.getSubscription();
  if (subscription) {
    const { endpoint } = subscription;
    await subscription.unsubscribe().catch(() => {});
    await post(control.dataset.unsubscribe, { endpoint }).catch(() => {});
  }
  show('enable');
}

async function start() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return show('unsupported');
  }
  if (Notification.permission === 'denied') return show('denied');
  show('enable');
  control.querySelector('button').addEventListener('click', () => {
    const action = control.dataset.state === 'on' ? disable : enable;
    action().catch(() => show('failed'));
  });
  if (Notification.permission !== 'granted' || localStorage.getItem(OFF_KEY)) return undefined;
  const reg = await navigator.serviceWorker.getRegistration(control.dataset.scope);
  const subscription = await reg?.pushManager.getSubscription();
  if (subscription && (await send(subscription))) show('on');
  return undefined;
}

if (control) start().catch(() => show('failed'));
