/* The intake page's appointment slots: once an order is taken (intake.js sends
 * "order-taken"), ask the staff API for its best slots, show each with its reason
 * (in the page's language, from the server), and book one with a click.
 * A slot taken meanwhile answers 409 with the next best: those are shown instead.
 * `window.bookingApp` exposes the state to the browser tests. */

const S = JSON.parse(document.getElementById("intake-settings").textContent);
const B = S.booking;
const T = B.strings;
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const app = { order: null, slots: [], booked: null };
window.bookingApp = app;

function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, key) => (values[key] === undefined ? "" : String(values[key])));
}

function make(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value === undefined || value === null || value === false) return;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  });
  children.flat().forEach((child) => { if (child !== null && child !== undefined) node.append(child); });
  return node;
}

function call(method, target, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["X-CSRFToken"] = CSRF;
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  return fetch(target, init).then((resp) => resp.json().catch(() => ({})).then((data) => {
    if (!resp.ok) {
      const err = new Error(data.detail || resp.statusText);
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  }));
}

function hhmm(iso) {
  return iso ? iso.slice(11, 16) : "";
}

function slotName(key) {
  return { am: T.slot_am, pm: T.slot_pm }[key] || key;
}

function render(note) {
  const box = document.getElementById("slots");
  box.textContent = "";
  box.hidden = false;
  box.append(make("h3", { text: fmt(T.slots_title, { code: app.order.code }) }));
  if (note) box.append(make("p", { className: "error", role: "alert", text: note }));
  if (app.booked) {
    const when = app.booked.day + " " + hhmm(app.booked.start) + "–" + hhmm(app.booked.end);
    box.append(make("p", { className: "ok", id: "slot-booked", text: fmt(T.booked, { when }) }));
    return;
  }
  if (!app.slots.some((s) => s.feasible)) box.append(make("p", { text: T.slots_none }));
  const list = make("ol", { className: "slot-list" });
  app.slots.forEach((slot) => {
    const label = slot.day + " " + slotName(slot.slot) + " " + hhmm(slot.start) + "–" + hhmm(slot.end);
    const button = slot.feasible
      ? make("button", { type: "button", className: slot.rank === 1 ? "primary" : "", text: T.book })
      : make("span", { className: "muted", text: T.not_bookable });
    if (slot.feasible) button.addEventListener("click", () => book(slot));
    list.append(make("li", { className: slot.feasible ? "feasible" : "not-bookable" },
      make("strong", { text: label }), " ", make("span", { className: "reason", text: slot.reason }), " ", button));
  });
  box.append(list);
}

function load(order) {
  app.order = order;
  app.booked = null;
  const box = document.getElementById("slots");
  box.hidden = false;
  box.textContent = T.slots_loading;
  return call("GET", B.urls.slots.replace("{id}", order.id))
    .then((slots) => { app.slots = slots; render(); })
    .catch((err) => { app.slots = []; render(err.message); });
}

function book(slot) {
  return call("POST", B.urls.booking.replace("{id}", app.order.id), { day: slot.day, slot: slot.slot })
    .then((booked) => { app.booked = booked; render(); })
    .catch((err) => {
      if (err.status === 409 && err.data && err.data.alternatives) app.slots = err.data.alternatives;
      render(err.message);
    });
}

document.addEventListener("order-taken", (event) => load(event.detail));
app.ready = true;
