/* Which routes the map draws, and their way along the roads.
 *
 * Forty straight lines over a city make one tangle: by default only the routes of the
 * technician or district chosen in the filters are drawn (else the route of the open
 * order's technician); "all routes" on demand (#f-routes). An urgent insertion's proposal
 * changes a few routes only: those are all drawn.
 *
 * With a road router configured (S.road_routes), each drawn route is fetched once along
 * the roads from the server (/console/api/roads, which asks the router and caches) and
 * redrawn when it arrives; until then, and when the router fails, straight lines. */

import { S, app } from "./state.js";
import { feed } from "./api.js";
import { oneTechnicianChosen } from "./filters.js";

const roads = new Map();      // "tech:order,order" -> geometry, or "pending" / "straight"
const MAX_ROAD_FETCHES = 40;  // a city-wide "all routes" view draws the rest straight

/** The technician ids whose routes are drawn; null: every visible technician's. */
export function chosenRoutes() {
  if (app.routeMode === "all") return null;
  if (app.proposal && app.proposal.kind === "urgent") return null;
  if (oneTechnicianChosen()) return new Set([Number(app.filters.technician)]);
  if (app.filters.district) return null;  // the district filter already narrows the technicians
  const open = app.selected && app.features.get(app.selected);
  if (open && open.properties.technician_id) return new Set([open.properties.technician_id]);
  return new Set();
}

function roadKey(route, stops) {
  return route.technician_id + ":" + stops.map((s) => s.order_id).join(",");
}

/** The route's way along the roads when known; starts fetching it (then `redraw`) when not. */
export function roadFor(route, stops, redraw) {
  if (!S.road_routes || !stops.length) return null;
  const key = roadKey(route, stops), known = roads.get(key);
  if (known === "pending" || known === "straight") return null;
  if (known) return known;
  let pending = 0;
  roads.forEach((v) => { if (v === "pending") pending += 1; });
  if (pending >= MAX_ROAD_FETCHES) return null;
  roads.set(key, "pending");
  const orders = stops.map((s) => s.order_id).join(",");
  feed("/roads?technician_id=" + route.technician_id + "&orders=" + orders).then((answer) => {
    roads.set(key, answer.source === "road" ? answer : "straight");
    if (answer.source === "road") redraw();
  }).catch(() => roads.set(key, "straight"));
  return null;
}
