/* Dispatcher map console. Plain script, no build step; Leaflet and markercluster are
 * served by the app (static/vendor). Data comes from /console/api/* as small JSON;
 * filters work on the loaded data in the browser. */
(function () {
  "use strict";

  var S = JSON.parse(document.getElementById("console-settings").textContent);
  var L_ = S.labels, T = S.strings, BASE = S.urls.base;
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;

  // ------------------------------------------------------------------ state
  var state = {
    day: S.day,
    features: new Map(),      // order id -> GeoJSON feature
    markers: new Map(),       // order id -> Leaflet marker
    techs: new Map(),         // technician id -> technician item
    techMarkers: new Map(),
    routes: [],               // current routes of the day
    proposal: null,           // a plan being previewed (routes + unassigned)
    filters: {},
    selected: null,           // order id in the panel
    since: null,
    lastRenderMs: 0,
    ready: false,
    job: null
  };
  window.consoleApp = state;  // tests and the benchmark read counters from here

  // ------------------------------------------------------------------ small helpers
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined || values[key] === null ? "" : values[key];
    });
  }
  function esc(text) {
    return String(text === undefined || text === null ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function hhmm(seconds) {
    if (seconds === null || seconds === undefined) return "";
    var m = Math.round(seconds / 60);
    var h = Math.floor(m / 60) % 24, mm = m % 60;
    return (h < 10 ? "0" : "") + h + ":" + (mm < 10 ? "0" : "") + mm;
  }
  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : ""; }
  function label(group, code) { return (L_[group] && L_[group][code]) || code || ""; }
  function el(id) { return document.getElementById(id); }

  function api(method, path, body) {
    var sep = path.indexOf("?") >= 0 ? "&" : "?";
    var url = BASE + "/api" + path + (method === "GET" ? sep + "day=" + state.day : "");
    var init = { method: method, credentials: "same-origin",
                 headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = CSRF;
      init.body = JSON.stringify(Object.assign({ day: state.day }, body || {}));
    }
    return fetch(url, init).then(readJson);
  }

  function readJson(resp) {
    return resp.json().catch(function () { return {}; }).then(function (data) {
      if (!resp.ok) {
        var err = new Error(data.detail || data.title || resp.statusText);
        err.status = resp.status; err.data = data;
        throw err;
      }
      return data;
    });
  }

  // The page asked for the first data while the scripts were loading (see console.html).
  function preloaded(feed) {
    var early = window.consolePreload && window.consolePreload[feed];
    if (early && window.consolePreload.day === state.day) {
      delete window.consolePreload[feed];
      return early.then(readJson);
    }
    return api("GET", "/" + feed);
  }

  var toastTimer = null;
  function toast(text, isError) {
    var box = el("toast");
    if (!box) {
      box = document.createElement("div");
      box.id = "toast"; box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    box.className = "toast" + (isError ? " error" : "");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  // ------------------------------------------------------------------ map
  var canvas = L.canvas({ padding: 0.3 });
  var map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: !!S.tile_url,
                         minZoom: 5, maxZoom: 19, zoomSnap: 0.25 })
    .setView([31.82, 117.27], 12);
  if (S.tile_url) {
    // Tiles are optional: when they fail, markers and routes still draw on the plain background.
    L.tileLayer(S.tile_url, { maxZoom: 19, attribution: S.tile_attribution }).addTo(map);
  }
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  window.consoleMap = map;

  var districtLayer = L.layerGroup().addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var stopLayer = L.layerGroup();
  var techLayer = L.layerGroup().addTo(map);
  var RISK_RANK = { fine: 0, at_risk: 1, breached: 2 };
  var cluster = L.markerClusterGroup({
    chunkedLoading: false,
    animate: false,  // no fly-in: a filter change redraws at once (and other markers do not drift)
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    // Street level: only orders at (nearly) the same address stay grouped; clicking such a
    // group fans it out, so two orders at one site are both reachable.
    maxClusterRadius: function (zoom) { return zoom >= 15 ? 8 : 45; },
    iconCreateFunction: function (group) {
      var children = group.getAllChildMarkers(), worst = 0;
      for (var i = 0; i < children.length && worst < 2; i++) {
        worst = Math.max(worst, RISK_RANK[children[i].options.risk] || 0);
      }
      var n = group.getChildCount(), size = n < 10 ? 26 : n < 100 ? 32 : 38;
      var cls = ["w-fine", "w-at_risk", "w-breached"][worst];
      return L.divIcon({ html: '<div class="mc ' + cls + '" style="width:' + size + "px;height:" + size +
        'px">' + n + "</div>", className: "mc-icon", iconSize: [size, size] });
    }
  }).addTo(map);
  state.cluster = cluster;

  function orderIcon(p) {
    var cls = "om p-" + p.priority + " r-" + p.risk + (p.blocked ? " blocked" : "");
    return L.divIcon({ className: "om-icon", iconSize: [16, 16],
      html: '<span class="' + cls + '">' + p.priority.slice(1) + "</span>" });
  }

  function makeMarker(feature) {
    var p = feature.properties, c = feature.geometry.coordinates;
    var marker = L.marker([c[1], c[0]], { icon: orderIcon(p), risk: p.risk, keyboard: false });
    marker.orderId = feature.id;
    marker.bindTooltip(function () {
      var q = state.features.get(marker.orderId).properties;
      return esc(q.code) + " · " + esc(label("product", q.product)) + "<br>" +
        esc(label("state", q.state)) + " · " + esc(label("risk", q.risk)) + "<br>" +
        esc(T.restore_due) + " " + esc(q.due);
    }, { direction: "top", offset: [0, -6] });
    marker.on("click", function () { openOrder(marker.orderId); });
    marker.on("add", function () {
      if (!marker._icon) return;
      marker._icon.dataset.order = marker.orderId;
      marker._icon.classList.toggle("sel", state.selected === marker.orderId);
    });
    return marker;
  }

  function techIcon(tech) {
    return L.divIcon({ className: "tm-icon", iconSize: [12, 12],
      html: '<div class="tm" style="background:' + tech.colour + '"></div>' });
  }

  // ------------------------------------------------------------------ filters
  var FILTERS = ["district", "kind", "product", "priority", "state", "risk", "technician"];

  function fillSelect(name, options) {
    var select = el("f-" + name), keep = select.value;
    var fixed = name === "technician" ? 2 : 1;
    while (select.options.length > fixed) select.remove(fixed);
    options.forEach(function (o) { select.add(new Option(o[1], o[0])); });
    select.value = keep;
    if (select.value !== keep) select.value = "";
  }

  function fillFilterOptions() {
    var districts = new Set(), products = new Set();
    state.features.forEach(function (f) {
      if (f.properties.district) districts.add(f.properties.district);
      products.add(f.properties.product);
    });
    state.techs.forEach(function (t) { if (t.district) districts.add(t.district); });
    fillSelect("district", Array.from(districts).sort().map(function (d) { return [d, d]; }));
    fillSelect("kind", Object.keys(L_.kind).map(function (k) { return [k, L_.kind[k]]; }));
    fillSelect("product", Object.keys(L_.product).filter(function (p) { return products.has(p); })
      .map(function (p) { return [p, L_.product[p]]; }));
    fillSelect("priority", Object.keys(L_.priority).map(function (k) { return [k, L_.priority[k]]; }));
    fillSelect("state", ["received", "validated", "scheduled", "assigned", "en_route", "on_site",
      "needs_revisit"].map(function (s) { return [s, L_.state[s]]; }));
    fillSelect("risk", ["breached", "at_risk", "fine"].map(function (r) { return [r, L_.risk[r]]; }));
    var techs = Array.from(state.techs.values()).sort(function (a, b) {
      return (a.district || "").localeCompare(b.district || "") || a.name.localeCompare(b.name);
    });
    fillSelect("technician", techs.map(function (t) {
      return [String(t.id), t.name + (t.district ? " · " + t.district : "")];
    }));
  }

  function readFilters() {
    FILTERS.forEach(function (name) { state.filters[name] = el("f-" + name).value; });
  }

  function orderVisible(p) {
    var f = state.filters;
    if (f.district && p.district !== f.district) return false;
    if (f.kind && p.kind !== f.kind) return false;
    if (f.product && p.product !== f.product) return false;
    if (f.priority && p.priority !== f.priority) return false;
    if (f.state && p.state !== f.state) return false;
    if (f.risk && p.risk !== f.risk) return false;
    if (f.technician === "none" && p.technician_id) return false;
    if (f.technician && f.technician !== "none" && String(p.technician_id) !== f.technician) return false;
    return true;
  }

  function techVisible(t) {
    var f = state.filters;
    if (f.technician === "none") return false;
    if (f.technician && String(t.id) !== f.technician) return false;
    if (f.district && t.district !== f.district) return false;
    return true;
  }

  // ------------------------------------------------------------------ drawing
  function renderOrders(fit) {
    var shown = [];
    state.features.forEach(function (f, id) {
      if (orderVisible(f.properties)) {
        var marker = state.markers.get(id);
        if (!marker) { marker = makeMarker(f); state.markers.set(id, marker); }
        shown.push(marker);
      }
    });
    cluster.clearLayers();
    // Move the view before clustering, so clusters are built once, at the final zoom.
    if (fit) fitToVisible();
    cluster.addLayers(shown);
    state.shownCount = shown.length;
    var count = el("order-count");
    count.textContent = fmt(T.orders_shown, { shown: shown.length, total: state.features.size });
    count.dataset.shown = shown.length;
    count.dataset.total = state.features.size;
  }

  function techTooltip(t) {
    return esc(t.name) + (t.district ? " · " + esc(t.district) : "") + "<br>" +
      (t.seen ? esc(fmt(T.position_seen, { time: when(t.seen) })) : esc(T.at_home));
  }

  // Technician markers stay on the map between renders; only the ones whose visibility
  // or position changed are touched.
  function renderTechs() {
    state.techs.forEach(function (t) {
      var m = state.techMarkers.get(t.id), show = techVisible(t);
      if (!m) {
        if (!show) return;
        m = L.marker(t.position, { icon: techIcon(t), zIndexOffset: 1000, keyboard: false });
        m.on("click", function () { setFilter("technician", String(t.id)); });
        m.bindTooltip(techTooltip(t));
        m.seen = t.seen;
        state.techMarkers.set(t.id, m);
      } else if (m.seen !== t.seen) {
        m.setLatLng(t.position);
        m.setTooltipContent(techTooltip(t));
        m.seen = t.seen;
      }
      if (show && !techLayer.hasLayer(m)) techLayer.addLayer(m);
      if (!show && techLayer.hasLayer(m)) techLayer.removeLayer(m);
    });
  }

  function activeRoutes() { return state.proposal ? state.proposal.routes : state.routes; }

  function renderRoutes() {
    routeLayer.clearLayers();
    stopLayer.clearLayers();
    var dashed = !!state.proposal;
    activeRoutes().forEach(function (route) {
      var tech = state.techs.get(route.technician_id);
      if (!tech || !techVisible(tech)) return;
      var points = [tech.home];
      route.stops.forEach(function (s) { if (s.lat !== null && s.lat !== undefined) points.push([s.lat, s.lon]); });
      if (points.length < 2) return;
      var line = L.polyline(points, { renderer: canvas, color: tech.colour, weight: 3, opacity: 0.85,
        dashArray: dashed ? "6 6" : null, interactive: true });
      line.bindTooltip(esc(tech.name) + " · " + esc(fmt(T.stops_today, { n: route.stops.length })), { sticky: true });
      line.technicianId = route.technician_id;
      routeLayer.addLayer(line);
    });
    stopsDrawn = false;
    syncStopLayer();
  }

  var stopsDrawn = false;
  function drawStops() {
    activeRoutes().forEach(function (route) {
      var tech = state.techs.get(route.technician_id);
      if (!tech || !techVisible(tech)) return;
      route.stops.forEach(function (s) {
        if (s.lat === null || s.lat === undefined) return;
        var icon = L.divIcon({ className: "stop-icon", iconSize: null, iconAnchor: [-6, 16],
          html: '<div class="stop-no" style="background:' + tech.colour + '">' + s.sequence + "</div>" });
        stopLayer.addLayer(L.marker([s.lat, s.lon], { icon: icon, interactive: false, keyboard: false }));
      });
    });
    stopsDrawn = true;
  }

  function syncStopLayer() {
    // Stop numbers only where they can be read (zoomed in, or one technician chosen);
    // built only then, so a city-wide view does not pay for thousands of labels.
    var want = map.getZoom() >= 14 || (state.filters.technician && state.filters.technician !== "none");
    if (want && !stopsDrawn) drawStops();
    if (want && !map.hasLayer(stopLayer)) stopLayer.addTo(map);
    if (!want && map.hasLayer(stopLayer)) map.removeLayer(stopLayer);
  }
  map.on("zoomend", syncStopLayer);

  function renderDistricts() {
    districtLayer.clearLayers();
    var sums = {};
    state.features.forEach(function (f) {
      var d = f.properties.district; if (!d) return;
      var c = f.geometry.coordinates, s = sums[d] || (sums[d] = [0, 0, 0]);
      s[0] += c[1]; s[1] += c[0]; s[2] += 1;
    });
    Object.keys(sums).forEach(function (d) {
      var s = sums[d];
      districtLayer.addLayer(L.marker([s[0] / s[2], s[1] / s[2]], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "district-label", iconSize: null, html: esc(d) }) }));
    });
  }

  // ------------------------------------------------------------------ timeline (Gantt)
  // Only the rows in view are in the page (200 technicians x a dozen segments each would
  // cost a filter change several hundred milliseconds of layout); the rest are drawn on scroll.
  var ROW_H = 20;
  var gantt = { techs: [], routes: {}, lo: 0, hi: 1, drawn: "" };

  function renderGantt() {
    var body = el("gantt-body");
    var routes = {};
    activeRoutes().forEach(function (r) { routes[r.technician_id] = r; });
    var techs = Array.from(state.techs.values()).filter(techVisible).sort(function (a, b) {
      var ra = routes[a.id] ? 0 : 1, rb = routes[b.id] ? 0 : 1;
      return ra - rb || (a.district || "").localeCompare(b.district || "") || a.id - b.id;
    });
    var lo = 24 * 3600, hi = 0;
    techs.forEach(function (t) {
      lo = Math.min(lo, t.shift[0]); hi = Math.max(hi, t.shift[1]);
      var r = routes[t.id]; if (r) hi = Math.max(hi, r.end_s || 0);
    });
    if (hi <= lo) { lo = 7 * 3600; hi = 19 * 3600; }
    lo = Math.floor(lo / 3600 - 0.5) * 3600; hi = Math.ceil(hi / 3600 + 0.25) * 3600;
    gantt = { techs: techs, routes: routes, lo: lo, hi: hi, drawn: "" };

    var now = new Date(), nowS = now.getHours() * 3600 + now.getMinutes() * 60;
    var todayIso = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
      String(now.getDate()).padStart(2, "0");
    var html = ['<div class="g-row g-axis"><div class="g-label"></div><div class="g-track">'];
    for (var h = lo; h <= hi; h += 3600) html.push('<span class="g-tick" style="left:' + pct(h) + '%">' + hhmm(h) + "</span>");
    if (todayIso === state.day && nowS > lo && nowS < hi) html.push('<div class="g-now" style="left:' + pct(nowS) + '%"></div>');
    html.push('</div></div><div class="g-rows" id="g-rows" style="height:' + techs.length * ROW_H + 'px"></div>');
    body.innerHTML = html.join("");
    var nowLine = body.querySelector(".g-now");
    if (nowLine) nowLine.style.height = body.clientHeight + "px";
    drawGanttRows();
    el("gantt-title").innerHTML = state.proposal ?
      '<span class="proposal">' + esc(T.plan_result) + "</span>" : esc(el("gantt-title").dataset.title);
  }

  function pct(s) {
    var lo = gantt.lo, hi = gantt.hi;
    return ((Math.min(Math.max(s, lo), hi) - lo) / (hi - lo) * 100).toFixed(3);
  }

  function seg(cls, a, b, title, opts) {
    if (b <= a) return "";
    opts = opts || {};
    var left = pct(a), width = (pct(b) - left).toFixed(3);
    return '<div class="seg ' + cls + '" style="' + (opts.bg ? "background:" + opts.bg + ";" : "") +
      "left:" + left + "%;width:" + width + '%" title="' + esc(title) + '"' +
      (opts.order ? ' data-order="' + opts.order + '"' : "") + ">" + esc(opts.text || "") + "</div>";
  }

  function ganttRow(t, index) {
    var r = gantt.routes[t.id], html = [];
    var hl = state.filters.technician === String(t.id) ? " hl" : "";
    html.push('<div class="g-row' + hl + '" style="top:' + index * ROW_H + 'px" data-tech="' + t.id +
      '"><div class="g-label" title="' + esc(t.name + " · " + T.shift + " " + hhmm(t.shift[0]) + "–" + hhmm(t.shift[1]) +
        " · " + (r ? (r.source === "estimate" ? T.source_estimate : T.source_plan) : T.no_route)) +
      '"><i style="background:' + t.colour + '"></i>' +
      esc(t.name) + " · " + (r ? r.stops.length : 0) + '</div><div class="g-track">');
    html.push(seg("idle", t.shift[0], t.shift[1], label("segment", "idle") + " " + hhmm(t.shift[0]) + "–" + hhmm(t.shift[1])));
    if (r) {
      var lastEnd = null;
      r.stops.forEach(function (s) {
        var travelStart = s.arrival_s - (s.travel_s || 0);
        html.push(seg("travel", travelStart, s.arrival_s, label("segment", "travel") + " " + hhmm(travelStart) + "–" + hhmm(s.arrival_s)));
        var cls = "work" + (s.priority === "P1" ? " p1" : "") + (s.late_s > 0 ? " late" : "") +
          (s.state && ["completed", "followed_up", "closed"].indexOf(s.state) >= 0 ? " done" : "");
        html.push(seg(cls, s.start_s, s.end_s, fmt(T.stop, { seq: s.sequence }) + " " + s.code + " " +
          hhmm(s.start_s) + "–" + hhmm(s.end_s), { bg: t.colour, order: s.order_id, text: s.code.slice(-6) }));
        lastEnd = s.end_s;
      });
      var lunch = r.lunch_start_s;
      var lunchLen = r.lunch_duration_s || t.lunch_duration_s || 0;
      var hasLunch = lunch !== null && lunch !== undefined;
      if (hasLunch) {
        html.push(seg("lunch", lunch, lunch + lunchLen, label("segment", "lunch") + " " + hhmm(lunch) + "–" + hhmm(lunch + lunchLen)));
      }
      if (lastEnd !== null && r.end_s > lastEnd) {
        var backStart = hasLunch && lunch >= lastEnd && lunch < r.end_s ? lunch + lunchLen : lastEnd;
        html.push(seg("travel", backStart, r.end_s, label("segment", "travel") + " " + hhmm(backStart) + "–" + hhmm(r.end_s)));
      }
    }
    html.push("</div></div>");
    return html.join("");
  }

  function drawGanttRows() {
    var body = el("gantt-body"), rows = el("g-rows");
    if (!rows) return;
    var first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - 5);
    var last = Math.min(gantt.techs.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW_H) + 5);
    var key = first + ":" + last;
    if (gantt.drawn === key) return;
    gantt.drawn = key;
    var html = [];
    for (var i = first; i < last; i++) html.push(ganttRow(gantt.techs[i], i));
    rows.innerHTML = html.join("");
  }

  var ganttScroll = false;
  el("gantt-body").addEventListener("scroll", function () {
    if (ganttScroll) return;
    ganttScroll = true;
    requestAnimationFrame(function () { ganttScroll = false; drawGanttRows(); });
  });

  el("gantt-title").dataset.title = el("gantt-title").textContent;

  el("gantt-body").addEventListener("click", function (ev) {
    var work = ev.target.closest("[data-order]");
    if (work) { openOrder(Number(work.dataset.order)); return; }
    var row = ev.target.closest(".g-label");
    if (row) setFilter("technician", row.parentNode.dataset.tech);
  });

  // ------------------------------------------------------------------ one render pass
  // `scope` "orders": only order filters changed, technicians, routes and timeline stay.
  function render(fit, scope) {
    var t0 = performance.now(), t = {};
    renderOrders(fit); t.orders = performance.now() - t0;
    if (scope !== "orders") {
      renderTechs(); t.techs = performance.now() - t0;
      renderRoutes(); t.routes = performance.now() - t0;
      renderGantt(); t.gantt = performance.now() - t0;
    }
    state.timings = t;
    state.lastRenderMs = performance.now() - t0;
    state.renders = (state.renders || 0) + 1;
  }

  function fitToVisible() {
    map.invalidateSize(false);
    var bounds = L.latLngBounds([]);
    state.features.forEach(function (f) {
      if (orderVisible(f.properties)) bounds.extend([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
    });
    state.techs.forEach(function (t) { if (techVisible(t)) bounds.extend(t.position); });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.05), { maxZoom: 15, animate: false });
  }

  function setFilter(name, value) {
    el("f-" + name).value = value;
    onFilterChange(name);
  }

  function onFilterChange(name) {
    readFilters();
    var area = name === "district" || name === "technician";
    render(area, area ? "all" : "orders");
  }

  FILTERS.forEach(function (name) {
    el("f-" + name).addEventListener("change", function () { onFilterChange(name); });
  });
  el("f-reset").addEventListener("click", function () {
    FILTERS.forEach(function (name) { el("f-" + name).value = ""; });
    onFilterChange("district");
  });
  el("f-day").addEventListener("change", function () {
    if (!this.value) return;
    state.day = this.value;
    state.proposal = null;
    loadAll(true);
  });

  // ------------------------------------------------------------------ loading
  function loadAll(fit) {
    el("live-status").textContent = T.loading;
    return Promise.all([preloaded("orders"), preloaded("technicians"), preloaded("routes")])
      .then(function (res) {
        state.features.clear();
        state.markers.clear();
        res[0].features.forEach(function (f) { state.features.set(f.id, f); });
        state.techs.clear();
        techLayer.clearLayers();
        state.techMarkers.clear();
        res[1].technicians.forEach(function (t) { state.techs.set(t.id, t); });
        state.routes = res[2].routes;
        state.since = res[0].generated_at;
        fillFilterOptions();
        readFilters();
        renderDistricts();
        render(fit);
        if (!state.ready) {
          state.firstRenderMs = performance.now();
          requestAnimationFrame(function () { setTimeout(function () { state.firstPaintMs = performance.now(); }, 0); });
        }
        state.ready = true;
        el("live-status").textContent = fmt(T.updated, { time: when(res[0].generated_at).slice(11) });
      })
      .catch(function (err) {
        el("live-status").textContent = T.load_failed;
        toast(err.message, true);
        if (!state.ready) setTimeout(function () { loadAll(fit); }, 5000);
      });
  }

  function loadRoutes() {
    return api("GET", "/routes").then(function (data) {
      state.routes = data.routes;
      renderRoutes();
      renderGantt();
    });
  }

  function putFeature(feature) {
    state.features.set(feature.id, feature);
    state.markers.delete(feature.id);
  }
  function dropFeature(id) {
    state.features.delete(id);
    state.markers.delete(id);
  }

  // Light polling: changed orders, moved technicians, SLA risk of every open order.
  function poll() {
    if (!state.ready || document.hidden) return;
    var path = "/live" + (state.since ? "?since=" + encodeURIComponent(state.since) : "");
    api("GET", path).then(function (data) {
      var changed = data.orders.length + data.gone.length > 0;
      data.orders.forEach(putFeature);
      data.gone.forEach(dropFeature);
      var risk = {};
      data.risk.breached.forEach(function (id) { risk[id] = "breached"; });
      data.risk.at_risk.forEach(function (id) { risk[id] = "at_risk"; });
      state.features.forEach(function (f, id) {
        var level = risk[id] || "fine";
        if (f.properties.risk !== level) { f.properties.risk = level; state.markers.delete(id); changed = true; }
      });
      data.technicians.forEach(function (t) { state.techs.set(t.id, t); });
      state.since = data.now;
      if (changed) { renderOrders(); if (!state.proposal) loadRoutes(); }
      if (data.technicians.length) renderTechs();
      el("live-status").textContent = fmt(T.updated, { time: when(data.now).slice(11) });
      // The open order changed under the dispatcher: show it fresh, unless they are typing.
      var mine = state.selected && (data.gone.indexOf(state.selected) >= 0 ||
        data.orders.some(function (f) { return f.id === state.selected; }));
      var typing = panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
      if (mine && !state.job && !typing) refreshPanel();
    }).catch(function () { el("live-status").textContent = T.load_failed; });
  }
  setInterval(poll, Math.max(3, S.refresh_s) * 1000);

  // ------------------------------------------------------------------ the order panel
  var panel = el("panel"), panelBody = el("panel-body");
  el("panel-close").addEventListener("click", closePanel);

  function closePanel() {
    panel.hidden = true;
    state.selected = null;
    markSelected(null);
    panelBody.innerHTML = "";
    map.invalidateSize();
  }
  function showPanel(html) {
    var wasHidden = panel.hidden;
    panelBody.innerHTML = html;
    panel.hidden = false;
    if (wasHidden) map.invalidateSize();
  }

  function markSelected(id) {
    document.querySelectorAll(".om-icon.sel").forEach(function (icon) { icon.classList.remove("sel"); });
    var marker = id && state.markers.get(id);
    if (marker && marker._icon) marker._icon.classList.add("sel");
  }

  function openOrder(id) {
    state.selected = id;
    markSelected(id);
    if (state.job) return;  // the panel shows a running plan; the order opens when it is done
    showPanel("<p>" + esc(T.loading) + "</p>");
    refreshPanel();
  }

  function refreshPanel(message, isError) {
    var id = state.selected;
    if (!id) return;
    api("GET", "/orders/" + id).then(function (o) {
      if (state.selected !== id || state.job) return;
      showPanel(orderHtml(o, message, isError));
      bindOrderActions(o);
    }).catch(function (err) { showPanel('<div class="msg error">' + esc(err.message) + "</div>"); });
  }

  function dl(rows) {
    return "<dl>" + rows.filter(function (r) { return r[1] !== null && r[1] !== undefined && r[1] !== ""; })
      .map(function (r) { return "<dt>" + esc(r[0]) + "</dt><dd>" + (r[2] ? r[1] : esc(r[1])) + "</dd>"; }).join("") + "</dl>";
  }

  function leftText(iso) {
    var due = new Date(iso).getTime(), diff = Math.round((due - Date.now()) / 60000);
    var a = Math.abs(diff), text = (a >= 60 ? Math.floor(a / 60) + "h" : "") + (a % 60) + "m";
    return fmt(diff >= 0 ? T.left : T.over, { time: text });
  }

  function orderHtml(o, message, isError) {
    var h = [];
    h.push("<h2>" + esc(o.code) + ' <span class="badge prio-' + o.priority + '">' + esc(o.priority) + "</span> " +
      '<span class="badge risk-' + o.risk + '">' + esc(label("risk", o.risk)) + "</span></h2>");
    if (message) h.push('<div class="msg ' + (isError ? "error" : "ok") + '" role="alert">' + esc(message) + "</div>");
    h.push('<div id="action-msg"></div>');
    var appt = o.appointment_start ? when(o.appointment_start) + "–" + when(o.appointment_end).slice(11) : "";
    h.push("<h3>" + esc(T.details) + "</h3>" + dl([
      [T.state, o.state_label + (o.blocked ? " · " + T.blocked : "")],
      [T.kind, label("kind", o.kind)], [T.product, label("product", o.product)],
      [T.priority, label("priority", o.priority)],
      [T.customer, (o.customer_name || "") + (o.enterprise_tier ? " · " + label("tier", o.enterprise_tier) : "") +
        (o.contact_name ? " · " + o.contact_name : "") + (o.customer_phone ? " · " + o.customer_phone : "")],
      [T.address, o.address], [T.district, o.district],
      [T.appointment, appt],
      [T.technician, o.technician_name],
      [T.planned, o.planned_start ? when(o.planned_start) : ""],
      [T.skills, (o.required_skills || []).map(function (s) { return label("skill", s); }).join(", ")],
      [T.duration, fmt(T.minutes, { n: o.duration_min })],
      [T.owner, o.owner_name], [T.description, o.description]
    ]));
    // actions
    if (S.can_act) h.push(actionsHtml(o));
    h.push("<h3>" + esc(T.findings) + "</h3>");
    var findings = (o.findings || []).concat(o.closeout_findings || []);
    h.push(findings.length ? "<ul>" + findings.map(function (f) {
      return '<li class="finding ' + esc(f.severity) + '">' + esc(f.rule_id) + ": " +
        esc(f.message || (S.lang === "en" ? f.message_en : f.message_zh)) + "</li>";
    }).join("") + "</ul>" : "<p>" + esc(T.no_findings) + "</p>");
    var sla = o.sla || {};
    h.push("<h3>" + esc(T.sla) + "</h3>" + dl([
      [T.response_due, when(o.response_deadline) + " · " + (o.responded_at ? T.responded :
        leftText(o.response_deadline))],
      [T.restore_due, when(sla.restore_deadline || o.restore_deadline) + " · " +
        leftText(sla.restore_deadline || o.restore_deadline) + (sla.paused ? " · " + T.paused : "")]
    ]));
    h.push("<h3>" + esc(T.photos) + "</h3>");
    var photos = o.photos || [];
    h.push(photos.length ? "<ul>" + photos.map(function (p) {
      return '<li><a href="' + esc(p.url) + '" target="_blank" rel="noopener">' + esc(p.item_id) + "</a> · " +
        esc(when(p.taken_at)) + " · " + p.width + "×" + p.height + "</li>";
    }).join("") + "</ul>" : "<p>" + esc(T.no_photos) + "</p>");
    h.push("<details><summary><b>" + esc(T.audit) + "</b> (" + (o.audit || []).length + ")</summary><ol class=\"audit\">" +
      (o.audit || []).map(function (e) {
        var what = e.action.indexOf("state:") === 0 ?
          label("state", e.from) + " → " + label("state", e.action.slice(6)) : label("action", e.action);
        return "<li>" + esc(when(e.at)) + " · " + esc(e.actor) + " (" + esc(e.role) + ") · " + esc(what) +
          (e.reason ? " · " + esc(e.reason) : "") + "</li>";
      }).join("") + "</ol></details>");
    return h.join("");
  }

  function actionsHtml(o) {
    var h = ["<h3>" + esc(T.technician) + "</h3>"];
    var inRoute = ["assigned", "en_route", "on_site"].indexOf(o.state) >= 0;
    var canAssign = ["validated", "scheduled", "needs_revisit", "assigned", "en_route"].indexOf(o.state) >= 0 && !o.blocked;
    if (canAssign) {
      // The list arrives separately (each technician's fit is computed on the server).
      h.push('<div class="actions"><select id="assign-tech" data-order="' + o.id + '"><option value="">' +
        esc(T.loading) + "</option></select>" +
        '<button type="button" class="primary" id="btn-assign">' + esc(inRoute ? T.move : T.assign) + "</button></div>");
    }
    var buttons = [];
    if (o.state === "assigned" || o.state === "scheduled") {
      buttons.push('<button type="button" id="btn-unassign">' + esc(T.unassign) + "</button>");
    }
    if (o.can_insert_urgently) {
      buttons.push('<button type="button" class="danger" id="btn-insert-this">' + esc(el("btn-urgent").textContent) + "</button>");
    }
    if (buttons.length) h.push('<div class="actions">' + buttons.join("") + "</div>");
    if ((o.allowed_next || []).indexOf("cancelled") >= 0) {
      h.push('<div class="actions"><input id="cancel-reason" maxlength="500" placeholder="' + esc(T.cancel_reason) + '">' +
        '<button type="button" id="btn-cancel">' + esc(T.cancel_order) + "</button></div>");
    }
    return h.join("");
  }

  function actionError(err) {
    var box = el("action-msg");
    if (box) box.innerHTML = '<div class="msg error" role="alert">' + esc(T.refused + ": " + err.message) + "</div>";
    if (err.data && err.data.type && /stale-version$/.test(err.data.type)) refreshPanel(err.message, true);
  }

  function afterAction(result, message) {
    if (result.feature) putFeature(result.feature); else dropFeature(result.order_id);
    renderOrders();
    return loadRoutes().then(function () { refreshPanel(message, false); toast(message); });
  }

  function candidateOption(c) {
    var parts = [c.name, c.district || "", fmt(T.km, { km: c.distance_km }), fmt(T.stops_today, { n: c.stops })];
    if (c.fits) {
      parts.push(fmt(T.fit_at, { time: c.start, km: c.extra_km, free: c.free_min }));
      if (c.delays) parts.push(fmt(T.delays_others, { n: c.delays }));
    } else {
      parts.push(c.why_not || label("reason", c.reason));
    }
    var offered = c.fits || c.reason === "not_evaluated";  // the assign itself checks a far one
    return '<option value="' + c.id + '"' + (offered ? "" : " disabled") + ">" + esc(parts.join(" · ")) + "</option>";
  }

  function loadCandidates(o) {
    var select = el("assign-tech");
    if (!select) return;
    var inRoute = ["assigned", "en_route", "on_site"].indexOf(o.state) >= 0;
    api("GET", "/orders/" + o.id + "/candidates").then(function (r) {
      if (el("assign-tech") !== select) return;  // the panel moved on
      var opts = ['<option value="">' + esc(T.choose_technician) + "</option>"];
      r.candidates.forEach(function (c) {
        if (inRoute && c.id === o.technician_id) return;
        opts.push(candidateOption(c));
      });
      select.innerHTML = opts.join("");
    }).catch(function (err) { actionError(err); });
  }

  function bindOrderActions(o) {
    loadCandidates(o);
    var assign = el("btn-assign");
    if (assign) assign.addEventListener("click", function () {
      var techId = el("assign-tech").value;
      if (!techId) { el("assign-tech").focus(); return; }
      assign.disabled = true;
      api("POST", "/orders/" + o.id + "/assign", { technician_id: Number(techId), version: o.version })
        .then(function (r) {
          return afterAction(r, fmt(T.assigned_ok, { code: r.code, name: r.technician_name, seq: r.sequence, time: r.planned }));
        })
        .catch(function (err) { assign.disabled = false; actionError(err); });
    });
    var unassign = el("btn-unassign");
    if (unassign) unassign.addEventListener("click", function () {
      unassign.disabled = true;
      api("POST", "/orders/" + o.id + "/unassign", { version: o.version })
        .then(function (r) { return afterAction(r, fmt(T.unassigned_ok, { code: r.code })); })
        .catch(function (err) { unassign.disabled = false; actionError(err); });
    });
    var cancel = el("btn-cancel");
    if (cancel) cancel.addEventListener("click", function () {
      var reason = el("cancel-reason").value.trim();
      if (reason.length < 2) { actionError(new Error(T.reason_required)); el("cancel-reason").focus(); return; }
      cancel.disabled = true;
      api("POST", "/orders/" + o.id + "/cancel", { version: o.version, reason: reason })
        .then(function (r) { return afterAction(r, fmt(T.cancelled_ok, { code: r.code })); })
        .catch(function (err) { cancel.disabled = false; actionError(err); });
    });
    var insert = el("btn-insert-this");
    if (insert) insert.addEventListener("click", function () { startUrgent(o.id, o.code); });
  }

  // ------------------------------------------------------------------ planning jobs
  function progressHtml(title) {
    return "<h2>" + esc(title) + '</h2><div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" ' +
      'id="plan-progress"><div id="plan-bar"></div></div><div class="progress-text" id="plan-progress-text">' +
      esc(label("phase", "queued")) + '</div><div class="actions"><button type="button" id="btn-job-cancel" disabled>' +
      esc(T.stop_search) + "</button></div>";
  }

  function runJob(path, body, title) {
    state.job = { pending: true };
    setPlanButtons(true);
    showPanel(progressHtml(title));
    return api("POST", path, body).then(function (job) {
      state.job = job;
      el("btn-job-cancel").disabled = false;
      el("btn-job-cancel").addEventListener("click", function () {
        this.disabled = true;
        api("POST", "/jobs/" + job.id + "/cancel").catch(function () {});
      });
      return new Promise(function (resolve, reject) {
        function tick() {
          api("GET", "/jobs/" + job.id).then(function (j) {
            showProgress(j);
            if (j.status === "finished" || j.status === "cancelled") {
              if (j.result && j.result.plan_id) resolve(j); else reject(new Error(label("job_status", j.status)));
            } else if (j.status === "failed") {
              reject(new Error(fmt(T.job_failed, { error: j.error || "" })));
            } else {
              setTimeout(tick, 400);
            }
          }).catch(reject);
        }
        tick();
      });
    }).then(function (j) {
      return api("GET", "/plans/" + j.result.plan_id);
    }).then(function (plan) {
      state.job = null;
      setPlanButtons(false);
      return plan;
    }, function (err) {
      state.job = null;
      setPlanButtons(false);
      showPanel('<div class="msg error" role="alert">' + esc(err.message) + "</div>");
      throw err;
    });
  }

  function showProgress(job) {
    var p = job.progress || {}, pct = Math.max(0, Math.min(100, p.percent || 0));
    var bar = el("plan-bar"), box = el("plan-progress");
    if (!bar) return;
    bar.style.width = pct + "%";
    box.setAttribute("aria-valuenow", pct);
    box.dataset.status = job.status;
    var parts = [label("phase", p.phase || "queued"), pct + "%"];
    if (p.best_cost !== null && p.best_cost !== undefined) parts.push(fmt(T.best_cost, { cost: p.best_cost.toLocaleString() }));
    el("plan-progress-text").textContent = parts.join(" · ");
  }

  function setPlanButtons(busy) {
    ["btn-plan", "btn-urgent"].forEach(function (id) { if (el(id)) el(id).disabled = busy; });
  }

  function previewPlan(plan, headline) {
    state.proposal = plan;
    var h = ["<h2>" + esc(T.plan_result) + "</h2>"];
    if (headline) h.push('<p id="plan-headline">' + esc(headline) + "</p>");
    var planned = 0, techs = 0, late = 0;
    plan.routes.forEach(function (r) { if (r.stops.length) { techs += 1; planned += r.stops.length; }
      r.stops.forEach(function (s) { if (s.late_s > 0) late += 1; }); });
    h.push('<p id="plan-summary">' + esc(fmt(T.plan_summary, { planned: planned, techs: techs,
      unassigned: plan.unassigned.length, km: ((plan.travel_m || 0) / 1000).toFixed(1), late: late })) + "</p>");
    if (plan.can_accept) {
      h.push('<div class="actions"><button type="button" class="primary" id="btn-accept">' + esc(T.accept) +
        '</button><button type="button" id="btn-discard">' + esc(T.discard) + "</button></div>");
    } else {
      h.push('<p class="msg error" id="plan-nothing">' + esc(T.nothing_to_accept) + "</p>" +
        '<div class="actions"><button type="button" id="btn-discard">' + esc(T.discard) + "</button></div>");
    }
    if ((plan.displaced || []).length) {
      h.push("<h3>" + esc(T.displaced) + " (" + plan.displaced.length + ')</h3><ol class="left-out" id="displaced">' +
        plan.displaced.map(function (d) {
          return '<li><a href="#" data-order="' + d.order_id + '">' + esc(d.code) + "</a>" +
            (d.deadline_today ? " — " + esc(T.deadline_today) : "") + "</li>";
        }).join("") + "</ol>");
    }
    if ((plan.delayed || []).length) {
      h.push("<h3>" + esc(T.delayed) + " (" + plan.delayed.length + ')</h3><ol class="left-out" id="delayed">' +
        plan.delayed.map(function (d) {
          return "<li>" + esc(d.code) + " " + esc(hhmm(d.before_s)) + " → " + esc(hhmm(d.after_s)) +
            (d.late_s > 0 ? " · " + esc(fmt(T.late_min, { n: Math.round(d.late_s / 60) })) : "") + "</li>";
        }).join("") + "</ol>");
    }
    h.push('<div id="plan-msg"></div><h3>' + esc(T.unassigned_orders) + " (" + plan.unassigned.length + ")</h3>");
    h.push(plan.unassigned.length ? '<ol class="left-out" id="left-out">' + plan.unassigned.map(function (u) {
      return '<li><a href="#" data-order="' + u.order_id + '">' + esc(u.code) + "</a> " +
        (u.priority ? '<span class="badge prio-' + u.priority + '">' + u.priority + "</span> " : "") +
        esc(u.district || "") + " — " + esc(u.message || label("reason", u.reason)) + "</li>";
    }).join("") + "</ol>" : "<p>" + esc(T.none_left_out) + "</p>");
    showPanel(h.join(""));
    renderRoutes();
    renderGantt();
    el("left-out") && el("left-out").addEventListener("click", function (ev) {
      var a = ev.target.closest("[data-order]"); if (!a) return;
      ev.preventDefault();
      var f = state.features.get(Number(a.dataset.order));
      if (f) map.setView([f.geometry.coordinates[1], f.geometry.coordinates[0]], 16);
    });
    if (el("btn-accept")) el("btn-accept").addEventListener("click", function () {
      this.disabled = true; el("btn-discard").disabled = true;
      api("POST", "/plans/" + plan.id + "/apply").then(function () {
        state.proposal = null;
        closePanel();
        toast(T.applied);
        return loadAll(false);
      }).catch(function (err) {
        el("plan-msg").innerHTML = '<div class="msg error" role="alert">' + esc(err.message) + "</div>";
        el("btn-discard").disabled = false;
      });
    });
    el("btn-discard").addEventListener("click", function () {
      api("POST", "/plans/" + plan.id + "/discard").then(function () {
        state.proposal = null;
        closePanel();
        toast(T.discarded);
        renderRoutes(); renderGantt();
      }).catch(function (err) { toast(err.message, true); });
    });
  }

  function startPlan() {
    var body = { time_limit_s: Number(el("plan-seconds").value) };
    if (state.filters.district) body.district = state.filters.district;
    state.proposal = null;
    runJob("/plan", body, T.plan_running).then(function (plan) { previewPlan(plan); }).catch(function () {});
  }

  function startUrgent(orderId, code) {
    state.proposal = null;
    runJob("/urgent", { order_id: orderId, time_limit_s: 5 }, el("btn-urgent").textContent + " · " + code)
      .then(function (plan) {
        var headline = fmt(T.urgent_summary_no, { code: code });
        plan.routes.forEach(function (r) {
          r.stops.forEach(function (s) {
            if (s.order_id === orderId) {
              var t = state.techs.get(r.technician_id);
              headline = fmt(T.urgent_summary_ok, { code: code, name: t ? t.name : r.technician_id,
                seq: s.sequence, time: hhmm(s.start_s) });
            }
          });
        });
        if (plan.displaced && plan.displaced.length && plan.can_accept) {
          headline += " " + fmt(T.urgent_displaces, { n: plan.displaced.length });
        }
        previewPlan(plan, headline);
      }).catch(function () {});
  }

  function pickUrgent() {
    var sel = state.selected && state.features.get(state.selected);
    if (sel && sel.properties.urgent) {
      startUrgent(sel.id, sel.properties.code);
      return;
    }
    var list = [];
    state.features.forEach(function (f) {
      var p = f.properties;
      if (p.urgent) list.push(f);
    });
    var rank = { breached: 0, at_risk: 1, fine: 2 };
    list.sort(function (a, b) { return rank[a.properties.risk] - rank[b.properties.risk] || a.id - b.id; });
    var h = ["<h2>" + esc(el("btn-urgent").textContent) + "</h2>"];
    h.push("<p>" + esc(list.length ? T.pick_urgent : T.no_urgent) + "</p>");
    h.push('<ol class="left-out" id="urgent-list">' + list.map(function (f) {
      var p = f.properties;
      return "<li>" + esc(p.code) + " · " + esc(p.district || "") + " · " + esc(label("product", p.product)) + ' <span class="badge risk-' +
        p.risk + '">' + esc(label("risk", p.risk)) + '</span> <button type="button" class="small danger" data-order="' + f.id +
        '" data-code="' + esc(p.code) + '">' + esc(T.insert) + "</button></li>";
    }).join("") + "</ol>");
    state.selected = null;
    showPanel(h.join(""));
    el("urgent-list").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-order]"); if (!b) return;
      startUrgent(Number(b.dataset.order), b.dataset.code);
    });
  }

  // Filters apply as they change; Enter in the form must not submit (and reload) the page.
  if (el("filters")) el("filters").addEventListener("submit", function (ev) { ev.preventDefault(); });
  if (el("btn-plan")) el("btn-plan").addEventListener("click", startPlan);
  if (el("btn-urgent")) el("btn-urgent").addEventListener("click", pickUrgent);

  // ------------------------------------------------------------------ start
  loadAll(true);
})();
