/* The timeline (Gantt) under the map: one row per technician, travel, work and lunch.
 *
 * Only the rows in view are in the page (200 technicians x a dozen segments each would
 * cost a filter change several hundred milliseconds of layout); the rest are drawn on scroll. */

import { app, cityNow, el } from "./state.js";
import { T, esc, fmt, hhmm, label } from "./i18n.js";
import { techVisible } from "./filters.js";
import { activeRoutes } from "./map.js";

const ROW_H = 20;
let gantt = { techs: [], routes: {}, lo: 0, hi: 1, drawn: "" };

function pct(s) {
  const { lo, hi } = gantt;
  return ((Math.min(Math.max(s, lo), hi) - lo) / (hi - lo) * 100).toFixed(3);
}

function seg(cls, a, b, title, opts = {}) {
  if (b <= a) return "";
  const left = pct(a), width = (pct(b) - left).toFixed(3);
  return '<div class="seg ' + cls + '" style="' + (opts.bg ? "background:" + opts.bg + ";" : "") +
    "left:" + left + "%;width:" + width + '%" title="' + esc(title) + '"' +
    (opts.order ? ' data-order="' + opts.order + '"' : "") + ">" + esc(opts.text || "") + "</div>";
}

function span(group, a, b) {
  return label("segment", group) + " " + hhmm(a) + "–" + hhmm(b);
}

function rowLabel(t, r) {
  const source = r ? (r.source === "estimate" ? T.source_estimate : T.source_plan) : T.no_route;
  const title = t.name + " · " + T.shift + " " + hhmm(t.shift[0]) + "–" + hhmm(t.shift[1]) + " · " + source;
  return '<div class="g-label" title="' + esc(title) + '"><i style="background:' + t.colour + '"></i>' +
    esc(t.name) + " · " + (r ? r.stops.length : 0) + "</div>";
}

function routeSegments(t, r) {
  const html = [];
  let lastEnd = null;
  r.stops.forEach((s) => {
    const travelStart = s.arrival_s - (s.travel_s || 0);
    html.push(seg("travel", travelStart, s.arrival_s, span("travel", travelStart, s.arrival_s)));
    const cls = "work prio-" + s.priority + (s.late_s > 0 ? " late" : "") + (s.done ? " done" : "");
    const title = fmt(T.stop, { seq: s.sequence }) + " " + s.code + " " + hhmm(s.start_s) + "–" + hhmm(s.end_s);
    html.push(seg(cls, s.start_s, s.end_s, title, { bg: t.colour, order: s.order_id, text: s.code.slice(-6) }));
    lastEnd = s.end_s;
  });
  const lunch = r.lunch_start_s, lunchLen = r.lunch_duration_s || t.lunch_duration_s || 0;
  const hasLunch = lunch !== null && lunch !== undefined;
  if (hasLunch) html.push(seg("lunch", lunch, lunch + lunchLen, span("lunch", lunch, lunch + lunchLen)));
  if (lastEnd !== null && r.end_s > lastEnd) {
    // The drive home starts after lunch when lunch comes after the last visit.
    const backStart = hasLunch && lunch >= lastEnd && lunch < r.end_s ? lunch + lunchLen : lastEnd;
    html.push(seg("travel", backStart, r.end_s, span("travel", backStart, r.end_s)));
  }
  return html.join("");
}

function ganttRow(t, index) {
  const r = gantt.routes[t.id];
  const hl = app.filters.technician === String(t.id) ? " hl" : "";
  return '<div class="g-row' + hl + '" style="top:' + index * ROW_H + 'px" data-tech="' + t.id + '">' +
    rowLabel(t, r) + '<div class="g-track">' + seg("idle", t.shift[0], t.shift[1], span("idle", t.shift[0], t.shift[1])) +
    (r ? routeSegments(t, r) : "") + "</div></div>";
}

function drawGanttRows() {
  const body = el("gantt-body"), rows = el("g-rows");
  if (!rows) return;
  const first = Math.max(0, Math.floor(body.scrollTop / ROW_H) - 5);
  const last = Math.min(gantt.techs.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW_H) + 5);
  const key = first + ":" + last;
  if (gantt.drawn === key) return;
  gantt.drawn = key;
  const html = [];
  for (let i = first; i < last; i++) html.push(ganttRow(gantt.techs[i], i));
  rows.innerHTML = html.join("");
}


export function renderGantt() {
  const body = el("gantt-body");
  const routes = {};
  activeRoutes().forEach((r) => { routes[r.technician_id] = r; });
  const techs = Array.from(app.techs.values()).filter(techVisible).sort((a, b) =>
    (routes[a.id] ? 0 : 1) - (routes[b.id] ? 0 : 1) ||
    (a.district || "").localeCompare(b.district || "") || a.id - b.id);
  let lo = 24 * 3600, hi = 0;
  techs.forEach((t) => {
    lo = Math.min(lo, t.shift[0]);
    hi = Math.max(hi, t.shift[1], routes[t.id] ? routes[t.id].end_s || 0 : 0);
  });
  if (hi <= lo) { lo = 7 * 3600; hi = 19 * 3600; }
  lo = Math.floor(lo / 3600 - 0.5) * 3600;
  hi = Math.ceil(hi / 3600 + 0.25) * 3600;
  gantt = { techs, routes, lo, hi, drawn: "" };

  const now = cityNow();
  const html = ['<div class="g-row g-axis"><div class="g-label"></div><div class="g-track">'];
  for (let h = lo; h <= hi; h += 3600) html.push('<span class="g-tick" style="left:' + pct(h) + '%">' + hhmm(h) + "</span>");
  if (now.day === app.day && now.seconds > lo && now.seconds < hi) {
    html.push('<div class="g-now" style="left:' + pct(now.seconds) + '%"></div>');
  }
  html.push('</div></div><div class="g-rows" id="g-rows" style="height:' + techs.length * ROW_H + 'px"></div>');
  body.innerHTML = html.join("");
  const nowLine = body.querySelector(".g-now");
  if (nowLine) nowLine.style.height = body.clientHeight + "px";
  drawGanttRows();
  const title = el("gantt-title");
  title.innerHTML = app.proposal ? '<span class="proposal">' + esc(T.plan_result) + "</span>" : esc(title.dataset.title);
}

/** Scrolling draws the rows coming into view; clicks open an order or pick a technician. */
export function initTimeline({ openOrder, pickTechnician }) {
  const body = el("gantt-body"), title = el("gantt-title");
  title.dataset.title = title.textContent;
  let scrolling = false;
  body.addEventListener("scroll", () => {
    if (scrolling) return;
    scrolling = true;
    requestAnimationFrame(() => { scrolling = false; drawGanttRows(); });
  });
  body.addEventListener("click", (ev) => {
    const work = ev.target.closest("[data-order]");
    if (work) { openOrder(Number(work.dataset.order)); return; }
    const row = ev.target.closest(".g-label");
    if (row && row.parentNode.dataset.tech) pickTechnician(Number(row.parentNode.dataset.tech));
  });
}
