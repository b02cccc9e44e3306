/* The map: order markers clustered by place, technicians, route lines and stop numbers.
 * Leaflet and markercluster are classic scripts loaded before this module (global `L`).
 *
 * Routes: only the chosen ones (routes.js), each with its way home (last stop -> home,
 * dashed), along the roads when a road router is configured; a planned restock at the
 * depot is a square "depot" mark the straight route passes through in its place. District names sit in a
 * pane above the markers and let clicks through; a cluster is coloured by the worst
 * priority in it, ringed by the worst SLA state, and badged with that priority. */

import { S, app, el } from "./state.js";
import { T, esc, fmt, hhmm, label, when } from "./i18n.js";
import { oneTechnicianChosen, orderVisible, techVisible } from "./filters.js";
import { chosenRoutes, roadFor } from "./routes.js";

const handlers = { openOrder() {}, pickTechnician() {} };

/** What a click on an order marker or a technician does (set by main.js). */
export function onMapClick(actions) {
  Object.assign(handlers, actions);
}

const canvas = L.canvas({ padding: 0.3 });
export const map = L.map("map", {
  preferCanvas: true, zoomControl: true, attributionControl: !!S.tile_url,
  minZoom: 5, maxZoom: 19, zoomSnap: 0.25,
}).setView([31.82, 117.27], 12);
if (S.tile_url) {
  // Tiles are optional: when they fail, markers and routes still draw on the plain background.
  L.tileLayer(S.tile_url, { maxZoom: 19, attribution: S.tile_attribution }).addTo(map);
}
L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
window.consoleMap = map;

// District names above the markers (the marker pane is 600, tooltips 650), never catching a click.
map.createPane("districtLabels");
map.getPane("districtLabels").style.zIndex = 620;
map.getPane("districtLabels").style.pointerEvents = "none";
const districtLayer = L.layerGroup().addTo(map);
const routeLayer = L.layerGroup().addTo(map);
const stopLayer = L.layerGroup();
const techLayer = L.layerGroup().addTo(map);
const RISK_CLASSES = ["w-fine", "w-at_risk", "w-breached"];
const RISK_RANK = { fine: 0, at_risk: 1, breached: 2 };
const RISKS = ["fine", "at_risk", "breached"];
const PRIORITY_RANK = { P3: 0, P2: 1, P1: 2 };
const PRIORITIES = ["P3", "P2", "P1"];

/** The worst priority (P1 > P2 > P3) and SLA state (breached > at risk > ok) of a cluster's orders. */
export function worstOf(markers) {
  let risk = 0, priority = 0;
  for (let i = 0; i < markers.length && (risk < 2 || priority < 2); i++) {
    risk = Math.max(risk, RISK_RANK[markers[i].options.risk] || 0);
    priority = Math.max(priority, PRIORITY_RANK[markers[i].options.priority] || 0);
  }
  return { risk: RISKS[risk], priority: PRIORITIES[priority] };
}

const cluster = L.markerClusterGroup({
  chunkedLoading: false,
  animate: false,  // no fly-in: a filter change redraws at once (and other markers do not drift)
  showCoverageOnHover: false,
  spiderfyOnMaxZoom: true,
  // Closer in, smaller groups; at street level only orders at (nearly) the same address stay
  // grouped, and clicking such a group fans it out, so two orders at one site are both reachable.
  maxClusterRadius: (zoom) => (zoom >= 16 ? 3 : zoom >= 14 ? 16 : zoom >= 12 ? 32 : 45),
  iconCreateFunction(group) {
    const worst = worstOf(group.getAllChildMarkers());
    const n = group.getChildCount(), size = n < 10 ? 24 : n < 100 ? 30 : 36;
    return L.divIcon({
      html: '<div class="mc mp-' + worst.priority + " w-" + worst.risk + '" data-priority="' + worst.priority +
        '" data-risk="' + worst.risk + '" style="width:' + size + "px;height:" + size + 'px">' + n + "</div>" +
        '<span class="mc-badge mp-' + worst.priority + '">' + worst.priority + "</span>",
      className: "mc-icon", iconSize: [size, size],
    });
  },
}).addTo(map);
app.cluster = cluster;

function orderIcon(p) {
  const cls = "om p-" + p.priority + " r-" + p.risk + (p.blocked ? " blocked" : "");
  return L.divIcon({ className: "om-icon", iconSize: [13, 13],
    html: '<span class="' + cls + '">' + esc(p.priority.slice(1)) + "</span>" });
}

function makeMarker(feature) {
  const p = feature.properties, c = feature.geometry.coordinates;
  const marker = L.marker([c[1], c[0]], { icon: orderIcon(p), risk: p.risk, priority: p.priority, keyboard: false });
  marker.orderId = feature.id;
  marker.bindTooltip(() => {
    const q = app.features.get(marker.orderId).properties;
    return esc(q.code) + " · " + esc(label("product", q.product)) + "<br>" +
      esc(label("state", q.state)) + " · " + esc(label("risk", q.risk)) + "<br>" +
      esc(T.restore_due) + " " + esc(q.due);
  }, { direction: "top", offset: [0, -6] });
  marker.on("click", () => handlers.openOrder(marker.orderId));
  marker.on("add", () => {
    if (!marker._icon) return;
    marker._icon.dataset.order = marker.orderId;
    marker._icon.classList.toggle("sel", app.selected === marker.orderId);
  });
  return marker;
}

export function renderOrders(fit) {
  const shown = [];
  app.features.forEach((f, id) => {
    if (!orderVisible(f.properties)) return;
    let marker = app.markers.get(id);
    if (!marker) { marker = makeMarker(f); app.markers.set(id, marker); }
    shown.push(marker);
  });
  cluster.clearLayers();
  // Move the view before clustering, so clusters are built once, at the final zoom.
  if (fit) fitToVisible();
  cluster.addLayers(shown);
  app.shownCount = shown.length;
  const count = el("order-count");
  count.textContent = fmt(T.orders_shown, { shown: shown.length, total: app.features.size });
  count.dataset.shown = shown.length;
  count.dataset.total = app.features.size;
}

function techIcon(tech) {
  return L.divIcon({ className: "tm-icon", iconSize: [12, 12],
    html: '<div class="tm" style="background:' + tech.colour + '"></div>' });
}

function techTooltip(t) {
  return esc(t.name) + (t.district ? " · " + esc(t.district) : "") + "<br>" +
    (t.seen ? esc(fmt(T.position_seen, { time: when(t.seen) })) : esc(T.at_home));
}

/** Technician markers stay on the map between renders; only those whose visibility
 * or position changed are touched. */
export function renderTechs() {
  app.techs.forEach((t) => {
    let m = app.techMarkers.get(t.id);
    const show = techVisible(t);
    if (!m) {
      if (!show) return;
      m = L.marker(t.position, { icon: techIcon(t), zIndexOffset: 1000, keyboard: false });
      m.on("click", () => handlers.pickTechnician(t.id));
      m.bindTooltip(techTooltip(t));
      m.seen = t.seen;
      app.techMarkers.set(t.id, m);
    } else if (m.seen !== t.seen) {
      m.setLatLng(t.position);
      m.setTooltipContent(techTooltip(t));
      m.seen = t.seen;
    }
    if (show && !techLayer.hasLayer(m)) techLayer.addLayer(m);
    if (!show && techLayer.hasLayer(m)) techLayer.removeLayer(m);
  });
}

export function clearTechs() {
  techLayer.clearLayers();
  app.techMarkers.clear();
}

/** The routes on show: a proposal being reviewed, else the day's routes. */
export function activeRoutes() {
  return app.proposal ? app.proposal.routes : app.routes;
}

function hasPlace(stop) {
  return stop.lat !== null && stop.lat !== undefined;
}

let stopsDrawn = false;

function straight(points) {
  return points.map((p) => [p[0], p[1]]);
}

/** The route's places in the order driven: each depot stop before the order it comes before. */
function placesDriven(route, stops) {
  const depots = route.restocks || [];
  const before = (id) => depots.filter((d) => d.before_order_id === id).map((d) => [d.lat, d.lon]);
  const places = [];
  stops.forEach((s) => { places.push(...before(s.order_id), [s.lat, s.lon]); });
  return places.concat(before(null));
}

function drawDepotStops(route, tech) {
  (route.restocks || []).forEach((d) => {
    const icon = L.divIcon({ className: "depot-icon", iconSize: null, iconAnchor: [9, 9],
      html: '<div class="depot-mark" style="border-color:' + tech.colour + '">' + esc(T.depot_mark) + "</div>" });
    const mark = L.marker([d.lat, d.lon], { icon, keyboard: false });
    mark.bindTooltip(esc(tech.name) + " · " +
      esc(fmt(T.depot_stop, { depot: d.depot, from: hhmm(d.arrival_s), to: hhmm(d.end_s) })));
    mark.technicianId = route.technician_id;
    routeLayer.addLayer(mark);
  });
}

/** One technician's route (home -> stops, through the depot when restocking) and way home
 * (last place -> home, dashed). */
function drawRoute(route, tech, stops, dashed) {
  const road = roadFor(route, stops, renderRoutes);
  const places = placesDriven(route, stops), last = places[places.length - 1];
  const out = road ? road.route : straight([tech.home].concat(places));
  const back = road ? road.home : straight([last, tech.home]);
  const line = L.polyline(out, { renderer: canvas, color: tech.colour, weight: 3, opacity: 0.85,
    dashArray: dashed ? "6 6" : null, interactive: true });
  line.bindTooltip(esc(tech.name) + " · " + esc(fmt(T.stops_today, { n: route.stops.length })), { sticky: true });
  const home = L.polyline(back, { renderer: canvas, color: tech.colour, weight: 2, opacity: 0.7,
    dashArray: "2 6", interactive: true });
  home.bindTooltip(esc(tech.name) + " · " + esc(T.way_home), { sticky: true });
  [[line, "route", out], [home, "home", back]].forEach(([layer, leg, points]) => {
    layer.technicianId = route.technician_id;
    routeLayer.addLayer(layer);
    app.drawnRoutes.push({ technician_id: route.technician_id, leg, points: points.length, road: !!road });
  });
  drawDepotStops(route, tech);
}

/** Routes the dispatcher chose to see (routes.js), or a hint how to choose. */
export function renderRoutes() {
  routeLayer.clearLayers();
  stopLayer.clearLayers();
  app.drawnRoutes = [];
  const dashed = !!app.proposal, chosen = chosenRoutes();
  let hidden = 0;
  activeRoutes().forEach((route) => {
    const tech = app.techs.get(route.technician_id);
    const stops = route.stops.filter(hasPlace);
    if (!tech || !techVisible(tech) || !stops.length) return;
    if (chosen && !chosen.has(route.technician_id)) { hidden += 1; return; }
    drawRoute(route, tech, stops, dashed);
  });
  const hint = document.getElementById("route-hint");
  if (hint) hint.hidden = !(hidden && app.drawnRoutes.length === 0);
  stopsDrawn = false;
  syncStopLayer();
}

function drawStops() {
  const chosen = chosenRoutes();
  activeRoutes().forEach((route) => {
    const tech = app.techs.get(route.technician_id);
    if (!tech || !techVisible(tech) || (chosen && !chosen.has(route.technician_id))) return;
    route.stops.filter(hasPlace).forEach((s) => {
      const icon = L.divIcon({ className: "stop-icon", iconSize: null, iconAnchor: [-6, 16],
        html: '<div class="stop-no" style="background:' + tech.colour + '">' + s.sequence + "</div>" });
      stopLayer.addLayer(L.marker([s.lat, s.lon], { icon, interactive: false, keyboard: false }));
    });
  });
  stopsDrawn = true;
}

// Stop numbers only where they can be read (zoomed in, or one technician chosen);
// built only then, so a city-wide view does not pay for thousands of labels.
function syncStopLayer() {
  const want = map.getZoom() >= 14 || oneTechnicianChosen();
  if (want && !stopsDrawn) drawStops();
  if (want && !map.hasLayer(stopLayer)) stopLayer.addTo(map);
  if (!want && map.hasLayer(stopLayer)) map.removeLayer(stopLayer);
}
map.on("zoomend", syncStopLayer);

export function renderDistricts() {
  districtLayer.clearLayers();
  const sums = new Map();
  app.features.forEach((f) => {
    const d = f.properties.district;
    if (!d) return;
    const c = f.geometry.coordinates, s = sums.get(d) || [0, 0, 0];
    s[0] += c[1]; s[1] += c[0]; s[2] += 1;
    sums.set(d, s);
  });
  sums.forEach((s, d) => {
    districtLayer.addLayer(L.marker([s[0] / s[2], s[1] / s[2]], { interactive: false, keyboard: false,
      pane: "districtLabels",
      icon: L.divIcon({ className: "district-label", iconSize: null, html: esc(d) }) }));
  });
}

export function fitToVisible() {
  map.invalidateSize(false);
  const bounds = L.latLngBounds([]);
  app.features.forEach((f) => {
    if (orderVisible(f.properties)) bounds.extend([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
  });
  app.techs.forEach((t) => { if (techVisible(t)) bounds.extend(t.position); });
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.05), { maxZoom: 15, animate: false });
}

/** Zoom onto one order (from a list in the panel). */
export function focusOrder(id) {
  const f = app.features.get(id);
  if (f) map.setView([f.geometry.coordinates[1], f.geometry.coordinates[0]], 16);
}

export function markSelected(id) {
  document.querySelectorAll(".om-icon.sel").forEach((icon) => icon.classList.remove("sel"));
  const marker = id && app.markers.get(id);
  if (marker && marker._icon) marker._icon.classList.add("sel");
  // With nothing chosen, the open order's technician's route is the one drawn.
  if (!app.routeMode && !oneTechnicianChosen() && !app.filters.district) renderRoutes();
}
