/* The hotline agent's intake page: find the caller, read their card, record a repeat call,
 * register a customer or a site, and take an order with the intake findings shown live.
 *
 * Every request goes to the staff JSON API with the session cookie and the page's CSRF
 * token. The server sends the choices, labels and sentences (in the page's language);
 * this module only places them. `window.intakeApp` exposes the state to the browser tests. */

const S = JSON.parse(document.getElementById("intake-settings").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const T = S.strings;
const PAGE_SIZE = 20;
const PREVIEW_DELAY_MS = 350;

const app = { customer: null, query: "", offset: 0, previewSeq: 0, previewTimer: null, lastPreview: null };
window.intakeApp = app;

function el(id) {
  return document.getElementById(id);
}

function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, key) =>
    values[key] === undefined || values[key] === null ? "" : String(values[key]));
}

function url(template, id) {
  return template.replace("{id}", encodeURIComponent(id));
}

function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 16) : "";
}

/** An element with text and attributes, never HTML from data. */
function make(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value === undefined || value === null || value === false) return;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  });
  children.flat().forEach((child) => {
    if (child !== null && child !== undefined) node.append(child);
  });
  return node;
}

function request(method, target, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["X-CSRFToken"] = CSRF;
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  return fetch(target, init).then((resp) =>
    resp.json().catch(() => ({})).then((data) => {
      if (!resp.ok) {
        const err = new Error(data.detail || data.title || resp.statusText);
        err.status = resp.status;
        err.data = data;
        throw err;
      }
      return data;
    }));
}

/** A refusal in words: its detail and each field's messages. */
function problemText(err) {
  const data = (err && err.data) || {};
  const parts = [data.detail || (err && err.message) || T.failed];
  Object.entries(data.errors || {}).forEach(([field, messages]) => {
    const text = Array.isArray(messages) ? messages.flat(3).filter((m) => typeof m === "string").join(" ")
      : typeof messages === "object" ? JSON.stringify(messages) : String(messages);
    parts.push(field + ": " + text);
  });
  return parts.join(" ");
}

function fillSelect(select, options, keepFirst) {
  if (!keepFirst) select.textContent = "";
  options.forEach((option) => select.append(make("option", { value: option.code, text: option.label })));
}

function value(id) {
  const node = el(id);
  return node ? node.value.trim() : "";
}

function numberOrNull(id) {
  const text = value(id);
  return text === "" ? null : Number(text);
}

// ---------------------------------------------------------------- search

function search(offset) {
  app.offset = offset;
  const status = el("search-status");
  status.textContent = T.searching;
  const target = S.urls.customers + "?" + new URLSearchParams({ q: app.query, limit: PAGE_SIZE, offset });
  request("GET", target).then((page) => {
    status.textContent = page.total ? fmt(T.results_total, { n: page.total }) : T.no_results;
    renderResults(page);
  }).catch((err) => { status.textContent = problemText(err); });
}

function renderResults(page) {
  const list = el("results");
  list.textContent = "";
  page.items.forEach((c) => {
    const open = make("button", { type: "button", className: "link", "data-customer": c.id, text: T.choose });
    open.addEventListener("click", () => openCard(c.id));
    const tier = c.tier_label ? " · " + c.tier_label : "";
    list.append(make("li", { className: "result", "data-customer": c.id },
      make("strong", { text: c.name }), " ", make("span", { className: "meta", text: c.kind_label + tier }),
      " ", make("span", { text: c.phone || "" }),
      make("div", { className: "meta", text: (c.addresses || []).join("；") }),
      c.open_orders ? make("div", { className: "warn", text: fmt(T.open_orders_n, { n: c.open_orders }) }) : null,
      open));
  });
  const pager = el("pager");
  pager.textContent = "";
  if (page.offset > 0) {
    const prev = make("button", { type: "button", text: T.previous });
    prev.addEventListener("click", () => search(Math.max(0, page.offset - page.limit)));
    pager.append(prev);
  }
  if (page.offset + page.items.length < page.total) {
    const next = make("button", { type: "button", text: T.next });
    next.addEventListener("click", () => search(page.offset + page.limit));
    pager.append(next);
  }
}

// ---------------------------------------------------------------- the card

function openCard(customerId) {
  return request("GET", url(S.urls.customer, customerId)).then((card) => {
    app.customer = card;
    renderCard(card);
    el("card").hidden = false;
    el("order-section").hidden = false;
    el("taken").hidden = true;
    schedulePreview();
  }).catch((err) => { el("search-status").textContent = problemText(err); });
}

function lineText(line) {
  const parts = [line.access_type.toUpperCase()];
  parts.push(line.circuit_no ? fmt(T.circuit, { no: line.circuit_no }) : fmt(T.line_id, { id: line.id }));
  if (line.product_label) parts.push(line.product_label);
  if (line.route_length_m !== null && line.route_length_m !== undefined) {
    parts.push(fmt(T.route_length, { m: Math.round(line.route_length_m) }));
  }
  if (line.switch_occupancy_pct !== null && line.switch_occupancy_pct !== undefined) {
    parts.push(fmt(T.occupancy, { model: line.switch_model || line.switch_id || "", pct: line.switch_occupancy_pct + "%" }));
  }
  return parts.join(" · ");
}

function renderCard(card) {
  el("card-name").textContent = card.name;
  const meta = [card.kind_label, card.tier_label, card.phone, card.contact_name, card.email].filter(Boolean);
  el("card-meta").textContent = meta.join(" · ");
  const sites = el("card-sites");
  sites.textContent = "";
  const circuit = el("o-circuit");
  const previous = circuit.value;
  circuit.textContent = "";
  card.sites.forEach((site) => {
    const lines = make("ul", {});
    site.lines.forEach((line) => lines.append(make("li", { "data-line": line.id, text: lineText(line) })));
    if (!site.lines.length) lines.append(make("li", { className: "meta", text: T.no_lines }));
    sites.append(make("li", { "data-site": site.id },
      make("strong", { text: site.address }), " ", make("span", { className: "meta", text: site.district || "" }), lines));
    if (!site.lines.length) circuit.append(make("option", { value: site.id + ":", text: site.address }));
    site.lines.forEach((line) => circuit.append(make("option", {
      value: site.id + ":" + line.id, text: site.address + " · " + lineText(line), "data-product": line.product || "",
    })));
  });
  if ([...circuit.options].some((o) => o.value === previous)) circuit.value = previous;
  syncProduct();
  renderOpenOrders(card);
}

function renderOpenOrders(card) {
  const list = el("card-orders");
  list.textContent = "";
  if (!card.open_orders.length) list.append(make("li", { className: "meta", text: T.no_open_orders }));
  card.open_orders.forEach((order) => {
    const attach = make("button", { type: "button", className: "attach", "data-order": order.id, text: T.attach });
    attach.addEventListener("click", () => attachCall(order));
    list.append(make("li", { "data-order": order.id, "data-code": order.code },
      make("strong", { text: order.code }), " ",
      [order.kind_label, order.product_label, order.priority_label, order.state_label].join(" · "),
      make("div", { className: "meta", text: when(order.received_at) + " " + (order.description || "") }),
      order.repeat_contacts ? make("div", { className: "warn", text: fmt(T.repeat_calls, { n: order.repeat_contacts }) }) : null,
      attach));
  });
}

function attachCall(order) {
  const status = el("contact-status");
  const caller = value("caller-name");
  if (!caller) {
    status.textContent = T.caller_required;
    el("caller-name").focus();
    return;
  }
  const body = { caller_name: caller, caller_phone: value("caller-phone") || null, note: value("caller-note") || null };
  request("POST", url(S.urls.contacts, order.id), body).then((answer) => {
    status.textContent = fmt(T.attached, { code: answer.code });
    el("caller-note").value = "";
    return openCard(app.customer.id);
  }).catch((err) => { status.textContent = problemText(err); });
}

// ---------------------------------------------------------------- new customer, new site

function siteBody(prefix) {
  const body = { address: value(prefix + "-address") };
  if (value(prefix + "-district")) body.district = value(prefix + "-district");
  const lat = numberOrNull(prefix + "-lat"), lon = numberOrNull(prefix + "-lon");
  if (lat !== null || lon !== null) Object.assign(body, { lat, lon });
  const access = value(prefix + "-access");
  if (access) {
    body.line = { access_type: access, circuit_no: value(prefix + "-circuit") || null,
      product: value(prefix + "-line-product") || null, route_length_m: numberOrNull(prefix + "-route") };
  }
  return body;
}

function registerCustomer(event) {
  event.preventDefault();
  const kind = value("c-kind");
  const body = {
    name: value("c-name"), kind, enterprise_tier: kind === "enterprise" ? value("c-tier") : null,
    preferred_channel: value("c-channel"), language: value("c-language"), site: siteBody("c"),
  };
  if (value("c-phone")) body.phone = value("c-phone");
  if (value("c-contact")) body.contact_name = value("c-contact");
  if (value("c-email")) body.email = value("c-email");
  el("customer-error").textContent = "";
  request("POST", S.urls.customers, body).then((card) => {
    el("customer-form").hidden = true;
    el("customer-form").reset();
    el("search-status").textContent = T.customer_saved;
    return openCard(card.id);
  }).catch((err) => { el("customer-error").textContent = problemText(err); });
}

function addSite(event) {
  event.preventDefault();
  if (!app.customer) return;
  el("site-error").textContent = "";
  request("POST", url(S.urls.sites, app.customer.id), siteBody("s")).then(() => {
    el("site-form").hidden = true;
    el("site-form").reset();
    el("contact-status").textContent = T.site_saved;
    return openCard(app.customer.id);
  }).catch((err) => { el("site-error").textContent = problemText(err); });
}

// ---------------------------------------------------------------- the order and its live checks

function syncProduct() {
  const option = el("o-circuit").selectedOptions[0];
  const product = option && option.dataset.product;
  if (product) el("o-product").value = product;
}

function orderBody() {
  if (!app.customer) return null;
  const [siteId, lineId] = (value("o-circuit") || ":").split(":");
  const body = {
    kind: value("o-kind"), product: value("o-product"), priority: value("o-priority"), source: value("o-source"),
    customer_id: app.customer.id, site_id: Number(siteId), line_id: lineId ? Number(lineId) : null,
  };
  if (value("o-description")) body.description = value("o-description");
  if (value("o-start") || value("o-end")) {
    body.appointment_start = value("o-start") || null;
    body.appointment_end = value("o-end") || null;
  }
  if (S.takes_received_at && value("o-received")) body.received_at = value("o-received");
  return body;
}

function schedulePreview() {
  clearTimeout(app.previewTimer);
  app.previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS);
}

function runPreview() {
  const body = orderBody();
  if (!body || !body.site_id) return;
  const seq = ++app.previewSeq;
  el("preview-body").setAttribute("aria-busy", "true");
  request("POST", S.urls.preview, body).then((preview) => {
    if (seq !== app.previewSeq) return;
    app.lastPreview = preview;
    renderPreview(preview);
  }).catch((err) => {
    if (seq !== app.previewSeq) return;
    app.lastPreview = null;
    el("preview-body").textContent = "";
    el("preview-body").append(make("p", { className: "error", text: problemText(err) }));
  }).finally(() => {
    if (seq === app.previewSeq) el("preview-body").removeAttribute("aria-busy");
  });
}

function renderPreview(preview) {
  const box = el("preview-body");
  box.textContent = "";
  box.append(make("p", { className: "state", text: fmt(T.would_state, { state: preview.state_label }) }));
  if (preview.blocked) box.append(make("p", { className: "finding block", text: T.blocked }));
  const findings = make("ul", { className: "findings" });
  preview.findings.forEach((f) => findings.append(make("li", {
    className: "finding " + f.severity, "data-rule": f.rule_id, text: f.rule_id + ": " + f.message,
  })));
  if (!preview.findings.length) findings.append(make("li", { className: "finding ok", text: T.no_findings }));
  box.append(findings);
  const times = make("dl", { className: "deadlines" });
  const rows = [[T.response_by, when(preview.response_deadline)], [T.restore_by, when(preview.restore_deadline)]];
  if (preview.handling_deadline) rows.push([T.handling_by, when(preview.handling_deadline)]);
  if (preview.deadline_source) rows.push([T.deadline_source, preview.deadline_source]);
  rows.forEach(([term, text]) => times.append(make("dt", { text: term }), make("dd", { text })));
  box.append(times);
  showDuplicate(preview.open_repairs && preview.open_repairs[0]);
}

function showDuplicate(openOrder) {
  el("duplicate-box").hidden = !openOrder;
  el("duplicate-text").textContent = openOrder ? fmt(T.duplicate, { code: openOrder.code }) + " " : "";
  if (!openOrder) el("o-duplicate-ok").checked = false;
}

function takeOrder(event) {
  event.preventDefault();
  const body = orderBody();
  if (!body) {
    el("order-error").textContent = T.pick_customer;
    return;
  }
  if (!el("duplicate-box").hidden && el("o-duplicate-ok").checked) body.duplicate_ok = true;
  el("order-error").textContent = "";
  el("btn-take").disabled = true;
  request("POST", S.urls.orders, body).then((order) => {
    const taken = el("taken");
    taken.textContent = "";
    taken.append(make("p", { className: "ok", text: fmt(T.taken, { code: order.code }) }),
      make("strong", { id: "taken-code", text: order.code }), " ",
      make("a", { href: S.urls.order_list + "#order-" + order.code, id: "taken-link", text: T.open_in_list }));
    taken.hidden = false;
    document.dispatchEvent(new CustomEvent("order-taken", { detail: order })); // booking_slots.js offers slots
    el("o-description").value = "";
    showDuplicate(null);
    return openCard(app.customer.id).then(() => { el("taken").hidden = false; });
  }).catch((err) => {
    if (err.status === 409 && err.data && err.data.open_order) showDuplicate(err.data.open_order);
    el("order-error").textContent = problemText(err);
  }).finally(() => { el("btn-take").disabled = false; });
}

// ---------------------------------------------------------------- wiring

function setUp() {
  const C = S.choices;
  fillSelect(el("o-kind"), C.kind);
  el("o-kind").value = C.kind.some((k) => k.code === "repair") ? "repair" : C.kind[0].code;
  fillSelect(el("o-product"), C.product);
  fillSelect(el("o-priority"), C.priority);
  el("o-priority").value = C.priority.some((p) => p.code === "P3") ? "P3" : C.priority[0].code;
  fillSelect(el("o-source"), C.source);
  el("o-source").value = C.source.some((s) => s.code === "hotline") ? "hotline" : C.source[0].code;
  fillSelect(el("c-kind"), C.customer_kind);
  fillSelect(el("c-tier"), C.tier);
  fillSelect(el("c-channel"), C.channel);
  fillSelect(el("c-language"), C.language);
  el("c-language").value = S.lang;
  ["c", "s"].forEach((prefix) => {
    fillSelect(el(prefix + "-access"), C.access_type, true);
    fillSelect(el(prefix + "-line-product"), C.product, true);
  });
  el("c-kind").addEventListener("change", () => { el("c-tier-label").hidden = value("c-kind") !== "enterprise"; });

  el("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    app.query = value("q");
    if (app.query) search(0);
  });
  el("btn-new-customer").addEventListener("click", () => { el("customer-form").hidden = false; el("c-name").focus(); });
  el("btn-new-site").addEventListener("click", () => { el("site-form").hidden = false; el("s-address").focus(); });
  document.querySelectorAll("button.cancel").forEach((button) =>
    button.addEventListener("click", () => { el(button.dataset.hide).hidden = true; }));
  el("customer-form").addEventListener("submit", registerCustomer);
  el("site-form").addEventListener("submit", addSite);

  const form = el("order-form");
  form.addEventListener("submit", takeOrder);
  form.addEventListener("input", (event) => { if (event.target.id !== "o-duplicate-ok") schedulePreview(); });
  form.addEventListener("change", (event) => {
    if (event.target.id === "o-circuit") syncProduct();
    if (event.target.id !== "o-duplicate-ok") schedulePreview();
  });
  app.ready = true;
}

setUp();
