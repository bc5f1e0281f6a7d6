/**
 * The map picker (issue 14): when GPS is missing or wrong, the reporter taps the map to
 * place the point and drags it to adjust. The map is drawn over our own area
 * outlines (GET /api/v1/places, kept by the service worker), so it works offline; tiles
 * are added only when the server names a tile server and the phone is online. Leaflet
 * and this module load when the picker is first opened.
 */
import L from '../../vendor/leaflet/index.js';
import { t } from '../i18n.js';
import { loadPlaces, loadProvince, placeOf, placeWords, provinceNow } from '../places.js';
import { $, el } from '../ui/dom.js';

// No point yet: the whole country, centred on Huế (the middle of its S, on land).
const VIETNAM = { lat: 16.46, lon: 107.59, zoom: 5 };
// Outlines only: a district and its neighbours; with tiles: the street.
const PLACE_ZOOM = { outlines: 14, tiles: 17 };
const OUTLINE_STYLE = { color: '#0b5cad', weight: 1.5, fill: true, fillOpacity: 0.04 };

let cssLoaded = false;

function loadCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  const href = new URL('../../vendor/leaflet/leaflet.css', import.meta.url).pathname;
  document.head.append(el('link', { rel: 'stylesheet', href }));
}

/** The outlines of the areas the map shows (redrawn as it moves: a few at a time). With
 * outlines split per province: the provinces' outlines, and from zoom 9 the communes of
 * the provinces in view (fetched once each, then kept offline). */
function outlineLayer(map, places) {
  const layer = L.geoJSON(null, { style: OUTLINE_STYLE, interactive: false }).addTo(map);
  const inView = (d, b) => {
    const [w, s, e, n] = d.bbox;
    return !(e < b.getWest() || w > b.getEast() || n < b.getSouth() || s > b.getNorth());
  };
  const draw = (d) => layer.addData({ type: 'Feature', properties: {}, geometry: { type: d.type, coordinates: d.coordinates } });
  const redraw = () => {
    layer.clearLayers();
    const b = map.getBounds();
    if (places.provinces?.length) {
      const near = places.provinces.filter((p) => inView(p, b));
      if (map.getZoom() < 9 || near.length > 4) {
        near.forEach(draw);
        return;
      }
      for (const p of near) {
        const loaded = provinceNow(p.code);
        if (loaded) loaded.districts.filter((d) => inView(d, b)).forEach(draw);
        else {
          draw(p);
          loadProvince(p.code).then((body) => body && redraw());
        }
      }
      return;
    }
    if (map.getZoom() < 8) return; // the country at once would be too much for a phone
    places.districts.filter((d) => inView(d, b)).forEach(draw);
  };
  map.on('moveend', redraw);
  redraw();
}

function dialogBox() {
  let dialog = $('#map-dialog');
  if (dialog) return dialog;
  dialog = el(
    'dialog',
    { id: 'map-dialog', class: 'map-dialog', 'aria-labelledby': 'map-title' },
    el('h2', { id: 'map-title', text: t('map_title') }),
    el('p', { class: 'hint', id: 'map-hint', text: t('map_hint') }),
    el('div', { id: 'map-picker', class: 'map-picker', role: 'application', 'aria-label': t('map_title') }),
    el('p', { class: 'map-place', id: 'map-place', 'aria-live': 'polite' }),
    el('p', { class: 'hint', id: 'map-note' }),
    el(
      'div',
      { class: 'row-btns end' },
      el('button', { type: 'button', class: 'btn btn-ghost', id: 'map-cancel', text: t('cancel') }),
      el('button', { type: 'button', class: 'btn btn-primary', id: 'map-use', text: t('map_use') }),
    ),
  );
  document.body.append(dialog);
  return dialog;
}

/**
 * Open the picker at `start` ({lat, lon}, or null: the whole country). Resolves with
 * the point chosen ({lat, lon}) or null when cancelled.
 */
export async function pickOnMap(start) {
  loadCss();
  const dialog = dialogBox();
  $('#map-title').textContent = t('map_title');
  $('#map-hint').textContent = t('map_hint');
  $('#map-use').textContent = t('map_use');
  $('#map-cancel').textContent = t('cancel');
  dialog.showModal();
  const places = await loadPlaces();
  const container = $('#map-picker');
  container.replaceChildren();
  const map = L.map(container, { preferCanvas: true, zoomControl: true, attributionControl: Boolean(places?.tiles) });
  const tiles = Boolean(places?.tiles && navigator.onLine);
  if (tiles) {
    L.tileLayer(places.tiles.url, { attribution: places.tiles.attribution, maxZoom: 19 }).addTo(map);
  }
  $('#map-note').textContent = !places ? t('map_no_outlines') : tiles ? '' : t('map_outlines_only');
  let point = start ? { lat: start.lat, lon: start.lon } : null;
  const icon = L.divIcon({ className: 'map-pin', iconSize: [28, 28], iconAnchor: [14, 28] });
  let marker = null;
  const show = () => {
    const words = point && places ? placeWords(placeOf(places, point.lat, point.lon, show)) : '';
    $('#map-place').textContent = point
      ? `${words || t('place_unknown')} · ${point.lat.toFixed(5)}, ${point.lon.toFixed(5)}`
      : t('map_tap');
    $('#map-use').disabled = !point;
  };
  const place = (lat, lon) => {
    point = { lat, lon };
    if (!marker) {
      marker = L.marker([lat, lon], { icon, draggable: true, keyboard: true, title: t('map_pin') }).addTo(map);
      marker.on('dragend', () => {
        const p = marker.getLatLng();
        point = { lat: p.lat, lon: p.lng };
        show();
      });
    } else {
      marker.setLatLng([lat, lon]);
    }
    show();
  };
  map.on('click', (e) => place(e.latlng.lat, e.latlng.lng));
  if (point) {
    map.setView([point.lat, point.lon], tiles ? PLACE_ZOOM.tiles : PLACE_ZOOM.outlines);
    place(point.lat, point.lon);
  } else {
    map.setView([VIETNAM.lat, VIETNAM.lon], VIETNAM.zoom);
    show();
  }
  if (places) outlineLayer(map, places);
  // The dialog's size is known only now that it is open.
  requestAnimationFrame(() => map.invalidateSize());
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.close();
      map.remove();
      resolve(value);
    };
    $('#map-use').onclick = () => done(point);
    $('#map-cancel').onclick = () => done(null);
    dialog.oncancel = (e) => {
      e.preventDefault();
      done(null);
    };
  });
}
