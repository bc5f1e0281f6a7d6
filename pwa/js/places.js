/**
 * Where a point is, in words, offline: the district and province from the outlines the
 * server publishes (GET /api/v1/places, kept by the service worker for offline use).
 * The words are a hint for the reporter; the server routes with the exact boundaries.
 */
import { API } from './net.js';

let loading = null;

/** The outlines ({districts, tiles, tolerance_m}); null when neither the network nor
 * the service worker's copy has them. Fetched once per page. */
export function loadPlaces() {
  loading ??= fetch(`${API}/places`)
    .then((resp) => (resp.ok ? resp.json() : null))
    .catch(() => null)
    .then((body) => {
      if (!body) loading = null; // try again next time
      return body;
    });
  return loading;
}

let loaded = null;

/** The outlines if they were loaded already, else null: they start loading, and
 * `onLoaded` runs when they are there (to draw the words then). */
export function placesNow(onLoaded) {
  if (loaded) return loaded;
  loadPlaces().then((body) => {
    if (body && !loaded) {
      loaded = body;
      onLoaded?.();
    }
  });
  return null;
}

/** Ray casting: is [lon, lat] inside the ring (a list of [lon, lat])? */
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(lon, lat, rings) {
  if (!inRing(lon, lat, rings[0])) return false;
  for (let k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false;
  return true;
}

/** The district containing the point, {code, name, province}, or null. */
export function placeOf(places, lat, lon) {
  if (!places || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  for (const d of places.districts) {
    const [w, s, e, n] = d.bbox;
    if (lon < w || lon > e || lat < s || lat > n) continue;
    const polygons = d.type === 'Polygon' ? [d.coordinates] : d.coordinates;
    if (polygons.some((rings) => inPolygon(lon, lat, rings))) {
      return { code: d.code, name: d.name, province: d.province };
    }
  }
  return null;
}

/** "Quận Ba Đình, Thành phố Hà Nội" */
export const placeWords = (place) => (place ? [place.name, place.province].filter(Boolean).join(', ') : '');
