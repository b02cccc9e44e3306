/* The page's settings from the server and the state every module shares.
 *
 * `window.consoleApp` is this state object: the browser tests and bench/console.py
 * read its maps and counters (features, markers, cluster, routes, ready, firstPaintMs). */

export const S = JSON.parse(document.getElementById("console-settings").textContent);
export const CSRF = document.querySelector('meta[name="csrf-token"]').content;

/** The city's date and seconds since its midnight now, from the browser's clock, whatever
 * the browser's own time zone (a dispatcher's laptop set to UTC still sees the city's day). */
export function cityNow() {
  const city = new Date(Date.now() + S.utc_offset_min * 60000);
  return { day: city.toISOString().slice(0, 10), seconds: city.getUTCHours() * 3600 + city.getUTCMinutes() * 60 };
}

export const app = {
  day: S.day,
  cityNow,
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
