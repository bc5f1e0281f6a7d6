/** What the capture form's location box says: its state, main line and sub-line. */
import { t } from '../i18n.js';

const fmt = (p) => `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
// Accuracy beyond this many metres is shown as poor.
const POOR_ACCURACY_M = 100;

/**
 * The location box for `mode` (gps | exif | manual), the location that would be sent
 * (`loc`, or null) and the GPS `locator`: {state, main, sub}, where `state` is the
 * box's data-state (the GPS state, or fix, poor, manual).
 */
export function locationView(mode, loc, locator) {
  const gps = locator.state;
  if (mode === 'manual') {
    return loc
      ? { state: 'fix', main: fmt(loc), sub: t('src_manual') }
      : { state: 'manual', main: t('manual_label'), sub: t('manual_hint') };
  }
  if (mode === 'exif' && loc) return { state: 'fix', main: fmt(loc), sub: t('src_exif') };
  if (gps === 'fix') {
    const acc = Math.round(locator.fix.accuracy);
    const poor = acc > POOR_ACCURACY_M;
    const sub = `${t('src_gps')} · ${t('loc_fix', { acc })}` + (poor ? ` · ${t('loc_poor')}` : '');
    return { state: poor ? 'poor' : gps, main: fmt(loc), sub };
  }
  const key = {
    off: 'loc_off',
    asking: 'loc_asking',
    waiting: locator.slow ? 'loc_waiting_long' : 'loc_waiting',
    denied: 'loc_denied',
    unavailable: 'loc_unavailable',
  }[gps];
  return { state: gps, main: t(key), sub: '' };
}
