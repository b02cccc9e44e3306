/* Requests: the console's own feeds under /console/api, and the staff API for plans
 * and jobs (the same session cookie; a change carries the page's CSRF token). */

import { S, CSRF, app } from "./state.js";

/** A URL template from the server ("/api/v1/jobs/{id}") with the id filled in. */
export function url(template, id) {
  return template.replace("{id}", encodeURIComponent(id));
}

export function readJson(resp) {
  return resp.json().catch(() => ({})).then((data) => {
    if (!resp.ok) {
      const err = new Error(data.detail || data.title || resp.statusText);
      err.status = resp.status;
      err.data = data;
      throw err;
    }
    return data;
  });
}

function send(method, target, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["X-CSRFToken"] = CSRF;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  return fetch(target, init).then(readJson);
}

/** GET one of the console's feeds for the day in view. */
export function feed(path) {
  const sep = path.indexOf("?") >= 0 ? "&" : "?";
  return send("GET", S.urls.base + "/api" + path + sep + "day=" + app.day);
}

/** POST an action to the console (the day in view goes with it). */
export function act(path, body) {
  return send("POST", S.urls.base + "/api" + path, Object.assign({ day: app.day }, body || {}));
}

export function staffGet(target) {
  return send("GET", target);
}

export function staffPost(target, body) {
  return send("POST", target, body);
}

/** A feed the page asked for while the scripts were loading (see console.html), else fetched now. */
export function preloaded(name) {
  const early = window.consolePreload && window.consolePreload[name];
  if (early && window.consolePreload.day === app.day) {
    delete window.consolePreload[name];
    return early.then(readJson);
  }
  return feed("/" + name);
}
