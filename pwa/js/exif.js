/**
 * A photo's own time and place, read on the phone (exifr, loaded on first use), and the
 * warnings shown when they are missing or far from the report's. Thresholds follow the
 * server's flags (FLAG_EXIF_TIME_SKEW_MINUTES, FLAG_EXIF_DISTANCE_M).
 */

export const TIME_SKEW_MINUTES = 30;
export const DISTANCE_M = 500;

let exifr = null;

/**
 * {takenAt: Date|null, lat, lon} of an image file; nulls when it has no EXIF (or is a
 * video, or a format exifr cannot read). Never throws.
 */
export async function readExif(file) {
  const empty = { takenAt: null, lat: null, lon: null };
  if (!file.type.startsWith('image/')) return empty;
  try {
    exifr ??= (await import('../vendor/exifr/lite.esm.js')).default;
    const tags = await exifr.parse(file, {
      tiff: true, exif: true, gps: true, ifd1: false, interop: false, xmp: false,
    });
    if (!tags) return empty;
    return {
      takenAt: exifTime(tags.DateTimeOriginal || tags.CreateDate, tags.OffsetTimeOriginal),
      lat: Number.isFinite(tags.latitude) ? tags.latitude : null,
      lon: Number.isFinite(tags.longitude) ? tags.longitude : null,
    };
  } catch {
    return empty;
  }
}

/**
 * exifr revives an EXIF time as a Date in the phone's zone. With an explicit offset
 * (OffsetTimeOriginal), re-read the wall-clock time in that offset instead.
 */
function exifTime(date, offset) {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return null;
  const m = /^([+-])(\d\d):(\d\d)$/.exec(offset || '');
  if (!m) return date;
  const wall = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(),
    date.getMinutes(), date.getSeconds());
  const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return new Date(wall - minutes * 60_000);
}

/** Great-circle distance in metres. */
export function distanceM(a, b) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Warnings for one photo: [{code, ...params}] with codes exif_no_time, exif_no_place,
 * exif_time_far (minutes), exif_place_far (metres).
 */
export function exifWarnings(exif, { now = new Date(), position = null } = {}) {
  const out = [];
  if (!exif.takenAt) out.push({ code: 'exif_no_time' });
  else {
    const minutes = Math.round(Math.abs(now - exif.takenAt) / 60_000);
    if (minutes > TIME_SKEW_MINUTES) out.push({ code: 'exif_time_far', minutes });
  }
  if (exif.lat === null) out.push({ code: 'exif_no_place' });
  else if (position) {
    const metres = Math.round(distanceM(position, exif));
    if (metres > DISTANCE_M) out.push({ code: 'exif_place_far', metres });
  }
  return out;
}
