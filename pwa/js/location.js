/**
 * The phone's position from the Geolocation API, as a small state machine the capture
 * form shows: off, asking, waiting (no fix yet), fix, denied, unavailable.
 */

const NO_FIX_HINT_MS = 20_000;

export class Locator extends EventTarget {
  constructor() {
    super();
    this.state = 'off';
    this.fix = null; // {lat, lon, accuracy, at}
    this.slow = false; // waiting for longer than NO_FIX_HINT_MS
    this.watchId = null;
    this.slowTimer = null;
  }

  set(state) {
    this.state = state;
    this.dispatchEvent(new Event('change'));
  }

  /** The permission state if the browser tells ('granted', 'denied', 'prompt'), else null. */
  async permission() {
    try {
      return (await navigator.permissions.query({ name: 'geolocation' })).state;
    } catch {
      return null; // older Safari: no Permissions API for geolocation
    }
  }

  /** Start watching (asks for permission if needed). */
  start() {
    if (!('geolocation' in navigator)) return this.set('unavailable');
    if (this.watchId !== null) return undefined;
    if (!this.fix) this.set('asking');
    this.slow = false;
    clearTimeout(this.slowTimer);
    this.slowTimer = setTimeout(() => {
      this.slow = true;
      if (!this.fix) this.dispatchEvent(new Event('change'));
    }, NO_FIX_HINT_MS);
    this.watchId = navigator.geolocation.watchPosition(
      (pos) => {
        this.fix = {
          lat: pos.coords.latitude,
          lon: pos.coords.longitude,
          accuracy: pos.coords.accuracy,
          at: pos.timestamp,
        };
        this.set('fix');
      },
      (err) => {
        if (err.code === err.PERMISSION_DENIED) {
          this.stop();
          this.fix = null;
          this.set('denied');
        } else if (!this.fix) {
          // POSITION_UNAVAILABLE or TIMEOUT: the watch goes on; say there is no fix yet.
          this.set(err.code === err.POSITION_UNAVAILABLE ? 'unavailable' : 'waiting');
        }
      },
      { enableHighAccuracy: true, maximumAge: 15_000, timeout: 30_000 },
    );
    if (!this.fix) this.set('waiting');
    return undefined;
  }

  stop() {
    if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
    this.watchId = null;
    clearTimeout(this.slowTimer);
  }
}

/** "21.02851, 105.80482" (also with a space or semicolon) -> {lat, lon}, or null. */
export function parseLatLon(text) {
  const m = /^\s*(-?\d{1,2}(?:[.,]\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:[.,]\d+)?)\s*$/.exec(text || '');
  if (!m) return null;
  const num = (s) => Number(s.replace(',', '.'));
  const lat = num(m[1]);
  const lon = num(m[2]);
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return null;
  return { lat, lon };
}
