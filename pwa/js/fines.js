/**
 * A violation's fines in plain words, one line per clause of the decree, from the
 * catalogue's structured `fines` (GET /api/v1/violations, sync/PROTOCOL.md §3.8):
 * "Ô tô: phạt 800.000–1.000.000 đồng (Điều 6, khoản 3, điểm e, Nghị định 168/2024/NĐ-CP)".
 * Pure: the language is a parameter.
 */

/** Who a fine is for, as people say it. */
const WHO = {
  vi: {
    car: 'Ô tô',
    motorbike: 'Xe máy',
    bicycle: 'Xe đạp, xe đạp máy',
    bus: 'Ô tô chở khách',
    truck: 'Ô tô tải',
    car_tractor: 'Ô tô, máy kéo',
    heavy_vehicle: 'Xe quá tải, quá khổ',
    motorbike_nonmotor: 'Xe máy, xe thô sơ',
    car_passenger: 'Người ngồi trên ô tô',
    motorbike_passenger: 'Người ngồi sau xe máy',
    person: 'Cá nhân',
    spectator: 'Người cổ vũ',
    racer_moped: 'Người đua xe gắn máy, xe đạp',
    racer_motor: 'Người đua ô tô, mô tô',
  },
  en: {
    car: 'Car',
    motorbike: 'Motorbike',
    bicycle: 'Bicycle, e-bike',
    bus: 'Passenger vehicle',
    truck: 'Truck',
    car_tractor: 'Car, tractor',
    heavy_vehicle: 'Overweight or oversized vehicle',
    motorbike_nonmotor: 'Motorbike, non-motorised vehicle',
    car_passenger: 'Car passenger',
    motorbike_passenger: 'Motorbike passenger',
    person: 'Individual',
    spectator: 'Spectator',
    racer_moped: 'Racing a moped or bicycle',
    racer_motor: 'Racing a car or motorbike',
  },
};

/** The vehicle classes of a report (sync/schemas.py VEHICLE_CLASSES) a fine applies to. */
const WHO_CLASSES = {
  car: ['car'],
  motorbike: ['motorbike'],
  bicycle: ['bicycle'],
  bus: ['bus'],
  truck: ['truck'],
  car_tractor: ['car', 'truck'],
  heavy_vehicle: ['truck', 'bus'],
  motorbike_nonmotor: ['motorbike', 'bicycle'],
  car_passenger: ['car'],
  motorbike_passenger: ['motorbike'],
  person: ['other'],
  spectator: [],
  racer_moped: ['motorbike', 'bicycle'],
  racer_motor: ['car', 'motorbike'],
};

const WORDS = {
  vi: {
    fine: (range) => `phạt ${range} đồng`,
    org: (range) => `tổ chức ${range} đồng`,
    perPerson: 'cho mỗi người chở quá',
    confiscation: 'tịch thu phương tiện',
    ref: (f) =>
      [`Điều ${f.article}`, `khoản ${f.clause}`, f.point && `điểm ${f.point}`, `Nghị định ${f.decree}`]
        .filter(Boolean)
        .join(', '),
  },
  en: {
    fine: (range) => `fine of ${range} VND`,
    org: (range) => `organisations ${range} VND`,
    perPerson: 'per passenger over the limit',
    confiscation: 'the vehicle is confiscated',
    ref: (f) =>
      [`Article ${f.article}`, `clause ${f.clause}`, f.point && `point ${f.point}`, `Decree ${f.decree}`]
        .filter(Boolean)
        .join(', '),
  },
};

const pick = (lang) => (lang === 'en' ? 'en' : 'vi');

function range(min, max, lang) {
  const n = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN');
  return min === max ? n.format(min) : `${n.format(min)}–${n.format(max)}`;
}

/** Who a fine is for, in `lang` ("Ô tô", "Người ngồi sau xe máy"). */
export function whoLabel(who, lang = 'vi') {
  return WHO[pick(lang)][who] ?? who;
}

/** One fine as a line: "Ô tô: phạt 800.000–1.000.000 đồng (Điều 6, khoản 3, điểm e, …)". */
export function formatFine(fine, lang = 'vi') {
  const l = pick(lang);
  const w = WORDS[l];
  let what;
  if (fine.confiscation) what = w.confiscation;
  else {
    what = w.fine(range(fine.min_vnd, fine.max_vnd, l));
    if (fine.per_excess_person) what += ` ${w.perPerson}`;
    if (fine.org_min_vnd != null) what += `; ${w.org(range(fine.org_min_vnd, fine.org_max_vnd, l))}`;
  }
  return `${whoLabel(fine.who, l)}: ${what} (${w.ref(fine)})`;
}

/**
 * The lines of a violation's fines; those for `vehicleClass` first and marked `current`.
 * A catalogue stored before `fines` existed gives its one-line legal reference instead.
 * @returns {Array<{text: string, current: boolean}>}
 */
export function fineLines(violation, lang = 'vi', vehicleClass = '') {
  if (!Array.isArray(violation?.fines) || !violation.fines.length) {
    return violation?.legal_reference ? [{ text: violation.legal_reference, current: false }] : [];
  }
  const lines = violation.fines.map((f) => ({
    text: formatFine(f, lang),
    current: Boolean(vehicleClass) && (WHO_CLASSES[f.who] || []).includes(vehicleClass),
  }));
  return [...lines.filter((x) => x.current), ...lines.filter((x) => !x.current)];
}
