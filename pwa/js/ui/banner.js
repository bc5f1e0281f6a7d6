/**
 * The banner under the top bar: a new release is ready ("update now / later"), or the
 * app was updated in another tab and this page should be reloaded.
 */
import { t } from '../i18n.js';
import { applyUpdate } from '../sw-bridge.js';
import { $ } from './dom.js';

/** Show `text` with an optional action button `go` and a "later" button that hides it. */
export function showBanner(text, { go = null, goLabel = t('update_now'), later = true } = {}) {
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

/**
 * A new release is waiting: offer it. Accepted while `isBusy()` (a capture being filled
 * in, a report being sent), it applies itself once that is over.
 */
export function offerUpdate(isBusy) {
  showBanner(t('update_available'), {
    go: () => {
      if (applyUpdate(isBusy) === 'deferred') showBanner(t('update_deferred'), { later: false });
      else $('#banner').hidden = true;
    },
  });
}

/** Another tab (or a schema upgrade) replaced this release: ask for a reload. */
export function offerReload() {
  showBanner(t('replaced'), { go: () => location.reload(), goLabel: t('reload') });
}
