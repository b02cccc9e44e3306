/* Words and numbers as the reader reads them. Every label and sentence comes from
 * the server in the page's language (flask-babel); this module only fills them in. */

import { S } from "./state.js";

export const T = S.strings;

/** The label of a code in a group ("state", "product", "role", ...). */
export function label(group, code) {
  return (S.labels[group] && S.labels[group][code]) || code || "";
}

/** A whole label group, in the server's order. */
export function labels(group) {
  return S.labels[group] || {};
}

/** Fill "%(name)s" placeholders, as Python's % formatting does. */
export function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_m, key) =>
    values[key] === undefined || values[key] === null ? "" : values[key]);
}

export function esc(text) {
  return String(text === undefined || text === null ? "" : text)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Seconds from midnight as HH:MM. */
export function hhmm(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60) % 24, m = minutes % 60;
  return String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0");
}

/** An ISO date-time as "YYYY-MM-DD HH:MM". */
export function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 16) : "";
}

/** A span of minutes in words: "1小时58分" / "1 h 58 min", or minutes alone under an hour. */
export function duration(minutes) {
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return h ? fmt(T.hours_minutes, { hours: h, minutes: m }) : fmt(T.minutes, { n: m });
}

/** Time left until a deadline, or how far past it. */
export function timeLeft(iso) {
  const diff = Math.round((new Date(iso).getTime() - Date.now()) / 60000);
  return fmt(diff >= 0 ? T.left : T.over, { time: duration(Math.abs(diff)) });
}
