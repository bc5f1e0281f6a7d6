/**
 * The violation catalogue (GET /api/v1/violations), kept on the phone for offline use,
 * and a search that ignores Vietnamese diacritics: "mu bao hiem" finds "mũ bảo hiểm".
 */
import { getMeta, setMeta } from './outbox/queue.js';

const KEY = 'catalogue';

/** Lower-case, without diacritics; đ becomes d. */
export function fold(text) {
  return (text || '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase();
}

function indexed(list) {
  return list.map((v) => ({ ...v, _search: fold(`${v.name_vi} ${v.name_en} ${v.code.replaceAll('_', ' ')}`) }));
}

/** The stored copy at once (or null); `refresh()` fetches a new one when online. */
export async function cachedCatalogue() {
  const stored = await getMeta(KEY);
  return stored?.violations?.length ? indexed(stored.violations) : null;
}

export async function refreshCatalogue() {
  const resp = await fetch('/api/v1/violations', { cache: 'no-cache' });
  if (!resp.ok) throw new Error(`catalogue: HTTP ${resp.status}`);
  const body = await resp.json();
  if (!Array.isArray(body?.violations) || !body.violations.length) throw new Error('catalogue: empty');
  await setMeta(KEY, { violations: body.violations, at: Date.now() });
  return indexed(body.violations);
}

/** Entries matching every word of `query` (diacritics and case ignored), in order. */
export function search(list, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return list;
  return list.filter((v) => words.every((w) => v._search.includes(w)));
}
