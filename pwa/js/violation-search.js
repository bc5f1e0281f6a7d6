/**
 * Violation search in everyday words, pure (no DOM, no storage): "đèn đỏ", "kep ba",
 * "đậu xe", "red light" find their catalogue entry. Each entry is searched through its
 * short everyday names and synonyms (data/violation_synonyms.json, served with the
 * catalogue), its official names and its code. Results are ranked, not filtered:
 * the exact phrase first, then entries with every word, then entries with some words;
 * a word typed half-way matches as a prefix; rarer words count more than "xe".
 */

const COMBINING = /[\u0300-\u036f]/g;
const NOT_WORD = /[^\p{L}\p{N}]+/gu;
// Words that say nothing about which violation: dropped unless they are all there is.
const FILLERS = new Set(['loi', 'bi', 'phat', 'muc', 'vi', 'pham', 'the', 'a', 'an', 'of', 'is', 'to', 'for']);
// How much a match in each field counts.
const FIELD_WEIGHT = { short: 1, synonym: 1, name: 0.7, code: 0.5 };
const TIER = 100; // exact phrase (2) > every word (1) > some words (0)
const KEEP_FRACTION = 0.3; // results scoring under this share of the best are left out

/** Lower-case, diacritics off, đ -> d: "Đỗ xe" -> "do xe". */
export function fold(text) {
  return (text || '').normalize('NFD').replace(COMBINING, '').replace(/[đĐ]/g, 'd').toLowerCase();
}

/** A token as it is compared: leading zeros off ("02" -> "2"), a light English stem. */
function stem(token) {
  let t = /^\d+$/.test(token) ? String(Number(token)) : token;
  if (t.length > 4 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 3 && t.endsWith('ed')) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

const words = (text) => text.split(NOT_WORD).filter(Boolean);

/**
 * The words of `text`, lower-case: `raw` keeps the diacritics, `plain` is folded and
 * `folded` folded and stemmed (the three in step).
 */
export function tokenize(text) {
  const lower = (text || '').normalize('NFC').toLowerCase();
  const raw = words(lower);
  let plain = words(fold(lower)); // one fold for the whole text: much cheaper than per word
  if (plain.length !== raw.length) plain = raw.map(fold);
  return { raw, plain, folded: plain.map(stem) };
}

function phrase(text, weight) {
  const { raw, plain, folded } = tokenize(text);
  return { weight, raw, plain, folded, line: ` ${folded.join(' ')} `, rawLine: ` ${raw.join(' ')} ` };
}

function fieldsOf(v) {
  const out = [];
  for (const text of [v.short_vi, v.short_en]) if (text) out.push(phrase(text, FIELD_WEIGHT.short));
  for (const text of [...(v.synonyms_vi || []), ...(v.synonyms_en || [])]) out.push(phrase(text, FIELD_WEIGHT.synonym));
  for (const text of [v.name_vi, v.name_en]) if (text) out.push(phrase(text, FIELD_WEIGHT.name));
  out.push(phrase(v.code.replaceAll('_', ' '), FIELD_WEIGHT.code));
  return out;
}

/**
 * The catalogue made searchable, once per catalogue: `search(index, query)` then.
 * @param {Array<object>} list the entries of GET /api/v1/violations
 */
export function buildIndex(list) {
  const entries = list.map((v, order) => {
    const phrases = fieldsOf(v);
    const words = new Map(); // folded token -> best field weight
    const prefixes = new Map(); // the same, and the unstemmed forms: "parking" as well as "park"
    const rawWords = new Set();
    for (const p of phrases) {
      p.folded.forEach((w, i) => {
        words.set(w, Math.max(words.get(w) || 0, p.weight));
        for (const form of [w, p.plain[i]]) prefixes.set(form, Math.max(prefixes.get(form) || 0, p.weight));
      });
      for (const w of p.raw) rawWords.add(w);
    }
    return { v, order, phrases, words, prefixes: [...prefixes], rawWords };
  });
  const df = new Map();
  for (const e of entries) for (const w of e.words.keys()) df.set(w, (df.get(w) || 0) + 1);
  const n = entries.length;
  const idf = new Map([...df].map(([w, count]) => [w, Math.log(1 + n / count)]));
  return { entries, idf, n };
}

function queryOf(text) {
  const { raw, folded } = tokenize(text);
  const keep = folded.map((w) => !FILLERS.has(w));
  const useful = keep.some(Boolean);
  const words = folded.filter((_, i) => !useful || keep[i]);
  const rawWords = raw.filter((_, i) => !useful || keep[i]);
  const hasMarks = rawWords.some((w) => fold(w) !== w);
  return { words, rawWords, line: ` ${words.join(' ')} `, rawLine: ` ${rawWords.join(' ')} `, hasMarks };
}

/** How well one phrase of an entry holds the query as a phrase (0 if it does not). */
function phraseScore(p, q) {
  let s = 0;
  if (p.line.includes(q.line)) s = p.weight * (p.line === q.line ? 2 : 1);
  else if (q.words.length > 1 && p.line.includes(q.line.trimEnd())) s = p.weight * 0.8; // last word half typed
  if (s && q.hasMarks && p.rawLine.includes(q.rawLine.trimEnd())) s += p.weight; // đỏ, not đỗ
  return s;
}

/** The best match of one query word among an entry's words: [score, matched]. */
function wordScore(entry, word, rawWord, idf, n) {
  const rare = idf.get(word) ?? Math.log(1 + n);
  const exact = entry.words.get(word);
  if (exact) return [rare * exact + (entry.rawWords.has(rawWord) ? 0.2 : 0), true];
  if (word.length < 2) return [0, false];
  let best = 0;
  for (const [w, weight] of entry.prefixes) {
    if (weight > best && w.length > word.length && w.startsWith(word)) best = weight;
  }
  return best ? [0.6 * Math.log(1 + n / 2) * best, true] : [0, false];
}

function score(entry, q, index) {
  let phraseBest = 0;
  if (q.words.length) for (const p of entry.phrases) phraseBest = Math.max(phraseBest, phraseScore(p, q));
  let words = 0;
  let matched = 0;
  q.words.forEach((w, i) => {
    const [s, hit] = wordScore(entry, w, q.rawWords[i], index.idf, index.n);
    words += s;
    if (hit) matched++;
  });
  if (!matched) return 0;
  const tier = phraseBest ? 2 : matched === q.words.length ? 1 : 0;
  return tier * TIER + 10 * phraseBest + words + matched / q.words.length;
}

/**
 * The entries for `query`, best first (an empty query gives none).
 * @returns {Array<{v: object, score: number}>}
 */
export function search(index, query, limit = 8) {
  const q = queryOf(query);
  if (!q.words.length) return [];
  const found = [];
  for (const entry of index.entries) {
    const s = score(entry, q, index);
    if (s > 0) found.push({ v: entry.v, score: s, order: entry.order });
  }
  found.sort((a, b) => b.score - a.score || a.order - b.order);
  // Far weaker matches than the best (one shared "xe") are noise once a good one is there.
  const floor = found.length ? found[0].score * KEEP_FRACTION : 0;
  return found
    .filter((f) => f.score >= floor)
    .slice(0, limit)
    .map(({ v, score: s }) => ({ v, score: s }));
}
