/**
 * The capture screen around the form (../capture.js): what happens once a report is
 * saved — the toast, a thumbnail for the list, asking for persistent storage, and an
 * immediate sync.
 */
import { CaptureForm } from '../capture.js';
import { t } from '../i18n.js';
import { getMeta, setMeta, updateReport } from '../outbox/queue.js';
import { state } from '../state.js';
import { requestBackgroundSync } from '../sw-bridge.js';
import { activeIds } from '../sync-active.js';
import { runSync } from '../triggers.js';
import { toast } from '../ui/toast.js';
import { renderBadge } from './outbox.js';

const THUMB_WIDTH = 160;

/** A small JPEG of the report's first photo, stored on the record for the list. */
async function makeThumb(record, files) {
  const index = record.media.findIndex((m) => m.content_type.startsWith('image/') && !m.content_type.includes('hei'));
  if (index < 0 || !('createImageBitmap' in window)) return;
  try {
    const bitmap = await createImageBitmap(files[index], { resizeWidth: THUMB_WIDTH, resizeQuality: 'medium' });
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

/** Create the capture form (form[name=report]) into the shared state. */
export function startCapture() {
  state.capture = new CaptureForm(document.forms.report, { onSaved });
  return state.capture;
}

/** True while an update must wait: a capture is being filled in or a report is being sent. */
export const isBusy = () => state.capture.isDirty() || activeIds().size > 0;
