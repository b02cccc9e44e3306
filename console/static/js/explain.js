/* A plan's figures and its explanations in the review panel and the order panel: why an
 * order went to this technician at this time and what it costs, or why it was left out.
 * The sentences come from the staff API in the page's language. */

import { S, app, el } from "./state.js";
import { T, esc, fmt, label } from "./i18n.js";
import { staffGet } from "./api.js";

function explainUrl(planId, orderId) {
  return S.urls.explain_visit.replace("{id}", encodeURIComponent(planId))
    .replace("{order}", encodeURIComponent(orderId));
}

/** The plan's figures as a small table (travel, utilisation, deadlines, left out by reason). */
export function kpiHtml(k) {
  if (!k) return "";
  const reasons = Object.entries(k.unassigned_by_reason || {}).map(([code, n]) =>
    esc(label("reason", code)) + " ×" + n).join("<br>");
  const rows = [
    [T.kpi_travel, fmt(T.kpi_travel_value, { km: k.travel_km, min: Math.round(k.travel_min) })],
    [T.kpi_utilisation, k.utilisation_pct + "%"],
    [T.kpi_at_risk, String(k.deadlines_at_risk)],
    [T.kpi_breaches, String(k.breaches)],
  ];
  return "<h3>" + esc(T.kpis) + '</h3><dl id="plan-kpis">' + rows.map(([name, value], i) =>
    "<dt>" + esc(name) + '</dt><dd data-kpi="' + i + '">' + esc(value) + "</dd>").join("") +
    "<dt>" + esc(T.kpi_unassigned) + '</dt><dd id="kpi-unassigned">' + k.unassigned +
    (reasons ? "<br><small>" + reasons + "</small>" : "") + "</dd></dl>";
}

function listHtml(title, lines) {
  if (!lines || !lines.length) return "";
  return "<b>" + esc(title) + "</b><ul>" + lines.map((line) => "<li>" + esc(line) + "</li>").join("") + "</ul>";
}

/** One visit's explanation as HTML. */
export function explanationHtml(x) {
  if (!x.assigned) {
    return '<div class="why-box" data-order="' + x.order_id + '">' +
      listHtml(T.why_left_out, [x.reason_text].concat(x.blockers || [])) + "</div>";
  }
  return '<div class="why-box" data-order="' + x.order_id + '">' +
    listHtml(T.why_technician, x.why_technician) + listHtml(T.why_time, x.why_time) +
    listHtml(T.why_cost, [x.cost.text]) + "</div>";
}

/** "Why?" buttons in `container` (data-why = order id) open the explanation under them. */
export function bindWhyButtons(container, planId) {
  container.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-why]");
    if (!b) return;
    ev.preventDefault();
    b.disabled = true;
    staffGet(explainUrl(planId, b.dataset.why)).then((x) => {
      b.insertAdjacentHTML("afterend", explanationHtml(x));
      b.remove();
    }).catch((err) => { b.disabled = false; b.title = err.message; });
  });
}

export function whyButton(orderId) {
  return ' <button type="button" class="small why" data-why="' + Number(orderId) + '">' + esc(T.why) + "</button>";
}

/** In the order panel while a proposal is reviewed: how the proposal treats this order. */
export function showOrderExplanation(orderId) {
  const plan = app.proposal, body = el("panel-body");
  if (!plan || !body) return;
  staffGet(explainUrl(plan.id, orderId)).then((x) => {
    if (app.selected !== orderId || !app.proposal || el("order-why")) return;
    body.insertAdjacentHTML("beforeend", '<section id="order-why"><h3>' + esc(T.explanation) + "</h3>" +
      explanationHtml(x) + "</section>");
  }).catch(() => {});  // not in this plan: nothing to say
}
