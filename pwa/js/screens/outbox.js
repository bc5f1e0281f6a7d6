/**
 * "My reports": the outbox list (state, progress, next try, the server's verdict), the
 * queue summary with "Send now", and the count on the tab.
 */
import { formatTime, t } from '../i18n.js';
import { listReports, unsentCounts } from '../outbox/queue.js';
import { displayState, progress } from '../outbox/serialize.js';
import { runSync } from '../triggers.js';
import { $, el } from '../ui/dom.js';
import { renderStorage } from '../ui/storage.js';
import { isActive, placeText, plateText, serverBlock, stateLine, violationName, whyText } from './report-view.js';

const thumbUrls = new Map(); // report id -> object URL of its thumbnail (kept for the page)

// A signed-out officer's reports are not shown (they are still sent: officer.js).
const shown = (r) => !r.hidden;

/** The hint under an item: why it waits, or when it is tried again. */
function subLine(record, shown) {
  if (shown === 'attention') return whyText(record.attention);
  if (shown === 'saved' || shown === 'sending') {
    if (navigator.onLine === false) return t('waiting_network');
    if (record.nextAttemptAt > Date.now() && !isActive(record.id)) {
      return t('next_try', { time: formatTime(new Date(record.nextAttemptAt)) });
    }
  }
  return '';
}

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

function progressBar(percent) {
  const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(percent), 'aria-valuemin': '0', 'aria-valuemax': '100' },
    el('span', { style: `width:${percent}%` }));
  bar.firstChild.style.width = `${percent}%`;
  return bar;
}

function outboxItem(record) {
  const shown = displayState(record, isActive(record.id));
  const sub = subLine(record, shown);
  return el('li', { class: 'item', 'data-report-id': record.id, 'data-state': shown },
    el('a', { href: `#report/${record.id}`, class: 'item-link' },
      thumbnail(record),
      el('div', { class: 'item-body' },
        el('div', { class: 'item-top' },
          el('strong', { class: 'plate', text: plateText(record) }),
          el('span', { class: `pill pill-${shown}`, text: stateLine(record, shown) })),
        el('div', { class: 'item-violation', text: violationName(record.body.violation) }),
        record.server?.code ? el('div', { class: 'item-code' },
          el('span', { text: `${t('f_code')}: ` }), el('span', { class: 'mono', text: record.server.code })) : null,
        el('div', { class: 'hint item-time', text: t('list_violation_time', { time: formatTime(new Date(record.body.captured_at)) }) }),
        placeText(record) ? el('div', { class: 'hint item-place', text: placeText(record) }) : null,
        shown === 'sending' ? progressBar(progress(record).percent) : null,
        sub ? el('div', { class: `sub sub-${shown}`, text: sub }) : null,
        serverBlock(record))));
}

/** The number on the "My reports" tab: reports not sent yet, or needing attention. */
export async function renderBadge() {
  const records = (await listReports()).filter(shown);
  const waiting = (await unsentCounts(records)).total;
  const badge = $('#badge');
  badge.hidden = waiting === 0;
  badge.textContent = String(waiting);
}

/** Render the list, the queue summary and the storage line. */
export async function renderOutbox() {
  const all = await listReports();
  const records = all.filter((r) => r.phase !== 'capturing' && shown(r));
  $('#outbox').replaceChildren(...records.map(outboxItem));
  $('#outbox-empty').hidden = records.length > 0;
  // Everything not acknowledged by the server, answers and a signed-out officer's
  // reports included: "every report has been sent" only when it is true (issue 26).
  const { waiting, attention } = await unsentCounts(all);
  let summary = t('queue_done');
  if (waiting) summary = t('queue_waiting', { n: waiting });
  else if (attention) summary = t('queue_attention', { n: attention });
  const line = $('#queue-summary');
  line.textContent = summary;
  line.dataset.unsent = String(waiting + attention);
  $('#send-now').hidden = waiting === 0;
  renderStorage($('#storage-line'));
}

/** "Send now": a sync pass that ignores the backoff. */
export function bindOutbox() {
  $('#send-now').addEventListener('click', () => runSync({ force: true, reason: 'manual' }));
}
