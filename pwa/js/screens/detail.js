/**
 * One report's details (#report/<id>): what was sent, its files and their progress, the
 * server's verdict, and what the user can do: retry, re-send under new ids, free the
 * space of a sent report, delete an unsent one.
 */
import { acceptFile } from '../capture/files.js';
import { formatBytes, formatTime, locale, t } from '../i18n.js';
import { deleteReport, getReport, mediaBlob, purgeSentMedia, rekeyReport, updateReport } from '../outbox/queue.js';
import { displayState, progress } from '../outbox/serialize.js';
import { runSync } from '../triggers.js';
import { confirmDialog } from '../ui/dialog.js';
import { $, el } from '../ui/dom.js';
import { toast } from '../ui/toast.js';
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
      answerForm(record),
      answerList(record),
      fieldList(record),
      el('h3', { text: t('f_media') }),
      el('ul', { class: 'media-list detail-media' }, ...record.media.map((m) => mediaItem(record, m))),
      fold,
      el('p', { class: 'sealed', text: t('sealed_note') }),
      attention ? null : actions),
  );
}

// The answer being written (issue 26): kept across the live re-renders of the page.
const draft = { reportId: null, text: '', files: [], error: '' };
const MAX_ANSWER_FILES = 10;

/** A preview URL of a picked file, revoked on the next render. */
function objectUrl(file) {
  const url = URL.createObjectURL(file);
  detailUrls.push(url);
  return url;
}

/** Whether the server asked for more and no answer of ours is on its way. */
function mayAnswer(record) {
  if (record.phase !== 'sent' || record.server?.status !== 'needs_info') return false;
  // A sent answer moves the server's status on (info_added): needs_info again is a new request.
  return !(record.answers || []).some((a) => a.phase !== 'sent');
}

/** The form answering a request for information: files and a short message, saved to
 * the outbox first (offline-first, like a capture), sent by the sync engine. */
function answerForm(record) {
  if (!mayAnswer(record)) return null;
  if (draft.reportId !== record.id) Object.assign(draft, { reportId: record.id, text: '', files: [], error: '' });
  const picked = el('ul', { class: 'media-list answer-picked', id: 'answer-picked' },
    ...draft.files.map((f, i) => el('li', { class: 'media-item' },
      f.type.startsWith('image/') ? el('img', { alt: '', src: objectUrl(f) }) : el('div', { class: 'video-thumb', text: '▶' }),
      el('div', { class: 'media-meta' }, el('span', { class: 'name', text: `${f.name || t('media_video')} · ${formatBytes(f.size)}` })),
      el('button', { type: 'button', class: 'remove', 'aria-label': t('media_remove'), text: '×', onclick: () => { draft.files.splice(i, 1); renderDetail(record.id); } }))));
  const input = el('input', { type: 'file', id: 'answer-files', accept: 'image/*,video/*', multiple: true, class: 'visually-hidden' });
  input.addEventListener('change', async () => {
    draft.error = '';
    for (const file of input.files) {
      const ok = await acceptFile(file);
      if (ok.error) draft.error = ok.error;
      else if (draft.files.length < MAX_ANSWER_FILES) draft.files.push(ok.file);
    }
    renderDetail(record.id);
  });
  const text = el('textarea', { id: 'answer-text', rows: 3, maxLength: 1000, value: draft.text });
  text.addEventListener('input', () => { draft.text = text.value; });
  const send = el('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'answer-send', text: t('answer_send') });
  const form = el('form', { class: 'card answer-box', id: 'answer-box', 'aria-labelledby': 'answer-title' },
    el('h3', { id: 'answer-title', text: t('answer_title') }),
    el('p', { class: 'hint', text: t('answer_hint') }),
    el('label', { htmlFor: 'answer-text', text: t('answer_text') }),
    text,
    el('label', { htmlFor: 'answer-files', class: 'btn btn-secondary', text: t('answer_add_files') }),
    input,
    picked,
    draft.error ? el('p', { class: 'err', role: 'alert', text: draft.error }) : null,
    send);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!draft.text.trim() && !draft.files.length) {
      draft.error = t('answer_empty');
      renderDetail(record.id);
      return;
    }
    send.disabled = true;
    try {
      const { saveAnswer } = await import('../outbox/save.js');
      await saveAnswer(record.id, draft.text, draft.files);
      Object.assign(draft, { reportId: null, text: '', files: [], error: '' });
      toast(t('answer_saved'), { kind: 'ok' });
      runSync({ force: true, reason: 'manual' });
    } catch (err) {
      draft.error = t(err?.code === 'storage_full' ? 'save_storage_full' : 'save_failed');
      send.disabled = false;
    }
    renderDetail(record.id);
  });
  return form;
}

/** The answers given on this report, each with its sending state. */
function answerList(record) {
  const answers = record.answers || [];
  if (!answers.length) return null;
  const state = (a) => {
    if (a.phase === 'sent') return ['sent', t('answer_state_sent')];
    if (a.phase === 'attention') return ['attention', `${t('answer_state_attention')}: ${whyText(a.attention)}`];
    if (a.phase === 'uploading' || isActive(record.id)) return ['sending', t('answer_state_sending', { n: progress(a).percent })];
    return ['saved', t('answer_state_saved')];
  };
  return el('section', { class: 'answers', id: 'answers' },
    el('h3', { text: t('answers_title') }),
    el('ul', { class: 'answer-list' }, ...answers.map((a) => {
      const [cls, text] = state(a);
      return el('li', { class: 'answer', 'data-state': cls, 'data-answer': a.answer_id },
        el('div', { class: 'item-top' },
          el('span', { class: 'answer-time', text: formatTime(new Date(a.createdAt)) }),
          el('span', { class: `pill pill-${cls}`, text })),
        el('p', { class: 'answer-text', text: a.text || t('answer_no_text') }),
        a.media.length ? el('p', { class: 'hint', text: t('answer_files_n', { n: a.media.length }) }) : null,
        a.phase === 'attention' ? el('button', { type: 'button', class: 'btn btn-secondary', text: t('answer_retry'), onclick: () => retryAnswer(record.id, a.answer_id) }) : null);
    })));
}

async function retryAnswer(id, answerId) {
  await updateReport(id, (r) => {
    const a = (r.answers || []).find((x) => x.answer_id === answerId);
    a.phase = a.registered ? 'uploading' : 'saved';
    a.attention = null;
    a.attempt = 0;
    a.nextAttemptAt = 0;
  });
  runSync({ force: true });
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
