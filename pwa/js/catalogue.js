/**
 * The violation catalogue (GET /api/v1/violations), kept on the phone for offline use.
 * Each entry carries its everyday names and synonyms and its fines as data; searching
 * it is violation-search.js, its fines in words are fines.js.
 */
import { getMeta, setMeta } from './outbox/queue.js';

const KEY = 'catalogue';

/** The stored copy at once (or null); `refresh()` fetches a new one when online. */
export async function cachedCatalogue() {
  const stored = await getMeta(KEY);
  return stored?.violations?.length ? stored.violations : null;
}

export async function refreshCatalogue() {
  const resp = await fetch('/api/v1/violations', { cache: 'no-cache' });
  if (!resp.ok) throw new Error(`catalogue: HTTP ${resp.status}`);
  const body = await resp.json();
  if (!Array.isArray(body?.violations) || !body.violations.length) throw new Error('catalogue: empty');
  await setMeta(KEY, { violations: body.violations, synonyms_version: body.synonyms_version ?? null, at: Date.now() });
  return body.violations;
}
