/**
 * One report's details (#report/<id>): what was sent, its files and their progress, the
 * server's verdict, and what the user can do: retry, re-send under new ids, free the
 * space of a sent report, delete an unsent one.
 */
import { formatBytes, formatTime, t } from '../i18n.js';
import { deleteReport, getReport, mediaBlob, purgeSentMedia, rekeyReport, updateReport } from '../outbox/queue.js';
import { displayState } from '../outbox/serialize.js';
import { runSync } from '../triggers.js';
import { confirmDialog } from '../ui/dialog.js';
import { $, el } from '../ui/dom.js';
import { isActive, plateText, serverBlock, stateLine, violationName, whyText } from './report-view.js';

// The server holds these ids for something else: retrying the same ids cannot work.
const REKEY_CODES = new Set(['report_conflict', 'media_id_conflict']);
const detailUrls = []; // object URLs of the photos shown, revoked on the next render

function mediaItem(record, m) {
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
  return item;
}

function actionButtons(record, shown) {
  const actions = el('div', { class: 'row-btns' });
  const button = (cls, text, onclick) => el('button', { type: 'button', class: `btn ${cls}`, text, onclick });
  if (shown === 'attention' && REKEY_CODES.has(record.attention?.code)) {
    actions.append(button('btn-primary', t('resend_new_id'), () => resendAsNew(record)));
  } else if (shown === 'attention' && record.attention?.code !== 'capture_incomplete') {
    actions.append(button('btn-primary', t('retry'), () => retryReport(record.id)));
  }
  if (shown === 'sent' && !record.purged) {
    actions.append(button('btn-secondary', t('purge'), () => purgeOne(record)));
  }
  if (shown !== 'sent') {
    actions.append(button('btn-danger-outline', t('delete_local'), () => deleteOne(record)));
  }
  return actions;
}

function fieldList(record) {
  const b = record.body;
  const loc = b.location;
  const row = (label, value) => (value ? el('div', { class: 'kv' }, el('dt', { text: label }), el('dd', { text: value })) : null);
  const named = record.named ?? Boolean(b.reporter.name || b.reporter.national_id || b.reporter.phone);
  return el('dl', {},
    row(t('f_violation'), violationName(b.violation)),
    row(t('f_vehicle'), t(`vc_${b.vehicle_class}`)),
    row(t('f_desc'), b.vehicle_description),
    row(t('f_note'), b.note),
    row(t('f_time'), formatTime(new Date(b.captured_at))),
    row(t('f_location'), `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}` + (loc.accuracy_m ? ` (±${Math.round(loc.accuracy_m)} m)` : '') + ` · ${t(`src_${loc.source}`)}`),
    row(t('f_named'), t(named ? 'yes' : 'no')),
    row(t('f_id'), record.id));
}

/** Render the report `id` (a dash if it is not on the phone). */
export async function renderDetail(id) {
  const record = await getReport(id);
  const root = $('#detail');
  for (const url of detailUrls.splice(0)) URL.revokeObjectURL(url);
  if (!record) {
    root.replaceChildren(el('p', { class: 'empty', text: '—' }));
    return;
  }
  const shown = displayState(record, isActive(record.id));
  const attention = shown === 'attention';
  const help = REKEY_CODES.has(record.attention?.code) ? 'attention_help_rekey' : 'attention_help';
  const actions = actionButtons(record, shown);
  root.replaceChildren(
    el('div', { class: 'card detail', 'data-report-id': record.id, 'data-state': shown },
      el('div', { class: 'item-top' },
        el('h2', { text: plateText(record) }),
        el('span', { class: `pill pill-${shown}`, text: stateLine(record, shown) })),
      attention ? el('p', { class: 'sub sub-attention', text: `${whyText(record.attention)} ${t(help)}` }) : null,
      attention ? actions : null,
      serverBlock(record),
      fieldList(record),
      el('h3', { text: t('f_media') }),
      el('ul', { class: 'media-list detail-media' }, ...record.media.map((m) => mediaItem(record, m))),
      el('p', { class: 'sealed', text: t('sealed_note') }),
      attention ? null : actions),
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

/** The "back" button returns to the list. */
export function bindDetail() {
  $('#detail-back').addEventListener('click', () => {
    location.hash = '#reports';
  });
}
