// RoadWatch review console: a confirm step for decisions that reach several reporters.
// A form holding an element with data-confirm (the case page's decision forms, when the
// case has more than one report) asks before it is sent; the server also checks the
// count the page showed (confirm_count), so a page without this script is safe too.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || typeof form.querySelector !== "function") return;
    var ask = form.querySelector("[data-confirm]");
    if (event.defaultPrevented) return;
    if (ask && !window.confirm(ask.getAttribute("data-confirm"))) event.preventDefault();
  });
})();

// RoadWatch review console: the map of where each report was taken.
// The base layer is our own data, so the map works in a station without internet: the
// district's boundary (GeoJSON from the console, same-origin) and the reports' points.
// Map tiles only when the server names a tile server (MAP_TILE_URL): data-tile-url.
// Without Leaflet the list of coordinates (with the place in words) stays the map.
(function () {
  "use strict";
  var box = document.getElementById("map");
  var items = document.querySelectorAll("#points li");
  if (!box || !items.length || typeof window.L === "undefined") return;
  var L = window.L;

  function readPoints() {
    var points = [];
    items.forEach(function (li) {
      var lat = parseFloat(li.dataset.lat), lon = parseFloat(li.dataset.lon);
      if (!isFinite(lat) || !isFinite(lon)) return;
      var label = li.dataset.label || "";
      if (li.dataset.place) label += " · " + li.dataset.place;
      points.push({ at: [lat, lon], label: label });
    });
    return points;
  }

  // Tooltip content as text, never as HTML.
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function addTiles(map) {
    var url = box.dataset.tileUrl;
    if (!url) return;
    L.tileLayer(url, { maxZoom: 19, attribution: box.dataset.tileAttribution || "" }).addTo(map);
  }

  function addPoints(map, points) {
    var layer = L.featureGroup();
    points.forEach(function (p) {
      L.circleMarker(p.at, {
        radius: 7, weight: 2, color: "#ffffff", fillColor: "#c0392b", fillOpacity: 0.95,
        className: "rw-point",
      }).bindTooltip(text(p.label)).addTo(layer);
    });
    return layer.addTo(map);
  }

  function fit(map, bounds) {
    var ne = bounds.getNorthEast(), sw = bounds.getSouthWest();
    if (ne.equals(sw)) map.setView(ne, 17);
    else map.fitBounds(bounds, { padding: [20, 20], maxZoom: 18 });
  }

  // The district's outline under the points; the view then shows both.
  function addBoundary(map, pointLayer) {
    var url = box.dataset.boundary;
    if (!url || typeof window.fetch !== "function") return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("boundary " + response.status);
        return response.json();
      })
      .then(function (feature) {
        var outline = L.geoJSON(feature, {
          interactive: false,
          style: {
            color: "#12355b", weight: 2, fillColor: "#12355b", fillOpacity: 0.06,
            className: "rw-boundary",
          },
        }).addTo(map);
        pointLayer.bringToFront();
        map.once("moveend", function () {
          box.dataset.boundaryDrawn = "1"; // drawn at the new view (a hook for tests)
        });
        fit(map, outline.getBounds().extend(pointLayer.getBounds()));
      })
      .catch(function () {
        box.dataset.boundaryDrawn = "0"; // the points alone stay drawn
      });
  }

  var points = readPoints();
  if (!points.length) return;
  var tiles = !!box.dataset.tileUrl;
  var map = L.map(box, { scrollWheelZoom: false, attributionControl: tiles, zoomControl: false });
  L.control.zoom({
    zoomInTitle: box.dataset.zoomIn || "Phóng to",
    zoomOutTitle: box.dataset.zoomOut || "Thu nhỏ",
  }).addTo(map);
  addTiles(map);
  var pointLayer = addPoints(map, points);
  fit(map, pointLayer.getBounds());
  L.control.scale({ imperial: false }).addTo(map);
  addBoundary(map, pointLayer);
})();

// RoadWatch review console: keyboard shortcuts for the decision buttons (case page).
// A button with data-key="v" is reached by pressing V anywhere outside a text field: the
// first field of its form is focused (Enter then sends it), so a key never decides alone.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-key]");
  if (!buttons.length) return;
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    var target = event.target;
    if (target && target.closest && target.closest("input, select, textarea, [contenteditable]")) return;
    var key = (event.key || "").toLowerCase();
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].getAttribute("data-key") !== key) continue;
      var form = buttons[i].form;
      var field = form && form.querySelector("select, input:not([type=hidden])");
      (field || buttons[i]).focus();
      (form || buttons[i]).scrollIntoView({ block: "nearest" });
      event.preventDefault();
      return;
    }
  });
})();

// RoadWatch review console: "select every case on the page" in the queue's bulk reject.
(function () {
  "use strict";
  var all = document.getElementById("pick-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input.pick").forEach(function (box) { box.checked = all.checked; });
  });
})();

// RoadWatch review console: the forward picker of the case page, province first.
// The server lists the districts under their province (<optgroup>), which works as it is
// without this script. With it, a search box above the list keeps only the districts
// whose name (or an old name it replaced), or whose province's name, holds what is
// typed, without diacritics:
// "ba dinh" finds "Quận Ba Đình", "ha noi" every district of "Thành phố Hà Nội". The
// words must come in order, within the district's name or the province's (either first);
// every word but the last is a whole word, the last may be half-typed.
(function () {
  "use strict";
  var select = document.getElementById("forward-to");
  var input = document.getElementById("forward-find");
  if (!select || !input) return;
  var box = input.closest(".district-find");
  var status = document.getElementById("forward-found");

  function fold(text) {
    var s = String(text || "");
    if (typeof s.normalize === "function") s = s.normalize("NFD");
    return s.replace(/[\u0300-\u036f]/g, "").replace(/[\u0111\u0110]/g, "d").toLowerCase();
  }

  function words(text) {
    return fold(text).split(/[^a-z0-9]+/).filter(Boolean);
  }

  // toks[from..to) as consecutive words of ws; only the query's last word may be a prefix.
  function phrase(ws, toks, from, to) {
    if (from === to) return true;
    for (var i = 0; i + (to - from) <= ws.length; i++) {
      var ok = true;
      for (var j = from; j < to && ok; j++) {
        var w = ws[i + j - from];
        ok = j === toks.length - 1 ? w.indexOf(toks[j]) === 0 : w === toks[j];
      }
      if (ok) return true;
    }
    return false;
  }

  function matches(toks, district, province) {
    for (var k = 0; k <= toks.length; k++) {
      if (phrase(district, toks, 0, k) && phrase(province, toks, k, toks.length)) return true;
      if (phrase(province, toks, 0, k) && phrase(district, toks, k, toks.length)) return true;
    }
    return false;
  }

  // The list as the server sent it; the placeholder option only serves the plain select.
  var groups = [];
  Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
    groups.push({
      el: group,
      words: words(group.label),
      options: Array.prototype.map.call(group.querySelectorAll("option"), function (o) {
        // Old names (data-aliases, "|" between them) find the area too: "Quận Ba Đình"
        // finds the wards that replaced the district.
        var names = [words(o.textContent)];
        (o.getAttribute("data-aliases") || "").split("|").forEach(function (a) {
          if (a) names.push(words(a));
        });
        return { el: o, names: names };
      }),
    });
  });
  var placeholder = select.querySelector("option[value='']");
  if (placeholder && placeholder.parentNode === select) select.removeChild(placeholder);
  select.size = 8;

  function show(query) {
    var toks = words(query);
    var keep = select.value;
    var shown = 0;
    while (select.firstChild) select.removeChild(select.firstChild);
    groups.forEach(function (g) {
      var hits = g.options.filter(function (o) {
        return !toks.length || o.names.some(function (n) { return matches(toks, n, g.words); });
      });
      while (g.el.firstChild) g.el.removeChild(g.el.firstChild);
      if (!hits.length) return;
      hits.forEach(function (o) { g.el.appendChild(o.el); });
      select.appendChild(g.el);
      shown += hits.length;
    });
    // What stays selected is what is seen: a district filtered away is not sent.
    select.selectedIndex = -1;
    Array.prototype.forEach.call(select.options, function (o) {
      if (o.value === keep) o.selected = true;
    });
    if (!status) return;
    if (!toks.length) status.textContent = "";
    else if (!shown) status.textContent = status.getAttribute("data-none") || "";
    else status.textContent = (status.getAttribute("data-found") || "{n}").replace("{n}", shown);
  }

  input.addEventListener("input", function () { show(input.value); });
  // Enter or arrow down goes to the list (never sends the form from the search box).
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== "ArrowDown") return;
    event.preventDefault();
    if (!select.options.length) return;
    if (select.selectedIndex < 0) select.selectedIndex = 0;
    select.focus();
  });
  if (box) box.hidden = false;
  show(input.value);
})();

// RoadWatch review console: the case page's print button (the print stylesheet in
// console.css makes the page a case file). Without this script the button stays hidden;
// the browser's own print command gives the same file.
(function () {
  "use strict";
  var button = document.getElementById("print-case");
  if (!button) return;
  button.addEventListener("click", function () { window.print(); });
  button.hidden = false;
})();

// The case page made for deciding (issue 26).
// * "After the decision, open the next case": one checkbox sets every decision form.
// * In the reject and information forms the first control (the reason list) takes the
//   arrow keys, and Enter sends the form, as V then Enter does for verifying.
// * A decision taken while the evidence (the first photo) was never on screen asks once.
(function () {
  "use strict";
  var box = document.getElementById("next-case");
  if (box) {
    var sync = function () {
      document.querySelectorAll("input.next-case-value").forEach(function (input) {
        input.value = box.checked ? "1" : "0";
      });
    };
    // The setting lives in this browser (and in the session once a decision used it).
    try {
      var kept = window.localStorage.getItem("rw-next-case");
      if (kept !== null) box.checked = kept === "1";
    } catch (e) { /* storage refused: the session's value stands */ }
    box.addEventListener("change", function () {
      try { window.localStorage.setItem("rw-next-case", box.checked ? "1" : "0"); } catch (e) { /* ignore */ }
      sync();
    });
    sync();
  }
  ["reject-form", "info-form"].forEach(function (id) {
    var form = document.getElementById(id);
    var select = form && form.querySelector("select");
    if (!select) return;
    select.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  });
  var evidence = document.getElementById("evidence-first");
  var photo = evidence && evidence.querySelector(".first-photo img");
  if (!photo || typeof window.IntersectionObserver !== "function") return;
  var seen = false;
  var asked = false;
  var watch = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      // Half the photo on screen, once it has a size (a photo still loading has none).
      if (entry.isIntersecting && entry.intersectionRatio >= 0.5 && entry.boundingClientRect.height > 20) {
        seen = true;
        evidence.setAttribute("data-seen", "1"); // a signal for whoever waits on it (tests)
        watch.disconnect();
      }
    });
  }, { threshold: [0.5] });
  watch.observe(photo);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (seen || asked || !form || !form.closest || !form.closest(".decide")) return;
    if (!form.querySelector("input[name=kind]")) return;
    asked = true;
    if (!window.confirm(evidence.getAttribute("data-unseen"))) {
      event.preventDefault();
      photo.scrollIntoView({ block: "center" });
    }
  }, true);
})();
