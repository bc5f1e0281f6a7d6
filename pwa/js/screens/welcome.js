/**
 * The first visit (issue 14): one short screen saying what happens to a report, who
 * receives it, that a named informant's identity is kept secret and what the statuses
 * mean, with the install offer; then the form. Shown once (remembered in localStorage),
 * again from Settings. Loaded only when shown: the app shell does not carry it.
 */
import { t } from '../i18n.js';
import { state } from '../state.js';
import { $, el } from '../ui/dom.js';

export const SEEN_KEY = 'rw-welcome-seen';

// Every status a report can show, on the phone then from the server (issue 26).
export const STATUSES = [
  ['state_saved', 'welcome_st_saved'],
  ['state_attention', 'welcome_st_attention'],
  ['state_sent', 'welcome_st_sent'],
  ['srv_awaiting_evidence', 'welcome_st_awaiting_evidence'],
  ['srv_submitted', 'welcome_st_submitted'],
  ['srv_needs_info', 'welcome_st_needs_info'],
  ['srv_info_added', 'welcome_st_info_added'],
  ['srv_verified', 'welcome_st_verified'],
  ['srv_penalty_issued', 'welcome_st_penalty_issued'],
  ['srv_rejected', 'welcome_st_rejected'],
  ['srv_reopened', 'welcome_st_reopened'],
  ['srv_expired', 'welcome_st_expired'],
];

const isIos = () => /iPhone|iPad|iPod/.test(navigator.userAgent);
const installed = () => matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;

/** The install offer: the browser's prompt where it has one, else how to do it by hand. */
function installBlock() {
  if (installed()) return null;
  const box = el('div', { class: 'welcome-install' }, el('h3', { text: t('welcome_install_title') }));
  if (state.installPrompt) {
    box.append(el('button', {
      type: 'button',
      class: 'btn btn-secondary',
      id: 'install-btn',
      text: t('welcome_install_btn'),
      onclick: async () => {
        const prompt = state.installPrompt;
        state.installPrompt = null;
        await prompt.prompt();
        box.remove();
      },
    }));
  } else {
    box.append(el('p', { class: 'install-how', text: t(isIos() ? 'welcome_install_ios' : 'welcome_install_other') }));
  }
  return box;
}

function close(root) {
  try {
    localStorage.setItem(SEEN_KEY, '1');
  } catch {
    // Private mode: shown again next time, no harm.
  }
  root.hidden = true;
  root.replaceChildren();
  document.body.classList.remove('welcome-open');
}

/** Show the first-visit screen over the app. */
export function showWelcome() {
  const root = $('#welcome');
  const item = (icon, key) => el('li', { class: `welcome-point welcome-${icon}`, text: t(key) });
  root.replaceChildren(
    el('div', { class: 'welcome-body' },
      el('h2', { id: 'welcome-title', text: t('welcome_title'), tabIndex: -1 }),
      el('ul', { class: 'welcome-points' },
        item('what', 'welcome_what'),
        item('who', 'welcome_who'),
        item('secret', 'welcome_secret')),
      el('h3', { text: t('welcome_statuses') }),
      el('dl', { class: 'welcome-statuses' },
        ...STATUSES.map(([name, meaning]) => el('div', {},
          el('dt', { text: t(name) }), el('dd', { text: t(meaning) })))),
      installBlock(),
      el('button', { type: 'button', class: 'btn btn-primary btn-block', id: 'welcome-start', text: t('welcome_start'), onclick: () => close(root) })),
  );
  // Chromium may offer installing only after a while: the button then appears.
  window.addEventListener('beforeinstallprompt', () => {
    const old = root.querySelector('.welcome-install');
    if (old && !root.hidden) old.replaceWith(installBlock() || '');
  });
  root.hidden = false;
  document.body.classList.add('welcome-open');
  root.scrollTop = 0;
  $('#welcome-title').focus();
}
