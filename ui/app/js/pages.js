// Profile, Shortcuts and Notification pages.

import { api, del, get, patch, post, put } from "./api.js";
import { enablePush } from "./notify.js";
import { avatar, clear, h, toast } from "./dom.js";
import { app, refreshMe } from "./main.js";
import { VARIABLES, invalidateShortcuts, richTools } from "./composer.js";
import * as attention from "./attention.js";

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
  const confirm = field("Current password", { name: "current_password", type: "password", autocomplete: "current-password" }, "Needed to change your email.");
  confirm.hidden = true;
  const form = h("form", { novalidate: true },
    error,
    h("div", { class: "avatar-edit" }, previewSlot,
      h("div", {}, h("label", { class: "btn", for: "avatar-file" }, "Upload a picture"), file,
        h("div", { style: { color: "var(--muted)", fontSize: "12px", marginTop: "6px" } }, "PNG, JPEG, WebP or GIF, up to 2 MB. Visitors see it next to your replies."))),
    h("div", { class: "row" },
      field("First name", { name: "first_name", value: u.first_name, autocomplete: "given-name" }),
      field("Last name", { name: "last_name", value: u.last_name, autocomplete: "family-name" })),
    field("Email", { name: "email", type: "email", value: u.email, autocomplete: "email" }, "Visitors see your first and last name; with both blank they see your email."),
    confirm,
    h("button", { class: "btn primary", type: "submit" }, "Save Changes"));
  // A new email needs the password: the field shows only then.
  const emailInput = form.querySelector("input[name=email]");
  emailInput.addEventListener("input", () => {
    confirm.hidden = emailInput.value.trim().toLowerCase() === u.email.toLowerCase();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      if (pending) {
        await api("PUT", "/api/me/avatar", pending, { raw: true });
        pending = null;
      }
      const v = Object.fromEntries(new FormData(form));
      if (!confirm.hidden && !v.current_password) throw new Error("Enter your current password to change your email.");
      const body = { first_name: v.first_name, last_name: v.last_name, email: v.email };
      if (!confirm.hidden) body.current_password = v.current_password;
      await patch("/api/me", body);
      await refreshMe();
      toast("Profile saved");
      profileView(content);
    } catch (err) {
      error.textContent = err.message.charAt(0).toUpperCase() + err.message.slice(1);
      error.hidden = false;
    }
  });
  page(content, h("section", { class: "card" }, h("h2", {}, "Profile"), h("p", { class: "sub" }, "How you appear to visitors and teammates."), form),
    passwordCard());
}

/// Change the password (asks the current one; other sessions end), or sign out everywhere.
function passwordCard() {
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const button = h("button", { class: "btn primary", type: "submit" }, "Change password");
  const form = h("form", { novalidate: true, "aria-label": "Change password" },
    error,
    field("Current password", { name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "row" },
      field("New password", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }, "At least 8 characters, not a common password."),
      field("Repeat the new password", { name: "repeat", type: "password", autocomplete: "new-password", required: true })),
    button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const v = Object.fromEntries(new FormData(form));
    const fail = (text) => { error.textContent = text.charAt(0).toUpperCase() + text.slice(1); error.hidden = false; };
    if (!v.current_password) return fail("Enter your current password.");
    if (v.new_password !== v.repeat) return fail("The new passwords do not match.");
    button.disabled = true;
    button.textContent = "Changing…";
    try {
      await put("/api/me/password", { current_password: v.current_password, new_password: v.new_password });
      form.reset();
      toast("Password changed; your other sessions were signed out");
    } catch (err) {
      fail(err.message);
    } finally {
      button.disabled = false;
      button.textContent = "Change password";
    }
  });
  const everywhere = h("button", { class: "btn", type: "button", onclick: async () => {
    if (!confirm("Sign out on every device and browser, this one included?")) return;
    everywhere.disabled = true;
    everywhere.textContent = "Signing out…";
    try { await post("/api/auth/logout-everywhere"); } catch { /* signed out already */ }
    location.assign("/app/login");
  } }, "Sign out everywhere");
  return h("section", { class: "card" }, h("h2", {}, "Password and sessions"),
    h("p", { class: "sub" }, "Changing your password signs you out everywhere else."), form,
    h("hr", { style: { margin: "18px 0", border: 0, borderTop: "1px solid var(--line, #e5e7eb)" } }),
    h("p", { class: "sub" }, "Lost a device, or used a shared computer?"), everywhere);
}

export async function shortcutsView(content) {
  const admin = app.role === "owner" || app.role === "admin";
  // The reply is rich text, like a message: bold, italic, links, lists.
  const bodyEditor = h("div", { contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-labelledby": "shortcut-body-label", "data-field": "body",
    "data-placeholder": "Hi {{visitor.first_name|there}}, refunds reach your account within 5 business days." });
  const { tools, linkBox } = richTools(bodyEditor);
  const bodyBox = h("div", { class: "rich" }, tools, linkBox, bodyEditor);
  const list = h("ul", { class: "list-plain", "aria-label": "Shortcuts" });
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const form = h("form", { novalidate: true },
    error,
    h("div", { class: "row" },
      field("Name", { name: "name", placeholder: "refund", required: true }, "Type /name in the composer to insert it."),
      admin ? h("label", { class: "field" }, h("span", {}, "Visible to"),
        h("select", { class: "input", name: "scope" }, h("option", { value: "personal" }, "Only me"), h("option", { value: "team" }, "The whole team"))) : h("input", { type: "hidden", name: "scope", value: "personal" })),
    h("div", { class: "field" }, h("span", { id: "shortcut-body-label" }, "Reply"), bodyBox,
      h("div", { class: "vars" }, "Variables:", VARIABLES.map((v) => h("button", { type: "button", title: `Insert {{${v}}}`, onmousedown: (e) => {
        e.preventDefault();
        bodyEditor.focus();
        document.execCommand("insertText", false, `{{${v}}}`);
      } }, `{{${v}}}`)), h("span", {}, "· a fallback after |, as in {{visitor.first_name|there}}"))),
    h("div", { style: { display: "flex", gap: "8px" } },
      h("button", { class: "btn primary", type: "submit" }, "Add shortcut"),
      h("button", { class: "btn", type: "button", hidden: true, "data-cancel": true, onclick: () => stopEditing() }, "Cancel")));
  // Editing a shortcut uses the same form; its scope stays what it was.
  let editing = null;
  const submitButton = form.querySelector("button[type=submit]");
  const cancelButton = form.querySelector("[data-cancel]");
  const heading = h("h2", {}, "New shortcut");
  function startEditing(s) {
    editing = s;
    form.elements.name.value = s.name;
    bodyEditor.innerHTML = s.body;
    if (form.elements.scope?.tagName === "SELECT") { form.elements.scope.value = s.scope; form.elements.scope.disabled = true; }
    submitButton.textContent = "Save changes";
    cancelButton.hidden = false;
    heading.textContent = `Edit /${s.name}`;
    bodyEditor.focus();
  }
  function stopEditing() {
    editing = null;
    form.reset();
    bodyEditor.innerHTML = "";
    if (form.elements.scope?.tagName === "SELECT") form.elements.scope.disabled = false;
    submitButton.textContent = "Add shortcut";
    cancelButton.hidden = true;
    heading.textContent = "New shortcut";
    error.hidden = true;
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const v = Object.fromEntries(new FormData(form));
    const body = bodyEditor.textContent.trim() ? bodyEditor.innerHTML : "";
    try {
      if (editing) await api("PATCH", `/api/shortcuts/${editing.id}`, { name: v.name, body });
      else await post("/api/shortcuts", { name: v.name, body, scope: v.scope });
      toast(editing ? "Shortcut saved" : "Shortcut added");
      stopEditing();
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
      (s.scope === "personal" || admin) ? [
        h("button", { class: "btn small", "aria-label": `Edit shortcut ${s.name}`, onclick: () => startEditing(s) }, "Edit"),
        h("button", { class: "btn small danger", "aria-label": `Delete shortcut ${s.name}`, onclick: async () => {
          try {
            await del(`/api/shortcuts/${s.id}`);
            if (editing?.id === s.id) stopEditing();
            invalidateShortcuts();
            load();
          } catch (err) { toast(err.message); }
        } }, "Delete")] : null)) : h("li", {}, h("span", { style: { color: "var(--muted)" } }, "No shortcuts yet.")));
  }
  page(content,
    h("section", { class: "card" }, heading, h("p", { class: "sub" }, "Saved replies you insert with / while chatting."), form),
    h("section", { class: "card" }, h("h2", {}, "Your shortcuts"), list));
  // Made, changed or deleted in another tab or by a teammate: the list follows.
  const onTeam = (e) => { if (e.detail.data?.what === "shortcuts") load().catch(() => {}); };
  app.live?.addEventListener("team.changed", onTeam);
  app.live?.addEventListener("reconnected", load);
  app.cleanup.push(() => { app.live?.removeEventListener("team.changed", onTeam); app.live?.removeEventListener("reconnected", load); });
  await load();
}

export async function notificationsView(content) {
  const permission = h("p", { class: "sub" });
  const enableButton = h("button", { class: "btn primary" }, "Enable notifications");
  const pushState = h("p", { class: "sub", role: "status" });
  function renderPermission() {
    if (!("Notification" in window)) {
      permission.textContent = "This browser does not support notifications.";
      enableButton.hidden = true;
      return;
    }
    const p = Notification.permission;
    permission.textContent = p === "granted" ? "Notifications are allowed in this browser."
      : p === "denied" ? "Notifications are blocked for this site. Allow them in your browser's site settings, then reload."
      : "Notifications are off in this browser. Turn them on to hear about chats that need you.";
    enableButton.hidden = p !== "default";
  }
  enableButton.addEventListener("click", async () => {
    const p = await Notification.requestPermission();
    renderPermission();
    if (p === "granted") {
      pushState.textContent = await enablePush();
      loadDevices();
    }
  });

  const prefs = await get("/api/me/notification-preferences");
  const toggle = (name, title, help) => h("label", { class: "switch" }, h("input", { type: "checkbox", name, checked: prefs[name] }), h("span", {}, h("b", {}, title), h("em", {}, help)));
  const saved = h("span", { role: "status", style: { color: "var(--muted)", marginLeft: "10px" } });
  const form = h("form", {},
    h("h3", {}, "When"),
    toggle("while_online", "While I'm online", "Available, busy or away."),
    toggle("while_offline", "While I'm offline", "Delivered by push to your devices."),
    h("h3", {}, "About"),
    toggle("new_escalation", "New chats waiting for a person", "Chats from bots you can access."),
    toggle("visitor_message", "Visitor messages in my chats", "When a visitor writes in a chat assigned to you."),
    toggle("transfer", "Chats transferred to me", ""),
    h("div", { style: { marginTop: "16px" } }, h("button", { class: "btn primary", type: "submit" }, "Save preferences"), saved));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = new FormData(form);
    await put("/api/me/notification-preferences", Object.fromEntries(["while_online", "while_offline", "new_escalation", "visitor_message", "transfer"].map((k) => [k, v.has(k)])));
    saved.textContent = "Saved";
  });

  const devices = h("ul", { class: "list-plain", "aria-label": "Devices" });
  async function loadDevices() {
    const subs = await get("/api/me/push-subscriptions");
    clear(devices, subs.length ? subs.map((d) => h("li", {},
      h("div", { class: "grow" }, h("b", {}, describe(d.user_agent)),
        h("span", {}, d.last_error ? `Last error: ${d.last_error}` : d.last_success_at ? `Last delivered ${new Date(d.last_success_at).toLocaleString()}` : "Nothing delivered yet")),
      h("button", { class: "btn small danger", onclick: async () => { await api("DELETE", "/api/me/push-subscriptions", { endpoint: d.endpoint }); loadDevices(); } }, "Remove")))
      : h("li", {}, h("span", { style: { color: "var(--muted)" } }, "No device receives push notifications yet.")));
  }
  // Says where the test can show, and not that it worked where the browser blocks it.
  const testButton = h("button", { class: "btn", onclick: async () => {
    try {
      const r = await post("/api/me/notifications/test");
      const here = !("Notification" in window) ? "this browser cannot show notifications"
        : Notification.permission === "granted" ? "shown here"
        : Notification.permission === "denied" ? "not shown here: notifications are blocked for this site in the browser's settings"
        : "not shown here until you allow notifications above";
      const devices = r.push_devices ? `; sent to ${r.push_devices} device${r.push_devices === 1 ? "" : "s"}` : "";
      toast(`Test notification ${here}${devices}.`);
      setTimeout(loadDevices, 1500);
    } catch (e) {
      toast(e.message);
    }
  } }, "Send test notification");

  // Sound is this browser's own setting: a shared office PC may want it off, a phone on.
  const sound = h("input", { type: "checkbox", checked: attention.soundOn(), onchange: (e) => {
    attention.setSound(e.target.checked);
    if (e.target.checked) attention.chime();
    toast(e.target.checked ? "Sound on in this browser" : "Sound off in this browser");
  } });
  const soundCard = h("section", { class: "card" }, h("h2", {}, "Sound"),
    h("label", { class: "switch" }, sound, h("span", {}, h("b", {}, "Play a sound for new chats and messages"),
      h("em", {}, "When a chat starts waiting for a person, and when a visitor writes in a chat of yours. For this browser."))));

  renderPermission();
  page(content,
    h("section", { class: "card" }, h("h2", {}, "Browser notifications"), permission, enableButton, pushState),
    soundCard,
    h("section", { class: "card" }, h("h2", {}, "Notify me"), h("p", { class: "sub" }, "Choose what reaches you and when."), form),
    h("section", { class: "card" }, h("h2", {}, "Devices"), h("p", { class: "sub" }, "Browsers that get push notifications when the inbox is closed."), devices, h("div", { style: { marginTop: "12px" } }, testButton)));
  loadDevices();
}

function describe(ua) {
  if (!ua) return "Browser";
  const browser = /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Firefox\//.test(ua) ? "Firefox" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}
