/* Disruptions of the day under way: report one (a technician unavailable, a customer not
 * home, a visit running over, an emergency), then review its re-plan in the panel: what
 * moves, what is re-timed, what is left unplaced or added, each with its reason, and the
 * cost change; apply it whole (the staff API refuses it if anything changed since) or
 * discard it. A link with ?replan=<plan id> opens one for review.
 *
 * Wires itself on import (main.js imports it); everything goes to the staff API. */

import { S, app, el } from "./state.js";
import { T, esc, fmt } from "./i18n.js";
import { staffGet, staffPost, url } from "./api.js";
import { loadAll } from "./board.js";
import { closePanel, errorHtml, showPanel, toast } from "./ui.js";

const KINDS = ["technician-unavailable", "no-show", "overrun", "emergency"];

function formHtml() {
  const options = KINDS.map((k) => '<option value="' + k + '">' + esc(T["disruption_" + k]) + "</option>").join("");
  return "<h2>" + esc(T.disruption_report) + '</h2><form id="disruption-form" class="disruption-form">' +
    "<label>" + esc(T.disruption_kind) + ' <select id="d-kind">' + options + "</select></label>" +
    '<label><span id="d-target-label">' + esc(T.disruption_technician) + "</span> " +
    '<input type="number" id="d-target" min="1" required></label>' +
    '<label id="d-extra-row" hidden>' + esc(T.disruption_extra_min) +
    ' <input type="number" id="d-extra" min="1" max="480" value="60"></label>' +
    '<div class="actions"><button type="submit" class="primary" id="d-submit">' + esc(T.disruption_submit) +
    '</button></div></form><div id="d-msg"></div>';
}

function bodyFor(kind) {
  const target = Number(el("d-target").value);
  if (kind === "technician-unavailable") return { technician_id: target };
  if (kind === "overrun") return { order_id: target, extra_min: Number(el("d-extra").value) };
  return { order_id: target };
}

export function pickDisruption() {
  showPanel(formHtml());
  const kind = el("d-kind");
  kind.addEventListener("change", () => {
    el("d-target-label").textContent = kind.value === "technician-unavailable"
      ? T.disruption_technician : T.disruption_order;
    el("d-extra-row").hidden = kind.value !== "overrun";
  });
  el("disruption-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    el("d-submit").disabled = true;
    staffPost(S.urls.disruptions + "/" + kind.value, bodyFor(kind.value)).then(showReplan, (err) => {
      el("d-submit").disabled = false;
      el("d-msg").innerHTML = errorHtml(err.message);
    });
  });
}

function why(item) {
  return S.lang === "en" ? item.message_en : item.message_zh;
}

function techName(id) {
  const tech = app.techs.get(id);
  return tech ? tech.name : "#" + id;
}

function section(id, title, items, line) {
  if (!items || !items.length) return "";
  return "<h3>" + esc(title) + " (" + items.length + ')</h3><ol class="left-out" id="' + id + '">' +
    items.map((item) => '<li data-order="' + esc(item.order_id) + '">' + line(item) +
      ' <span class="reason">— ' + esc(why(item)) + "</span></li>").join("") + "</ol>";
}

function costHtml(cost) {
  const rows = [["travel_km", 1], ["late_s", 60], ["breaches", 1], ["unplaced", 1]].map(([key, per]) => {
    const name = key === "late_s" ? T.replan_late_min : T["replan_" + key];
    const show = (v) => String(Math.round((v / per) * 10) / 10);
    const change = cost.change[key] / per;
    return "<tr><th>" + esc(name) + "</th><td>" + show(cost.before[key]) + "</td><td>" + show(cost.after[key]) +
      "</td><td>" + (change > 0 ? "+" : "") + String(Math.round(change * 10) / 10) + "</td></tr>";
  }).join("");
  return "<h3>" + esc(T.replan_cost) + '</h3><table class="replan-cost" id="replan-cost"><tr><th></th><th>' +
    esc(T.replan_before) + "</th><th>" + esc(T.replan_after) + "</th><th>Δ</th></tr>" + rows + "</table>";
}

function closedLine(item) {
  const slot = item.revisit;
  const revisit = slot
    ? fmt(T.replan_revisit, { day: slot.day, time: slot.start, name: techName(slot.technician_id) })
    : T.replan_no_revisit;
  return esc(item.code) + " · " + esc(revisit);
}

function replanHtml(plan) {
  const d = plan.diff || {};
  const h = ["<h2>" + esc(T.replan_title) + "</h2>",
    '<p id="replan-kind">' + esc(T["disruption_" + plan.disruption.kind.replace(/_/g, "-")] || plan.disruption.kind) +
    "</p>"];
  h.push(section("replan-closed", T.replan_closed, d.closed, closedLine));
  h.push(section("replan-moved", T.replan_moved, d.moved, (m) => esc(m.code) + " " +
    esc(techName(m.from_technician_id)) + " → " + esc(techName(m.to_technician_id)) + " " +
    esc(m.old_start || "") + " → " + esc(m.new_start)));
  h.push(section("replan-retimed", T.replan_retimed, d.retimed, (r) => esc(r.code) + " " +
    esc(r.old_start) + " → " + esc(r.new_start)));
  h.push(section("replan-dropped", T.replan_dropped, d.dropped, (x) => esc(x.code || x.order_id)));
  h.push(section("replan-added", T.replan_added, d.added, (a) => esc(a.code) + " → " +
    esc(techName(a.to_technician_id)) + " " + esc(a.new_start)));
  if (d.cost) h.push(costHtml(d.cost));
  const places = (plan.result.routes || []).some((r) => r.stops.length);
  if (plan.status === "proposed") {
    h.push('<div class="actions">' + (places
      ? '<button type="button" class="primary" id="btn-replan-apply">' + esc(T.replan_apply) + "</button>"
      : '<p class="msg" id="replan-nothing">' + esc(T.replan_nothing) + "</p>") +
      '<button type="button" id="btn-replan-discard">' + esc(T.discard) + "</button></div>");
  }
  h.push('<div id="replan-msg"></div>');
  return h.join("");
}

function decide(plan, target, message) {
  ["btn-replan-apply", "btn-replan-discard"].forEach((id) => { if (el(id)) el(id).disabled = true; });
  staffPost(url(target, plan.id)).then(() => {
    closePanel();
    toast(message);
    loadAll(true);
  }, (err) => {
    el("replan-msg").innerHTML = errorHtml(err.message);
  });
}

export function showReplan(plan) {
  app.replan = plan;  // the re-plan under review (the browser tests read it)
  showPanel(replanHtml(plan));
  if (el("btn-replan-apply")) el("btn-replan-apply").addEventListener("click", () =>
    decide(plan, S.urls.plan_apply, T.applied));
  if (el("btn-replan-discard")) el("btn-replan-discard").addEventListener("click", () =>
    decide(plan, S.urls.plan_discard, T.discarded));
}

export function openReplan(planId) {
  return staffGet(url(S.urls.disruption, planId)).then(showReplan, (err) => showPanel(errorHtml(err.message)));
}

if (el("btn-disruption")) el("btn-disruption").addEventListener("click", pickDisruption);
/** Run `fn` once the day has loaded (the technicians' names come with it). */
function whenReady(fn) {
  if (app.ready) fn();
  else setTimeout(() => whenReady(fn), 100);
}
const linkedReplan = Number(new URLSearchParams(window.location.search).get("replan"));
if (linkedReplan > 0) whenReady(() => openReplan(linkedReplan));
