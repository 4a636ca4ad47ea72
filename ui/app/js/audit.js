// The audit log: who did what to whom in the team, newest first, with filters and more on
// request. Owners and admins only (the server refuses the rest).

import { get } from "./api.js";
import { clear, h } from "./dom.js";
import { app } from "./main.js";

const ROLE = { owner: "Owner", admin: "Admin", chat_agent: "Chat agent", member: "Member" };

// What each action is called in the filter, in groups.
const ACTIONS = [
  ["Members", [["member.invited", "Invited"], ["invitation.withdrawn", "Invitation withdrawn"], ["member.joined", "Joined"], ["member.removed", "Removed"],
    ["member.role_changed", "Role changed"], ["member.bot_access_changed", "Bot access changed"], ["member.capacity_changed", "Capacity changed"]]],
  ["Bots and settings", [["bot.created", "Bot created"], ["bot.updated", "Bot changed"], ["bot.deleted", "Bot deleted"], ["team.settings_changed", "Team settings changed"]]],
  ["Sign-in and tokens", [["login.new_address", "Sign-in from a new address"], ["password.reset", "Password set by link"], ["token.created", "API token created"], ["token.revoked", "API token revoked"]]],
  ["Visitor data", [["visitor.erased", "Visitor erased"], ["visitor.exported", "Visitor exported"], ["retention.deleted", "Old chats deleted"]]],
  ["Webhooks", [["webhook.created", "Webhook added"], ["webhook.updated", "Webhook changed"], ["webhook.deleted", "Webhook removed"], ["webhook.disabled", "Webhook turned off"]]],
];

const FIELD = {
  greeting: "greeting", name: "name", knowledge: "knowledge base", responder: "responder", logo_url: "logo", widget: "widget",
  auto_away_minutes: "auto-away", heartbeat_timeout_seconds: "offline timeout", visitor_email_delay_seconds: "reply email delay",
  orphan_grace_seconds: "requeue delay", csat: "satisfaction survey", pending_alert_seconds: "waiting-chat reminders",
  attachment_max_bytes: "file size limit", attachment_kinds: "file kinds", retention_days: "retention period",
  url: "address", events: "events", enabled: "on/off", secret: "signing secret",
};

function fields(list) {
  const names = [...new Set((list ?? []).map((f) => FIELD[f] ?? FIELD[f.split(".").pop()] ?? f.split(".").pop().replaceAll("_", " ")))];
  return names.join(", ");
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/// One entry as a sentence, its parts as text (never HTML).
export function sentence(e) {
  const who = h("b", {}, e.actor.display_name);
  const t = h("b", {}, e.target.label);
  const d = e.detail ?? {};
  switch (e.action) {
    case "member.invited": return [who, " invited ", t, ` as ${ROLE[d.role] ?? d.role}`];
    case "invitation.withdrawn": return [who, " withdrew the invitation to ", t];
    case "member.joined": return [t, ` joined the team as ${ROLE[d.role] ?? d.role}`];
    case "member.removed": return e.actor.id && e.actor.id === e.target.id ? [t, " left the team"] : [who, " removed ", t, d.chats_requeued ? ` (${plural(d.chats_requeued, "chat", "chats")} back to the queue)` : ""];
    case "member.role_changed": return [who, " changed the role of ", t, ` from ${ROLE[d.from] ?? d.from} to ${ROLE[d.to] ?? d.to}`];
    case "member.bot_access_changed": return [who, " changed the bots ", t, ` handles to ${d.to === "all" ? "all bots" : plural(d.to?.length ?? 0, "bot", "bots")}`];
    case "member.capacity_changed": return [who, " set the chat capacity of ", t, ` to ${d.to ?? "no limit"}`];
    case "bot.created": return [who, " created the bot ", t];
    case "bot.updated": return [who, " changed the bot ", t, d.fields?.length ? `: ${fields(d.fields)}` : ""];
    case "bot.deleted": return [who, " deleted the bot ", t, " and its conversations"];
    case "team.settings_changed": return [who, " changed team settings", d.fields?.length ? `: ${fields(d.fields)}` : ""];
    case "token.created": return [who, " created the API token ", t];
    case "token.revoked": return [who, " revoked the API token ", t];
    case "login.new_address": return [who, ` signed in from an address not seen for them before (${d.address ?? e.address})`];
    case "password.reset": return [who, " set a new password with an emailed link"];
    case "visitor.erased": return [who, " erased the visitor ", t, d.conversations !== undefined ? ` (${plural(d.conversations, "conversation", "conversations")}, ${plural(d.messages ?? 0, "message", "messages")}, ${plural(d.files ?? 0, "file", "files")})` : ""];
    case "visitor.exported": return [who, " exported the data of visitor ", t];
    case "retention.deleted": return [h("b", {}, "Baton"), ` deleted ${plural(d.count ?? 0, "resolved conversation", "resolved conversations")} older than ${plural(d.days ?? 0, "day", "days")}`];
    case "webhook.created": return [who, " added the webhook ", t];
    case "webhook.updated": return [who, " changed the webhook ", t, d.fields?.length ? `: ${fields(d.fields)}` : ""];
    case "webhook.deleted": return [who, " removed the webhook ", t];
    case "webhook.disabled": return [h("b", {}, "Baton"), " turned off the webhook ", t, ` after ${plural(d.failures ?? 0, "failed delivery", "failed deliveries")} in a row`];
    default: return [who, ` ${e.action} `, t];
  }
}

const when = (iso) => new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit" });

/// The page body: filters and the list (the caller puts it in the team page's frame).
export async function auditCard(members) {
  const list = h("ol", { class: "audit", "data-testid": "audit-list", "aria-live": "polite" });
  const more = h("button", { class: "btn", type: "button", hidden: true }, "Show older entries");
  const status = h("p", { class: "sub", role: "status" });
  const filters = h("form", { class: "audit-filters", "aria-label": "Filter the audit log" },
    h("label", { class: "field" }, h("span", {}, "What"), h("select", { class: "input", name: "action" }, h("option", { value: "" }, "Everything"),
      ACTIONS.map(([group, items]) => h("optgroup", { label: group }, items.map(([v, l]) => h("option", { value: v }, l)))))),
    h("label", { class: "field" }, h("span", {}, "Who"), h("select", { class: "input", name: "actor" }, h("option", { value: "" }, "Anyone"),
      members.map((m) => h("option", { value: m.user.id }, m.user.display_name)))),
    h("label", { class: "field" }, h("span", {}, "From"), h("input", { class: "input", type: "date", name: "from" })),
    h("label", { class: "field" }, h("span", {}, "To"), h("input", { class: "input", type: "date", name: "to" })));
  let cursor = null;
  let generation = 0;
  const query = () => {
    const f = new FormData(filters);
    const q = new URLSearchParams();
    if (f.get("action")) q.set("action", f.get("action"));
    if (f.get("actor")) q.set("actor", f.get("actor"));
    // Dates are the viewer's own days.
    if (f.get("from")) q.set("since", new Date(`${f.get("from")}T00:00:00`).toISOString());
    if (f.get("to")) { const d = new Date(`${f.get("to")}T00:00:00`); d.setDate(d.getDate() + 1); q.set("until", d.toISOString()); }
    return q;
  };
  const load = async (append) => {
    const mine = append ? generation : ++generation;
    const q = query();
    if (append && cursor) q.set("cursor", cursor);
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const page = await get(`/api/teams/${app.teamId}/audit?${q}`);
      if (mine !== generation) return;
      const rows = page.items.map((e) => h("li", { "data-action": e.action },
        h("div", { class: "what" }, sentence(e)),
        h("div", { class: "meta" }, h("time", { datetime: e.at }, when(e.at)), e.address ? h("span", {}, ` · from ${e.address}`) : null)));
      if (append) list.append(...rows); else clear(list, rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = list.children.length ? "" : "Nothing recorded matches these filters.";
    } catch (err) {
      if (mine === generation) status.textContent = `The log could not be read: ${err.message}`;
    } finally {
      more.disabled = false;
    }
  };
  filters.addEventListener("change", () => load(false));
  filters.addEventListener("submit", (e) => { e.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  await load(false);
  const card = h("section", { class: "card" }, h("h2", {}, "Audit log"),
    h("p", { class: "sub" }, "Who did what in the team: members, roles and bot access, bots and settings, API tokens, sign-ins from new addresses, visitor data and webhooks. Entries are never changed or removed."),
    filters, status, list, more);
  // New entries follow changes made elsewhere (a change to members, bots or settings).
  card.refresh = () => load(false);
  return card;
}
