/** Evidence files in the capture form: which are accepted, and how each is listed. */
import { ACCEPTED_CONTENT_TYPES, sniffType } from '../content-types.js';
import { exifWarnings } from '../exif.js';
import { formatAge, formatDistance, formatTime, t } from '../i18n.js';
import { el } from '../ui/dom.js';

export const MAX_FILES = 10;
export const MAX_FILE_MB = 200;

/**
 * A picked file as the outbox will store it, `{file, type}` (typed from its first bytes
 * when the browser could not type it), or `{error}`: the message saying why not.
 */
export async function acceptFile(file) {
  let type = ACCEPTED_CONTENT_TYPES.includes(file.type) ? file.type : null;
  if (!type) type = sniffType(await file.slice(0, 16).arrayBuffer());
  if (!type || !ACCEPTED_CONTENT_TYPES.includes(type)) {
    return { error: t('err_type', { name: file.name }) };
  }
  if (file.size > MAX_FILE_MB * 1024 * 1024 || file.size === 0) {
    return { error: t('err_big', { name: file.name, max: MAX_FILE_MB }) };
  }
  const typed = file.type === type ? file : new File([file], file.name, { type, lastModified: file.lastModified });
  return { file: typed, type };
}

/** What a photo's EXIF says (its time, place warnings against `position`), as lines. */
function exifNotes(item, position) {
  const notes = el('div', { class: 'media-notes' });
  if (item.kind === 'video') {
    notes.append(el('span', { class: 'hint', text: t('video_no_exif') }));
  } else if (item.exif) {
    const warnings = exifWarnings(item.exif, { position });
    if (item.exif.takenAt) {
      const key = item.exif.lat !== null ? 'exif_ok' : 'exif_time_only';
      notes.append(el('span', { text: t(key, { time: formatTime(item.exif.takenAt) }) }));
    }
    for (const w of warnings) {
      const text = t(w.code, { age: formatAge(w.minutes || 0), dist: formatDistance(w.metres || 0) });
      notes.append(el('span', { class: 'warn', text: `⚠ ${text}` }));
    }
  }
  return notes;
}

/** One picked file in the list: thumbnail, name, EXIF notes, and a button that calls `onRemove`. */
export function mediaItemView(item, position, onRemove) {
  const thumb =
    item.kind === 'image'
      ? el('img', { src: item.url, alt: '', loading: 'lazy', decoding: 'async' })
      : el('div', { class: 'video-thumb', text: '▶' });
  const remove = el('button', {
    type: 'button',
    class: 'remove',
    'aria-label': t('media_remove'),
    text: '×',
    onclick: onRemove,
  });
  return el(
    'li',
    { class: 'media-item', 'data-kind': item.kind, 'data-picture': item.picture || '', 'data-exif': item.exif ? '1' : '' },
    thumb,
    el('div', { class: 'media-meta' }, el('span', { class: 'name', text: item.file.name || t('media_video') }), exifNotes(item, position)),
    remove,
  );
}
