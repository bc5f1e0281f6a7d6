/**
 * Vietnamese licence-plate normalisation for display: a port of server/plates.py.
 *
 * The server stores the plate exactly as typed and normalises it itself; the phone only
 * shows the normalised form while the user types. Keep this file in step with
 * server/plates.py: tests/browser/test_plate_js.py runs every vector of
 * tests/data/plate_examples.json through it and compares it with the Python module on
 * extra inputs.
 */

export const VEHICLE_CLASSES = ['car', 'motorbike', 'truck', 'bus', 'bicycle', 'other'];
const CAR_FAMILY = new Set(['car', 'truck', 'bus']);
export const MAX_OCR_FIXES = 2;

// Look-alike capitals (after toUpperCase) -> the Latin letter or Đ they imitate.
const LOOKALIKE_FROM = 'АВЕКМНОРСТХУЅІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧÐ';
const LOOKALIKE_TO = 'ABEKMHOPCTXYSIJABEZHIKMNOPTYXĐ';
const OCR_LETTERS = 'OQDILZSBG';
const OCR_DIGITS = '000112586';
const KEEP = /^[0-9A-ZĐ]$/u;

const AMBIGUOUS = 'moto_or_car';
// [kind, groups, fixable group indexes]; '#' is one digit position.
const PATTERNS = [
  ['foreign', ['##', '###', 'NG|QT|NN|CV', '#{2,3}'], [0, 3]],
  ['moto_electric', ['##', 'M[ĐD]#', '#{4,5}'], [0, 2]],
  ['car_special', ['##', 'LD|KT|DA|MK|TĐ|HC', '#{4,5}'], [0, 2]],
  ['moto', ['##', '[A-Z]#', '#{5}'], [0, 2]],
  [AMBIGUOUS, ['##', '[A-Z]', '#', '#{4}'], [0, 3]],
  ['car', ['##', '[A-Z]', '#{4,5}'], [0, 2]],
  ['moto_small', ['##', '[A-Z]{2}', '#{4,5}'], [0, 2]],
  ['military', ['[A-Z]{2}', '#{4,6}'], [1]],
  ['temporary', ['T', '##', '#{5}'], [1, 2]],
].map(([kind, groups, fixable]) => ({
  kind,
  groups,
  fixable,
  strict: regex(groups, fixable, false),
  lenient: regex(groups, fixable, true),
}));

function regex(groups, fixable, lenient) {
  const ocrDigit = `[0-9${OCR_LETTERS}]`;
  const parts = groups.map((g, i) =>
    g.replaceAll('#', lenient && fixable.includes(i) ? ocrDigit : '[0-9]'),
  );
  return new RegExp('^' + parts.map((p) => `(${p})`).join('') + '$', 'u');
}

function translate(text, from, to) {
  let out = '';
  for (const ch of text) {
    const i = from.indexOf(ch);
    out += i >= 0 ? to[i] : ch;
  }
  return out;
}

/** Kept characters and separator positions (n: a break after the n-th kept character). */
function clean(raw) {
  const text = translate(raw.normalize('NFKC').toUpperCase(), LOOKALIKE_FROM, LOOKALIKE_TO);
  const kept = [];
  const breaks = new Set();
  for (const ch of text) {
    if (KEEP.test(ch)) kept.push(ch);
    else if (kept.length) breaks.add(kept.length);
  }
  return [kept.join(''), breaks];
}

const fold = (text) => text.replaceAll('Đ', 'D');

function parse(text) {
  for (const p of PATTERNS) {
    const m = p.strict.exec(text);
    if (m) return [text, p, m.slice(1)];
  }
  return null;
}

function parseOcr(text) {
  let best = null;
  for (const p of PATTERNS) {
    const m = p.lenient.exec(text);
    if (!m) continue;
    const groups = m.slice(1);
    const fixed = p.fixable.map((i) => groups[i]);
    if (!fixed.every((g) => /[0-9]/.test(g))) continue;
    const fixes = fixed.reduce((n, g) => n + [...g].filter((c) => OCR_LETTERS.includes(c)).length, 0);
    const candidate = groups
      .map((g, i) => (p.fixable.includes(i) ? translate(g, OCR_LETTERS, OCR_DIGITS) : g))
      .join('');
    if (fixes <= MAX_OCR_FIXES && (best === null || fixes < best[0])) best = [fixes, candidate];
  }
  return best ? parse(best[1]) : null;
}

function resolveAmbiguous(breaks, vclass) {
  const after3 = breaks.has(3);
  const after4 = breaks.has(4);
  if (after3 !== after4) return after3 ? 'car' : 'moto';
  if (CAR_FAMILY.has(vclass)) return 'car';
  if (vclass === 'motorbike') return 'moto';
  return 'ambiguous';
}

function regroupAmbiguous([locality, letter, digit, order], kind) {
  return kind === 'moto' ? [locality, letter + digit, order] : [locality, letter, digit + order];
}

const order = (d) => (d.length === 5 ? `${d.slice(0, 3)}.${d.slice(3)}` : d);

function militaryDigits(d) {
  if (d.length === 6) return `${d.slice(0, 2)}-${d.slice(2, 4)}-${d.slice(4)}`;
  return `${d.slice(0, -2)}-${d.slice(-2)}`;
}

function display(kind, groups) {
  if (kind === 'foreign') return groups.join('-');
  if (kind === 'military') return `${groups[0]}-${militaryDigits(groups[1])}`;
  if (kind === 'temporary') return `T${groups[1]}-${order(groups[2])}`;
  const [locality, series, ord] = groups;
  if (kind === 'car' || kind === 'car_special') return `${locality}${series}-${order(ord)}`;
  return `${locality}-${series} ${order(ord)}`;
}

function checkClass(vehicleClass) {
  const v = (vehicleClass || '').trim().toLowerCase();
  if (!v) return null;
  if (!VEHICLE_CLASSES.includes(v)) throw new RangeError(`unknown vehicle class ${vehicleClass}`);
  return v;
}

/**
 * Normalise a plate as typed: {raw, kind, compact, display}. Never throws for any raw
 * string; display is null when the plate is ambiguous, unknown or empty.
 */
export function normalizePlate(raw, vehicleClass = null) {
  const vclass = checkClass(vehicleClass);
  raw = raw || '';
  const [kept, breaks] = clean(raw);
  if (!kept) return { raw, kind: 'empty', compact: '', display: null };
  const parsed = parse(kept) || parseOcr(kept);
  if (!parsed) return { raw, kind: 'unknown', compact: fold(kept), display: null };
  const [fixed, pattern] = parsed;
  let [, , groups] = parsed;
  let kind = pattern.kind;
  if (kind === AMBIGUOUS) {
    kind = resolveAmbiguous(breaks, vclass);
    groups = regroupAmbiguous(groups, kind);
  }
  return {
    raw,
    kind,
    compact: fold(fixed),
    display: kind === 'ambiguous' ? null : display(kind, groups),
  };
}
