/**
 * How a report is shown, in the list and in its details alike: its state line, why it
 * needs attention, the server's verdict, its plate and violation.
 */
import { currentLang, has, t } from '../i18n.js';
import { progress } from '../outbox/serialize.js';
import { placeOf, placeWords, placesNow } from '../places.js';
import { normalizePlate } from '../plate.js';
import { scheduleRender } from '../router.js';
import { state } from '../state.js';
import { activeIds } from '../sync-active.js';
import { el } from '../ui/dom.js';

// A report another tab or the worker said it is sending counts as active this long.
const REMOTE_ACTIVE_MS = 30_000;

/** Whether this page, another tab or the service worker is sending the report now. */
export const isActive = (id) =>
  activeIds().has(id) || Date.now() - (state.remoteActive.get(id) || 0) < REMOTE_ACTIVE_MS;

/** The violation's name in the current language (its code until the catalogue is in). */
export function violationName(code) {
  const v = state.catalogueNames.get(code);
  if (!v) return code;
  return currentLang() === 'en' ? v.name_en : v.name_vi;
}

/** The state pill's text ("Sending 40%", "Sent"...). */
export function stateLine(record, shown) {
  const p = progress(record);
  if (shown === 'sending') return t('state_sending', { n: p.percent });
  return t(`state_${shown}`);
}

/** Why a report needs attention, in words. */
export function whyText(attention) {
  if (!attention) return '';
  const key = `why_${attention.code}`;
  if (has(key)) return t(key);
  return t('why_other', { code: attention.code });
}

/** The server's status, reason and the reviewer's public note, or null. */
export function serverBlock(record) {
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

/** The plate as displayed (normalised when it can be), or "no plate". */
export function plateText(record) {
  const p = normalizePlate(record.body.plate, record.body.vehicle_class);
  return p.display || record.body.plate || t('no_plate');
}

/** Where the report was made, in words ("Phường Ba Đình, Thành phố Hà Nội"), from the
 * area outlines kept for offline use; '' until they are loaded (then redrawn). */
export function placeText(record) {
  const loc = record.body?.location;
  const places = placesNow(scheduleRender);
  return loc && places ? placeWords(placeOf(places, loc.lat, loc.lon, scheduleRender)) : '';
}
