// Boot and routing. The app is one page: paths under /app/ pick the view.

import { ApiError, get, post, put, setCsrf } from "./api.js";
import { forgotView, joinView, loginView, resetView, setupView } from "./auth.js";
import { Live } from "./live.js";
import { STATUSES, avatar, clear, h, icon, statusLabel, toast } from "./dom.js";
import { inboxView } from "./inbox.js";
import { notificationsView, profileView, shortcutsView } from "./pages.js";
import { teamView } from "./team.js";
import { reportsView } from "./reports.js";
import * as notify from "./notify.js";
import * as attention from "./attention.js";
import { invalidateShortcuts } from "./composer.js";

const root = document.getElementById("root");

/// What every view may read: the user, their team and role, the live socket.
export const app = { me: null, live: null, teamId: null, role: null, invitations: [], cleanup: [] };

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => route());

export async function refreshMe() {
  const [me, invitations] = await Promise.all([get("/api/me"), get("/api/invitations")]);
  app.me = me;
  app.invitations = invitations;
  if (me.csrf_token) setCsrf(me.csrf_token);
  app.teamId = me.active_team_id;
  app.role = me.teams.find((t) => t.id === me.active_team_id)?.role ?? null;
  return me;
}

async function boot() {
  try {
    await refreshMe();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return route();
    clear(root, h("div", { class: "boot" }, "Baton is not reachable. Retrying…"));
    return setTimeout(boot, 2000);
  }
  startLive();
  route();
}

function startLive() {
  app.live?.close();
  app.live = new Live();
  app.live.addEventListener("agent.status", (e) => {
    const d = e.detail.data;
    if (d.agent_id === app.me?.user.id) {
      app.me.status = d.status;
      app.me.status_source = d.source;
      renderStatus();
    }
  });
  app.live.addEventListener("status", renderConn);
  app.live.addEventListener("notification", (e) => notify.show(e.detail.data, navigate));
  attention.watch(app.live, () => app.me?.user.id);
  // Keep this browser's push subscription current once notifications are allowed.
  if ("Notification" in window && Notification.permission === "granted") notify.enablePush();
  // Invitations sent, withdrawn or answered elsewhere: the banners follow. Re-read on every
  // socket open too: a change made before the socket listened reached no frame.
  const rereadInvitations = async () => {
    try {
      app.invitations = await get("/api/invitations");
      renderInvitations();
    } catch { /* the next page load shows them */ }
  };
  app.live.addEventListener("invitations.changed", rereadInvitations);
  app.live.addEventListener("reconnected", rereadInvitations);
  // The name or picture changed (here or in another tab): the header shows the new one.
  app.live.addEventListener("profile.changed", async () => {
    try { await refreshMe(); renderProfile(); } catch { /* the next page load shows it */ }
  });
  // Shortcuts changed anywhere: the composer's "/" list is read again when next used.
  app.live.addEventListener("team.changed", (e) => { if (e.detail.data?.what === "shortcuts") invalidateShortcuts(); });
  app.live.addEventListener("access.changed", async () => {
    await refreshMe();
    route();
  });
}

export function signedOut() {
  app.live?.close();
  app.live = null;
  app.me = null;
  navigate("/app/login", { replace: true });
}

function route() {
  for (const f of app.cleanup.splice(0)) f();
  const path = location.pathname.replace(/\/+$/, "");
  if (path === "/app/setup") return setupView(root, onSignedIn);
  if (path === "/app/join") return joinView(root, onSignedIn);
  if (path === "/app/reset") return resetView(root);
  if (path === "/app/forgot" && !app.me) return forgotView(root);
  if (!app.me) return loginView(root, onSignedIn);
  if (path === "/app/login" || path === "/app") return navigate("/app/inbox", { replace: true });
  const [, , section, ...rest] = path.split("/");
  const content = shell(section);
  switch (section) {
    case "inbox":
    case "mine":
    case "snoozed":
    case "resolved":
      return inboxView(content, section, rest[0]);
    case "shortcuts":
      return shortcutsView(content);
    case "notifications":
      return notificationsView(content);
    case "profile":
      return profileView(content);
    case "team":
      return teamView(content, rest);
    case "reports":
      return reportsView(content);
    default:
      return navigate("/app/inbox", { replace: true });
  }
}

async function onSignedIn() {
  await refreshMe();
  startLive();
  navigate("/app/inbox", { replace: true });
}

// ---------- the shell ----------

const TITLES = { inbox: "Main Inbox", mine: "Assigned to me", snoozed: "Snoozed", resolved: "Resolved", shortcuts: "Shortcuts", notifications: "Notification", profile: "Profile", team: "Team", reports: "Reports" };

let statusSlot = null;
let connSlot = null;

function navLink(href, name, label, section) {
  const current = href.split("/")[2] === section;
  return h("a", { href, "data-link": true, "aria-current": current ? "page" : false }, icon(name), h("span", { class: "label" }, label));
}

function shell(section) {
  const me = app.me;
  const admin = app.role === "owner" || app.role === "admin";
  const teams = me.teams.length > 1
    ? h("label", {}, h("span", { class: "sr-only" }, "Active team"),
        h("select", { "aria-label": "Active team", onchange: async (e) => {
          await put("/api/me/active-team", { team_id: e.target.value });
          await refreshMe();
          startLive();
          navigate("/app/inbox");
        } }, me.teams.map((t) => h("option", { value: t.id, selected: t.id === app.teamId }, t.name))))
    : h("div", { class: "brand", style: { fontSize: "13px", color: "#c7c9f0", padding: "8px 10px" } }, me.teams[0]?.name ?? "");
  const nav = h("nav", { class: "nav", "aria-label": "Main" },
    h("div", { class: "brand" }, h("img", { src: "/app/favicon.svg", alt: "" }), h("span", {}, "Baton")),
    h("h2", {}, "Live chat"),
    navLink("/app/inbox", "inbox", "Main Inbox", section),
    navLink("/app/mine", "mine", "Assigned to me", section),
    navLink("/app/snoozed", "snooze", "Snoozed", section),
    navLink("/app/resolved", "resolved", "Resolved", section),
    navLink("/app/shortcuts", "bolt", "Shortcuts", section),
    navLink("/app/notifications", "bell", "Notification", section),
    admin ? [h("h2", {}, "Manage"), navLink("/app/reports", "chart", "Reports", section), navLink("/app/team", "team", "Team & bots", section)] : null,
    h("div", { class: "spacer" }),
    teams,
  );
  statusSlot = h("div", { class: "menu" });
  connSlot = h("span");
  profileSlot = h("div", { class: "menu-slot" });
  renderProfile();
  const profile = profileSlot;
  const content = h("div", { class: "content" });
  const main = h("div", { class: "main" },
    h("header", { class: "topbar" }, h("h1", {}, TITLES[section] ?? "Baton"), connSlot, statusSlot, profile),
    invitationSlot = h("div", { class: "invitations" }, invitationBanners()),
    notificationBanner(),
    content,
  );
  clear(root, h("div", { class: "app" }, nav, main));
  renderStatus();
  renderConn();
  return content;
}

let profileSlot = null;

/// The header's profile button, drawn again when the name or picture changes (in any tab).
function renderProfile() {
  if (!profileSlot || !app.me) return;
  const me = app.me;
  const admin = app.role === "owner" || app.role === "admin";
  clear(profileSlot, menu(
    [avatar(me.user.display_name, me.user.avatar_url), h("span", { class: "sr-only" }, "Profile menu"), icon("chevron")],
    () => [
      h("div", { style: { padding: "8px 10px" } }, h("b", {}, me.user.display_name), h("div", { style: { color: "var(--muted)", fontSize: "12px" } }, me.user.email)),
      h("hr"),
      h("a", { href: "/app/profile", "data-link": true }, icon("user"), "Profile"),
      admin ? h("a", { href: "/app/team", "data-link": true }, icon("team"), "Team & bots") : null,
      h("button", { onclick: async () => { await fetchLogout(); } }, icon("logout"), "Log out"),
    ],
    "Profile menu",
  ));
}

async function fetchLogout() {
  try { await post("/api/auth/logout"); } catch { /* the session is gone already */ }
  signedOut();
}

/// A button with a popup; the popup is rebuilt each time it opens.
export function menu(label, items, ariaLabel) {
  const wrap = h("div", { class: "menu" });
  const button = h("button", { type: "button", "aria-haspopup": "menu", "aria-expanded": "false", "aria-label": ariaLabel }, label);
  let popup = null;
  const close = () => { popup?.remove(); popup = null; button.setAttribute("aria-expanded", "false"); };
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    if (popup) return close();
    popup = h("div", { class: "popup", role: "menu" }, items(close));
    popup.addEventListener("click", (ev) => { if (ev.target.closest("button,a")) close(); });
    wrap.append(popup);
    button.setAttribute("aria-expanded", "true");
    popup.querySelector("button,a")?.focus();
  });
  document.addEventListener("click", (e) => { if (popup && !wrap.contains(e.target)) close(); });
  wrap.addEventListener("keydown", (e) => { if (e.key === "Escape") { close(); button.focus(); } });
  wrap.append(button);
  return wrap;
}

function renderStatus() {
  if (!statusSlot || !app.me) return;
  const s = app.me.status;
  const auto = app.me.status_source === "auto";
  const control = menu(
    [h("span", { class: `dot ${s}` }), h("span", { "data-testid": "my-status" }, statusLabel(s)), auto ? h("span", { class: "tag" }, "auto") : null, icon("chevron")],
    () => STATUSES.map(([value, label, hint]) => h("button", { role: "menuitemradio", "aria-checked": String(value === s), onclick: () => setStatus(value) },
      h("span", { class: `dot ${value}` }), label, h("span", { class: "hint" }, hint))),
    `Your status: ${statusLabel(s)}`,
  );
  control.querySelector("button").classList.add("status-button");
  statusSlot.replaceWith(control);
  statusSlot = control;
}

async function setStatus(status) {
  try {
    const r = await put("/api/me/status", { status });
    app.me.status = r.status;
    app.me.status_source = r.source;
    renderStatus();
  } catch (e) {
    toast(e.message);
  }
}

function renderConn() {
  if (!connSlot) return;
  const down = app.live && !app.live.connected && app.live.wasConnected;
  const next = down ? h("span", { class: "conn", role: "status" }, "Reconnecting…") : h("span");
  connSlot.replaceWith(next);
  connSlot = next;
}

const ROLE_NAMES = { owner: "an owner", admin: "an admin", chat_agent: "a chat agent", member: "a member" };

let invitationSlot = null;

function renderInvitations() {
  if (invitationSlot) clear(invitationSlot, invitationBanners());
}

/// One banner per team that invited this user: join it, or turn it down.
function invitationBanners() {
  return (app.invitations ?? []).map((i) => {
    const error = h("span", { class: "banner-error", role: "alert" });
    const act = async (button, verb) => {
      for (const b of banner.querySelectorAll("button")) b.disabled = true;
      button.textContent = verb === "accept" ? "Joining…" : "Declining…";
      try {
        await post(`/api/invitations/${i.id}/${verb}`);
        await refreshMe();
        if (verb === "accept") toast(`You joined ${i.team_name}`);
        route();
      } catch (e) {
        error.textContent = e.status === 404 ? "This invitation is no longer open." : e.message;
        for (const b of banner.querySelectorAll("button")) b.disabled = false;
        button.textContent = verb === "accept" ? "Join team" : "Decline";
      }
    };
    const banner = h("div", { class: "banner", role: "region", "aria-label": `Invitation to ${i.team_name}` },
      icon("team"),
      h("p", {}, i.invited_by ? `${i.invited_by} invited you to join ` : "You are invited to join ", h("b", {}, i.team_name), ` as ${ROLE_NAMES[i.role] ?? i.role}.`, " ", error),
      h("button", { class: "btn primary small", onclick: (e) => act(e.currentTarget, "accept") }, "Join team"),
      h("button", { class: "btn ghost small", onclick: (e) => act(e.currentTarget, "decline") }, "Decline"),
    );
    return banner;
  });
}

function notificationBanner() {
  if (!("Notification" in window) || Notification.permission !== "default" || localStorage.getItem("baton:notify-dismissed")) return null;
  const banner = h("div", { class: "banner", role: "region", "aria-label": "Notifications" },
    icon("bell"),
    h("p", {}, h("b", {}, "Get notified about new chats. "), "Turn on browser notifications so you never miss a visitor waiting for a person."),
    h("button", { class: "btn primary small", onclick: async () => {
      const p = await notify.enable();
      if (p !== "default") banner.remove();
      if (p === "granted") toast("Notifications are on");
    } }, "Enable notifications"),
    h("button", { class: "btn ghost small", onclick: () => { localStorage.setItem("baton:notify-dismissed", "1"); banner.remove(); } }, "Dismiss"),
  );
  return banner;
}

boot();
