/**
 * The evidence checklist on the capture form (issue 16, item 5), loaded when a violation
 * is first chosen: what the evidence must show, each item ticked when the files picked
 * clearly satisfy it, marked missing when they clearly do not, and left neutral when
 * only a person can tell (the plate is readable). Before sending, a dialog names what is
 * clearly missing and offers to add evidence or send anyway: never a block.
 */
import { currentLang, t } from '../i18n.js';
import { el } from '../ui/dom.js';
import { evaluate, missing } from './checklist.js';

const ICON = { met: '✓', not_met: '!', to_check: '•' };
const STATUS = { met: 'checklist_met', not_met: 'checklist_missing', to_check: 'checklist_to_check' };

/** The form's files as the checklist sees them: kind and capture time (EXIF, else the file's). */
export const mediaOf = (items) =>
  items.map((i) => ({
    kind: i.kind === 'video' ? 'video' : 'photo',
    capturedAt: i.exif?.takenAt ?? (i.file?.lastModified || null),
    picture: i.picture || null,
  }));

/** The checklist of violation `v` for the files `items`. */
export const checklistFor = (v, items) => evaluate(v?.evidence, mediaOf(items));

const wording = (r) => (currentLang() === 'en' ? r.en : r.vi) || r.vi;

/** How an item is met, in words, where the catalogue has a number for it. */
function detail(r, evidence) {
  if (r.code === 'TWO_PHOTOS_APART' && evidence.min_photos) {
    return t('checklist_gap', { n: evidence.min_photos, m: evidence.min_gap_minutes || 0 });
  }
  return '';
}

/** Draw the checklist of `v` into `box` (hidden without one); returns the results. */
export function renderChecklist(box, v, items) {
  const results = checklistFor(v, items);
  box.hidden = !results.length;
  if (!results.length) {
    box.replaceChildren();
    return results;
  }
  const rows = results.map((r) => {
    const more = detail(r, v.evidence);
    return el(
      'li',
      { class: 'ck', 'data-code': r.code, 'data-status': r.status },
      el('span', { class: 'ck-icon', 'aria-hidden': 'true', text: ICON[r.status] }),
      el(
        'span',
        { class: 'ck-body' },
        el('span', { class: 'ck-text', text: wording(r) }),
        more ? el('span', { class: 'ck-more', text: more }) : null,
        el('span', { class: 'ck-status', text: t(STATUS[r.status]) }),
      ),
    );
  });
  box.replaceChildren(
    el('p', { class: 'checklist-title', id: 'checklist-title', text: t('checklist_title') }),
    el('ul', { class: 'checklist-items', 'aria-labelledby': 'checklist-title' }, ...rows),
  );
  return results;
}

/** The items of `v` clearly missing from `items` (none: send at once). */
export const missingFor = (v, items) => missing(checklistFor(v, items));

/**
 * Ask before sending with `lacking` items: resolves true for "send anyway", false for
 * "add evidence" (or Escape). The dialog is made on first use.
 */
export function warnMissing(lacking, v) {
  let dialog = document.getElementById('checklist-warn');
  if (!dialog) {
    dialog = el('dialog', {
      id: 'checklist-warn',
      class: 'confirm checklist-warn',
      'aria-labelledby': 'checklist-warn-title',
      'aria-describedby': 'checklist-warn-text',
    });
    document.body.append(dialog);
  }
  const rows = lacking.map((r) => {
    const more = detail(r, v.evidence);
    return el('li', { 'data-code': r.code, text: more ? `${wording(r)} (${more})` : wording(r) });
  });
  dialog.replaceChildren(
    el(
      'form',
      { method: 'dialog' },
      el('h2', { id: 'checklist-warn-title', text: t('checklist_warn_title') }),
      el('ul', { class: 'checklist-lacking' }, ...rows),
      el('p', { id: 'checklist-warn-text', class: 'hint', text: t('checklist_warn_text') }),
      el(
        'div',
        { class: 'row-btns end' },
        el('button', { value: 'add', class: 'btn btn-secondary', text: t('checklist_add') }),
        el('button', { value: 'send', class: 'btn btn-primary', text: t('checklist_send_anyway') }),
      ),
    ),
  );
  if (typeof dialog.showModal !== 'function') return Promise.resolve(window.confirm(t('checklist_warn_title')));
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'send'), { once: true });
  });
}

/**
 * Before saving: true at once when nothing is clearly missing, else the answer of the
 * dialog; "add evidence" leads to the button that takes what is missing.
 */
export async function askBeforeSending(form, v, items) {
  const lacking = missingFor(v, items);
  if (!lacking.length || (await warnMissing(lacking, v))) return true;
  const wantsVideo = lacking.some((r) => r.code === 'VIDEO_OF_ACT');
  form.querySelector('#sec-media').scrollIntoView?.({ block: 'center' });
  form.elements[wantsVideo ? 'camera_video' : 'camera_photo'].focus({ preventScroll: true });
  return false;
}
