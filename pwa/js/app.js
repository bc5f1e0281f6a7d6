/**
 * RoadWatch PWA bootstrap: screens, the outbox list ("My reports"), report details,
 * settings, and the triggers that start a sync (app start, `online`, becoming visible,
 * a timer, Background Sync via the service worker, "Send now").
 */
import { CaptureForm } from './capture.js';
import { applyI18n, currentLang, formatBytes, formatTime, has, initLang, setLang, t } from './i18n.js';
import {
  CHANNEL,
  deleteReport,
  getMeta,
  getReport,
  listReports,
  mediaBlob,
  purgeSentMedia,
  recoverInterrupted,
  rekeyReport,
  setMeta,
  updateReport,
} from './outbox/queue.js';
import { displayState, progress } from './outbox/serialize.js';
import { applyUpdate, checkForUpdate, controllerVersion, requestBackgroundSync, startServiceWorker } from './sw-bridge.js';
import { activeIds, syncNow } from './sync.js';
import { officerCreds, signIn, signOut } from './officer.js';
import { pushSupported, refreshSubscription, subscribe, unsubscribe } from './push.js';
import { warmUp } from './hash.js';
import { normalizePlate } from './plate.js';

const VERSION = document.documentElement.dataset.version;
const POLL_MS = 60_000;
const $ = (sel) => document.querySelector(sel);
const remoteActive = new Map(); // report id -> time of the last "active" message from elsewhere
let capture;
let catalogueNames = new Map();
let lastSync = { pending: 0, nextAttemptAt: 0 };
let syncTimer = null;
let swReady = Promise.resolve(null); // the service worker registration, once registered

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'type' || k === 'href' || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
};

// --- screens --------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, '') || 'capture';
  const [screen, id] = hash.split('/');
  const name = ['capture', 'reports', 'settings', 'report'].includes(screen) ? screen : 'capture';
  for (const section of document.querySelectorAll('.screen')) {
    section.hidden = section.dataset.screen !== (name === 'report' ? 'detail' : name);
  }
  for (const tab of document.querySelectorAll('.tabs a')) {
    const current = tab.dataset.tab === name || (name === 'report' && tab.dataset.tab === 'reports');
    if (current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (name === 'reports') renderOutbox();
  if (name === 'report') renderDetail(id);
  if (name === 'settings') renderSettings();
  window.scrollTo(0, 0);
}

function toast(message, { action = null, kind = 'info', ms = 4000 } = {}) {
  const node = $('#toast');
  node.replaceChildren(el('span', { text: message }));
  node.dataset.kind = kind;
  if (action) node.append(el('button', { type: 'button', class: 'btn btn-ghost', text: action.label, onclick: action.run }));
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    node.hidden = true;
  }, ms);
}

function confirmDialog(text, okLabel = t('confirm_yes')) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  $('#confirm-ok').className = okLabel === t('confirm_yes') ? 'btn btn-danger' : 'btn btn-primary';
  if (typeof dialog.showModal !== 'function') return Promise.resolve(window.confirm(text));
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

function setNet() {
  const net = $('#net');
  const online = navigator.onLine !== false;
  net.dataset.online = String(online);
  net.textContent = t(online ? 'net_online' : 'net_offline');
}

// --- the outbox list ------------------------------------------------------------------------

const isActive = (id) => activeIds().has(id) || Date.now() - (remoteActive.get(id) || 0) < 30_000;

function violationName(code) {
  const v = catalogueNames.get(code);
  if (!v) return code;
  return currentLang() === 'en' ? v.name_en : v.name_vi;
}

function stateLine(record, state) {
  const p = progress(record);
  if (state === 'sending') return t('state_sending', { n: p.percent });
  return t(`state_${state}`);
}

function whyText(attention) {
  if (!attention) return '';
  const key = `why_${attention.code}`;
  if (has(key)) return t(key);
  return t('why_other', { code: attention.code });
}

function subLine(record, state) {
  if (state === 'attention') return whyText(record.attention);
  if (state === 'saved' || state === 'sending') {
    if (navigator.onLine === false) return t('waiting_network');
    if (record.nextAttemptAt > Date.now() && !isActive(record.id)) {
      return t('next_try', { time: formatTime(new Date(record.nextAttemptAt)) });
    }
  }
  return '';
}

function serverBlock(record) {
  if (!record.server?.status) return null;
  // "Waiting for all files" is the server's view of a report still being sent: the
  // phone's own state says more.
  if (record.server.status === 'awaiting_evidence' && record.phase !== 'sent') return null;
  const key = `srv_${record.server.status}`;
  const block = el('div', { class: 'server', 'data-status': record.server.status },
    el('span', { class: 'server-status', text: has(key) ? t(key) : record.server.status }));
  const reason = `rsn_${record.server.reason_code}`;
  if (record.server.reason_code && has(reason)) block.append(el('span', { class: 'server-reason', text: t(reason) }));
  if (record.server.public_note) {
    block.append(el('blockquote', { class: 'note' },
      el('strong', { text: `${t('reviewer_note')}: ` }), el('span', { text: record.server.public_note })));
  }
  return block;
}

const thumbUrls = new Map();

function thumbnail(record) {
  if (record.thumb) {
    if (!thumbUrls.has(record.id)) {
      thumbUrls.set(record.id, URL.createObjectURL(new Blob([record.thumb], { type: 'image/jpeg' })));
    }
    return el('img', { class: 'thumb', src: thumbUrls.get(record.id), alt: '' });
  }
  const video = record.media.every((m) => m.content_type.startsWith('video/'));
  return el('div', { class: 'thumb thumb-empty', text: video ? '▶' : '' });
}

function plateText(record) {
  const p = normalizePlate(record.body.plate, record.body.vehicle_class);
  return p.display || record.body.plate || t('no_plate');
}

let renderQueued = false;

/** Re-render the list soon (coalesces bursts of progress messages). */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderBadge();
    if (!$('#screen-reports').hidden) renderOutbox();
    const hash = location.hash.split('/');
    if (hash[0] === '#report' && !$('#screen-detail').hidden) renderDetail(hash[1]);
  });
}

async function renderBadge() {
  const records = await listReports();
  const waiting = records.filter((r) => r.phase === 'saved' || r.phase === 'uploading' || r.phase === 'attention').length;
  const badge = $('#badge');
  badge.hidden = waiting === 0;
  badge.textContent = String(waiting);
}

async function renderOutbox() {
  const records = (await listReports()).filter((r) => r.phase !== 'capturing');
  const list = $('#outbox');
  list.replaceChildren(
    ...records.map((record) => {
      const active = isActive(record.id);
      const state = displayState(record, active);
      const p = progress(record);
      const bar = state === 'sending'
        ? el('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(p.percent), 'aria-valuemin': '0', 'aria-valuemax': '100' },
          el('span', { style: `width:${p.percent}%` }))
        : null;
      if (bar) bar.firstChild.style.width = `${p.percent}%`;
      const sub = subLine(record, state);
      return el('li', { class: 'item', 'data-report-id': record.id, 'data-state': state },
        el('a', { href: `#report/${record.id}`, class: 'item-link' },
          thumbnail(record),
          el('div', { class: 'item-body' },
            el('div', { class: 'item-top' },
              el('strong', { class: 'plate', text: plateText(record) }),
              el('span', { class: `pill pill-${state}`, text: stateLine(record, state) })),
            el('div', { class: 'item-violation', text: violationName(record.body.violation) }),
            el('div', { class: 'hint', text: formatTime(new Date(record.createdAt)) }),
            bar,
            sub ? el('div', { class: `sub sub-${state}`, text: sub }) : null,
            serverBlock(record))));
    }),
  );
  $('#outbox-empty').hidden = records.length > 0;
  const waiting = records.filter((r) => r.phase === 'saved' || r.phase === 'uploading').length;
  $('#queue-summary').textContent = waiting ? t('queue_waiting', { n: waiting }) : t('queue_done');
  $('#send-now').hidden = waiting === 0;
  renderStorage($('#storage-line'));
}

async function renderStorage(node, persistNode = null) {
  const est = await navigator.storage?.estimate?.().catch(() => null);
  if (est) node.textContent = t('storage_line', { used: formatBytes(est.usage || 0), free: formatBytes(Math.max(0, (est.quota || 0) - (est.usage || 0))) });
  if (persistNode) {
    const persisted = await navigator.storage?.persisted?.().catch(() => false);
    persistNode.textContent = t(persisted ? 'persisted_yes' : 'persisted_no');
    persistNode.dataset.persisted = String(Boolean(persisted));
    $('#persist-btn').hidden = Boolean(persisted) || !navigator.storage?.persist;
  }
}

// --- one report -------------------------------------------------------------------------------

const detailUrls = [];

async function renderDetail(id) {
  const record = await getReport(id);
  const root = $('#detail');
  for (const url of detailUrls.splice(0)) URL.revokeObjectURL(url);
  if (!record) {
    root.replaceChildren(el('p', { class: 'empty', text: '—' }));
    return;
  }
  const state = displayState(record, isActive(record.id));
  const b = record.body;
  const row = (label, value) => (value ? el('div', { class: 'kv' }, el('dt', { text: label }), el('dd', { text: value })) : null);
  const named = record.named ?? Boolean(b.reporter.name || b.reporter.national_id || b.reporter.phone);
  const media = el('ul', { class: 'media-list detail-media' });
  for (const m of record.media) {
    const item = el('li', { class: 'media-item' });
    if (!record.purged && m.content_type.startsWith('image/')) {
      const img = el('img', { alt: '' });
      mediaBlob(m).then((blob) => {
        const url = URL.createObjectURL(blob);
        detailUrls.push(url);
        img.src = url;
      }).catch(() => {});
      item.append(img);
    } else item.append(el('div', { class: 'video-thumb', text: m.content_type.startsWith('video/') ? '▶' : '' }));
    const pct = m.size ? Math.floor((100 * (m.received ? m.size : m.offset || 0)) / m.size) : 0;
    item.append(el('div', { class: 'media-meta' },
      el('span', { class: 'name', text: `${m.content_type} · ${formatBytes(m.size)}` }),
      el('span', { class: 'hint mono', text: `SHA-256 ${m.sha256.slice(0, 16)}…` }),
      el('span', { class: m.received ? 'ok' : 'hint', text: record.purged ? t('media_purged') : m.received ? `✓ ${t('media_received')}` : t('media_pending', { n: pct }) })));
    media.append(item);
  }
  const actions = el('div', { class: 'row-btns' });
  if (state === 'attention' && REKEY_CODES.has(record.attention?.code)) {
    actions.append(el('button', { type: 'button', class: 'btn btn-primary', text: t('resend_new_id'), onclick: () => resendAsNew(record) }));
  } else if (state === 'attention' && record.attention?.code !== 'capture_incomplete') {
    actions.append(el('button', { type: 'button', class: 'btn btn-primary', text: t('retry'), onclick: () => retryReport(record.id) }));
  }
  if (state === 'sent' && !record.purged) {
    actions.append(el('button', { type: 'button', class: 'btn btn-secondary', text: t('purge'), onclick: () => purgeOne(record) }));
  }
  if (state !== 'sent') {
    actions.append(el('button', { type: 'button', class: 'btn btn-danger-outline', text: t('delete_local'), onclick: () => deleteOne(record) }));
  }
  const loc = b.location;
  root.replaceChildren(
    el('div', { class: 'card detail', 'data-report-id': record.id, 'data-state': state },
      el('div', { class: 'item-top' },
        el('h2', { text: plateText(record) }),
        el('span', { class: `pill pill-${state}`, text: stateLine(record, state) })),
      state === 'attention'
        ? el('p', { class: 'sub sub-attention', text: `${whyText(record.attention)} ${t(REKEY_CODES.has(record.attention?.code) ? 'attention_help_rekey' : 'attention_help')}` })
        : null,
      state === 'attention' ? actions : null,
      serverBlock(record),
      el('dl', {},
        row(t('f_violation'), violationName(b.violation)),
        row(t('f_vehicle'), t(`vc_${b.vehicle_class}`)),
        row(t('f_desc'), b.vehicle_description),
        row(t('f_note'), b.note),
        row(t('f_time'), formatTime(new Date(b.captured_at))),
        row(t('f_location'), `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}` + (loc.accuracy_m ? ` (±${Math.round(loc.accuracy_m)} m)` : '') + ` · ${t(`src_${loc.source}`)}`),
        row(t('f_named'), t(named ? 'yes' : 'no')),
        row(t('f_id'), record.id)),
      el('h3', { text: t('f_media') }),
      media,
      el('p', { class: 'sealed', text: t('sealed_note') }),
      state === 'attention' ? null : actions),
  );
}

async function retryReport(id) {
  await updateReport(id, (r) => {
    r.phase = r.registered ? 'uploading' : 'saved';
    r.attention = null;
    r.attempt = 0;
    r.nextAttemptAt = 0;
  });
  runSync({ force: true });
}

// The server holds these ids for something else: retrying the same ids cannot work.
const REKEY_CODES = new Set(['report_conflict', 'media_id_conflict']);

async function resendAsNew(record) {
  if (!(await confirmDialog(t('confirm_resend_new_id'), t('resend_new_id')))) return;
  const fresh = await rekeyReport(record.id);
  location.hash = `#report/${fresh.id}`;
  runSync({ force: true, reason: 'manual' });
}

async function deleteOne(record) {
  if (!(await confirmDialog(t('confirm_delete_unsent')))) return;
  await deleteReport(record.id);
  location.hash = '#reports';
}

async function purgeOne(record) {
  const size = formatBytes(record.media.reduce((n, m) => n + m.size, 0));
  if (!(await confirmDialog(t('confirm_purge', { size })))) return;
  await purgeSentMedia(record.id);
}

// --- settings ------------------------------------------------------------------------------------

async function renderSettings() {
  for (const radio of document.querySelectorAll('input[name=lang]')) radio.checked = radio.value === currentLang();
  renderOfficer();
  renderStorage($('#settings-storage'), $('#settings-persist'));
  const sent = (await listReports()).filter((r) => r.phase === 'sent' && !r.purged);
  const bytes = sent.reduce((n, r) => n + r.media.reduce((k, m) => k + m.size, 0), 0);
  const purge = $('#purge-all');
  purge.textContent = sent.length ? t('purge_all', { size: formatBytes(bytes) }) : t('nothing_to_purge');
  purge.disabled = sent.length === 0;
  const swVersion = await controllerVersion();
  $('#about-version').textContent = t('version', { v: swVersion && swVersion !== VERSION ? `${VERSION} (SW ${swVersion})` : VERSION });
  renderPushSettings();
  const creds = await getMeta('device');
  $('#about-device').textContent = creds?.device_id ? t('device', { id: creds.device_id }) : t('device_none');
}

function bindSettings() {
  for (const radio of document.querySelectorAll('input[name=lang]')) {
    radio.addEventListener('change', () => {
      setLang(radio.value);
      capture.relabel();
      refreshPush();
      setNet();
      renderSettings();
    });
  }
  bindOfficer();
  $('#persist-btn').addEventListener('click', async () => {
    await navigator.storage?.persist?.();
    renderSettings();
  });
  $('#purge-all').addEventListener('click', async () => {
    const sent = (await listReports()).filter((r) => r.phase === 'sent' && !r.purged);
    const bytes = sent.reduce((n, r) => n + r.media.reduce((k, m) => k + m.size, 0), 0);
    if (!sent.length || !(await confirmDialog(t('confirm_purge_all', { size: formatBytes(bytes) })))) return;
    for (const r of sent) await purgeSentMedia(r.id);
    renderSettings();
  });
  $('#licences').href = `/a/${VERSION}/vendor/README.md`;
}

// --- patrol officers (PROTOCOL §3.3a) ---------------------------------------------------------

let officer = null; // the signed-in officer's credentials, or null

async function loadOfficer() {
  officer = await officerCreds();
  capture.setOfficer(officer?.name);
}

async function renderOfficer() {
  await loadOfficer();
  $('#officer-login').hidden = Boolean(officer);
  $('#officer-signed').hidden = !officer;
  if (officer) $('#officer-who').textContent = t('officer_signed_in', { name: officer.name, user: officer.username });
}

function bindOfficer() {
  const form = $('#officer-login');
  const error = $('#officer-err');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const { username, password } = form.elements;
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      error.textContent = t('officer_missing');
      error.hidden = false;
      return;
    }
    const button = $('#officer-signin');
    button.disabled = true;
    try {
      await signIn(username.value, password.value);
      form.reset();
      await renderOfficer();
      refreshPush(); // the subscription follows the officer's token
    } catch (err) {
      const code = err?.code || 'other';
      error.textContent = has(`officer_${code}`) ? t(`officer_${code}`) : t('officer_other', { code });
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $('#officer-signout').addEventListener('click', async () => {
    const unsent = await signOut();
    const out = $('#officer-out-err');
    out.hidden = !unsent;
    if (unsent) {
      out.textContent = t('officer_unsent', { n: unsent });
      return;
    }
    await renderOfficer();
    refreshPush();
  });
}

// --- notifications (Web Push, PROTOCOL §3.7) -------------------------------------------------------

const PUSH_LATER_MS = 7 * 24 * 3600_000; // "Later" is not asked again for a week
let pushOffered = false;
let pushRefreshed = false;

const pushSubscription = async () => (await swReady)?.pushManager?.getSubscription().catch(() => null);

/** After a report reaches "sent" (never on first load): offer notifications, once. */
async function maybeOfferPush() {
  if (pushOffered || !pushSupported() || Notification.permission === 'denied') return;
  if (Date.now() - Number(localStorage.getItem('rw-push-later') || 0) < PUSH_LATER_MS) return;
  if (await getMeta('push_off')) return; // turned off in Settings: not nagged again
  if (!(await swReady) || (Notification.permission === 'granted' && (await pushSubscription()))) return;
  pushOffered = true;
  $('#push-offer').hidden = false;
}

async function enablePush() {
  try {
    if ((await Notification.requestPermission()) !== 'granted') return false;
    await subscribe(await swReady, currentLang());
    return true;
  } catch (err) {
    console.warn('push subscription failed', err);
    toast(t('push_failed'), { kind: 'error' });
    return false;
  }
}

/** App start, `online`, a new language: send the subscription again (it changes silently). */
async function refreshPush() {
  if (!pushSupported()) return;
  pushRefreshed = await refreshSubscription(await swReady, currentLang()).catch(() => false);
}

async function renderPushSettings() {
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

function bindPush() {
  $('#push-on').addEventListener('click', () => {
    $('#push-offer').hidden = true;
    enablePush();
  });
  $('#push-later').addEventListener('click', () => {
    $('#push-offer').hidden = true;
    localStorage.setItem('rw-push-later', String(Date.now()));
  });
  $('#push-toggle').addEventListener('change', async (e) => {
    if (e.target.checked) await enablePush();
    else await unsubscribe(await swReady).catch(() => {});
    renderPushSettings();
  });
}

function onWorkerMessage(data) {
  if (data?.type === 'status-changed') scheduleRender();
  if (data?.type === 'open' && typeof data.hash === 'string') location.hash = data.hash;
}

// --- sync triggers ----------------------------------------------------------------------------------

/** Run a sync pass and plan the next one. */
async function runSync(opts) {
  try {
    lastSync = await syncNow(opts);
  } catch (err) {
    console.error('sync pass failed', err);
  }
  // No Background Sync registration here: after a failed pass it would fire at once
  // (the browser thinks it is online), ask this page again, fail again... It is
  // registered when a report is saved and when the app goes to the background.
  planNext();
  scheduleRender();
  return lastSync;
}

function planNext() {
  clearTimeout(syncTimer);
  if (document.visibilityState !== 'visible') return;
  let wait = POLL_MS;
  if (lastSync.pending > 0 && lastSync.nextAttemptAt) wait = Math.max(2000, Math.min(POLL_MS, lastSync.nextAttemptAt - Date.now()));
  syncTimer = setTimeout(() => runSync({ reason: 'timer' }), wait);
}

async function makeThumb(record, files) {
  const index = record.media.findIndex((m) => m.content_type.startsWith('image/') && !m.content_type.includes('hei'));
  if (index < 0 || !('createImageBitmap' in window)) return;
  try {
    const bitmap = await createImageBitmap(files[index], { resizeWidth: 160, resizeQuality: 'medium' });
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.7));
    if (!blob) return;
    const thumb = await blob.arrayBuffer();
    await updateReport(record.id, (r) => {
      r.thumb = thumb;
    });
  } catch {
    // no thumbnail: the list shows a placeholder
  }
}

async function onSaved(record, files) {
  toast(t('saved_toast'), { action: { label: t('view_reports'), run: () => { location.hash = '#reports'; } } });
  renderBadge();
  makeThumb(record, files);
  if (!(await getMeta('persist_asked'))) {
    // Ask once, at the first save: the moment the user has something worth keeping.
    navigator.storage?.persist?.().catch(() => {});
    setMeta('persist_asked', Date.now());
  }
  requestBackgroundSync();
  runSync({ force: true, reason: 'saved' });
}

function isBusy() {
  return capture.isDirty() || activeIds().size > 0;
}

function showBanner(text, { go = null, goLabel = t('update_now'), later = true } = {}) {
  $('#banner-text').textContent = text;
  $('#banner-go').textContent = goLabel;
  $('#banner-go').hidden = !go;
  $('#banner-go').onclick = go;
  $('#banner-later').hidden = !later;
  $('#banner-later').onclick = () => {
    $('#banner').hidden = true;
  };
  $('#banner').hidden = false;
}

function offerUpdate() {
  showBanner(t('update_available'), {
    go: () => {
      if (applyUpdate(isBusy) === 'deferred') showBanner(t('update_deferred'), { later: false });
      else $('#banner').hidden = true;
    },
  });
}

// --- start -----------------------------------------------------------------------------------------

async function main() {
  initLang();
  applyI18n(document);
  setNet();
  warmUp().catch(() => {});
  capture = new CaptureForm(document.forms.report, { onSaved });
  loadOfficer();
  capture.relabel();
  bindSettings();
  bindPush();
  $('#detail-back').addEventListener('click', () => {
    location.hash = '#reports';
  });
  $('#send-now').addEventListener('click', () => runSync({ force: true, reason: 'manual' }));
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => {
    setNet();
    runSync({ force: true, reason: 'online' });
    if (!pushRefreshed) refreshPush();
  });
  window.addEventListener('offline', () => {
    setNet();
    scheduleRender();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      runSync({ force: true, reason: 'visible' });
      checkForUpdate();
    } else {
      clearTimeout(syncTimer);
      // Leaving the app with reports still queued: the browser (Chromium) sends them.
      if (lastSync.pending > 0) requestBackgroundSync();
    }
  });
  window.addEventListener('rw-outbox', (e) => {
    if (e.detail?.phase === 'sent') maybeOfferPush();
    scheduleRender();
  });
  window.addEventListener('rw-db-outdated', () => showBanner(t('replaced'), { go: () => location.reload(), goLabel: t('reload') }));
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e) => {
    if (e.data?.active) remoteActive.set(e.data.id, Date.now());
    else if (e.data?.active === false) remoteActive.delete(e.data.id);
    if (e.data?.phase === 'sent') maybeOfferPush();
    scheduleRender();
  };

  route();
  await recoverInterrupted().catch(() => {});
  capture.loadCatalogue().then(() => {
    catalogueNames = new Map(capture.catalogue.map((v) => [v.code, v]));
    scheduleRender();
  });
  capture.startLocation();
  renderBadge();
  document.documentElement.dataset.ready = 'true';
  performance.mark('rw-ready');

  swReady = startServiceWorker({
    onUpdate: offerUpdate,
    onReplaced: () => showBanner(t('replaced'), { go: () => location.reload(), goLabel: t('reload') }),
    onSyncRequest: () => runSync({ force: true, reason: 'background-sync' }),
    onMessage: onWorkerMessage,
  });
  swReady.then(() => {
    checkForUpdate();
    refreshPush();
  });
  runSync({ force: true, reason: 'start' });
}

main();
