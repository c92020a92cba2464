// Store administration console: plain DOM, no build step. Every value from the
// server is inserted with textContent (never innerHTML), so names cannot inject
// markup. The token lives in sessionStorage: it is gone when the tab closes.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("attendant.token"), me: null, store: null, pendingImport: null };

function say(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.className = isError ? "error" : "";
}

async function api(method, path, body, contentType) {
  const headers = { Authorization: "Bearer " + state.token };
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

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function signOut(reason) {
  sessionStorage.removeItem("attendant.token");
  state.token = null;
  state.me = null;
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in-view").hidden = false;
  $("store-name").textContent = "";
  say(reason || "Signed out.", Boolean(reason));
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
  if (state.me.scope.kind === "operator") {
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
  $("store-name").textContent = state.store.name + " · v" + state.store.version;
  $("export-csv").href = "#";
  await refreshEntries();
}

async function refreshStoreHeader() {
  state.store = await api("GET", "/stores/" + state.store.id);
  $("store-name").textContent = state.store.name + " · v" + state.store.version;
}

async function refreshEntries() {
  const q = $("search").value.trim();
  const entries = await api("GET", "/stores/" + state.store.id + "/entries" + (q ? "?q=" + encodeURIComponent(q) : ""));
  $("entries").replaceChildren(...entries.map((e) => {
    const tr = el("tr");
    tr.dataset.id = e.id;
    if (!e.enabled) tr.className = "disabled";
    tr.append(el("td", e.name), el("td", e.department || ""), el("td", e.extension || ""), el("td", e.target || ""));
    const td = el("td");
    const edit = el("button", "Edit", "edit");
    edit.dataset.id = e.id;
    edit.addEventListener("click", () => editEntry(e));
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
  const base = "/stores/" + state.store.id + "/entries";
  try {
    const result = id ? await api("PUT", base + "/" + id, body) : await api("POST", base, body);
    $("entry-form").hidden = true;
    say("Saved " + result.entry.name + " (version " + result.version + ").");
    await refreshEntries();
    await refreshStoreHeader();
  } catch (e) {
    say(e.message, true);
  }
}

async function deleteEntry() {
  const id = $("f-id").value;
  if (!id || !confirm("Delete " + $("f-name").value + "?")) return;
  try {
    const result = await api("DELETE", "/stores/" + state.store.id + "/entries/" + id);
    $("entry-form").hidden = true;
    say("Deleted (version " + result.version + ").");
    await refreshEntries();
    await refreshStoreHeader();
  } catch (e) {
    say(e.message, true);
  }
}

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
  if (!sync.vocabulary_checked) container.append(el("p", "The speech engine's vocabulary was not checked."));
  showList(container, "Names the engine cannot recognise", sync.unrecognisable, "removed",
    (u) => u.name + ": " + u.unknown_words.join(", "));
  showList(container, "Names that sound alike", sync.similar, "changed",
    (p) => p.first_name + " / " + p.second_name + ": " + p.why + " (add an alias to tell them apart)");
  if (sync.similar_total > sync.similar.length) {
    container.append(el("p", "… and " + (sync.similar_total - sync.similar.length) + " more pairs that sound alike."));
  }
  if (!sync.unrecognisable.length && !sync.similar.length) container.append(el("p", "No warnings."));
}

// How a changed field reads in the preview ("enabled: false → true").
function fieldValue(entry, field) {
  const value = entry[field === "spelling" ? "name" : field];
  if (Array.isArray(value)) return value.length ? value.join(" | ") : "(none)";
  if (value === null || value === undefined || value === "") return "(none)";
  return String(value);
}

function changedLine(c) {
  const fields = (c.fields || []).map((f) => f + ": " + fieldValue(c.before, f) + " → " + fieldValue(c.after, f));
  return entryLine(c.after) + " — " + fields.join("; ");
}

async function previewImport() {
  const file = $("import-file").files[0];
  if (!file) { say("Choose a file first.", true); return; }
  const isJson = file.name.toLowerCase().endsWith(".json");
  // The bytes as they are: the server detects the encoding (file.text()
  // would turn a Windows-1252 "é" into U+FFFD before anyone could tell).
  const bytes = await file.arrayBuffer();
  const mode = $("import-mode").value;
  const diff = $("diff");
  diff.replaceChildren();
  $("apply-import").hidden = true;
  try {
    const result = await api("POST", "/stores/" + state.store.id + "/import?dry_run=true&mode=" + mode, bytes,
      isJson ? "application/json" : "text/csv");
    const d = result.diff;
    diff.append(el("p", d.added.length + " added, " + d.changed.length + " changed, " + d.removed.length +
      " removed, " + d.unchanged + " unchanged", "summary"));
    const reading = result.reading;
    diff.append(el("p", "Read as " + reading.encoding + (reading.separator ? ", columns separated by " +
      (reading.separator === "\t" ? "tabs" : "“" + reading.separator + "”") : "") + ".", "reading"));
    for (const note of reading.notes) diff.append(el("p", note, "note"));
    showList(diff, "Added", d.added, "added", entryLine);
    showList(diff, "Changed", d.changed, "changed", changedLine);
    showList(diff, "Removed", d.removed, "removed", entryLine);
    showSync(diff, result.sync);
    state.pendingImport = { bytes, type: isJson ? "application/json" : "text/csv", mode, version: result.version,
      removed: d.removed.length };
    $("apply-import").textContent = mode === "replace" && d.removed.length
      ? "Apply: replace the directory (" + d.removed.length + " entries removed)" : "Apply this import";
    $("apply-import").hidden = false;
    say("Nothing is changed yet: check the differences, then apply.");
  } catch (e) {
    state.pendingImport = null;
    say(e.message, true);
  }
}

async function applyImport() {
  const pending = state.pendingImport;
  if (!pending) return;
  let path = "/stores/" + state.store.id + "/import?mode=" + pending.mode + "&version=" + pending.version;
  if (pending.mode === "replace" && pending.removed > 0) {
    if (!confirm("This replaces the whole directory: " + pending.removed + " entries will be removed. Apply?")) return;
    path += "&confirm_removals=" + pending.removed;
  }
  try {
    const result = await api("POST", path, pending.bytes, pending.type);
    state.pendingImport = null;
    $("apply-import").hidden = true;
    $("diff").replaceChildren();
    say("Imported: version " + result.version + ".");
    await refreshStoreHeader();
    await refreshEntries();
  } catch (e) {
    if (e.code === "directory_changed") {
      state.pendingImport = null;
      $("apply-import").hidden = true;
      say("The directory changed since your preview (someone else edited it): nothing was applied. Preview the file again.", true);
      return;
    }
    say(e.message, true);
  }
}

async function download(format, dialect) {
  try {
    const response = await fetch("/api/v1/stores/" + state.store.id + "/export?format=" + format +
      (dialect ? "&dialect=" + dialect : ""),
      { headers: { Authorization: "Bearer " + state.token } });
    if (!response.ok) throw new Error("export failed (" + response.status + ")");
    const url = URL.createObjectURL(await response.blob());
    const a = el("a");
    a.href = url;
    a.download = "directory-" + state.store.number + "." + format;
    a.click();
    URL.revokeObjectURL(url);
  } catch (e) {
    say(e.message, true);
  }
}

async function showTab(name) {
  for (const button of document.querySelectorAll("nav .tab")) button.classList.toggle("active", button.dataset.tab === name);
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== "tab-" + name;
  try {
    if (name === "sync") {
      const report = await api("GET", "/stores/" + state.store.id + "/sync-report");
      const box = $("sync");
      box.replaceChildren();
      showSync(box, report.sync);
    } else if (name === "calls") {
      const calls = await api("GET", "/stores/" + state.store.id + "/calls?limit=100");
      $("calls").replaceChildren(...calls.map((c) => {
        const tr = el("tr");
        tr.append(el("td", new Date(c.started_at).toLocaleString()), el("td", c.caller), el("td", c.heard),
          el("td", c.understood || "—"), el("td", c.transferred_to || c.decision));
        return tr;
      }));
    } else if (name === "directory") {
      await refreshEntries();
    }
  } catch (e) {
    say(e.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
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
  $("export-csv").addEventListener("click", (e) => { e.preventDefault(); download("csv"); });
  $("export-json").addEventListener("click", (e) => { e.preventDefault(); download("json"); });
  $("export-excel").addEventListener("click", (e) => { e.preventDefault(); download("csv", "excel"); });
  for (const button of document.querySelectorAll("nav .tab")) button.addEventListener("click", () => showTab(button.dataset.tab));
  if (state.token) signIn(state.token);
});
