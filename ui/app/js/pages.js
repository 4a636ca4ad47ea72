// Profile, Shortcuts and Notification pages.

import { api, del, get, patch, post } from "./api.js";
import { avatar, clear, h, toast } from "./dom.js";
import { app, refreshMe } from "./main.js";
import { invalidateShortcuts } from "./composer.js";

function page(content, ...cards) {
  clear(content, h("div", { class: "page" }, h("div", { class: "page-inner" }, cards)));
}

function field(label, attrs, help) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", { class: "input", ...attrs }), help ? h("small", {}, help) : null);
}

export function profileView(content) {
  const u = app.me.user;
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  let preview = avatar(u.display_name, u.avatar_url, "avatar lg");
  const previewSlot = h("div", {}, preview);
  const file = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", class: "sr-only", id: "avatar-file" });
  let pending = null;
  file.addEventListener("change", () => {
    const f = file.files[0];
    if (!f) return;
    if (f.size > 2 * 1024 * 1024) {
      error.textContent = "The picture must be 2 MB or smaller.";
      error.hidden = false;
      return;
    }
    pending = f;
    const url = URL.createObjectURL(f);
    clear(previewSlot, h("span", { class: "avatar lg" }, h("img", { src: url, alt: "New profile picture preview" })));
  });
  const form = h("form", { novalidate: true },
    error,
    h("div", { class: "avatar-edit" }, previewSlot,
      h("div", {}, h("label", { class: "btn", for: "avatar-file" }, "Upload a picture"), file,
        h("div", { style: { color: "var(--muted)", fontSize: "12px", marginTop: "6px" } }, "PNG, JPEG, WebP or GIF, up to 2 MB. Visitors see it next to your replies."))),
    h("div", { class: "row" },
      field("First name", { name: "first_name", value: u.first_name, autocomplete: "given-name" }),
      field("Last name", { name: "last_name", value: u.last_name, autocomplete: "family-name" })),
    field("Email", { name: "email", type: "email", value: u.email, autocomplete: "email" }, "Visitors see your first and last name; with both blank they see your email."),
    h("button", { class: "btn primary", type: "submit" }, "Save Changes"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      if (pending) {
        await api("PUT", "/api/me/avatar", pending, { raw: true });
        pending = null;
      }
      const v = Object.fromEntries(new FormData(form));
      await patch("/api/me", { first_name: v.first_name, last_name: v.last_name, email: v.email });
      await refreshMe();
      toast("Profile saved");
      profileView(content);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  page(content, h("section", { class: "card" }, h("h2", {}, "Profile"), h("p", { class: "sub" }, "How you appear to visitors and teammates."), form));
}

export async function shortcutsView(content) {
  const admin = app.role === "owner" || app.role === "admin";
  const list = h("ul", { class: "list-plain", "aria-label": "Shortcuts" });
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const form = h("form", { novalidate: true },
    error,
    h("div", { class: "row" },
      field("Name", { name: "name", placeholder: "refund", required: true }, "Type /name in the composer to insert it."),
      admin ? h("label", { class: "field" }, h("span", {}, "Visible to"),
        h("select", { class: "input", name: "scope" }, h("option", { value: "personal" }, "Only me"), h("option", { value: "team" }, "The whole team"))) : h("input", { type: "hidden", name: "scope", value: "personal" })),
    h("label", { class: "field" }, h("span", {}, "Reply"), h("textarea", { class: "input", name: "body", rows: 3, required: true, placeholder: "Refunds reach your account within 5 business days." })),
    h("button", { class: "btn primary", type: "submit" }, "Add shortcut"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const v = Object.fromEntries(new FormData(form));
    try {
      await post("/api/shortcuts", { name: v.name, body: v.body.replace(/\n/g, "<br>"), scope: v.scope });
      form.reset();
      invalidateShortcuts();
      load();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  async function load() {
    const items = await get("/api/shortcuts");
    clear(list, items.length ? items.map((s) => h("li", {},
      h("div", { class: "grow" }, h("b", {}, "/", s.name), " ", h("span", { class: "tag" }, s.scope === "team" ? "Team" : "Personal"),
        h("span", {}, new DOMParser().parseFromString(s.body, "text/html").body.textContent)),
      (s.scope === "personal" || admin) ? h("button", { class: "btn small danger", "aria-label": `Delete shortcut ${s.name}`, onclick: async () => {
        await del(`/api/shortcuts/${s.id}`);
        invalidateShortcuts();
        load();
      } }, "Delete") : null)) : h("li", {}, h("span", { style: { color: "var(--muted)" } }, "No shortcuts yet.")));
  }
  page(content,
    h("section", { class: "card" }, h("h2", {}, "New shortcut"), h("p", { class: "sub" }, "Saved replies you insert with / while chatting."), form),
    h("section", { class: "card" }, h("h2", {}, "Your shortcuts"), list));
  await load();
}

export function notificationsView(content) {
  const state = h("p", { class: "sub" });
  const button = h("button", { class: "btn primary" });
  function render() {
    if (!("Notification" in window)) {
      state.textContent = "This browser does not support notifications.";
      button.hidden = true;
      return;
    }
    const p = Notification.permission;
    state.textContent = p === "granted" ? "Browser notifications are on for this browser."
      : p === "denied" ? "Notifications are blocked for this site. Allow them in your browser's site settings."
      : "Browser notifications are off. Turn them on to hear about new chats while the inbox is open.";
    button.hidden = p !== "default";
    button.textContent = "Enable notifications";
  }
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    render();
  });
  render();
  page(content, h("section", { class: "card" }, h("h2", {}, "Browser notifications"), state, button));
}
