/* The filter bar: its options (from the loaded data and the server's labels) and
 * what each filter lets through. Filters work on the loaded data in the browser. */

import { S, app, el } from "./state.js";
import { label, labels } from "./i18n.js";

export const FILTERS = ["district", "kind", "source", "product", "priority", "state", "risk", "technician"];

function fillSelect(name, options) {
  const select = el("f-" + name), keep = select.value;
  const fixed = name === "technician" ? 2 : 1;  // "all" (and "unassigned") stay
  while (select.options.length > fixed) select.remove(fixed);
  options.forEach(([value, text]) => select.add(new Option(text, value)));
  select.value = keep;
  if (select.value !== keep) select.value = "";
}

function groupOptions(group) {
  return Object.entries(labels(group));
}

export function fillFilterOptions() {
  const districts = new Set(), products = new Set();
  app.features.forEach((f) => {
    if (f.properties.district) districts.add(f.properties.district);
    products.add(f.properties.product);
  });
  app.techs.forEach((t) => { if (t.district) districts.add(t.district); });
  fillSelect("district", Array.from(districts).sort().map((d) => [d, d]));
  fillSelect("kind", groupOptions("kind"));
  fillSelect("source", groupOptions("source"));
  fillSelect("product", groupOptions("product").filter(([code]) => products.has(code)));
  fillSelect("priority", groupOptions("priority"));
  fillSelect("state", S.open_states.map((s) => [s, label("state", s)]));
  fillSelect("risk", groupOptions("risk"));
  const techs = Array.from(app.techs.values()).sort((a, b) =>
    (a.district || "").localeCompare(b.district || "") || a.name.localeCompare(b.name));
  fillSelect("technician", techs.map((t) => [String(t.id), t.name + (t.district ? " · " + t.district : "")]));
}

export function readFilters() {
  FILTERS.forEach((name) => { app.filters[name] = el("f-" + name).value; });
}

export function orderVisible(p) {
  const f = app.filters;
  if (f.district && p.district !== f.district) return false;
  if (f.kind && p.kind !== f.kind) return false;
  if (f.source && p.source !== f.source) return false;
  if (f.product && p.product !== f.product) return false;
  if (f.priority && p.priority !== f.priority) return false;
  if (f.state && p.state !== f.state) return false;
  if (f.risk && p.risk !== f.risk) return false;
  if (f.technician === "none" && p.technician_id) return false;
  if (f.technician && f.technician !== "none" && String(p.technician_id) !== f.technician) return false;
  return true;
}

export function techVisible(t) {
  const f = app.filters;
  if (f.technician === "none") return false;
  if (f.technician && String(t.id) !== f.technician) return false;
  if (f.district && t.district !== f.district) return false;
  return true;
}

/** One technician chosen in the filter (not "all" or "unassigned"). */
export function oneTechnicianChosen() {
  return Boolean(app.filters.technician) && app.filters.technician !== "none";
}
