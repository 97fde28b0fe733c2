// The composer (newsletter/editor/compose.py): the outline, the chosen section's editor and a live preview.
// Saves are JSON POSTs with the CSRF token and the version the editor loaded; typed text stays in
// localStorage until the server has it, so a network error or a closed tab loses nothing.
const root = document.getElementById("composer");
const $ = (selector, scope = document) => scope.querySelector(selector);
const urls = root.dataset;
const csrf = $("input[name=csrfmiddlewaretoken]", root).value;
const STORE = `compose:${urls.issue}:`;
const SECTION_FIELDS = ["heading", "kind", "body_markdown", "source", "event_date", "event_time", "venue", "fee", "booking",
  // A bilingual newsletter's second language: its fields are on the page only then (compose.html).
  "second_heading", "second_body_markdown", "second_source", "second_venue", "second_fee", "second_booking"];
const AUTOSAVE_MS = 2000;
// Its own file, loaded by its hashed static URL (compose.html's data-parts-module) rather than a relative import.
const { fillParts, setupParts } = await import(urls.partsModule);

let issue = null;
let selected = null;
let view = "email";
const pending = new Map(); // key ("issue" or a section id) -> {fields, version}
const timers = new Map();
const inflight = new Set();
let retryDelay = 0;

const form = $("#section-form");
const status = $("#compose-status");

function say(text) { status.textContent = text; }
function sectionUrl(id) { return urls.sectionUrl.replace(/0\/$/, `${id}/`); }
function time() { return new Date().toTimeString().slice(0, 5); }

async function post(url, body, json = true) {
  const headers = { "X-CSRFToken": csrf };
  if (json) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method: "POST", headers, body: json ? JSON.stringify(body) : body, credentials: "same-origin" });
  let data = {};
  try { data = await response.json(); } catch { data = {}; }
  return { ok: response.ok, status: response.status, data };
}

function allSections() {
  return issue.sections.flatMap((s) => [s, ...s.items]);
}
function findSection(id) { return allSections().find((s) => s.id === id); }

// Local copies ------------------------------------------------------------------------------------------
function keep(key) { localStorage.setItem(STORE + key, JSON.stringify(pending.get(key))); }
function forget(key) { localStorage.removeItem(STORE + key); }

function restoreLocal() {
  for (let n = 0; n < localStorage.length; n++) {
    const name = localStorage.key(n);
    if (!name.startsWith(STORE)) continue;
    const key = name.slice(STORE.length);
    const entry = JSON.parse(localStorage.getItem(name));
    if (key === "issue") Object.assign(issue, entry.fields);
    else {
      const section = findSection(Number(key));
      if (!section) { localStorage.removeItem(name); n--; continue; }
      Object.assign(section, entry.fields);
    }
    pending.set(key, entry);
    schedule(key, 500);
  }
  if (pending.size) say("Restored text not yet saved; saving…");
}

// Saving ------------------------------------------------------------------------------------------------
function edited(key, name, value) {
  const target = key === "issue" ? issue : findSection(Number(key));
  target[name] = value;
  const entry = pending.get(key) || { fields: {}, version: target.version };
  entry.fields[name] = value;
  pending.set(key, entry);
  keep(key);
  say("Not saved yet");
  schedule(key, AUTOSAVE_MS);
}

function schedule(key, delay) {
  clearTimeout(timers.get(key));
  timers.set(key, setTimeout(() => save(key), delay));
}

async function save(key) {
  clearTimeout(timers.get(key));
  const entry = pending.get(key);
  if (!entry || inflight.has(key)) return;
  if (conflictKey === key && !$("#conflict").hidden) return; // the editor chooses first
  inflight.add(key);
  pending.delete(key);
  const url = key === "issue" ? urls.issueUrl : sectionUrl(key);
  say("Saving…");
  let result;
  try {
    result = await post(url, { ...entry.fields, version: entry.version });
  } catch {
    result = { ok: false, status: 0, data: {} };
  }
  inflight.delete(key);
  const later = pending.get(key); // typed while saving
  if (result.ok) {
    retryDelay = 0;
    const target = key === "issue" ? issue : findSection(Number(key));
    if (target) target.version = result.data.version;
    if (later) { later.version = result.data.version; keep(key); schedule(key, AUTOSAVE_MS); } else forget(key);
    issue.findings = result.data.findings;
    say(`Saved · ${result.data.saved_at}`);
    clearErrors();
    renderOutline();
    renderFindings();
    refreshPreview();
  } else if (result.status === 409 && result.data.conflict && sameAsSaved(entry.fields, result.data.theirs)) {
    // What is stored is already this text (a save sent as the last page closed): nothing to choose.
    const target = key === "issue" ? issue : findSection(Number(key));
    if (target) target.version = result.data.version;
    if (later) { later.version = result.data.version; keep(key); schedule(key, AUTOSAVE_MS); } else forget(key);
    say(`Saved · ${time()}`);
  } else if (result.status === 409 && result.data.conflict) {
    pending.set(key, { fields: { ...entry.fields, ...(later ? later.fields : {}) }, version: entry.version });
    keep(key);
    showConflict(key, result.data);
  } else if (result.status === 400 || result.status === 409) {
    pending.set(key, { fields: { ...entry.fields, ...(later ? later.fields : {}) }, version: entry.version });
    keep(key);
    showErrors(result.data);
    say("Not saved: see the message");
  } else {
    // The network or the server failed: the text is in localStorage; try again, a little later each time.
    pending.set(key, { fields: { ...entry.fields, ...(later ? later.fields : {}) }, version: entry.version });
    keep(key);
    retryDelay = Math.min((retryDelay || 2500) * 2, 60000);
    say(`Not saved (no connection); kept on this computer, retrying in ${Math.round(retryDelay / 1000)} s`);
    schedule(key, retryDelay);
  }
}

function sameAsSaved(fields, theirs) {
  return Object.entries(fields).every(([name, value]) => String(value ?? "") === String(theirs[name] ?? ""));
}

function saveAll() { return Promise.all([...pending.keys()].map((key) => save(key))); }

function clearErrors() {
  $("#field-errors").textContent = "";
  $("#body-error").textContent = "";
  $("#compose-error").hidden = true;
}

function showErrors(data) {
  if (data.errors) {
    $("#body-error").textContent = data.errors.body_markdown || "";
    $("#field-errors").textContent = Object.entries(data.errors).filter(([name]) => name !== "body_markdown")
      .map(([name, message]) => `${name.replace("_", " ")}: ${message}`).join(" ");
  } else {
    $("#compose-error").textContent = data.error || "That could not be saved.";
    $("#compose-error").hidden = false;
  }
}

// A conflict: both texts side by side; nothing is overwritten until the editor chooses.
let conflictKey = null;
let conflictData = null;
function showConflict(key, data) {
  conflictKey = key;
  conflictData = data;
  const field = key === "issue" ? "subject" : "body_markdown";
  const describe = (fields) => (key === "issue" ? `${fields.subject}\n${fields.preheader}` : `${fields.heading}\n\n${fields[field]}`);
  $("#conflict-message").textContent = data.message;
  $("#conflict-yours").value = describe(data.yours);
  $("#conflict-theirs").value = describe(data.theirs);
  $("#conflict").hidden = false;
  say("Not saved: someone else changed it");
}

$("#conflict-keep-mine").addEventListener("click", () => {
  const entry = pending.get(conflictKey);
  entry.version = conflictData.version;
  keep(conflictKey);
  $("#conflict").hidden = true;
  save(conflictKey);
});
$("#conflict-take-theirs").addEventListener("click", () => {
  const target = conflictKey === "issue" ? issue : findSection(Number(conflictKey));
  Object.assign(target, conflictData.theirs, { version: conflictData.version });
  pending.delete(conflictKey);
  forget(conflictKey);
  $("#conflict").hidden = true;
  if (conflictKey === "issue") fillEnvelope(); else select(target.id);
  say("Took the saved text");
});

// The outline -------------------------------------------------------------------------------------------
function chip(text, kind) {
  const span = document.createElement("span");
  span.className = `composer-chip composer-chip--${kind}`;
  span.textContent = text;
  return span;
}

function topicName(id) { return issue.topics.find((t) => t.id === id)?.name ?? "topic"; }

function outlineItem(section) {
  const li = document.createElement("li");
  li.dataset.id = section.id;
  li.draggable = issue.writable;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "composer-outline-item";
  button.dataset.id = section.id;
  if (section.id === selected) button.setAttribute("aria-current", "true");
  const name = document.createElement("span");
  name.className = "composer-outline-heading";
  name.textContent = section.heading || `(${section.kind_label})`;
  button.append(name, chip(section.kind_label, "kind"));
  for (const id of section.topics) button.append(chip(topicName(id), "topic"));
  const found = issue.findings[String(section.id)] || [];
  if (found.length) button.append(chip(`${found.length} to check`, found.some((f) => f.level === "error") ? "error" : "warning"));
  li.append(button);
  if (section.items && section.items.length) {
    const ol = document.createElement("ol");
    ol.dataset.parent = section.id;
    for (const item of section.items) ol.append(outlineItem(item));
    li.append(ol);
  }
  return li;
}

function renderOutline() {
  const outline = $("#outline");
  const focused = document.activeElement && document.activeElement.closest("#outline") ? selected : null;
  outline.replaceChildren(...issue.sections.map(outlineItem));
  if (focused) $(`#outline button[data-id="${focused}"]`)?.focus();
}

function renderFindings() {
  const list = $("#section-findings");
  list.replaceChildren();
  for (const finding of (selected && issue.findings[String(selected)]) || []) {
    const li = document.createElement("li");
    li.className = `composer-finding composer-finding--${finding.level}`;
    li.textContent = finding.message;
    list.append(li);
  }
  const whole = $("#issue-findings");
  whole.replaceChildren();
  if (issue.findings.issue && issue.findings.issue.length) {
    const heading = document.createElement("h3");
    heading.textContent = "The whole issue";
    const ul = document.createElement("ul");
    ul.className = "composer-findings";
    for (const finding of issue.findings.issue) {
      const li = document.createElement("li");
      li.className = `composer-finding composer-finding--${finding.level}`;
      li.textContent = finding.message;
      ul.append(li);
    }
    whole.append(heading, ul);
  }
}

$("#outline").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-id]");
  if (button) select(Number(button.dataset.id));
});

$("#outline").addEventListener("keydown", (event) => {
  const button = event.target.closest("button[data-id]");
  if (!button || !event.altKey || !["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key)) return;
  event.preventDefault();
  const id = Number(button.dataset.id);
  select(id);
  if (event.key === "ArrowRight") nestOrUnnest(id, "nest");
  else if (event.key === "ArrowLeft") nestOrUnnest(id, "unnest");
  else move(id, event.key === "ArrowUp" ? -1 : 1);
});

// Into the digest group just above, or out of its group (one level only: groups do not nest).
function groupAbove(section) {
  if (section.parent || ["digest", "closing"].includes(section.kind)) return null;
  const above = issue.sections[issue.sections.findIndex((s) => s.id === section.id) - 1];
  return above && above.kind === "digest" ? above : null;
}
async function nestOrUnnest(id, action) {
  const section = findSection(id);
  const name = section.heading || section.kind_label;
  const group = action === "nest" ? groupAbove(section) : section.parent && findSection(section.parent);
  if (!group) {
    $("#outline-announce").textContent = action === "nest"
      ? `“${name}” cannot move into a group: there is no digest group just above it${section.parent ? ", and groups do not nest" : ""}.`
      : `“${name}” is not in a group.`;
    return;
  }
  await saveAll(); // the move changes the section's kind: its own text is saved first
  const result = await structure({ action, id });
  if (!result) return;
  const groupName = group.heading || group.kind_label;
  if (action === "nest") {
    const items = findSection(group.id).items;
    $("#outline-announce").textContent = `Moved “${name}” into the group “${groupName}”, item ${items.length} of ${items.length}.`;
  } else {
    const place = issue.sections.findIndex((s) => s.id === id) + 1;
    $("#outline-announce").textContent = `Moved “${name}” out of the group “${groupName}”, to place ${place} of ${issue.sections.length}.`;
  }
  $(`#outline button[data-id="${id}"]`)?.focus();
}

// Drag and drop: a section moves among its siblings (the top level, or one group's items).
let dragged = null;
$("#outline").addEventListener("dragstart", (event) => {
  const li = event.target.closest("li[data-id]");
  dragged = li ? Number(li.dataset.id) : null;
  if (dragged) event.dataTransfer.setData("text/plain", String(dragged));
});
$("#outline").addEventListener("dragover", (event) => { if (dragged) event.preventDefault(); });
$("#outline").addEventListener("drop", (event) => {
  event.preventDefault();
  const target = event.target.closest("li[data-id]");
  if (!dragged || !target) return;
  const from = findSection(dragged);
  const to = findSection(Number(target.dataset.id));
  if (!from || !to || from.parent !== to.parent || from.id === to.id) return;
  const ids = siblingsOf(from).map((s) => s.id);
  const toAt = ids.indexOf(to.id);
  ids.splice(ids.indexOf(from.id), 1);
  ids.splice(toAt, 0, from.id); // after the target when moving down, before it when moving up
  reorder(from, ids);
  dragged = null;
});

function siblingsOf(section) {
  return section.parent ? findSection(section.parent).items : issue.sections;
}

async function move(id, step) {
  const section = findSection(id);
  const siblings = siblingsOf(section).map((s) => s.id);
  const at = siblings.indexOf(id);
  if (at + step < 0 || at + step >= siblings.length) return;
  siblings.splice(at, 1);
  siblings.splice(at + step, 0, id);
  await reorder(section, siblings);
  $(`#outline button[data-id="${id}"]`)?.focus();
}

async function reorder(section, order) {
  saveAll();
  const result = await structure({ action: "reorder", parent: section.parent, order, selected: section.id });
  if (result) {
    const place = order.indexOf(section.id) + 1;
    $("#outline-announce").textContent = `Moved “${section.heading || section.kind_label}” to place ${place} of ${order.length}.`;
  }
}

async function structure(body) {
  say("Saving…");
  let result;
  try { result = await post(urls.structureUrl, body); } catch { result = { ok: false, status: 0, data: {} }; }
  if (!result.ok) {
    showErrors(result.data.error ? result.data : { error: "Not saved (no connection): try again." });
    say("Not saved");
    return null;
  }
  const keepSelected = result.data.selected || selected;
  loadIssue(result.data);
  say(`Saved · ${time()}`);
  if (keepSelected) select(keepSelected);
  refreshPreview();
  return result.data;
}

$("#add-section").addEventListener("click", () => structure({ action: "add", kind: "article" }));

form.querySelector(".composer-move").addEventListener("click", (event) => {
  const action = event.target.closest("button")?.dataset.action;
  if (!action || !selected) return;
  const section = findSection(selected);
  if (action === "up" || action === "down") move(selected, action === "up" ? -1 : 1);
  else if (action === "nest" || action === "unnest") nestOrUnnest(selected, action);
  else if (action === "duplicate") { saveAll(); structure({ action: "duplicate", id: selected }); }
  else if (action === "add-item") structure({ action: "add", parent: section.parent || section.id });
  else if (action === "remove" && window.confirm(`Remove “${section.heading || section.kind_label}”${section.items?.length ? " and its items" : ""}?`)) {
    pending.delete(String(selected));
    forget(String(selected));
    structure({ action: "remove", id: selected });
  }
});

// The section editor ------------------------------------------------------------------------------------
function select(id) {
  if (selected && selected !== id && pending.has(String(selected))) save(String(selected));
  const section = findSection(id);
  if (!section) return;
  selected = id;
  $("#editor-empty").hidden = true;
  form.hidden = false;
  $("#editor-heading").textContent = section.heading ? `Section: ${section.heading}` : "Section";
  for (const name of SECTION_FIELDS) {
    const field = form.elements[name];
    if (field) field.value = section[name] ?? "";
  }
  $("#kind-row").hidden = Boolean(section.parent);
  $("#event-fields").hidden = section.kind !== "event";
  form.querySelector('[data-action="add-item"]').hidden = !(section.kind === "digest" || section.parent);
  form.querySelector('[data-action="nest"]').hidden = !groupAbove(section);
  form.querySelector('[data-action="unnest"]').hidden = !section.parent;
  $("#section-change-link").href = section.change_url;
  fillTopics(section);
  fillParts(section);
  renderOutline();
  renderFindings();
  clearErrors();
  $("#paste-notes").textContent = "";
  for (const el of form.elements) el.disabled = !issue.writable;
  refreshPreview(false);
}

// Topics: tick boxes for the newsletter's topics (none ticked: every reader gets the section).
function fillTopics(section) {
  $("#topics-part").hidden = !issue.topics.length;
  $("#topic-boxes").replaceChildren(...issue.topics.map((topic) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "topics";
    box.value = topic.id;
    box.checked = section.topics.includes(topic.id);
    box.disabled = !issue.writable;
    label.append(box, ` ${topic.name}`);
    return label;
  }));
}

form.addEventListener("input", (event) => {
  const name = event.target.name;
  if (selected && name === "topics") {
    const ticked = [...form.querySelectorAll("input[name=topics]:checked")].map((box) => Number(box.value));
    edited(String(selected), "topics", ticked);
    renderOutlineSoon();
    return;
  }
  if (!selected || !SECTION_FIELDS.includes(name)) return;
  edited(String(selected), name, event.target.value);
  if (name === "kind") $("#event-fields").hidden = event.target.value !== "event";
});
form.addEventListener("change", (event) => {
  if (event.target.name === "heading" || event.target.name === "kind") renderOutlineSoon();
});
form.addEventListener("focusout", () => { if (selected && pending.has(String(selected))) save(String(selected)); });
let outlineTimer = null;
function renderOutlineSoon() { clearTimeout(outlineTimer); outlineTimer = setTimeout(renderOutline, 50); }

// The toolbar inserts Markdown around the selection (or at the cursor).
const body = form.elements.body_markdown;
function replaceSelection(make) {
  const { selectionStart: start, selectionEnd: end, value } = body;
  const [text, cursorFrom, cursorTo] = make(value.slice(start, end));
  body.setRangeText(text, start, end, "end");
  body.setSelectionRange(start + cursorFrom, start + cursorTo);
  body.focus();
  body.dispatchEvent(new Event("input", { bubbles: true }));
}
function prefixLines(prefix) {
  return (text) => {
    const lines = (text || "").split("\n");
    const out = lines.map((line, n) => (typeof prefix === "function" ? prefix(n) : prefix) + line).join("\n");
    return [out, out.length, out.length];
  };
}
const MARKDOWN = {
  bold: (t) => [`**${t || "bold text"}**`, 2, 2 + (t || "bold text").length],
  italic: (t) => [`*${t || "italic text"}*`, 1, 1 + (t || "italic text").length],
  link: (t) => [`[${t || "link text"}](https://)`, (t || "link text").length + 3, (t || "link text").length + 11],
  bullets: prefixLines("- "),
  numbers: prefixLines((n) => `${n + 1}. `),
  subheading: (t) => [`\n### ${t || "Subheading"}\n`, 5, 5 + (t || "Subheading").length],
};
$(".composer-toolbar").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-md]");
  if (button && !body.disabled) replaceSelection(MARKDOWN[button.dataset.md]);
});

// Paste: HTML goes to the server's converter (editor/paste.py); the Markdown it returns is inserted.
body.addEventListener("paste", async (event) => {
  const html = event.clipboardData && event.clipboardData.getData("text/html");
  if (!html) return; // plain text pastes as it is
  event.preventDefault();
  const notes = $("#paste-notes");
  if (html.length > Number(urls.pasteLimit)) {
    notes.textContent = `That paste is ${(html.length / 1e6).toFixed(1)} MB of markup, more than this screen converts. Paste it in parts, or as plain text (Ctrl+Shift+V).`;
    return;
  }
  notes.textContent = "Converting the pasted text…";
  const data = new FormData();
  data.append("html", html);
  let result;
  try { result = await post(urls.pasteUrl, data, false); } catch { result = { ok: false, data: { error: "The paste could not be converted (no connection): try again." } }; }
  if (!result.ok) { notes.textContent = result.data.error || "The paste could not be converted."; return; }
  body.focus();
  replaceSelection(() => [result.data.markdown, result.data.markdown.length, result.data.markdown.length]);
  notes.textContent = ["Pasted as Markdown.", ...result.data.notes].join(" ");
});

// Subject, preheader, and how they show in an inbox ------------------------------------------------------
function truncate(text, limit) { return text.length > limit ? `${text.slice(0, limit - 1).trimEnd()}…` : text; }
function fillEnvelope() {
  for (const name of ["subject", "preheader", "visibility", "second_subject", "second_preheader"]) {
    const field = $(`#compose-${name}`);
    if (field) field.value = issue[name] ?? "";
  }
  updateEnvelope();
}
function updateEnvelope() {
  for (const name of ["subject", "preheader"]) {
    const count = $(`#compose-${name}-count`);
    const length = issue[name].length;
    count.textContent = `${length} / ${count.dataset.limit} characters`;
    count.classList.toggle("over", length > Number(count.dataset.limit));
  }
  // Gmail's list shows about 90 characters of subject and preheader together; Outlook about 50 of each.
  const gmail = $(".composer-inbox-row--gmail");
  const gmailSubject = truncate(issue.subject, 90);
  gmail.querySelector(".inbox-sender").textContent = truncate(issue.sender, 20);
  gmail.querySelector(".inbox-subject").textContent = gmailSubject;
  gmail.querySelector(".inbox-preheader").textContent = `– ${truncate(issue.preheader, Math.max(0, 90 - gmailSubject.length))}`;
  const outlook = $(".composer-inbox-row--outlook");
  outlook.querySelector(".inbox-sender").textContent = truncate(issue.sender, 30);
  outlook.querySelector(".inbox-subject").textContent = truncate(issue.subject, 50);
  outlook.querySelector(".inbox-preheader").textContent = truncate(issue.preheader, 50);
}
for (const input of document.querySelectorAll("[data-issue-field]")) {
  input.addEventListener("input", () => { edited("issue", input.dataset.issueField, input.value); updateEnvelope(); });
  input.addEventListener("blur", () => { if (pending.has("issue")) save("issue"); });
  if (input.tagName === "SELECT") input.addEventListener("change", () => save("issue"));
}

// The preview: the sending code's rendering, in a sandboxed frame that runs no script -----------------------
let previewTimer = null;
function refreshPreview(reload = true) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => showPreview(reload), 300);
}
async function showPreview(reload) {
  const frame = $("#preview-frame");
  const text = $("#preview-text");
  frame.classList.toggle("composer-frame--phone", view === "phone");
  if (view === "text") {
    frame.hidden = true;
    text.hidden = false;
    try { text.textContent = await (await fetch(`${urls.textUrl}?language=${previewLanguage()}`, { credentials: "same-origin" })).text(); } catch { /* kept as it was */ }
    return;
  }
  frame.hidden = false;
  text.hidden = true;
  const base = view === "web" ? urls.webUrl : urls.emailUrl;
  const section = selected && findSection(selected);
  const anchor = !section ? "" : view === "web" ? "" : `#compose-${section.id}`;
  const current = frame.getAttribute("src") || "";
  const stamp = reload || !current.startsWith(base) ? Date.now() : new URL(current, location.href).searchParams.get("v");
  frame.src = `${base}?v=${stamp}&language=${previewLanguage()}${anchor}`;
}
// A bilingual newsletter: the preview in the language chosen beside the tabs (compose.html), else the first.
function previewLanguage() { return $("#preview-language")?.value ?? ""; }
$("#preview-language")?.addEventListener("change", () => showPreview(true));
$(".composer-preview .tabs").addEventListener("click", (event) => {
  const tab = event.target.closest("[role=tab]");
  if (tab) chooseTab(tab);
});
$(".composer-preview .tabs").addEventListener("keydown", (event) => {
  const tabs = [...document.querySelectorAll(".composer-preview [role=tab]")];
  const at = tabs.indexOf(event.target);
  if (at < 0 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
  const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  chooseTab(next);
});
function chooseTab(tab) {
  for (const other of document.querySelectorAll(".composer-preview [role=tab]")) {
    other.setAttribute("aria-selected", String(other === tab));
    other.tabIndex = other === tab ? 0 : -1;
  }
  $("#preview-panel").setAttribute("aria-labelledby", tab.id);
  view = tab.dataset.view;
  showPreview(true);
}

// Who else has this draft open -----------------------------------------------------------------------------
function showOthers(others) {
  const note = $("#compose-presence");
  note.hidden = !others.length;
  note.textContent = others.length
    ? `Also open by ${others.map((o) => `${o.name} (since ${o.since})`).join(", ")}. If you both change the same section, the second to save is asked which text to keep.`
    : "";
}
async function heartbeat() {
  try {
    const result = await post(urls.presenceUrl, {});
    if (result.ok) showOthers(result.data.others);
  } catch { /* the next beat tries again */ }
}

// Start --------------------------------------------------------------------------------------------------
function loadIssue(data) {
  issue = data;
  showOthers(data.others || []);
  renderOutline();
  renderFindings();
}

setupParts({
  post,
  current: () => (selected ? findSection(selected) : null),
  writable: () => issue.writable,
  say,
  saved(data) {
    issue.findings = data.findings;
    say(`Saved · ${time()}`);
    clearErrors();
    renderOutline();
    renderFindings();
    refreshPreview();
  },
});

async function start() {
  const response = await fetch(urls.dataUrl, { credentials: "same-origin" });
  loadIssue(await response.json());
  restoreLocal();
  fillEnvelope();
  for (const input of document.querySelectorAll("[data-issue-field]")) input.disabled = !issue.writable;
  $("#add-section").disabled = !issue.writable;
  const first = issue.sections[0];
  if (first) select(first.id); else refreshPreview();
  if (!pending.size) say(issue.writable ? "All changes saved" : "Read only");
  root.dataset.ready = "true";
  setInterval(heartbeat, 20000);
}

window.addEventListener("beforeunload", (event) => {
  if (pending.size || inflight.size) { saveAll(); event.preventDefault(); }
});
start();
