/** The phone's storage as the user sees it: used and free space, persistent or not. */
import { formatBytes, t } from '../i18n.js';
import { $ } from './dom.js';

/**
 * Write the usage line into `node`; with `persistNode`, also whether the storage is
 * persistent (and show the "protect my data" button only when it is not and can be).
 */
export async function renderStorage(node, persistNode = null) {
  const est = await navigator.storage?.estimate?.().catch(() => null);
  if (est) node.textContent = t('storage_line', { used: formatBytes(est.usage || 0), free: formatBytes(Math.max(0, (est.quota || 0) - (est.usage || 0))) });
  if (persistNode) {
    const persisted = await navigator.storage?.persisted?.().catch(() => false);
    persistNode.textContent = t(persisted ? 'persisted_yes' : 'persisted_no');
    persistNode.dataset.persisted = String(Boolean(persisted));
    $('#persist-btn').hidden = Boolean(persisted) || !navigator.storage?.persist;
  }
}
