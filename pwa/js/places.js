/**
 * Where a point is, in words, offline: the commune (xã, phường, đặc khu) and province
 * from the outlines the server publishes (GET /api/v1/places, kept by the service worker
 * for offline use). Today's ~3,300 communes come per province: /places then lists the
 * provinces' outlines (`provinces`), and /places/<province code> the communes of one,
 * fetched the first time a point falls in that province (and kept offline too).
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

/** The outline of `list` ({bbox, type, coordinates}) containing the point, or null. */
function hit(list, lat, lon) {
  for (const d of list || []) {
    const [w, s, e, n] = d.bbox;
    if (lon < w || lon > e || lat < s || lat > n) continue;
    const polygons = d.type === 'Polygon' ? [d.coordinates] : d.coordinates;
    if (polygons.some((rings) => inPolygon(lon, lat, rings))) return d;
  }
  return null;
}

const provinceAreas = new Map(); // province code -> body of /places/<code> (loaded)
const provinceLoading = new Map(); // province code -> Promise

/** The communes of a province ({districts}); null when unavailable. Fetched once. */
export function loadProvince(code) {
  if (provinceAreas.has(code)) return Promise.resolve(provinceAreas.get(code));
  if (!provinceLoading.has(code)) {
    provinceLoading.set(
      code,
      fetch(`${API}/places/${encodeURIComponent(code)}`)
        .then((resp) => (resp.ok ? resp.json() : null))
        .catch(() => null)
        .then((body) => {
          if (body) provinceAreas.set(code, body);
          provinceLoading.delete(code);
          return body;
        }),
    );
  }
  return provinceLoading.get(code);
}

/** The communes of a province if loaded already, else null. */
export const provinceNow = (code) => provinceAreas.get(code) || null;

/** The area containing the point, {code, name, province}, or null. With outlines split
 * per province, a province whose communes are not loaded yet gives {name: '', province}
 * and starts loading them; `onLoaded` runs when they are there (to draw the words then). */
export function placeOf(places, lat, lon, onLoaded) {
  if (!places || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (places.provinces?.length) {
    const prov = hit(places.provinces, lat, lon);
    if (!prov) return null;
    const loaded = provinceNow(prov.code);
    if (!loaded) loadProvince(prov.code).then((body) => body && onLoaded?.());
    const d = loaded ? hit(loaded.districts, lat, lon) : null;
    return d ? { code: d.code, name: d.name, province: prov.name } : { code: null, name: '', province: prov.name };
  }
  const d = hit(places.districts, lat, lon);
  return d ? { code: d.code, name: d.name, province: d.province } : null;
}

/** "Phường Ba Đình, Thành phố Hà Nội" */
export const placeWords = (place) => (place ? [place.name, place.province].filter(Boolean).join(', ') : '');
