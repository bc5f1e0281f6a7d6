// RoadWatch review console: the hotspot map. Our own district outlines and the grid cells
// (both in the page, #hotspot-data), so it works without internet; tiles only when the
// server names a tile server (data-tile-url). Without Leaflet the top-places table stays.
(function () {
  "use strict";
  var box = document.getElementById("hotspot-map");
  var source = document.getElementById("hotspot-data");
  if (!box || !source || typeof window.L === "undefined") return;
  var L = window.L;
  var data = JSON.parse(source.textContent);
  var map = L.map(box, { zoomControl: false, attributionControl: !!box.dataset.tileUrl });
  map.setView([16.0, 106.0], 5); // Viet Nam, until the data's own bounds are known
  L.control.zoom({ zoomInTitle: box.dataset.zoomIn, zoomOutTitle: box.dataset.zoomOut }).addTo(map);
  if (box.dataset.tileUrl) {
    L.tileLayer(box.dataset.tileUrl, { attribution: box.dataset.tileAttribution || "" }).addTo(map);
  }
  var bounds = L.latLngBounds([]);
  if (data.outlines.features.length) {
    var outlines = L.geoJSON(data.outlines, {
      style: { color: "#12355b", weight: 1.5, fillColor: "#ffffff", fillOpacity: 0.35 },
      onEachFeature: function (feature, layer) { layer.bindTooltip(feature.properties.place || ""); },
    }).addTo(map);
    bounds.extend(outlines.getBounds());
  }
  var max = data.cells.reduce(function (m, c) { return Math.max(m, c.n); }, 1);
  var label = box.dataset.reports || "{n}";
  data.cells.forEach(function (c) {
    var share = c.n / max;
    var rect = L.rectangle([[c.s, c.w], [c.s + c.size, c.w + c.size]], {
      color: "#a4262c", weight: 0.5, fillColor: "#a4262c", fillOpacity: 0.15 + 0.7 * share,
    }).addTo(map);
    rect.bindTooltip(label.replace("{n}", c.n));
    bounds.extend(rect.getBounds());
  });
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
})();
