/**
 * The per-violation evidence checklist, evaluated (pure: no DOM, no I/O). The same rules
 * as server/services/checklist.py, which the console uses; tests/data/
 * evidence_checklist_cases.json is one table both are tested against.
 *
 * `evidence` is a catalogue entry's `evidence` (GET /api/v1/violations): `items` (code,
 * vi, en), `needs_video`, `min_photos`, `min_gap_minutes`. `media` is the captured files
 * as `{kind: 'photo' | 'video', capturedAt: Date | ms | ISO text | null, picture?}`;
 * `picture` says what a photo shows (a 64-bit perceptual hash as 16 hex digits, or any
 * key): copies of one picture count once, whatever their EXIF times.
 * Each item comes back with `status`: `met`, `not_met` (clearly missing) or `to_check`
 * (only a person can tell, e.g. the plate is readable).
 */

const time = (at) => {
  if (at === null || at === undefined) return null;
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  return Number.isFinite(ms) ? ms : null;
};

// Photos whose perceptual hashes differ by at most this many bits of 64 are one picture
// (pixel-identical copies with other EXIF times, issue 26), as on the server.
export const SAME_PICTURE_BITS = 4;
const HEX16 = /^[0-9a-f]{16}$/;

function bitsApart(a, b) {
  let n = 0;
  for (let i = 0; i < 16; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      n += x & 1;
      x >>= 1;
    }
  }
  return n;
}

/** Whether two photos are one picture: equal `picture` keys, or close perceptual hashes. */
export function samePicture(a, b) {
  if (!a.picture || !b.picture) return false;
  if (a.picture === b.picture) return true;
  return HEX16.test(a.picture) && HEX16.test(b.picture) && bitsApart(a.picture, b.picture) <= SAME_PICTURE_BITS;
}

/** The photos grouped into pictures (copies of one picture together). */
export function pictures(photos) {
  const groups = [];
  for (const m of photos) {
    const group = groups.find((g) => g.some((o) => samePicture(m, o)));
    if (group) group.push(m);
    else groups.push([m]);
  }
  return groups;
}

/**
 * The largest gap in minutes between two different pictures, or null. Copies of one
 * picture may carry different times and which is true is unknown: two pictures are as
 * far apart as their closest times (copies never add distance).
 */
export function gapBetweenPictures(groups) {
  let best = null;
  groups.forEach((one, i) => {
    for (const other of groups.slice(i + 1)) {
      let closest = null;
      for (const a of one) {
        for (const b of other) {
          const ta = time(a.capturedAt);
          const tb = time(b.capturedAt);
          if (ta === null || tb === null) continue;
          const gap = Math.abs(ta - tb) / 60000;
          closest = closest === null ? gap : Math.min(closest, gap);
        }
      }
      if (closest !== null) best = best === null ? closest : Math.max(best, closest);
    }
  });
  return best;
}

/** Each item of the checklist with its status (see above); [] without a checklist. */
export function evaluate(evidence, media) {
  if (!evidence || !Array.isArray(evidence.items)) return [];
  return evidence.items.map((item) => {
    let status = 'to_check';
    if (item.code === 'VIDEO_OF_ACT' && evidence.needs_video) {
      status = media.some((m) => m.kind === 'video') ? 'met' : 'not_met';
    } else if (item.code === 'TWO_PHOTOS_APART' && evidence.min_photos) {
      const groups = pictures(media.filter((m) => m.kind === 'photo'));
      const gap = gapBetweenPictures(groups);
      const enough = groups.length >= Number(evidence.min_photos);
      const apart = gap !== null && gap >= Number(evidence.min_gap_minutes || 0);
      status = enough && apart ? 'met' : 'not_met';
    }
    return { ...item, status };
  });
}

/** The items clearly missing (a photo where a video is needed...). */
export const missing = (results) => results.filter((r) => r.status === 'not_met');
