// Store administration console: plain DOM, no build step. Every value from the
// server is inserted with textContent (never innerHTML), so names cannot inject
// markup. The token lives in sessionStorage: it is gone when the tab closes.
// Every word shown comes from the server's catalogue (/api/v1/i18n/{lang},
// src/admin/locales/*.ftl) through t(); dates are shown in the store's time
// zone and the viewer's language with Intl.DateTimeFormat.
"use strict";

const $ = (id) => document.getElementById(id);
const LANGUAGES = ["fr", "en"];
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const state = {
  token: sessionStorage.getItem("attendant.token"),
  me: null,
  store: null,
  timeZone: "UTC",
  hours: null,
  entries: [],
  pendingImport: null,
  lang: "en",
  messages: {},
  tab: "directory",
};

// ---------------------------------------------------------------------------
// Words.

/** Message `id` with `{ $name }` placeholders filled from `args`. */
function t(id, args) {
  const text = state.messages[id];
  if (text === undefined) return id;
  return text.replace(/\{ \$([a-z_]+) \}/g, (_, name) => (args && args[name] !== undefined ? String(args[name]) : ""));
}

/** The language chosen with the switch, else the store's, else the browser's. */
function preferredLanguage() {
  const chosen = localStorage.getItem("attendant.lang");
  if (LANGUAGES.includes(chosen)) return chosen;
  if (state.store && LANGUAGES.includes(state.store.language)) return state.store.language;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const primary = String(tag).split("-")[0].toLowerCase();
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

async function setLanguage(lang) {
  if (lang !== state.lang || !Object.keys(state.messages).length) {
    const response = await fetch("/api/v1/i18n/" + lang);
    const catalogue = await response.json();
    state.messages = catalogue.messages;
    state.lang = catalogue.lang;
  }
  document.documentElement.lang = state.lang;
  $("lang").value = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
  document.title = t("page-title");
}

function formatInstant(iso, options) {
  return new Intl.DateTimeFormat(state.lang, Object.assign({ timeZone: state.timeZone }, options || { dateStyle: "short", timeStyle: "short" }))
    .format(new Date(iso));
}

function formatDate(isoDate) {
  // A civil date: shown as is, in the viewer's language, without shifting zones.
  return new Intl.DateTimeFormat(state.lang, { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" })
    .format(new Date(isoDate + "T12:00:00Z"));
}

/** Today's date in the store's time zone, as YYYY-MM-DD. */
function storeToday(offsetDays) {
  return localDate(new Date(Date.now() + (offsetDays || 0) * 86400000).toISOString());
}

/** The store's local date of an instant, as YYYY-MM-DD. */
function localDate(iso) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: state.timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(iso));
}

function say(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.className = isError ? "error" : "";
}

// ---------------------------------------------------------------------------
// API.

async function api(method, path, body, contentType) {
  const headers = { Authorization: "Bearer " + state.token, "Accept-Language": state.lang };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = contentType ? body : JSON.stringify(body);
  }
  const response = await fetch("/api/v1" + path, { method, headers, body: payload });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!response.ok) {
    const error = (data && data.error) || { code: String(response.status), message: text };
    if (response.status === 401) signOut(error.message);
    const problems = (error.problems || []).map((p) => p.message);
    const err = new Error(problems.length ? error.message + "\n" + problems.join("\n") : error.message);
    err.code = error.code;
    err.details = error;
    throw err;
  }
  return data;
}

async function downloadFrom(path, fileName) {
  const response = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + state.token, "Accept-Language": state.lang } });
  if (!response.ok) throw new Error(t("export-failed", { status: response.status }));
  const url = URL.createObjectURL(await response.blob());
  const a = el("a");
  a.href = url;
  a.download = fileName;
  a.click();
  URL.revokeObjectURL(url);
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(text, onClick, className) {
  const b = el("button", text, className);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function storePath(rest) {
  return "/stores/" + state.store.id + (rest || "");
}

// ---------------------------------------------------------------------------
// Sign-in and stores.

function signOut(reason) {
  sessionStorage.removeItem("attendant.token");
  state.token = null;
  state.me = null;
  state.store = null;
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-view").hidden = false;
  $("store-name").textContent = "";
  say(reason || t("signed-out"), Boolean(reason));
}

async function signIn(token) {
  state.token = token;
  try {
    state.me = await api("GET", "/me");
  } catch (e) {
    signOut(e.message);
    return;
  }
  sessionStorage.setItem("attendant.token", token);
  $("sign-in-view").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  say("");
  const operator = state.me.scope.kind === "operator";
  $("stats-all-label").hidden = !operator;
  if (operator) {
    const stores = await api("GET", "/stores");
    const select = $("store-select");
    select.replaceChildren(...stores.map((s) => {
      const o = el("option", s.name + " (" + s.number + ")");
      o.value = s.id;
      return o;
    }));
    $("store-picker").hidden = false;
    if (stores.length) await openStore(stores[0].id);
  } else {
    $("store-picker").hidden = true;
    await openStore(state.me.scope.store);
  }
}

async function openStore(id) {
  state.store = await api("GET", "/stores/" + id);
  state.hours = await api("GET", storePath("/hours"));
  state.timeZone = (state.hours && state.hours.time_zone) || "UTC";
  await setLanguage(preferredLanguage());
  $("store-name").textContent = state.store.name;
  await showTab(state.tab);
}

// ---------------------------------------------------------------------------
// Directory.

async function refreshEntries() {
  const q = $("search").value.trim();
  const entries = await api("GET", storePath("/entries" + (q ? "?q=" + encodeURIComponent(q) : "")));
  if (!q) state.entries = entries;
  $("entries").replaceChildren(...entries.map((e) => {
    const tr = el("tr");
    tr.dataset.id = e.id;
    const name = el("td", e.name);
    if (!e.enabled) {
      tr.className = "disabled";
      name.append(" ", el("span", t("entry-disabled"), "badge"));
    }
    tr.append(name, el("td", e.department || ""), el("td", e.extension || ""), el("td", e.target || ""));
    const td = el("td");
    const edit = button(t("edit"), () => editEntry(e), "edit");
    edit.dataset.id = e.id;
    td.append(edit);
    tr.append(td);
    return tr;
  }));
}

function editEntry(e) {
  $("entry-form").hidden = false;
  $("f-id").value = e ? e.id : "";
  $("f-name").value = e ? e.name : "";
  $("f-aliases").value = e ? e.aliases.join("; ") : "";
  $("f-department").value = e ? e.department || "" : "";
  $("f-extension").value = e ? e.extension || "" : "";
  const ownExtension = e && e.extension && e.target === e.extension;
  $("f-target").value = e && !ownExtension ? e.target || "" : "";
  $("f-fallback").value = e ? e.fallback || "" : "";
  $("f-enabled").checked = e ? e.enabled : true;
  $("delete-entry").hidden = !e;
  $("f-name").focus();
}

async function saveEntry(event) {
  event.preventDefault();
  const blank = (v) => (v.trim() === "" ? null : v.trim());
  const body = {
    name: $("f-name").value,
    aliases: $("f-aliases").value.split(";").map((a) => a.trim()).filter((a) => a),
    department: blank($("f-department").value),
    extension: blank($("f-extension").value),
    target: blank($("f-target").value),
    fallback: blank($("f-fallback").value),
    enabled: $("f-enabled").checked,
  };
  const id = $("f-id").value;
  try {
    const result = id ? await api("PUT", storePath("/entries/" + id), body) : await api("POST", storePath("/entries"), body);
    $("entry-form").hidden = true;
    say(t("entry-saved", { name: result.entry.name, version: result.version }));
    await refreshEntries();
  } catch (e) {
    say(e.message, true);
  }
}

async function deleteEntry() {
  const id = $("f-id").value;
  if (!id || !confirm(t("entry-confirm-delete", { name: $("f-name").value }))) return;
  try {
    const result = await api("DELETE", storePath("/entries/" + id));
    $("entry-form").hidden = true;
    say(t("entry-deleted", { version: result.version }));
    await refreshEntries();
  } catch (e) {
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Import and warnings.

function entryLine(e) {
  return e.name + (e.department ? " (" + e.department + ")" : "") + " → " + (e.target || e.extension || "");
}

function showList(container, title, items, className, line) {
  if (!items.length) return;
  container.append(el("h3", title + " (" + items.length + ")"));
  const ul = el("ul");
  ul.className = className;
  ul.append(...items.map((i) => el("li", line(i))));
  container.append(ul);
}

function showSync(container, sync) {
  if (!sync.vocabulary_checked) container.append(el("p", t("sync-not-checked")));
  showList(container, t("sync-unrecognisable"), sync.unrecognisable, "removed",
    (u) => u.name + ": " + u.unknown_words.join(", "));
  showList(container, t("sync-similar"), sync.similar, "changed",
    (p) => p.first_name + " / " + p.second_name + (p.why ? ": " + p.why : "") + " (" + t("sync-similar-hint") + ")");
  if (sync.similar_total > sync.similar.length) {
    container.append(el("p", t("sync-more", { count: sync.similar_total - sync.similar.length })));
  }
  if (!sync.unrecognisable.length && !sync.similar.length) container.append(el("p", t("sync-none")));
}

// How a changed field reads in the preview ("enabled: false → true").
function fieldValue(entry, field) {
  const value = entry[field === "spelling" ? "name" : field];
  if (Array.isArray(value)) return value.length ? value.join(" | ") : t("none");
  if (value === null || value === undefined || value === "") return t("none");
  return String(value);
}

function changedLine(c) {
  const fields = (c.fields || []).map((f) => f + ": " + fieldValue(c.before, f) + " → " + fieldValue(c.after, f));
  return entryLine(c.after) + " — " + fields.join("; ");
}

async function previewImport() {
  const file = $("import-file").files[0];
  if (!file) { say(t("import-choose-file"), true); return; }
  const isJson = file.name.toLowerCase().endsWith(".json");
  // The bytes as they are: the server detects the encoding (file.text()
  // would turn a Windows-1252 "é" into U+FFFD before anyone could tell).
  const bytes = await file.arrayBuffer();
  const mode = $("import-mode").value;
  const diff = $("diff");
  diff.replaceChildren();
  $("apply-import").hidden = true;
  try {
    const type = isJson ? "application/json" : "text/csv";
    const result = await api("POST", storePath("/import?dry_run=true&mode=" + mode), bytes, type);
    const d = result.diff;
    diff.append(el("p", t("import-summary", { added: d.added.length, changed: d.changed.length, removed: d.removed.length, unchanged: d.unchanged }), "summary"));
    const reading = result.reading;
    if (reading) {
      const separator = reading.separator === "\t" ? t("import-separator-tab") : reading.separator ? "“" + reading.separator + "”" : "";
      diff.append(el("p", separator ? t("import-read-as-separated", { encoding: reading.encoding, separator }) : t("import-read-as", { encoding: reading.encoding }), "reading"));
      for (const note of reading.notes) diff.append(el("p", note, "note"));
    }
    showList(diff, t("import-added"), d.added, "added", entryLine);
    showList(diff, t("import-changed"), d.changed, "changed", changedLine);
    showList(diff, t("import-removed"), d.removed, "removed", entryLine);
    showSync(diff, result.sync);
    state.pendingImport = { bytes, type: isJson ? "application/json" : "text/csv", mode, version: result.version,
      removed: d.removed.length };
    $("apply-import").textContent = mode === "replace" && d.removed.length
      ? t("import-apply-replace", { removed: d.removed.length }) : t("import-apply");
    $("apply-import").hidden = false;
    say(t("import-pending"));
  } catch (e) {
    state.pendingImport = null;
    say(e.message, true);
  }
}

async function applyImport() {
  const pending = state.pendingImport;
  if (!pending) return;
  let path = storePath("/import?mode=" + pending.mode + "&version=" + pending.version);
  if (pending.mode === "replace" && pending.removed > 0) {
    if (!confirm(t("import-confirm-removals", { removed: pending.removed }))) return;
    path += "&confirm_removals=" + pending.removed;
  }
  try {
    const result = await api("POST", path, pending.bytes, pending.type);
    state.pendingImport = null;
    $("apply-import").hidden = true;
    $("diff").replaceChildren();
    say(t("import-done", { version: result.version }));
    await refreshEntries();
  } catch (e) {
    if (e.code === "directory_changed") {
      state.pendingImport = null;
      $("apply-import").hidden = true;
      // The preview no longer describes what Apply would do: take it away.
      $("diff").replaceChildren();
      say(t("import-directory-changed"), true);
      return;
    }
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Calls.

function periodQuery(fromId, toId) {
  if (!$(fromId).value) $(fromId).value = storeToday(-6);
  if (!$(toId).value) $(toId).value = storeToday(0);
  return "from=" + $(fromId).value + "&to=" + $(toId).value;
}

function wentTo(c) {
  if (c.entry_name) return c.entry_name;
  if (c.outcome && c.outcome !== "other") return t("outcome-" + c.outcome) + (c.transferred_to ? " (" + c.transferred_to + ")" : "");
  return c.transferred_to || c.decision;
}

/** A call's `heard` or `understood` as recorded (`keys 31; sophie`, `no
 * match; Marc Dupont (to confirm)`), with the recorder's own words translated. */
function recordedWords(text) {
  if (!text) return t("none");
  return text.split("; ").map((part) => {
    if (part.startsWith("keys ")) return t("heard-keys", { keys: part.slice(5) });
    if (part === "(nothing decodable)") return t("heard-nothing");
    if (part === "no match") return t("understood-no-match");
    if (part.endsWith(" (to confirm)")) return t("understood-to-confirm", { name: part.slice(0, -13) });
    return part;
  }).join("; ");
}

async function showCalls() {
  const calls = await api("GET", storePath("/calls?limit=1000&" + periodQuery("calls-from", "calls-to")));
  if (!calls.length) {
    const tr = el("tr");
    const td = el("td", t("calls-none"));
    td.colSpan = 5;
    tr.append(td);
    $("calls").replaceChildren(tr);
    return;
  }
  $("calls").replaceChildren(...calls.map((c) => {
    const tr = el("tr");
    tr.append(el("td", formatInstant(c.started_at)), el("td", c.caller, "caller"), el("td", recordedWords(c.heard)),
      el("td", recordedWords(c.understood)), el("td", wentTo(c)));
    return tr;
  }));
}

// ---------------------------------------------------------------------------
// Statistics: inline SVG charts, no library.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A vertical bar chart: `bars` of {label, value, part, title, shade}. */
function barChart(title, bars, labelEvery) {
  const figure = el("figure", null, "chart");
  figure.append(el("figcaption", title));
  const width = 600, height = 180, bottom = 20, top = 14;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = width / Math.max(1, bars.length);
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": title });
  bars.forEach((b, i) => {
    const x = i * step;
    if (b.shade) chart.append(svg("rect", { x, y: 0, width: step, height: height - bottom, class: "shade" }));
    const h = (b.value / max) * (height - bottom - top);
    const bar = svg("rect", { x: x + step * 0.15, y: height - bottom - h, width: step * 0.7, height: h, class: "bar" });
    bar.append(svg("title", {}, b.title));
    chart.append(bar);
    if (b.part !== undefined && b.part > 0) {
      const hp = (b.part / max) * (height - bottom - top);
      chart.append(svg("rect", { x: x + step * 0.15, y: height - bottom - hp, width: step * 0.7, height: hp, class: "bar part" }));
    }
    if (b.value > 0 && bars.length <= 31) {
      chart.append(svg("text", { x: x + step / 2, y: height - bottom - h - 2, "text-anchor": "middle", class: "value" }, String(b.value)));
    }
    if (i % (labelEvery || 1) === 0) {
      chart.append(svg("text", { x: x + step / 2, y: height - 5, "text-anchor": "middle", class: "axis" }, b.label));
    }
  });
  figure.append(chart);
  return figure;
}

/** Shares as horizontal bars with counts and percentages. */
function shareChart(title, counts, prefix, className) {
  const figure = el("figure", null, "chart shares " + (className || ""));
  figure.append(el("figcaption", title));
  const total = counts.reduce((sum, c) => sum + c.calls, 0);
  const percent = new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 0 });
  const list = el("ul");
  for (const c of counts) {
    if (!c.calls) continue;
    const li = el("li");
    li.dataset.key = c.key;
    const share = total ? c.calls / total : 0;
    li.append(el("span", prefix ? t(prefix + c.key) : c.key, "label"));
    const track = svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "track", "aria-hidden": "true" });
    track.append(svg("rect", { x: 0, y: 0, width: Math.max(0.5, share * 100), height: 10, class: "bar" }));
    li.append(track, el("span", c.calls + " · " + percent.format(share), "count"));
    list.append(li);
  }
  figure.append(list);
  return figure;
}

async function showStats() {
  const all = !$("stats-all-label").hidden && $("stats-all").checked;
  const period = periodQuery("stats-from", "stats-to");
  const stats = await api("GET", (all ? "/statistics?" : storePath("/statistics?")) + period);
  const percent = new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 0 });
  $("stats-total").textContent = t("stats-total", { calls: stats.calls, through: stats.through, share: percent.format(stats.calls ? stats.through / stats.calls : 0) });
  const box = $("stats");
  box.replaceChildren();
  box.append(barChart(t("stats-per-day"), stats.per_day.map((d) => ({
    label: formatDate(d.date), value: d.calls, part: d.through, title: formatDate(d.date) + ": " + d.calls + " " + t("stats-calls"),
  })), Math.ceil(stats.per_day.length / 7)));
  box.append(barChart(t("stats-per-hour"), stats.per_hour.map((n, h) => ({
    label: String(h), value: n, shade: Boolean(stats.open_hours && stats.open_hours[h]), title: h + ":00 " + n + " " + t("stats-calls"),
  })), 3));
  box.append(shareChart(t("stats-outcomes"), stats.outcomes, "outcome-", "outcomes"));
  if (stats.recognition.some((c) => c.calls)) {
    box.append(shareChart(t("stats-recognition"), stats.recognition, "recognition-", "recognition"));
  } else {
    box.append(el("p", t("stats-no-speech")));
  }
  if (stats.names.length) box.append(shareChart(t("stats-names"), stats.names, null, "names"));
  $("stats-export").hidden = all;
}

// ---------------------------------------------------------------------------
// Calls not understood, turned into fixes.

/** What the caller said (not the keys), from a call's `heard`. */
function spoken(heard) {
  return heard.split("; ").filter((p) => p && !p.startsWith("keys ") && !p.startsWith("(")).join(" ").trim();
}

async function showFixes() {
  const calls = await api("GET", storePath("/calls?limit=200&not_understood=true&" + periodQuery("fixes-from", "fixes-to")));
  if (!state.entries.length) state.entries = await api("GET", storePath("/entries"));
  const box = $("fixes");
  box.replaceChildren();
  if (!calls.length) { box.append(el("p", t("fixes-none"))); return; }
  for (const c of calls) {
    const said = spoken(c.heard);
    const card = el("div", null, "fix");
    card.dataset.id = c.id;
    card.append(el("p", formatInstant(c.started_at) + " · " + t("outcome-" + (c.outcome || "other")), "when"));
    card.append(el("p", t("fixes-heard", { text: said || c.heard }), "heard"));
    card.append(el("p", t("fixes-no-audio"), "help"));
    if (said) {
      const row = el("div", null, "row");
      const label = el("label", null, "inline");
      label.append(el("span", t("fixes-wanted")));
      const select = el("select");
      select.className = "fix-entry";
      select.append(...state.entries.map((e) => { const o = el("option", e.name); o.value = e.id; return o; }));
      label.append(" ", select);
      const add = button(t("fixes-add-alias", { text: said }), () => addAlias(select.value, said), "fix-alias");
      row.append(label, add);
      card.append(row);
    }
    box.append(card);
  }
}

async function addAlias(entryId, text) {
  try {
    const entry = await api("GET", storePath("/entries/" + entryId));
    if (!entry.aliases.includes(text)) entry.aliases.push(text);
    const body = { name: entry.name, aliases: entry.aliases, department: entry.department, extension: entry.extension,
      target: entry.target, fallback: entry.fallback, enabled: entry.enabled };
    await api("PUT", storePath("/entries/" + entryId), body);
    say(t("fixes-alias-added", { text, name: entry.name }));
  } catch (e) {
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Opening hours.

function rangesText(ranges) {
  return (ranges || []).map((r) => r.open.slice(0, 5) + "-" + r.close.slice(0, 5)).join(", ");
}

function parseRanges(text) {
  const ranges = [];
  for (const part of text.split(/[,;]/).map((p) => p.trim()).filter((p) => p)) {
    const m = part.match(/^(\d{1,2})[:h](\d{2})\s*[-–]\s*(\d{1,2})[:h](\d{2})$/);
    if (!m) throw new Error(t("hours-bad-interval", { text: part }));
    const pad = (h, mm) => h.padStart(2, "0") + ":" + mm;
    ranges.push({ open: pad(m[1], m[2]), close: pad(m[3], m[4]) });
  }
  return ranges;
}

function holidayRow(h) {
  const tr = el("tr");
  const date = el("input");
  date.type = "date";
  date.className = "h-date";
  date.value = h ? h.date : "";
  const label = el("input");
  label.className = "h-label";
  label.value = h ? h.label : "";
  const hours = el("input");
  hours.className = "h-hours";
  hours.value = h ? rangesText(h.hours) : "";
  const cells = [date, label, hours].map((input) => { const td = el("td"); td.append(input); return td; });
  const remove = el("td");
  remove.append(button(t("remove"), () => tr.remove()));
  tr.append(...cells, remove);
  return tr;
}

function showHours() {
  const hours = state.hours;
  $("h-always").checked = !hours;
  $("hours-fields").hidden = !hours;
  $("h-tz").value = hours ? hours.time_zone : (state.store.language === "fr" ? "Europe/Paris" : "UTC");
  $("h-days").replaceChildren(...DAYS.map((day) => {
    const label = el("label", null, "day");
    label.append(el("span", t("day-" + day)));
    const input = el("input");
    input.id = "h-" + day;
    input.value = hours ? rangesText(hours.weekly[day]) : "";
    label.append(input);
    return label;
  }));
  $("h-holidays").replaceChildren(...(hours ? hours.holidays : []).map(holidayRow));
  const after = hours ? hours.after_hours : { kind: "closed_message", message: "" };
  for (const radio of document.querySelectorAll("input[name=h-after]")) radio.checked = radio.value === after.kind;
  $("h-message").value = after.kind === "closed_message" ? after.message : "";
  $("h-target").value = after.kind === "transfer" ? after.target.value : "";
  $("h-now").textContent = "";
}

function targetOf(text) {
  const value = text.trim();
  return /^\d+$/.test(value) ? { kind: "extension", value } : { kind: "uri", value };
}

function hoursFromForm() {
  if ($("h-always").checked) return null;
  const weekly = {};
  for (const day of DAYS) weekly[day] = parseRanges($("h-" + day).value);
  const holidays = [...$("h-holidays").querySelectorAll("tr")].map((tr) => ({
    date: tr.querySelector(".h-date").value,
    label: tr.querySelector(".h-label").value.trim(),
    hours: parseRanges(tr.querySelector(".h-hours").value),
  })).filter((h) => h.date);
  const kind = document.querySelector("input[name=h-after]:checked").value;
  const after = kind === "closed_message" ? { kind, message: $("h-message").value.trim() }
    : kind === "operator" ? { kind } : { kind, target: targetOf($("h-target").value) };
  return { time_zone: $("h-tz").value.trim(), weekly, holidays, after_hours: after };
}

async function saveHours(event) {
  event.preventDefault();
  try {
    const result = await api("PUT", storePath("/hours"), hoursFromForm());
    state.hours = result.hours;
    state.timeZone = (state.hours && state.hours.time_zone) || "UTC";
    say(t("hours-saved", { version: result.version }));
  } catch (e) {
    say(e.message, true);
  }
}

async function previewHours() {
  try {
    const hours = hoursFromForm();
    if (!hours) { $("h-now").textContent = t("hours-always-open"); return; }
    const result = await api("POST", storePath("/hours/preview"), hours);
    $("h-now").textContent = t(result.open ? "hours-open-now" : "hours-closed-now", { time: result.local_time });
    $("h-now").className = "summary " + (result.open ? "open" : "closed");
  } catch (e) {
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Menu.

function menuRow(item) {
  const tr = el("tr");
  const key = el("select");
  key.className = "m-key";
  for (let d = 1; d <= 9; d++) { const o = el("option", String(d)); o.value = String(d); key.append(o); }
  key.value = item ? item.digit : "1";
  const label = el("input");
  label.className = "m-label";
  label.value = item ? item.label : "";
  const target = el("input");
  target.className = "m-target";
  target.value = item ? item.target : "";
  const cells = [key, label, target].map((input) => { const td = el("td"); td.append(input); return td; });
  const remove = el("td");
  remove.append(button(t("remove"), () => tr.remove()));
  tr.append(...cells, remove);
  return tr;
}

async function showMenu() {
  const menu = await api("GET", storePath("/menu"));
  $("menu-rows").replaceChildren(...menu.map(menuRow));
  $("menu-spell").textContent = state.store.spell_key ? t("menu-spell-key", { key: state.store.spell_key }) : t("menu-no-spell-key");
}

async function saveMenu() {
  const items = [...$("menu-rows").querySelectorAll("tr")].map((tr) => ({
    digit: tr.querySelector(".m-key").value,
    label: tr.querySelector(".m-label").value,
    target: tr.querySelector(".m-target").value.trim(),
  }));
  try {
    const result = await api("PUT", storePath("/menu"), items);
    $("menu-rows").replaceChildren(...result.menu.map(menuRow));
    say(t("menu-saved", { version: result.version }));
  } catch (e) {
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Prompts. TODO(admin-week, issue 12): the prompts API (list, listen,
// upload, back to synthesised) is not on main yet; when it is, list the
// store's prompts here with an <audio> element each, an upload input and a
// "back to synthesised" button, against that API. No second API is built here.

function showPrompts() {
  $("prompts").replaceChildren(el("p", t("prompts-unavailable")));
}

// ---------------------------------------------------------------------------
// Tokens.

async function showTokens() {
  const tokens = await api("GET", storePath("/tokens"));
  const now = Date.now();
  $("tokens").replaceChildren(...tokens.map((tk) => {
    const tr = el("tr");
    tr.dataset.id = tk.id;
    const expired = tk.expires_at && new Date(tk.expires_at).getTime() <= now;
    const status = tk.revoked ? t("token-revoked") : expired ? t("token-expired") : t("token-active");
    tr.append(el("td", tk.label), el("td", formatInstant(tk.created_at, { dateStyle: "short" })),
      el("td", tk.expires_at ? formatInstant(tk.expires_at, { dateStyle: "short" }) : t("token-never")), el("td", status));
    const td = el("td");
    if (!tk.revoked && tk.id !== state.me.token) td.append(button(t("token-revoke"), () => revokeToken(tk), "revoke"));
    tr.append(td);
    if (tk.revoked || expired) tr.className = "disabled";
    return tr;
  }));
}

async function issueToken(event) {
  event.preventDefault();
  const days = $("t-days").value.trim();
  const body = { label: $("t-label").value };
  if (days) body.expires_in_days = Number(days);
  try {
    const issued = await api("POST", storePath("/tokens"), body);
    $("t-issued").hidden = false;
    $("t-issued-text").textContent = t("token-issued", { label: body.label.trim() });
    $("t-secret").textContent = issued.token;
    $("t-label").value = "";
    $("t-days").value = "";
    await showTokens();
  } catch (e) {
    say(e.message, true);
  }
}

async function revokeToken(tk) {
  if (!confirm(t("token-confirm-revoke", { label: tk.label }))) return;
  try {
    await api("DELETE", "/tokens/" + tk.id);
    say(t("token-revoked-done"));
    await showTokens();
  } catch (e) {
    say(e.message, true);
  }
}

// ---------------------------------------------------------------------------
// Audit log (the latest 1000 records, filtered here).

function detail(record) {
  const value = record.after !== null && record.after !== undefined ? record.after : record.before;
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 160 ? text.slice(0, 157) + "…" : text;
}

async function showAudit() {
  const records = await api("GET", storePath("/audit?limit=1000"));
  const action = $("a-action").value.trim().toLowerCase();
  const actor = $("a-actor").value.trim().toLowerCase();
  const from = $("a-from").value;
  const to = $("a-to").value;
  const shown = records.filter((r) => {
    const day = localDate(r.at);
    return (!action || r.action.toLowerCase().includes(action)) && (!actor || r.actor.toLowerCase().includes(actor)) &&
      (!from || day >= from) && (!to || day <= to);
  });
  $("audit").replaceChildren(...shown.map((r) => {
    const tr = el("tr");
    tr.append(el("td", formatInstant(r.at)), el("td", r.actor), el("td", r.action), el("td", detail(r), "detail"));
    return tr;
  }));
}

// ---------------------------------------------------------------------------
// Tabs.

async function showTab(name) {
  state.tab = name;
  // A message belongs to the tab it came from.
  say("");
  for (const b of document.querySelectorAll("nav .tab")) b.classList.toggle("active", b.dataset.tab === name);
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== "tab-" + name;
  if (!state.store) return;
  // data-ready: the page's data has arrived (what tests and screen readers wait for).
  const panel = $("tab-" + name);
  panel.removeAttribute("data-ready");
  panel.setAttribute("aria-busy", "true");
  try {
    if (name === "directory") await refreshEntries();
    else if (name === "sync") {
      const report = await api("GET", storePath("/sync-report"));
      const box = $("sync");
      box.replaceChildren();
      showSync(box, report.sync);
    } else if (name === "calls") await showCalls();
    else if (name === "stats") await showStats();
    else if (name === "fixes") await showFixes();
    else if (name === "hours") showHours();
    else if (name === "menu") await showMenu();
    else if (name === "prompts") showPrompts();
    else if (name === "tokens") await showTokens();
    else if (name === "audit") await showAudit();
  } catch (e) {
    say(e.message, true);
  }
  panel.setAttribute("aria-busy", "false");
  panel.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", async () => {
  await setLanguage(preferredLanguage());
  $("lang").addEventListener("change", async (e) => {
    localStorage.setItem("attendant.lang", e.target.value);
    await setLanguage(e.target.value);
    if (state.store) await showTab(state.tab);
  });
  $("sign-in-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value.trim()); });
  $("sign-out").addEventListener("click", () => signOut());
  $("store-select").addEventListener("change", (e) => openStore(e.target.value));
  let searchTimer = null;
  $("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(refreshEntries, 200); });
  $("new-entry").addEventListener("click", () => editEntry(null));
  $("entry-form").addEventListener("submit", saveEntry);
  $("cancel-entry").addEventListener("click", () => { $("entry-form").hidden = true; });
  $("delete-entry").addEventListener("click", deleteEntry);
  $("preview-import").addEventListener("click", previewImport);
  $("apply-import").addEventListener("click", applyImport);
  $("export-csv").addEventListener("click", (e) => { e.preventDefault(); downloadFrom(storePath("/export?format=csv"), "directory-" + state.store.number + ".csv").catch((x) => say(x.message, true)); });
  $("export-json").addEventListener("click", (e) => { e.preventDefault(); downloadFrom(storePath("/export?format=json"), "directory-" + state.store.number + ".json").catch((x) => say(x.message, true)); });
  $("export-excel").addEventListener("click", (e) => { e.preventDefault(); downloadFrom(storePath("/export?format=csv&dialect=excel"), "directory-" + state.store.number + ".csv").catch((x) => say(x.message, true)); });
  $("calls-show").addEventListener("click", () => showCalls().catch((x) => say(x.message, true)));
  $("stats-show").addEventListener("click", () => showStats().catch((x) => say(x.message, true)));
  $("stats-export").addEventListener("click", (e) => {
    e.preventDefault();
    downloadFrom(storePath("/calls/export?" + periodQuery("stats-from", "stats-to")), "calls-" + state.store.number + ".csv").catch((x) => say(x.message, true));
  });
  $("fixes-show").addEventListener("click", () => showFixes().catch((x) => say(x.message, true)));
  $("h-always").addEventListener("change", () => { $("hours-fields").hidden = $("h-always").checked; });
  $("h-add-holiday").addEventListener("click", () => $("h-holidays").append(holidayRow(null)));
  $("hours-form").addEventListener("submit", saveHours);
  $("h-preview").addEventListener("click", previewHours);
  $("menu-add").addEventListener("click", () => $("menu-rows").append(menuRow(null)));
  $("menu-save").addEventListener("click", saveMenu);
  $("token-form").addEventListener("submit", issueToken);
  $("a-filter").addEventListener("click", () => showAudit().catch((x) => say(x.message, true)));
  for (const b of document.querySelectorAll("nav .tab")) b.addEventListener("click", () => showTab(b.dataset.tab));
  if (state.token) signIn(state.token);
});
