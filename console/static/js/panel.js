/* One order in the side panel: details, standards findings, SLA clocks, photos, comments
 * with the customer (and a form to add one), the audit trail, and what the dispatcher may do with it. Which actions are offered comes from the
 * server's flags (can_assign, can_unassign, can_cancel, can_insert_urgently, in_route). */

import { S, app, el } from "./state.js";
import { T, esc, fmt, label, timeLeft, when } from "./i18n.js";
import { act, feed, staffPost } from "./api.js";
import { markSelected, renderOrders } from "./map.js";
import { dropFeature, loadRoutes, putFeature } from "./board.js";
import { startUrgent } from "./plan.js";
import { dl, errorHtml, showPanel, toast } from "./ui.js";
import { showOrderExplanation } from "./explain.js";

export function openOrder(id) {
  app.selected = id;
  markSelected(id);
  if (app.job) return;  // the panel shows a running plan; the order opens when it is done
  showPanel("<p>" + esc(T.loading) + "</p>");
  refreshPanel();
}

export function refreshPanel(message, isError) {
  const id = app.selected;
  if (!id) return;
  feed("/orders/" + id).then((o) => {
    if (app.selected !== id || app.job) return;
    showPanel(orderHtml(o, message, isError));
    bindOrderActions(o);
    showOrderExplanation(id);  // while a proposal is reviewed: how it treats this order
  }).catch((err) => showPanel(errorHtml(err.message)));
}

function detailsHtml(o) {
  const appointment = o.appointment_start ? when(o.appointment_start) + "–" + when(o.appointment_end).slice(11) : "";
  const customer = (o.customer_name || "") + (o.enterprise_tier ? " · " + label("tier", o.enterprise_tier) : "") +
    (o.contact_name ? " · " + o.contact_name : "") + (o.customer_phone ? " · " + o.customer_phone : "");
  return "<h3>" + esc(T.details) + "</h3>" + dl([
    [T.state, o.state_label + (o.blocked ? " · " + T.blocked : "")],
    [T.kind, label("kind", o.kind)], [T.product, label("product", o.product)],
    [T.source, o.source_label || label("source", o.source)],
    [T.priority, label("priority", o.priority)],
    [T.customer, customer],
    [T.address, o.address], [T.district, o.district],
    [T.appointment, appointment],
    [T.fault_since, o.fault_since ? when(o.fault_since) : ""],
    [T.site_contact, [o.site_contact_name, o.site_contact_phone].filter(Boolean).join(" ")],
    // A two-technician job: the lead, then the second.
    [T.technician, [o.technician_name, o.second_technician_name].filter(Boolean).join(" + ")],
    [T.eta, etaText(o.eta)],
    [T.planned, o.planned_start ? when(o.planned_start) : ""],
    [T.skills, (o.required_skills || []).map((s) => label("skill", s)).join(", ")],
    [T.duration, fmt(T.minutes, { n: o.duration_min })],
    [T.owner, o.owner_name], [T.description, o.description],
  ]);
}

/** The live ETA while en route, with the time of the position it comes from (or why there is none). */
function etaText(eta) {
  if (!eta) return "";
  if (eta.eta) return when(eta.eta).slice(11) + " · " + fmt(T.eta_from, { time: when(eta.position_at).slice(11) });
  return eta.note_text || "";
}

/** A link that opens another order in this panel (bound in bindOrderActions). */
function orderLink(id, code) {
  return '<a href="#" class="open-order" data-order="' + Number(id) + '">' + esc(code) + "</a>";
}

/** A repeat repair names the order it repeats; an order lists the repeat repairs opened from it. */
function repeatsHtml(o) {
  const h = [];
  if (o.parent_id) {
    h.push('<p class="parent-order">' + esc(T.parent_order) + ": " + orderLink(o.parent_id, o.parent_code || o.parent_id) +
      "</p>");
  }
  const repeats = o.repeat_orders || [];
  if (repeats.length) {
    h.push('<h3>' + esc(T.repeat_repairs) + ' <span class="badge repeat">' + repeats.length + '</span></h3><ul id="repeat-orders">' +
      repeats.map((r) => "<li>" + orderLink(r.id, r.code) + " · " + esc(label("priority", r.priority)) + " · " +
        esc(label("state", r.state)) + " · " + esc(when(r.created_at)) + "</li>").join("") + "</ul>");
  }
  return h.join("");
}

function findingsHtml(o) {
  const findings = (o.findings || []).concat(o.closeout_findings || []);
  return "<h3>" + esc(T.findings) + "</h3>" + (findings.length ? "<ul>" + findings.map((f) =>
    '<li class="finding ' + esc(f.severity) + '">' + esc(f.rule_id) + ": " + esc(f.message) + "</li>").join("") +
    "</ul>" : "<p>" + esc(T.no_findings) + "</p>");
}

function slaHtml(o) {
  const sla = o.sla || {}, restore = sla.restore_deadline || o.restore_deadline;
  return "<h3>" + esc(T.sla) + "</h3>" + dl([
    [T.response_due, when(o.response_deadline) + " · " + (o.responded_at ? T.responded : timeLeft(o.response_deadline))],
    [T.restore_due, when(restore) + " · " + timeLeft(restore) + (sla.paused ? " · " + T.paused : "")],
  ]);
}

function photosHtml(o) {
  const photos = o.photos || [];
  return "<h3>" + esc(T.photos) + "</h3>" + (photos.length ? "<ul>" + photos.map((p) =>
    '<li><a href="' + esc(p.url) + '" target="_blank" rel="noopener">' + esc(p.item_id) + "</a> · " +
    esc(when(p.taken_at)) + " · " + p.width + "×" + p.height + "</li>").join("") + "</ul>" :
    "<p>" + esc(T.no_photos) + "</p>");
}

function commentsHtml(o) {
  const items = o.comments || [];
  return '<h3>' + esc(T.comments) + '</h3><div id="comments">' + (items.length ? '<ol class="comments">' +
    items.map((c) => "<li>" + esc(when(c.created_at)) + " · " + esc(c.author_name || "") +
      (c.author_role_label ? " (" + esc(c.author_role_label) + ")" : "") + '<div class="comment-body">' +
      esc(c.body) + "</div></li>").join("") + "</ol>" : "<p>" + esc(T.no_comments) + "</p>") +
    '</div><div class="actions"><textarea id="comment-body" maxlength="2000" rows="2" placeholder="' +
    esc(T.comment_placeholder) + '"></textarea><button type="button" id="btn-comment">' + esc(T.comment_send) +
    "</button></div>";
}

function auditHtml(o) {
  const events = o.audit || [];
  return "<details><summary><b>" + esc(T.audit) + "</b> (" + events.length + ')</summary><ol class="audit">' +
    events.map((e) => {
      const what = e.action.indexOf("state:") === 0
        ? label("state", e.from) + " → " + label("state", e.action.slice(6)) : label("action", e.action);
      return "<li>" + esc(when(e.at)) + " · " + esc(e.actor) + (e.role ? " (" + esc(label("role", e.role)) + ")" : "") +
        " · " + esc(what) + (e.reason ? " · " + esc(e.reason) : "") + "</li>";
    }).join("") + "</ol></details>";
}

function actionsHtml(o) {
  const h = ["<h3>" + esc(T.technician) + "</h3>"];
  if (o.can_assign) {
    // The list arrives separately (each technician's fit is computed on the server).
    h.push('<div class="actions"><select id="assign-tech" data-order="' + o.id + '"><option value="">' +
      esc(T.loading) + '</option></select><button type="button" class="primary" id="btn-assign">' +
      esc(o.in_route ? T.move : T.assign) + "</button></div>");
  }
  const buttons = [];
  if (o.can_unassign) buttons.push('<button type="button" id="btn-unassign">' + esc(T.unassign) + "</button>");
  if (o.can_insert_urgently) {
    buttons.push('<button type="button" class="danger" id="btn-insert-this">' + esc(el("btn-urgent").textContent) +
      "</button>");
  }
  if (buttons.length) h.push('<div class="actions">' + buttons.join("") + "</div>");
  if (o.can_cancel) {
    h.push('<div class="actions"><input id="cancel-reason" maxlength="500" placeholder="' + esc(T.cancel_reason) +
      '"><button type="button" id="btn-cancel">' + esc(T.cancel_order) + "</button></div>");
  }
  return h.join("");
}

function orderHtml(o, message, isError) {
  const h = ["<h2>" + esc(o.code) + ' <span class="badge prio-' + esc(o.priority) + '">' + esc(o.priority) +
    '</span> <span class="badge risk-' + esc(o.risk) + '">' + esc(label("risk", o.risk)) + "</span>" +
    (o.is_repeat_fault ? ' <span class="badge repeat" id="repeat-badge">' + esc(T.repeat_fault) + "</span>" : "") +
    "</h2>"];
  if (message) h.push('<div class="msg ' + (isError ? "error" : "ok") + '" role="alert">' + esc(message) + "</div>");
  h.push('<div id="action-msg"></div>', detailsHtml(o), repeatsHtml(o));
  if (S.can_act) h.push(actionsHtml(o));
  h.push(findingsHtml(o), slaHtml(o), photosHtml(o), commentsHtml(o), auditHtml(o));
  return h.join("");
}

/** A refusal in the panel (the server's words name what is wrong); a stale order is reloaded. */
function actionError(err) {
  const box = el("action-msg");
  if (box) box.innerHTML = errorHtml(T.refused + ": " + err.message);
  if (err.data && err.data.type && /stale-version$/.test(err.data.type)) refreshPanel(err.message, true);
}

function afterAction(result, message) {
  if (result.feature) putFeature(result.feature); else dropFeature(result.order_id);
  renderOrders();
  return loadRoutes().then(() => { refreshPanel(message, false); toast(message); });
}

function candidateOption(c) {
  const parts = [c.name, c.district || "", fmt(T.km, { km: c.distance_km }), fmt(T.stops_today, { n: c.stops })];
  if (c.fits) {
    parts.push(fmt(T.fit_at, { time: c.start, km: c.extra_km, free: c.free_min }));
    if (c.delays) parts.push(fmt(T.delays_others, { n: c.delays }));
  } else if (c.why_not) {
    parts.push(c.why_not);
  }
  return '<option value="' + c.id + '"' + (c.offered ? "" : " disabled") + ">" + esc(parts.join(" · ")) + "</option>";
}

function loadCandidates(o) {
  const select = el("assign-tech");
  if (!select) return;
  feed("/orders/" + o.id + "/candidates").then((r) => {
    if (el("assign-tech") !== select) return;  // the panel moved on
    const current = o.in_route ? o.technician_id : null;
    select.innerHTML = '<option value="">' + esc(T.choose_technician) + "</option>" +
      r.candidates.filter((c) => c.id !== current).map(candidateOption).join("");
  }).catch(actionError);
}

/** Wire a button to an action: disabled while it runs, the refusal shown when refused. */
function onAction(id, run) {
  const button = el(id);
  if (!button) return;
  button.addEventListener("click", () => {
    const started = run();
    if (!started) return;
    button.disabled = true;
    started.catch((err) => { button.disabled = false; actionError(err); });
  });
}

function bindOrderActions(o) {
  loadCandidates(o);
  document.querySelectorAll("#panel-body a.open-order").forEach((link) => link.addEventListener("click", (ev) => {
    ev.preventDefault();
    openOrder(Number(link.dataset.order));
  }));
  onAction("btn-assign", () => {
    const techId = el("assign-tech").value;
    if (!techId) { el("assign-tech").focus(); return null; }
    return act("/orders/" + o.id + "/assign", { technician_id: Number(techId), version: o.version }).then((r) =>
      afterAction(r, fmt(T.assigned_ok, { code: r.code, name: r.technician_name, seq: r.sequence, time: r.planned })));
  });
  onAction("btn-unassign", () => act("/orders/" + o.id + "/unassign", { version: o.version })
    .then((r) => afterAction(r, fmt(T.unassigned_ok, { code: r.code }))));
  onAction("btn-cancel", () => {
    const reason = el("cancel-reason").value.trim();
    if (reason.length < 2) { actionError(new Error(T.reason_required)); el("cancel-reason").focus(); return null; }
    return act("/orders/" + o.id + "/cancel", { version: o.version, reason })
      .then((r) => afterAction(r, fmt(T.cancelled_ok, { code: r.code })));
  });
  onAction("btn-comment", () => {
    const body = el("comment-body").value.trim();
    if (!body) { actionError(new Error(T.comment_empty)); el("comment-body").focus(); return null; }
    return staffPost(o.comments_url, { body }).then(() => { refreshPanel(T.comment_sent, false); });
  });
  const insert = el("btn-insert-this");
  if (insert) insert.addEventListener("click", () => startUrgent(o.id, o.code));
}
