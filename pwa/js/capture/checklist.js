/**
 * The per-violation evidence checklist, evaluated (pure: no DOM, no I/O). The same rules
 * as server/services/checklist.py, which the console uses; tests/data/
 * evidence_checklist_cases.json is one table both are tested against.
 *
 * `evidence` is a catalogue entry's `evidence` (GET /api/v1/violations): `items` (code,
 * vi, en), `needs_video`, `min_photos`, `min_gap_minutes`. `media` is the captured files
 * as `{kind: 'photo' | 'video', capturedAt: Date | ms | ISO text | null}`.
 * Each item comes back with `status`: `met`, `not_met` (clearly missing) or `to_check`
 * (only a person can tell, e.g. the plate is readable).
 */

const time = (at) => {
  if (at === null || at === undefined) return null;
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  return Number.isFinite(ms) ? ms : null;
};

/** Minutes between the earliest and the latest known capture time, or null (< 2 times). */
export function maxGapMinutes(media) {
  const times = media.map((m) => time(m.capturedAt)).filter((t) => t !== null).sort((a, b) => a - b);
  if (times.length < 2) return null;
  return (times[times.length - 1] - times[0]) / 60000;
}

/** Each item of the checklist with its status (see above); [] without a checklist. */
export function evaluate(evidence, media) {
  if (!evidence || !Array.isArray(evidence.items)) return [];
  return evidence.items.map((item) => {
    let status = 'to_check';
    if (item.code === 'VIDEO_OF_ACT' && evidence.needs_video) {
      status = media.some((m) => m.kind === 'video') ? 'met' : 'not_met';
    } else if (item.code === 'TWO_PHOTOS_APART' && evidence.min_photos) {
      const photos = media.filter((m) => m.kind === 'photo');
      const gap = maxGapMinutes(photos);
      const enough = photos.length >= Number(evidence.min_photos);
      const apart = gap !== null && gap >= Number(evidence.min_gap_minutes || 0);
      status = enough && apart ? 'met' : 'not_met';
    }
    return { ...item, status };
  });
}

/** The items clearly missing (a photo where a video is needed...). */
export const missing = (results) => results.filter((r) => r.status === 'not_met');
