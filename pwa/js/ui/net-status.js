/** The online/offline pill in the top bar. */
import { t } from '../i18n.js';
import { $ } from './dom.js';

/** Show whether the browser believes it is online. */
export function renderNetStatus() {
  const net = $('#net');
  const online = navigator.onLine !== false;
  net.dataset.online = String(online);
  net.textContent = t(online ? 'net_online' : 'net_offline');
}
