// Visitor data: export what is kept about a visitor as a JSON file, or erase it after a
// confirmation; and the team page where a data request starts from an email address.

import { get, post } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { app } from "./main.js";

/// Downloads the visitor's data as a file (the button shows progress meanwhile).
export async function exportVisitor(v, button) {
  const label = button?.textContent;
  if (button) { button.disabled = true; button.textContent = "Preparing…"; }
  try {
    const doc = await post(`/api/visitors/${v.id}/export`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
    const a = h("a", { href: url, download: `visitor-${v.id}.json`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    toast("Export downloaded");
  } catch (e) {
    toast(`The export failed: ${e.message}`);
  } finally {
    if (button) { button.disabled = false; button.textContent = label; }
  }
}

/// Asks before erasing: what goes is spelled out, and "erase" must be typed.
export function eraseDialog(v, onDone) {
  const input = h("input", { class: "input", autocomplete: "off", "aria-label": "Type erase to confirm", placeholder: "erase" });
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const go = h("button", { class: "btn danger", type: "submit", disabled: true }, "Erase for good");
  const close = () => overlay.remove();
  const form = h("form", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "erase-title" },
    h("h2", { id: "erase-title" }, `Erase ${v.display_name}?`),
    h("p", {}, "Everything Baton keeps about this visitor is deleted: their name and email, every conversation with its messages, notes and files, their ratings, what the widget reported, and emails still waiting to be sent. The audit log keeps that it was done, never what was erased."),
    h("p", {}, h("b", {}, "This cannot be undone."), " Type ", h("code", {}, "erase"), " to confirm."),
    input, error,
    h("div", { class: "foot" }, h("button", { class: "btn", type: "button", onclick: close }, "Cancel"), go));
  const overlay = h("div", { class: "overlay" }, form);
  input.addEventListener("input", () => { go.disabled = input.value.trim().toLowerCase() !== "erase"; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (go.disabled) return;
    go.disabled = true;
    go.textContent = "Erasing…";
    error.hidden = true;
    try {
      const r = await post(`/api/visitors/${v.id}/erase`, { confirm: "erase" });
      close();
      toast(`Erased: ${r.conversations} ${r.conversations === 1 ? "conversation" : "conversations"}, ${r.messages} messages, ${r.files} files`);
      onDone?.();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      go.disabled = false;
      go.textContent = "Erase for good";
    }
  });
  overlay.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  document.body.append(overlay);
  input.focus();
}

/// The data-request card: find visitors by email, then export or erase each.
export function dataRequestCard() {
  const results = h("div", { class: "data-results", "aria-live": "polite", "data-testid": "data-results" });
  const email = h("input", { class: "input", type: "email", name: "email", required: true, placeholder: "name@example.com", "aria-label": "Visitor's email" });
  const find = h("button", { class: "btn primary", type: "submit" }, "Find");
  const form = h("form", { class: "data-find", novalidate: true }, email, find);
  const search = async () => {
    const q = email.value.trim();
    if (!q) { clear(results, h("p", { class: "sub" }, "Enter the email address the request came from.")); return; }
    find.disabled = true;
    clear(results, h("p", { class: "sub", role: "status" }, "Looking…"));
    try {
      const found = await get(`/api/teams/${app.teamId}/visitors?email=${encodeURIComponent(q)}`);
      if (!found.length) { clear(results, h("p", { class: "sub" }, `No visitor gave ${q}.`)); return; }
      clear(results, h("ul", { class: "data-list" }, found.map((v) => h("li", {},
        h("div", {}, h("b", {}, v.display_name), h("div", { class: "sub" }, v.email)),
        h("div", { class: "vp-actions" },
          h("button", { class: "btn small", type: "button", onclick: (e) => exportVisitor(v, e.currentTarget) }, "Export as JSON"),
          h("button", { class: "btn small danger", type: "button", onclick: () => eraseDialog(v, search) }, "Erase…"))))));
    } catch (e) {
      clear(results, h("div", { class: "error-box", role: "alert" }, e.message));
    } finally {
      find.disabled = false;
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); search(); });
  return h("section", { class: "card" }, h("h2", {}, "Visitor data requests"),
    h("p", { class: "sub" }, "When someone asks for a copy of their data or for it to be deleted: find them by the email they gave in the widget. Each export and erasure is recorded in the audit log."),
    form, results);
}

