/* Planning the day and inserting an urgent fault: both run as jobs the page polls, then
 * the proposal is reviewed on the map, the timeline and the panel, and accepted or discarded.
 *
 * Starting a plan, the job's progress and cancel, accepting and discarding go to the staff
 * API; the urgent insertion and the plan shaped for review come from the console. */

import { S, app, el } from "./state.js";
import { T, esc, fmt, hhmm, label, labels } from "./i18n.js";
import { act, feed, staffGet, staffPost, url } from "./api.js";
import { focusOrder } from "./map.js";
import { loadAll, renderPlan } from "./board.js";
import { closePanel, errorHtml, showPanel, toast } from "./ui.js";
import { bindWhyButtons, kpiHtml, whyButton } from "./explain.js";

const POLL_MS = 400;

function progressHtml(title) {
  return "<h2>" + esc(title) + '</h2><div class="progress" role="progressbar" aria-valuemin="0" ' +
    'aria-valuemax="100" id="plan-progress"><div id="plan-bar"></div></div>' +
    '<div class="progress-text" id="plan-progress-text">' + esc(label("phase", "queued")) + "</div>" +
    '<div class="actions"><button type="button" id="btn-job-cancel" disabled>' + esc(T.stop_search) +
    "</button></div>";
}

function showProgress(job) {
  const p = job.progress || {}, pct = Math.max(0, Math.min(100, p.percent || 0));
  const bar = el("plan-bar"), box = el("plan-progress");
  if (!bar) return;
  bar.style.width = pct + "%";
  box.setAttribute("aria-valuenow", pct);
  box.dataset.status = job.status;
  const parts = [label("phase", p.phase || "queued"), pct + "%"];
  if (p.best_cost !== null && p.best_cost !== undefined) {
    parts.push(fmt(T.best_cost, { cost: p.best_cost.toLocaleString() }));
  }
  el("plan-progress-text").textContent = parts.join(" · ");
}

function setPlanButtons(busy) {
  ["btn-plan", "btn-urgent"].forEach((id) => { if (el(id)) el(id).disabled = busy; });
}

/** Poll a job until it has ended; resolves with it when it left a plan behind. */
function followJob(job) {
  return new Promise((resolve, reject) => {
    function tick() {
      staffGet(url(S.urls.job, job.id)).then((j) => {
        showProgress(j);
        if (!j.finished_at) setTimeout(tick, POLL_MS);
        else if (j.result && j.result.plan_id) resolve(j);
        else if (j.error) reject(new Error(fmt(T.job_failed, { error: j.error })));
        else reject(new Error(label("job_status", j.status)));
      }).catch(reject);
    }
    tick();
  });
}

/** Start a job (`start` returns its first answer), show its progress, and resolve with
 * the plan it proposes, shaped for review. */
function runJob(start, title) {
  app.job = { pending: true };
  setPlanButtons(true);
  showPanel(progressHtml(title));
  return start().then((job) => {
    app.job = job;
    const stop = el("btn-job-cancel");
    stop.disabled = false;
    stop.addEventListener("click", () => {
      stop.disabled = true;
      staffPost(url(S.urls.job_cancel, job.id)).catch(() => {});
    });
    return followJob(job);
  }).then((j) => feed("/plans/" + j.result.plan_id)).then((plan) => {
    app.job = null;
    setPlanButtons(false);
    return plan;
  }, (err) => {
    app.job = null;
    setPlanButtons(false);
    showPanel(errorHtml(err.message));
    throw err;
  });
}

function orderListHtml(id, title, items, line) {
  if (!items.length) return "";
  return "<h3>" + esc(title) + " (" + items.length + ')</h3><ol class="left-out" id="' + id + '">' +
    items.map((item) => "<li>" + line(item) + "</li>").join("") + "</ol>";
}

function orderLink(item) {
  return '<a href="#" data-order="' + item.order_id + '">' + esc(item.code) + "</a>";
}

function summaryHtml(plan) {
  let planned = 0, techs = 0, late = 0;
  plan.routes.forEach((r) => {
    if (r.stops.length) { techs += 1; planned += r.stops.length; }
    r.stops.forEach((s) => { if (s.late_s > 0) late += 1; });
  });
  return '<p id="plan-summary">' + esc(fmt(T.plan_summary, { planned, techs, unassigned: plan.unassigned.length,
    km: ((plan.travel_m || 0) / 1000).toFixed(1), late })) + "</p>";
}

function reviewHtml(plan, headline) {
  const h = ["<h2>" + esc(T.plan_result) + "</h2>"];
  if (headline) h.push('<p id="plan-headline">' + esc(headline) + "</p>");
  h.push(summaryHtml(plan));
  h.push(kpiHtml(plan.kpis));
  const discard = '<button type="button" id="btn-discard">' + esc(T.discard) + "</button>";
  h.push(plan.can_accept
    ? '<div class="actions"><button type="button" class="primary" id="btn-accept">' + esc(T.accept) + "</button>" +
      discard + "</div>"
    : '<p class="msg error" id="plan-nothing">' + esc(T.nothing_to_accept) + '</p><div class="actions">' +
      discard + "</div>");
  h.push(orderListHtml("displaced", T.displaced, plan.displaced || [], (d) =>
    orderLink(d) + (d.deadline_today ? " — " + esc(T.deadline_today) : "")));
  h.push(orderListHtml("delayed", T.delayed, plan.delayed || [], (d) =>
    esc(d.code) + " " + esc(hhmm(d.before_s)) + " → " + esc(hhmm(d.after_s)) +
    (d.late_s > 0 ? " · " + esc(fmt(T.late_min, { n: Math.round(d.late_s / 60) })) : "")));
  h.push('<div id="plan-msg"></div>');
  h.push(plan.unassigned.length
    ? orderListHtml("left-out", T.unassigned_orders, plan.unassigned, (u) =>
      orderLink(u) + " " + (u.priority ? '<span class="badge prio-' + esc(u.priority) + '">' +
        esc(u.priority) + "</span> " : "") + esc(u.district || "") + " — " + esc(u.message) + whyButton(u.order_id))
    : "<h3>" + esc(T.unassigned_orders) + " (0)</h3><p>" + esc(T.none_left_out) + "</p>");
  return h.join("");
}

function endReview(message) {
  app.proposal = null;
  closePanel();
  toast(message);
}

function previewPlan(plan, headline) {
  app.proposal = plan;
  showPanel(reviewHtml(plan, headline));
  renderPlan();
  bindWhyButtons(el("panel-body"), plan.id);
  el("panel-body").querySelectorAll("ol.left-out").forEach((list) => list.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-order]");
    if (!a) return;
    ev.preventDefault();
    focusOrder(Number(a.dataset.order));
  }));
  const accept = el("btn-accept"), discard = el("btn-discard");
  if (accept) accept.addEventListener("click", () => {
    accept.disabled = true;
    discard.disabled = true;
    staffPost(url(S.urls.plan_apply, plan.id)).then(() => {
      endReview(T.applied);
      return loadAll(false);
    }).catch((err) => {
      el("plan-msg").innerHTML = errorHtml(err.message);
      discard.disabled = false;
    });
  });
  discard.addEventListener("click", () => {
    staffPost(url(S.urls.plan_discard, plan.id)).then(() => {
      endReview(T.discarded);
      renderPlan();
    }).catch((err) => toast(err.message, true));
  });
}

export function startPlan() {
  const body = { day: app.day, time_limit_s: Number(el("plan-seconds").value) };
  if (app.filters.district) body.district = app.filters.district;
  app.proposal = null;
  runJob(() => staffPost(S.urls.plan_start, body), T.plan_running)
    .then((plan) => previewPlan(plan)).catch(() => {});
}

function urgentHeadline(plan, orderId, code) {
  let headline = fmt(T.urgent_summary_no, { code });
  plan.routes.forEach((r) => r.stops.forEach((s) => {
    if (s.order_id !== orderId) return;
    const t = app.techs.get(r.technician_id);
    headline = fmt(T.urgent_summary_ok, { code, name: t ? t.name : "", seq: s.sequence, time: hhmm(s.start_s) });
  }));
  if (plan.displaced && plan.displaced.length && plan.can_accept) {
    headline += " " + fmt(T.urgent_displaces, { n: plan.displaced.length });
  }
  return headline;
}

export function startUrgent(orderId, code) {
  app.proposal = null;
  const title = el("btn-urgent").textContent + " · " + code;
  runJob(() => act("/urgent", { order_id: orderId, time_limit_s: 5 }), title)
    .then((plan) => previewPlan(plan, urgentHeadline(plan, orderId, code))).catch(() => {});
}

/** "Insert urgent fault": the order open on the map if it may be inserted, else a list to pick from. */
export function pickUrgent() {
  const open = app.selected && app.features.get(app.selected);
  if (open && open.properties.urgent) {
    startUrgent(open.id, open.properties.code);
    return;
  }
  const worstFirst = Object.keys(labels("risk"));
  const list = Array.from(app.features.values()).filter((f) => f.properties.urgent).sort((a, b) =>
    worstFirst.indexOf(a.properties.risk) - worstFirst.indexOf(b.properties.risk) || a.id - b.id);
  const h = ["<h2>" + esc(el("btn-urgent").textContent) + "</h2>"];
  h.push("<p>" + esc(list.length ? T.pick_urgent : T.no_urgent) + "</p>");
  h.push('<ol class="left-out" id="urgent-list">' + list.map((f) => {
    const p = f.properties;
    return "<li>" + esc(p.code) + " · " + esc(p.district || "") + " · " + esc(label("product", p.product)) +
      ' <span class="badge risk-' + esc(p.risk) + '">' + esc(label("risk", p.risk)) + "</span> " +
      '<button type="button" class="small danger" data-order="' + f.id + '" data-code="' + esc(p.code) + '">' +
      esc(T.insert) + "</button></li>";
  }).join("") + "</ol>");
  app.selected = null;
  showPanel(h.join(""));
  el("urgent-list").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-order]");
    if (b) startUrgent(Number(b.dataset.order), b.dataset.code);
  });
}
