/** The toast: one short message at the bottom of the screen, with an optional action. */
import { $, el } from './dom.js';

const hideTimer = { id: 0 };

/** Show `message` for `ms`; `action` {label, run} adds a button. Replaces any toast shown. */
export function toast(message, { action = null, kind = 'info', ms = 4000 } = {}) {
  const node = $('#toast');
  node.replaceChildren(el('span', { text: message }));
  node.dataset.kind = kind;
  if (action) node.append(el('button', { type: 'button', class: 'btn btn-ghost', text: action.label, onclick: action.run }));
  node.hidden = false;
  clearTimeout(hideTimer.id);
  hideTimer.id = setTimeout(() => {
    node.hidden = true;
  }, ms);
}
