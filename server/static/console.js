// RoadWatch review console: the map of where each report was taken.
// Without Leaflet or without map tiles (offline) the list of coordinates stays the map.
(function () {
  "use strict";
  var box = document.getElementById("map");
  var items = document.querySelectorAll("#points li");
  if (!box || !items.length || typeof window.L === "undefined") return;
  var L = window.L;
  var points = [];
  items.forEach(function (li) {
    var lat = parseFloat(li.dataset.lat), lon = parseFloat(li.dataset.lon);
    if (isFinite(lat) && isFinite(lon)) points.push({ at: [lat, lon], label: li.dataset.label });
  });
  if (!points.length) return;
  var map = L.map(box, { scrollWheelZoom: false });
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: "&copy; OpenStreetMap contributors",
  }).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    L.circleMarker(p.at, { radius: 7 }).addTo(map).bindTooltip(p.label);
    bounds.push(p.at);
  });
  if (bounds.length === 1) map.setView(bounds[0], 17);
  else map.fitBounds(bounds, { padding: [30, 30], maxZoom: 18 });
})();
