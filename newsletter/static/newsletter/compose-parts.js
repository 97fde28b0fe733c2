// The composer's links and images of the chosen section (newsletter/editor/parts.py): add, edit and remove a
// link; change an image's alt text (saved on leaving the field). Imported by compose.js, which passes `api`:
// {post(url, body), current() → the chosen section, writable() → bool, saved(data), say(text)}.
const $ = (selector) => document.querySelector(selector);

let api = null;
let editing = null; // the id of the link being edited, else null (the form adds one)
const savingAlt = new Set();

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.disabled = !api.writable();
  b.addEventListener("click", onClick);
  return b;
}

function linkName(link) { return link.title || link.url; }

export function fillParts(section) {
  const links = $("#section-links");
  links.replaceChildren(...section.links.map((link) => {
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `${link.title || "(no link text)"} — ${link.url}`;
    li.append(
      text, " ",
      button("Edit", `Edit link “${linkName(link)}”`, () => editLink(link)), " ",
      button("Remove", `Remove link “${linkName(link)}”`, () => change({ action: "remove-link", id: link.id, version: link.version })),
    );
    return li;
  }));
  if (!links.children.length) links.append(Object.assign(document.createElement("li"), { textContent: "No links yet." }));
  const images = $("#section-images");
  images.replaceChildren(...section.images.map((image, n) => {
    const li = document.createElement("li");
    li.className = "composer-image";
    const thumb = document.createElement("img");
    thumb.src = image.url;
    thumb.alt = ""; // described by the field beside it
    const label = document.createElement("label");
    label.htmlFor = `image-alt-${image.id}`;
    label.textContent = `Alt text of image ${n + 1}`;
    const input = document.createElement("input");
    input.id = `image-alt-${image.id}`;
    input.className = "composer-image-alt";
    input.maxLength = 300;
    input.value = image.alt;
    input.disabled = !api.writable();
    input.addEventListener("change", () => saveAlt(image, input));
    input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); input.blur(); } });
    li.append(thumb, label, input);
    return li;
  }));
  if (!images.children.length) images.append(Object.assign(document.createElement("li"), { textContent: "No images." }));
  resetLinkForm();
}

function resetLinkForm() {
  editing = null;
  $("#link-url").value = "";
  $("#link-title").value = "";
  $("#link-save").textContent = "Add link";
  $("#link-cancel").hidden = true;
  $("#link-error").textContent = "";
}

function editLink(link) {
  editing = link.id;
  $("#link-url").value = link.url;
  $("#link-title").value = link.title;
  $("#link-save").textContent = "Save link";
  $("#link-cancel").hidden = false;
  $("#link-url").focus();
}

async function change(body) {
  const section = api.current();
  if (!section) return null;
  api.say("Saving…");
  let result;
  try { result = await api.post(section.parts_url, body); } catch { result = { ok: false, status: 0, data: {} }; }
  if (result.data.links && api.current() === section) {
    section.links = result.data.links;
    section.images = result.data.images;
  }
  if (!result.ok) {
    const message = result.data.errors ? Object.values(result.data.errors).join(" ") : result.data.error || "Not saved (no connection): try again.";
    api.say("Not saved");
    return { ok: false, message };
  }
  api.saved(result.data);
  return { ok: true };
}

async function saveLink() {
  const link = api.current()?.links.find((l) => l.id === editing);
  const body = { url: $("#link-url").value.trim(), title: $("#link-title").value };
  const result = await change(link ? { ...body, action: "save-link", id: link.id, version: link.version } : { ...body, action: "add-link" });
  if (!result) return;
  if (result.ok) {
    fillParts(api.current());
    $("#parts-announce").textContent = link ? "Link saved." : "Link added.";
    $("#link-url").focus();
  } else {
    $("#link-error").textContent = result.message;
    $("#link-url").focus();
  }
}

async function saveAlt(image, input) {
  if (input.value === image.alt || savingAlt.has(image.id)) return;
  savingAlt.add(image.id);
  const result = await change({ action: "save-image", id: image.id, alt: input.value, version: image.version });
  savingAlt.delete(image.id);
  if (!result) return;
  const section = api.current();
  if (result.ok) $("#parts-announce").textContent = "Alt text saved.";
  else $("#parts-announce").textContent = result.message;
  const focusedId = document.activeElement?.id;
  fillParts(section);
  if (focusedId) document.getElementById(focusedId)?.focus();
}

export function setupParts(composer) {
  api = composer;
  $("#link-save").addEventListener("click", saveLink);
  $("#link-cancel").addEventListener("click", resetLinkForm);
  for (const id of ["#link-url", "#link-title"]) {
    $(id).addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); saveLink(); } });
  }
}
