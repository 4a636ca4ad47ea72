// The visitor beside the chat: where they are now (updated live), where they came from, what they
// use, their local time and language, what the host page told about them, and their chats with
// the team (each opens). On a wide screen a column beside the conversation; narrower, a sheet.

import { get } from "./api.js";
import { clear, h, icon, since } from "./dom.js";
import { app, navigate } from "./main.js";
import { eraseDialog, exportVisitor } from "./privacy.js";

const KEY = "baton:visitor-panel";

export function visitorPanel(chatId) {
  let details = null;
  // Loads may overlap (a frame and a refresh): only the latest answer is shown.
  let loads = 0;
  const body = h("div", { class: "vp-body" });
  const panel = h("aside", { class: "visitor-panel", "aria-label": "Visitor details", "data-testid": "visitor-panel" },
    h("div", { class: "vp-head" }, h("b", {}, "Visitor"), h("button", { class: "btn ghost small", type: "button", "aria-label": "Close visitor details", onclick: () => show(false) }, icon("close"))),
    body);
  const toggle = h("button", { class: "btn ghost details-toggle", type: "button", "aria-label": "Visitor details", title: "Visitor details", "aria-pressed": "false", onclick: () => show(panel.hidden) }, icon("user"));

  function show(on) {
    panel.hidden = !on;
    toggle.setAttribute("aria-pressed", String(on));
    localStorage.setItem(KEY, on ? "open" : "closed");
    if (on && !details) load();
  }
  // Open by default where there is room for it.
  const wanted = localStorage.getItem(KEY);
  panel.hidden = true;
  // On a phone it covers the chat: opened by hand each time.
  const phone = matchMedia("(max-width: 800px)").matches;
  if (!phone && (wanted === "open" || (wanted === null && matchMedia("(min-width: 1200px)").matches))) show(true);

  async function load() {
    const mine = ++loads;
    if (!details) clear(body, h("p", { class: "vp-muted", role: "status" }, "Loading…"));
    try {
      const fresh = await get(`/api/live-chats/${chatId}/visitor`);
      if (mine !== loads) return;
      details = fresh;
      render();
    } catch (e) {
      if (mine === loads) clear(body, h("p", { class: "vp-muted" }, e.message));
    }
  }

  const localTime = (tz) => {
    try {
      return new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", timeZone: tz, timeZoneName: "short" }).format(new Date());
    } catch { return null; }
  };
  const languageName = (tag) => {
    try { return new Intl.DisplayNames([navigator.language || "en"], { type: "language" }).of(tag) ?? tag; } catch { return tag; }
  };
  const link = (url, text) => {
    try {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "http:") return text ?? url;
      return h("a", { href: u.href, target: "_blank", rel: "noopener noreferrer", title: u.href }, text ?? (u.host + (u.pathname === "/" ? "" : u.pathname)));
    } catch { return text ?? url; }
  };
  const row = (label, value, testid) => value ? [h("dt", {}, label), h("dd", { "data-testid": testid }, value)] : null;

  function render() {
    if (!details) return;
    const v = details.visitor;
    const c = details.context ?? {};
    const attrs = Object.entries(details.attributes ?? {});
    const time = c.time_zone ? localTime(c.time_zone) : null;
    const rating = (r) => r ? (r.scale === "thumbs" ? (r.score >= 5 ? "👍" : "👎") : "★".repeat(r.score) + "☆".repeat(5 - r.score)) : null;
    clear(body,
      h("div", { class: "vp-who" }, h("b", {}, v.display_name), v.email ? h("div", { class: "vp-muted" }, v.email) : null),
      h("section", {}, h("h3", {}, "Now"),
        c.page_url || c.browser || time
          ? h("dl", { class: "vp-facts" },
              row("Page", c.page_url ? link(c.page_url, c.page_title || null) : null, "vp-page"),
              row("Came from", c.referrer ? link(c.referrer) : null, "vp-referrer"),
              row("Browser", [c.browser, c.os].filter(Boolean).join(" on ") || null, "vp-browser"),
              row("Local time", time, "vp-time"),
              row("Language", c.language ? languageName(c.language) : null, "vp-language"))
          : h("p", { class: "vp-muted" }, "Nothing reported yet.")),
      attrs.length ? h("section", {}, h("h3", {}, "From the website"), h("dl", { class: "vp-facts", "data-testid": "vp-attributes" }, attrs.map(([k, val]) => row(k.replace(/_/g, " "), val)))) : null,
      h("section", {}, h("h3", {}, `Chats (${details.chats.length})`),
        h("div", { class: "vp-chats" }, details.chats.map((p) => h("button", { type: "button", class: `vp-chat${p.id === chatId ? " current" : ""}`, "data-chat": p.id,
          onclick: () => { if (p.id !== chatId) navigate(`/app/${p.state === "resolved" ? "resolved" : "inbox"}/${p.id}`); } },
          h("div", { class: "vp-chat-top" }, h("span", { class: `pill ${p.state}` }, p.state), h("span", {}, new Date(p.created_at).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })),
            p.id === chatId ? h("span", { class: "tag" }, "This chat") : null),
          p.preview ? h("div", { class: "vp-preview" }, p.preview) : null,
          h("div", { class: "vp-muted" }, [p.bot_name, p.assignee].filter(Boolean).join(" · "), p.rating ? h("span", { class: "vp-rating", title: `Rated ${p.rating.score}` }, " ", rating(p.rating)) : null))))),
      // A data request: owners and admins hand over or erase what is kept about the visitor.
      app.role === "owner" || app.role === "admin" ? h("section", { "data-testid": "vp-data" }, h("h3", {}, "Visitor data"),
        h("div", { class: "vp-actions" },
          h("button", { class: "btn small", type: "button", onclick: (e) => exportVisitor(v, e.currentTarget) }, "Export as JSON"),
          h("button", { class: "btn small danger", type: "button", onclick: () => eraseDialog(v) }, "Erase visitor…"))) : null);
  }

  // Live: the visitor moved on, or the site told more.
  function onFrame(f) {
    const d = f.data ?? {};
    if (f.type === "visitor.updated" && d.conversation_id === chatId && details) {
      details.context = d.context;
      details.attributes = d.attributes;
      render();
    } else if ((f.type === "chat.rated" || f.type === "chat.resolved" || f.type === "chat.reopened") && details && details.chats.some((p) => p.id === d.conversation_id)) {
      load();
    }
  }
  const ticker = setInterval(() => { if (!panel.hidden) render(); }, 30_000);
  return { panel, toggle, onFrame, stop: () => clearInterval(ticker), reload: () => { if (!panel.hidden) load(); else details = null; } };
}
