/* Dispatcher map console: native modules, no build step. Leaflet and markercluster are
 * served by the app (static/vendor) as classic scripts before this one. Data comes as
 * small JSON from /console/api (and /api/v1 for plans and jobs); filters work on the
 * loaded data in the browser.
 *
 *   state.js    settings and the shared state (window.consoleApp)
 *   i18n.js     labels and sentences from the server, numbers and times in words
 *   api.js      requests to the console feeds and the staff API
 *   filters.js  the filter bar
 *   map.js      markers, clusters, technicians, route lines
 *   timeline.js the Gantt under the map
 *   board.js    loading, one render pass, the live poll
 *   panel.js    one order in the side panel and its actions
 *   plan.js     planning jobs, urgent insertion, reviewing a proposal
 *   ui.js       the panel frame and the toast */

import { app, el } from "./state.js";
import { FILTERS } from "./filters.js";
import { onMapClick, renderRoutes } from "./map.js";
import { initTimeline } from "./timeline.js";
import { clearFilters, loadAll, onFilterChange, setFilter, startPolling } from "./board.js";
import { openOrder, refreshPanel } from "./panel.js";
import { pickUrgent, startPlan } from "./plan.js";
import { closePanel, typingInPanel } from "./ui.js";
import "./disruptions.js";

const clicks = { openOrder, pickTechnician: (id) => setFilter("technician", String(id)) };
onMapClick(clicks);
initTimeline(clicks);

FILTERS.forEach((name) => el("f-" + name).addEventListener("change", () => onFilterChange(name)));
el("f-reset").addEventListener("click", clearFilters);
el("f-routes").addEventListener("change", (ev) => { app.routeMode = ev.target.value; renderRoutes(); });
el("f-day").addEventListener("change", (ev) => {
  if (!ev.target.value) return;
  app.day = ev.target.value;
  app.proposal = null;
  loadAll(true);
// A link from elsewhere (the follow-up queue names a repeat repair) opens that order.
const linked = Number(new URLSearchParams(window.location.search).get("order"));
if (linked > 0) openOrder(linked);
});
// Filters apply as they change; Enter in the form must not submit (and reload) the page.
el("filters").addEventListener("submit", (ev) => ev.preventDefault());
el("panel-close").addEventListener("click", closePanel);
if (el("btn-plan")) el("btn-plan").addEventListener("click", startPlan);
if (el("btn-urgent")) el("btn-urgent").addEventListener("click", pickUrgent);

// The open order changed under the dispatcher: show it fresh, unless they are typing.
startPolling(() => { if (!app.job && !typingInPanel()) refreshPanel(); });
loadAll(true);
// A link from elsewhere (the follow-up queue names a repeat repair) opens that order.
const linked = Number(new URLSearchParams(window.location.search).get("order"));
if (linked > 0) openOrder(linked);
