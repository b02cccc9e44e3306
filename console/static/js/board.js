/* The day's data: loading the feeds, one render pass over map and timeline, the filters
 * applied, and the light poll that keeps orders, positions and SLA risk current. */

import { S, app, el } from "./state.js";
import { T, fmt, when } from "./i18n.js";
import { feed, preloaded } from "./api.js";
import { FILTERS, fillFilterOptions, readFilters } from "./filters.js";
import { clearTechs, renderDistricts, renderOrders, renderRoutes, renderTechs } from "./map.js";
import { renderGantt } from "./timeline.js";
import { toast } from "./ui.js";

/** Draw everything; `scope` "orders": only order filters changed, technicians, routes
 * and timeline stay as they are. */
export function render(fit, scope) {
  const t0 = performance.now(), t = {};
  renderOrders(fit);
  t.orders = performance.now() - t0;
  if (scope !== "orders") {
    renderTechs(); t.techs = performance.now() - t0;
    renderRoutes(); t.routes = performance.now() - t0;
    renderGantt(); t.gantt = performance.now() - t0;
  }
  app.timings = t;
  app.lastRenderMs = performance.now() - t0;
  app.renders = (app.renders || 0) + 1;
}

/** The routes (the day's, or a proposal's) on the map and the timeline. */
export function renderPlan() {
  renderRoutes();
  renderGantt();
}

export function onFilterChange(name) {
  readFilters();
  const area = name === "district" || name === "technician";
  render(area, area ? "all" : "orders");
}

export function setFilter(name, value) {
  el("f-" + name).value = value;
  onFilterChange(name);
}

export function clearFilters() {
  FILTERS.forEach((name) => { el("f-" + name).value = ""; });
  onFilterChange("district");
}

function updated(iso) {
  el("live-status").textContent = fmt(T.updated, { time: when(iso).slice(11) });
}

export function loadAll(fit) {
  el("live-status").textContent = T.loading;
  return Promise.all([preloaded("orders"), preloaded("technicians"), preloaded("routes")])
    .then(([orders, technicians, routes]) => {
      app.features.clear();
      app.markers.clear();
      orders.features.forEach((f) => app.features.set(f.id, f));
      app.techs.clear();
      clearTechs();
      technicians.technicians.forEach((t) => app.techs.set(t.id, t));
      app.routes = routes.routes;
      app.since = orders.generated_at;
      fillFilterOptions();
      readFilters();
      renderDistricts();
      render(fit);
      if (!app.ready) {
        app.firstRenderMs = performance.now();
        requestAnimationFrame(() => setTimeout(() => { app.firstPaintMs = performance.now(); }, 0));
      }
      app.ready = true;
      updated(orders.generated_at);
    })
    .catch((err) => {
      el("live-status").textContent = T.load_failed;
      toast(err.message, true);
      if (!app.ready) setTimeout(() => loadAll(fit), 5000);
    });
}

export function loadRoutes() {
  return feed("/routes").then((data) => {
    app.routes = data.routes;
    renderPlan();
  });
}

export function putFeature(feature) {
  app.features.set(feature.id, feature);
  app.markers.delete(feature.id);
}

export function dropFeature(id) {
  app.features.delete(id);
  app.markers.delete(id);
}

/** Apply one answer of the live feed; true when the open order changed. */
function applyLive(data) {
  let changed = data.orders.length + data.gone.length > 0;
  data.orders.forEach(putFeature);
  data.gone.forEach(dropFeature);
  const risk = {};
  data.risk.breached.forEach((id) => { risk[id] = "breached"; });
  data.risk.at_risk.forEach((id) => { risk[id] = "at_risk"; });
  app.features.forEach((f, id) => {
    const level = risk[id] || "fine";
    if (f.properties.risk !== level) {
      f.properties.risk = level;
      app.markers.delete(id);
      changed = true;
    }
  });
  data.technicians.forEach((t) => app.techs.set(t.id, t));
  app.since = data.now;
  if (changed) {
    renderOrders();
    if (!app.proposal) loadRoutes();
  }
  if (data.technicians.length) renderTechs();
  updated(data.now);
  return Boolean(app.selected) && (data.gone.indexOf(app.selected) >= 0 ||
    data.orders.some((f) => f.id === app.selected));
}

/** Poll the live feed every few seconds while the page is visible; `onSelectedChanged`
 * runs when the order open in the panel changed under the dispatcher. */
export function startPolling(onSelectedChanged) {
  setInterval(() => {
    if (!app.ready || document.hidden) return;
    const path = "/live" + (app.since ? "?since=" + encodeURIComponent(app.since) : "");
    feed(path).then((data) => {
      if (applyLive(data)) onSelectedChanged();
    }).catch(() => { el("live-status").textContent = T.load_failed; });
  }, Math.max(3, S.refresh_s) * 1000);
}
