/**
 * One report's details (#report/<id>): what was sent, its files and their progress, the
 * server's verdict, and what the user can do: retry, re-send under new ids, free the
 * space of a sent report, delete an unsent one.
 */
import { formatBytes, formatTime, locale, t } from '../i18n.js';
import { deleteReport, getReport, mediaBlob, purgeSentMedia, rekeyReport, updateReport } from '../outbox/queue.js';
import { displayState } from '../outbox/serialize.js';
import { runSync } from '../triggers.js';
import { confirmDialog } from '../ui/dialog.js';
import { $, el } from '../ui/dom.js';
import { isActive, placeText, plateText, serverBlock, stateLine, violationName, whyText } from './report-view.js';

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
  const n = record.media.indexOf(m) + 1;
  item.append(el('div', { class: 'media-meta' },
    el('span', { class: 'name', text: `${t('f_file', { n })} · ${formatBytes(m.size)}` }),
    el('span', { class: m.received ? 'ok' : 'hint', text: record.purged ? t('media_purged') : m.received ? `✓ ${t('media_received')}` : t('media_pending', { n: pct }) })));
  return item;
}

const row = (label, value, cls) =>
  (value ? el('div', { class: cls ? `kv ${cls}` : 'kv' }, el('dt', { text: label }), el('dd', { text: value })) : null);

/** Who handles the report: the police unit the server named, else its district. */
function unitText(record) {
  const srv = record.server;
  if (srv?.police_unit?.name) return srv.police_unit.name;
  if (srv?.district?.name) {
    return t('unit_district', { district: srv.district.name, province: srv.district.province || '' }).replace(/, $/, '');
  }
  if (srv?.code) return t('unit_unrouted'); // stored, waiting in the unrouted queue
  return t('unit_pending');
}

/** SHA-256, MIME type and exact byte counts, folded away (issue 14). */
function technicalFold(record) {
  const nf = new Intl.NumberFormat(locale());
  const files = record.media.map((m, i) => el('div', { class: 'tech-file' },
    el('h4', { text: t('f_file', { n: i + 1 }) }),
    el('dl', {},
      row(t('f_mime'), m.content_type),
      row(t('f_bytes'), t('bytes_exact', { n: nf.format(m.size) })),
      row('SHA-256', m.sha256, 'kv-hash'))));
  return el('details', { class: 'tech' },
    el('summary', { text: t('tech_title') }),
    el('dl', {}, row(t('f_id'), record.id, 'kv-hash')),
    ...files);
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
  const named = record.named ?? Boolean(b.reporter.name || b.reporter.national_id || b.reporter.phone);
  const received = record.server?.received_at;
  return el('dl', {},
    row(t('f_violation'), violationName(b.violation)),
    row(t('f_vehicle'), t(`vc_${b.vehicle_class}`)),
    row(t('f_desc'), b.vehicle_description),
    row(t('f_note'), b.note),
    row(t('f_violation_time'), formatTime(new Date(b.captured_at)), 'kv-violation-time'),
    row(t('f_saved_time'), formatTime(new Date(record.savedAt || record.createdAt)), 'kv-saved-time'),
    received ? row(t('f_received_time'), formatTime(new Date(received)), 'kv-received-time') : null,
    placeText(record) ? row(t('f_place'), placeText(record), 'kv-place') : null,
    row(t('f_location'), `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}` + (loc.accuracy_m ? ` (±${Math.round(loc.accuracy_m)} m)` : '') + ` · ${t(`src_${loc.source}`)}`),
    row(t('f_unit'), unitText(record), 'kv-unit'),
    row(t('f_named'), t(named ? 'yes' : 'no')));
}

/** The short code a person quotes (from the server), or when it will come. */
function codeLine(record) {
  const code = record.server?.code;
  return el('p', { class: 'report-code' },
    el('span', { class: 'report-code-label', text: `${t('f_code')}: ` }),
    code ? el('strong', { class: 'mono code-value', text: code }) : el('span', { class: 'hint', text: t('code_pending') }));
}

/** Render the report `id` (a dash if it is not on the phone). */
export async function renderDetail(id) {
  const record = await getReport(id);
  const root = $('#detail');
  for (const url of detailUrls.splice(0)) URL.revokeObjectURL(url);
  if (!record || record.hidden) { // a signed-out officer's report is not shown (officer.js)
    root.replaceChildren(el('p', { class: 'empty', text: '—' }));
    return;
  }
  const shown = displayState(record, isActive(record.id));
  const attention = shown === 'attention';
  const help = REKEY_CODES.has(record.attention?.code) ? 'attention_help_rekey' : 'attention_help';
  const actions = actionButtons(record, shown);
  // A live re-render (sending progress) keeps the technical fold as the user left it.
  const techOpen = root.querySelector(`[data-report-id="${record.id}"] details.tech`)?.open;
  const fold = technicalFold(record);
  fold.open = Boolean(techOpen);
  root.replaceChildren(
    el('div', { class: 'card detail', 'data-report-id': record.id, 'data-state': shown },
      el('div', { class: 'item-top' },
        el('h2', { text: plateText(record) }),
        el('span', { class: `pill pill-${shown}`, text: stateLine(record, shown) })),
      attention ? el('p', { class: 'sub sub-attention', text: `${whyText(record.attention)} ${t(help)}` }) : null,
      attention ? actions : null,
      codeLine(record),
      serverBlock(record),
      fieldList(record),
      el('h3', { text: t('f_media') }),
      el('ul', { class: 'media-list detail-media' }, ...record.media.map((m) => mediaItem(record, m))),
      fold,
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
