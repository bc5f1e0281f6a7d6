/** The confirmation dialog (dialog#confirm) asked before anything is deleted or re-sent. */
import { t } from '../i18n.js';
import { $ } from './dom.js';

/**
 * Ask `text`; resolves true if the user pressed `okLabel`. The button is red for the
 * default "delete" wording and blue for any other action.
 */
export function confirmDialog(text, okLabel = t('confirm_yes')) {
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
