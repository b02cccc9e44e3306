/* The side panel and the toast: where results and refusals are shown. */

import { app, el } from "./state.js";
import { esc } from "./i18n.js";
import { map, markSelected } from "./map.js";

const panel = el("panel"), panelBody = el("panel-body");
let toastTimer = null;

export function toast(text, isError) {
  let box = el("toast");
  if (!box) {
    box = document.createElement("div");
    box.id = "toast";
    box.setAttribute("role", "status");
    document.body.appendChild(box);
  }
  box.className = "toast" + (isError ? " error" : "");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

export function showPanel(html) {
  const wasHidden = panel.hidden;
  panelBody.innerHTML = html;
  panel.hidden = false;
  if (wasHidden) map.invalidateSize();
}

export function closePanel() {
  panel.hidden = true;
  app.selected = null;
  markSelected(null);
  panelBody.innerHTML = "";
  map.invalidateSize();
}

/** Whether the dispatcher is typing in the panel (a refresh would lose it). */
export function typingInPanel() {
  return panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
}

export function errorHtml(message) {
  return '<div class="msg error" role="alert">' + esc(message) + "</div>";
}

/** A definition list of [term, value] rows; empty values are left out, rows flagged raw are not escaped. */
export function dl(rows) {
  return "<dl>" + rows.filter((r) => r[1] !== null && r[1] !== undefined && r[1] !== "")
    .map((r) => "<dt>" + esc(r[0]) + "</dt><dd>" + (r[2] ? r[1] : esc(r[1])) + "</dd>").join("") + "</dl>";
}
