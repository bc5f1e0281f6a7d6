/**
 * Patrol officers in Settings (PROTOCOL §3.3a): the sign-in form, who is signed in,
 * and signing out (the officer's reports leave the list; unsent ones are still sent).
 */
import { has, t } from '../i18n.js';
import { officerCreds, signIn, signOut, unsentOfficerReports } from '../officer.js';
import { confirmDialog } from '../ui/dialog.js';
import { state } from '../state.js';
import { $ } from '../ui/dom.js';
import { toast } from '../ui/toast.js';
import { later, pushScreen } from '../lazy.js';

/** Read the signed-in officer and tell the capture form whose name it captures under. */
export async function loadOfficer() {
  state.officer = await officerCreds();
  state.capture.setOfficer(state.officer?.name);
}

/** Show the sign-in form, or who is signed in. */
export async function renderOfficer() {
  await loadOfficer();
  const { officer } = state;
  $('#officer-login').hidden = Boolean(officer);
  $('#officer-signed').hidden = !officer;
  if (officer) $('#officer-who').textContent = t('officer_signed_in', { name: officer.name, user: officer.username });
}

async function submitSignIn(form, error) {
  const { username, password } = form.elements;
  error.hidden = true;
  if (!username.value.trim() || !password.value) {
    error.textContent = t('officer_missing');
    error.hidden = false;
    return;
  }
  const button = $('#officer-signin');
  button.disabled = true;
  try {
    await signIn(username.value, password.value);
    form.reset();
    await renderOfficer();
    later(pushScreen, 'refreshPush'); // the subscription follows the officer's token
  } catch (err) {
    const code = err?.code || 'other';
    error.textContent = has(`officer_${code}`) ? t(`officer_${code}`) : t('officer_other', { code });
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function signOutClicked() {
  // On a shared phone: say how many of the officer's reports are not sent yet, and let
  // the officer stay signed in to send them first (issue 26).
  const waiting = (await unsentOfficerReports()).length;
  if (waiting && !(await confirmDialog(t('officer_signout_confirm', { n: waiting }), t('officer_signout')))) return;
  const unsent = await signOut();
  await renderOfficer();
  later(pushScreen, 'refreshPush');
  // Shown after the sign-out: the officer's reports left the list but are still sent.
  if (unsent) toast(t('officer_signed_out_unsent', { n: unsent }), { ms: 8000 });
}

/** The sign-in form and the sign-out button. */
export function bindOfficer() {
  const form = $('#officer-login');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitSignIn(form, $('#officer-err'));
  });
  $('#officer-signout').addEventListener('click', signOutClicked);
}
