/* The page's settings from the server and the state every module shares.
 *
 * `window.consoleApp` is this state object: the browser tests and bench/console.py
 * read its maps and counters (features, markers, cluster, routes, ready, firstPaintMs). */

export const S = JSON.parse(document.getElementById("console-settings").textContent);
export const CSRF = document.querySelector('meta[name="csrf-token"]').content;

export const app = {
  day: S.day,
  features: new Map(),      // order id -> GeoJSON feature
  markers: new Map(),       // order id -> Leaflet marker
  techs: new Map(),         // technician id -> technician item
  techMarkers: new Map(),
  routes: [],               // current routes of the day
  proposal: null,           // a plan being previewed (routes + unassigned)
  routeMode: "",            // "" the chosen technician's or district's routes, "all" (routes.js)
  drawnRoutes: [],          // the route lines on the map: {technician_id, leg: route|home, points, road}
  filters: {},
  selected: null,           // order id in the panel
  since: null,
  lastRenderMs: 0,
  ready: false,
  job: null,
};
window.consoleApp = app;

export function el(id) {
  return document.getElementById(id);
}
