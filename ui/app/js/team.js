// Team administration: members (role, bot access, capacity), bots (settings, knowledge base,
// embed snippet) and team settings. Owners and admins only.

import { api, del, get, patch, post } from "./api.js";
import { avatar, clear, h, statusLabel, toast } from "./dom.js";
import { app, navigate } from "./main.js";
import { auditCard } from "./audit.js";
import { dataRequestCard } from "./privacy.js";
import { webhooksPage } from "./webhooks.js";

function tabs(current) {
  const t = (href, label, key) => h("a", { href, "data-link": true, "aria-current": current === key ? "page" : false }, label);
  return h("nav", { class: "tabs", "aria-label": "Team sections" }, t("/app/team", "Members", "members"), t("/app/team/bots", "Bots", "bots"), t("/app/team/settings", "Settings", "settings"), t("/app/team/webhooks", "Webhooks", "webhooks"), t("/app/team/data", "Visitor data", "data"), t("/app/team/audit", "Audit log", "audit"));
}

function page(content, current, ...cards) {
  clear(content, h("div", { class: "page" }, h("div", { class: "page-inner" }, tabs(current), cards)));
}

function field(label, attrs, help) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", { class: "input", ...attrs }), help ? h("small", {}, help) : null);
}

function errorBox() {
  return h("div", { class: "error-box", role: "alert", hidden: true });
}

async function guarded(box, f) {
  box.hidden = true;
  try {
    await f();
  } catch (e) {
    box.textContent = e.message;
    box.hidden = false;
  }
}

export async function teamView(content, rest) {
  if (!(app.role === "owner" || app.role === "admin")) return navigate("/app/inbox", { replace: true });
  if (rest[0] === "bots" && rest[1]) return followForm(content, "bots", () => botEditor(content, rest[1]));
  if (rest[0] === "settings") return followForm(content, "settings", () => settingsPage(content));
  if (rest[0] === "audit") return auditPage(content);
  if (rest[0] === "webhooks") {
    const frame = {
      draw: (...cards) => page(content, "webhooks", ...cards),
      secret: (id, value) => content.querySelector(`[data-webhook="${id}"]`)?.showSecret(value),
    };
    return followForm(content, "webhooks", () => webhooksPage(content, frame));
  }
  if (rest[0] === "data") return page(content, "data", dataRequestCard());
  // The lists follow changes made in another tab or by another admin (a form being filled in,
  // like the bot editor, is left alone).
  const list = rest[0] === "bots" ? ["bots", botsPage] : ["members", membersPage];
  const onTeam = (e) => { if (e.detail.data?.what === list[0]) list[1](content).catch(() => {}); };
  app.live?.addEventListener("team.changed", onTeam);
  app.cleanup.push(() => app.live?.removeEventListener("team.changed", onTeam));
  return list[1](content);
}

/// A page of forms that another tab or admin can change meanwhile: while nothing has been typed
/// here it is redrawn with the change; once something has, a notice offers the latest instead
/// of throwing the typing away. Changes this tab just saved are not news.
function followForm(content, what, draw) {
  let dirty = false;
  let mineUntil = 0;
  const notice = h("div", { class: "notice stale", role: "status", "data-testid": "changed-elsewhere" },
    h("span", {}, "This was changed in another tab or by another admin."),
    h("button", { class: "btn small", type: "button", onclick: () => redraw() }, "Show the latest"));
  const redraw = async () => {
    dirty = false;
    await draw();
  };
  const mine = () => { mineUntil = Date.now() + 3000; };
  content.addEventListener("input", (e) => { if (e.target.type !== "file") dirty = true; });
  content.addEventListener("submit", () => { mine(); dirty = false; }, true);
  content.addEventListener("click", (e) => { if (e.target.closest("button, label.btn")) mine(); }, true);
  content.addEventListener("change", (e) => { if (e.target.type === "file") mine(); }, true);
  const onTeam = (e) => {
    if (e.detail.data?.what !== what || Date.now() < mineUntil) return;
    if (!dirty) return redraw().catch(() => {});
    const inner = content.querySelector(".page-inner") ?? content;
    if (!notice.isConnected) inner.prepend(notice);
  };
  app.live?.addEventListener("team.changed", onTeam);
  app.cleanup.push(() => app.live?.removeEventListener("team.changed", onTeam));
  return draw();
}

async function membersPage(content) {
  const team = app.teamId;
  const [members, bots, invitations] = await Promise.all([get(`/api/teams/${team}/members`), get(`/api/teams/${team}/bots`), get(`/api/teams/${team}/invitations`)]);
  const error = errorBox();
  const roles = app.role === "owner" ? ["owner", "admin", "chat_agent", "member"] : ["admin", "chat_agent", "member"];
  const roleName = { owner: "Owner", admin: "Admin", chat_agent: "Chat agent", member: "Member (no inbox)" };
  // A refused change (the last owner demoting themselves, ...) is explained and undone on screen:
  // the page is drawn again from what the server holds.
  const update = (m, body) => guarded(error, async () => {
    try {
      await patch(`/api/teams/${team}/members/${m.user.id}`, body);
      toast("Saved");
    } finally {
      const shown = error.hidden ? null : error.textContent;
      await membersPage(content);
      if (shown) toast(shown);
    }
  });

  const accessCell = (m) => {
    if (m.role === "owner" || m.role === "admin") return h("span", { class: "tag" }, "All bots");
    const all = m.bot_access === "all";
    const boxes = bots.map((b) => h("label", { style: { display: "block", fontSize: "13px" } },
      h("input", { type: "checkbox", checked: all || m.bot_access.includes(b.id), disabled: all, "data-bot": b.id }), " ", b.name));
    const wrap = h("div", {}, boxes);
    const mode = h("select", { class: "input", "aria-label": `Bot access of ${m.user.display_name}`, onchange: (e) => {
      if (e.target.value === "all") update(m, { bot_access: "all" });
      else update(m, { bot_access: [] });
    } }, h("option", { value: "all", selected: all }, "All bots"), h("option", { value: "some", selected: !all }, "Selected bots"));
    wrap.addEventListener("change", (e) => {
      if (!e.target.matches("input[data-bot]")) return;
      update(m, { bot_access: [...wrap.querySelectorAll("input[data-bot]:checked")].map((i) => i.dataset.bot) });
    });
    return h("div", {}, mode, all ? null : wrap);
  };

  const rows = members.map((m) => h("tr", {},
    h("td", {}, h("div", { class: "person" }, avatar(m.user.display_name, m.user.avatar_url), h("div", {}, h("b", {}, m.user.display_name), h("small", {}, m.user.email)))),
    h("td", {}, m.role === "owner" && app.role !== "owner" ? roleName.owner
      : h("select", { class: "input", "aria-label": `Role of ${m.user.display_name}`, onchange: (e) => update(m, { role: e.target.value }) },
        (roles.includes(m.role) ? roles : [m.role, ...roles]).map((r) => h("option", { value: r, selected: r === m.role }, roleName[r])))),
    h("td", {}, accessCell(m)),
    h("td", {}, h("input", { class: "input", type: "number", min: 1, max: 100, value: m.capacity ?? "", placeholder: "No limit", style: { width: "96px" },
      "aria-label": `Chat capacity of ${m.user.display_name}`, onchange: (e) => update(m, { capacity: e.target.value ? Number(e.target.value) : null }) })),
    h("td", {}, h("span", { class: `dot ${m.status}` }), " ", statusLabel(m.status)),
    h("td", {}, m.user.id === app.me.user.id ? null : h("button", { class: "btn small danger", onclick: () => {
      if (confirm(`Remove ${m.user.display_name} from the team? Their open chats go back to the queue.`)) {
        guarded(error, async () => { await del(`/api/teams/${team}/members/${m.user.id}`); membersPage(content); });
      }
    } }, "Remove"))));

  const addError = errorBox();
  const add = h("form", { novalidate: true }, addError,
    h("div", { class: "row" }, field("Email", { name: "email", type: "email", required: true }),
      h("label", { class: "field" }, h("span", {}, "Role"), h("select", { class: "input", name: "role" }, roles.map((r) => h("option", { value: r, selected: r === "chat_agent" }, roleName[r]))))),
    h("div", { class: "row" }, field("First name", { name: "first_name" }), field("Last name", { name: "last_name" })),
    field("Password (optional)", { name: "password", type: "password", autocomplete: "new-password" }, "Leave it empty and Baton emails someone without an account a link to choose their own password and join (when Baton sends email). Or set one to make their account now and share it privately; they join at their first login. Someone who already has an account accepts from their inbox."),
    h("button", { class: "btn primary", type: "submit" }, "Add member"));
  add.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(add));
    if (!v.password) delete v.password;
    const button = add.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Inviting…";
    guarded(addError, async () => {
      const r = await post(`/api/teams/${team}/members`, v);
      toast(r.emailed ? `Invitation emailed to ${v.email}` : `${v.email} is invited`);
      await membersPage(content);
    })
      .finally(() => { button.disabled = false; button.textContent = "Add member"; });
  });

  const inviteError = errorBox();
  const day = (iso) => new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short" });
  const pending = invitations.length === 0 ? null : h("section", { class: "card" },
    h("h2", {}, "Pending invitations"), h("p", { class: "sub" }, "They join the team once they accept."), inviteError,
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Email", "Role", "Invited", "Expires", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, invitations.map((i) => h("tr", {},
        h("td", {}, h("div", { class: "person" }, avatar(i.email, null), h("div", {}, ...([i.first_name, i.last_name].some(Boolean) ? [h("b", {}, [i.first_name, i.last_name].filter(Boolean).join(" ")), h("small", {}, i.email)] : [h("b", {}, i.email)])))),
        h("td", {}, roleName[i.role]),
        h("td", {}, `${day(i.created_at)}${i.invited_by ? ` by ${i.invited_by}` : ""}`),
        h("td", {}, day(i.expires_at)),
        h("td", {}, h("button", { class: "btn small ghost", onclick: () =>
          guarded(inviteError, async () => { await del(`/api/teams/${team}/invitations/${i.id}`); toast("Invitation withdrawn"); membersPage(content); }) }, "Withdraw")))))));

  page(content, "members",
    h("section", { class: "card" }, h("h2", {}, "Members"), h("p", { class: "sub" }, "Roles, the bots each agent handles, and how many chats they take at once."), error,
      h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Member", "Role", "Bot access", "Capacity", "Status", ""].map((c) => h("th", {}, c)))), h("tbody", {}, rows))),
    pending,
    h("section", { class: "card" }, h("h2", {}, "Add a member"), h("p", { class: "sub" }, "Invite someone by email. They become a member when they accept."), add));
}

async function botsPage(content) {
  const bots = await get(`/api/teams/${app.teamId}/bots`);
  const error = errorBox();
  const create = h("form", { novalidate: true, style: { display: "flex", gap: "8px", alignItems: "flex-start" } },
    h("input", { class: "input", name: "name", placeholder: "Support bot", "aria-label": "New bot name", required: true }),
    h("button", { class: "btn primary", type: "submit" }, "Create bot"));
  create.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = new FormData(create).get("name");
    guarded(error, async () => {
      const b = await post(`/api/teams/${app.teamId}/bots`, { name, greeting: "Hi! How can I help you today?", settings: { human_escalation: true } });
      navigate(`/app/team/bots/${b.id}`);
    });
  });
  page(content, "bots", h("section", { class: "card" }, h("h2", {}, "Bots"), h("p", { class: "sub" }, "Each bot has its own widget, knowledge base and handoff settings."), error,
    h("ul", { class: "list-plain" }, bots.map((b) => h("li", {},
      h("div", { class: "grow" }, h("b", {}, b.name), h("span", {}, `${b.knowledge.length} answers · ${b.settings.human_only ? "human-only" : b.settings.human_escalation ? "visitors can ask for a person" : "bot only"}`)),
      h("a", { class: "btn small", href: `/app/team/bots/${b.id}`, "data-link": true }, "Edit")))),
    h("div", { style: { marginTop: "16px" } }, create)));
}

async function botEditor(content, id) {
  const bot = await get(`/api/bots/${id}`);
  const error = errorBox();
  const s = bot.settings;
  const toggle = (name, title, help) => h("label", { class: "switch" }, h("input", { type: "checkbox", name, checked: s[name] }), h("span", {}, h("b", {}, title), h("em", {}, help)));
  const entries = h("div", {});
  const entry = (q = "", a = "") => {
    const el = h("div", { class: "kb-entry" },
      h("label", { class: "field" }, h("span", {}, "Question"), h("input", { class: "input", value: q, "data-q": true })),
      h("label", { class: "field" }, h("span", {}, "Answer"), h("textarea", { class: "input", rows: 2, "data-a": true }, a)),
      h("button", { type: "button", class: "btn small danger", onclick: () => el.remove() }, "Remove"));
    return el;
  };
  for (const e of bot.knowledge) entries.append(entry(e.question, e.answer));
  const webhook = bot.responder.kind === "webhook";
  const responderKind = h("select", { class: "input", name: "responder_kind" }, h("option", { value: "knowledge", selected: !webhook }, "Built-in knowledge base"), h("option", { value: "webhook", selected: webhook }, "Webhook (your own bot or LLM)"));
  const webhookFields = h("div", { hidden: !webhook },
    field("Webhook URL", { name: "url", value: bot.responder.url ?? "", placeholder: "https://bots.example.com/answer" }),
    field("Signing secret", { name: "secret", type: "password", placeholder: bot.responder.has_secret ? "•••••• (unchanged)" : "optional" }, "Requests carry X-Baton-Signature: sha256=<HMAC of the body>."));
  responderKind.addEventListener("change", () => { webhookFields.hidden = responderKind.value !== "webhook"; });
  const widgetSettings = await widgetEditor(bot);
  const form = h("form", { novalidate: true }, error,
    field("Name", { name: "name", value: bot.name, required: true }),
    h("label", { class: "field" }, h("span", {}, "Greeting"), h("textarea", { class: "input", name: "greeting", rows: 2 }, bot.greeting)),
    h("h3", {}, "Handoff"),
    toggle("human_escalation", "Visitors can ask for a person", "Shows “Talk to a person” in the widget."),
    toggle("human_only", "Human-only mode", "The bot stays quiet; every chat goes straight to the team."),
    toggle("auto_escalate_unanswered", "Hand over when the bot has no answer", "A question the bot cannot answer goes to the team."),
    toggle("show_agent_availability", "Show agent availability", "The widget says “We're online” or when the team was last active."),
    h("label", { class: "field", style: { marginTop: "14px" } }, h("span", {}, "Allowed websites"),
      h("textarea", { class: "input", name: "allowed_origins", rows: 2, placeholder: "https://shop.example.com" }, s.allowed_origins.join("\n")),
      h("small", {}, "One origin per line. Empty: the widget works on any site.")),
    widgetSettings.fields,
    h("h3", {}, "Answers"),
    h("label", { class: "field" }, h("span", {}, "Responder"), responderKind),
    webhookFields,
    entries,
    h("button", { type: "button", class: "btn small", onclick: () => entries.append(entry()) }, "Add an answer"),
    h("div", { style: { marginTop: "20px", display: "flex", gap: "8px" } }, h("button", { class: "btn primary", type: "submit" }, "Save bot")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = new FormData(form);
    const knowledge = [...entries.querySelectorAll(".kb-entry")].map((el) => ({ question: el.querySelector("[data-q]").value, answer: el.querySelector("[data-a]").value }))
      .filter((k) => k.question.trim() || k.answer.trim());
    const responder = v.get("responder_kind") === "webhook" ? { kind: "webhook", url: v.get("url"), ...(v.get("secret") ? { secret: v.get("secret") } : {}) } : { kind: "knowledge" };
    guarded(error, async () => {
      await patch(`/api/bots/${id}`, {
        name: v.get("name"), greeting: v.get("greeting"), knowledge, responder,
        settings: {
          human_escalation: v.has("human_escalation"), human_only: v.has("human_only"),
          auto_escalate_unanswered: v.has("auto_escalate_unanswered"), show_agent_availability: v.has("show_agent_availability"),
          allowed_origins: String(v.get("allowed_origins")).split(/\s+/).filter(Boolean),
        },
        widget: widgetSettings.value(),
      });
      toast("Bot saved");
      botEditor(content, id);
    });
  });
  const snippet = `<script src="${location.origin}/widget.js" data-bot="${bot.id}" async></script>`;
  page(content, "bots",
    h("section", { class: "card" }, h("h2", {}, bot.name), h("p", { class: "sub" }, "Settings, answers and handoff rules for this bot."), form),
    logoCard(bot),
    h("section", { class: "card" }, h("h2", {}, "Add the widget to your site"), h("p", { class: "sub" }, "Paste this before </body> on every page where visitors should see the chat."),
      h("pre", { class: "snippet" }, snippet),
      h("div", { style: { display: "flex", gap: "8px", marginTop: "12px" } },
        h("button", { class: "btn", onclick: async () => { await navigator.clipboard?.writeText(snippet).catch(() => {}); toast("Copied"); } }, "Copy snippet"),
        h("a", { class: "btn", href: `/demo?bot=${bot.id}`, target: "_blank", rel: "noopener" }, "Try it on the demo shop"))),
    h("section", { class: "card" }, h("h2", {}, "Delete this bot"), h("p", { class: "sub" }, "Its widget stops working and its conversations are deleted."),
      h("button", { class: "btn danger", onclick: async () => {
        if (!confirm(`Delete ${bot.name} and all its conversations?`)) return;
        await del(`/api/bots/${id}`);
        navigate("/app/team/bots");
      } }, "Delete bot")));
}

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const LANGUAGES = [["en", "English"], ["de", "Deutsch"], ["fr", "Français"], ["es", "Español"]];
let wordsTable = null;

// The widget's part of a bot: business hours, what happens when nobody can answer, the
// pre-chat form, its look and its words. `fields` go in the bot form; `value()` is the
// `widget` object of the PATCH.
async function widgetEditor(bot) {
  const w = bot.widget;
  const select = (name, label, options, value, help) => h("label", { class: "field" }, h("span", {}, label),
    h("select", { class: "input", name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))), help ? h("small", {}, help) : null);

  // Business hours: one opening span a day here (the API takes up to four; extra ones are kept).
  const hours = w.hours;
  const hoursOn = h("input", { type: "checkbox", name: "hours_on", checked: !!hours });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zone = h("input", { class: "input", name: "time_zone", list: "bot-time-zones", value: hours?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, autocomplete: "off" });
  const dayRows = DAYS.map(([key, label]) => {
    const spans = hours?.days?.[key] ?? [];
    const open = h("input", { type: "checkbox", "aria-label": `Open on ${label}`, checked: hours ? spans.length > 0 : !["sat", "sun"].includes(key) });
    const from = h("input", { class: "input", type: "time", step: 60, "aria-label": `${label} opens at`, value: spans[0]?.[0] ?? "09:00" });
    const to = h("input", { class: "input", type: "time", step: 60, "aria-label": `${label} closes at`, value: (spans[0]?.[1] ?? "17:00").replace("24:00", "00:00") });
    const sync = () => { from.disabled = to.disabled = !open.checked; };
    open.addEventListener("change", sync);
    sync();
    return { key, extra: spans.slice(1), open, from, to, el: h("div", { class: "day-row" }, h("label", { class: "day" }, open, h("span", {}, label)), from, h("span", { class: "muted" }, "to"), to) };
  });
  const closed = h("textarea", { class: "input", name: "closed_dates", rows: 2, placeholder: "2026-12-25" }, (hours?.closed_dates ?? []).join("\n"));
  const hoursBox = h("div", { class: "hours", hidden: !hours },
    h("label", { class: "field" }, h("span", {}, "Time zone"), zone, h("datalist", { id: "bot-time-zones" }, zones.map((z) => h("option", { value: z })))),
    h("div", { class: "days", role: "group", "aria-label": "Opening hours" }, dayRows.map((d) => d.el)),
    h("label", { class: "field" }, h("span", {}, "Closed on"), closed, h("small", {}, "Holidays: one date per line (YYYY-MM-DD), in the time zone above.")));
  hoursOn.addEventListener("change", () => { hoursBox.hidden = !hoursOn.checked; });

  // Pre-chat form.
  const pre = w.pre_chat;
  const ask = [["off", "Don't ask"], ["optional", "Optional"], ["required", "Required"]];
  const preOn = h("input", { type: "checkbox", name: "pre_on", checked: pre.enabled });
  const questions = h("div", { class: "questions" });
  const question = (q = { key: "", label: "", type: "text", options: [], required: false }) => {
    const label = h("input", { class: "input", value: q.label, placeholder: "Order number", "aria-label": "Question", "data-label": true });
    const type = h("select", { class: "input", "aria-label": "Answer type", "data-type": true }, h("option", { value: "text", selected: q.type === "text" }, "Text"), h("option", { value: "choice", selected: q.type === "choice" }, "Choice"));
    const options = h("input", { class: "input", value: (q.options ?? []).join(", "), placeholder: "Sales, Support, Billing", "aria-label": "Choices, separated by commas", "data-options": true, hidden: q.type !== "choice" });
    type.addEventListener("change", () => { options.hidden = type.value !== "choice"; });
    const el = h("div", { class: "question", "data-key": q.key },
      label, type, options,
      h("label", { class: "inline" }, h("input", { type: "checkbox", checked: q.required, "data-required": true }), "Required"),
      h("button", { type: "button", class: "btn small danger", onclick: () => el.remove() }, "Remove"));
    return el;
  };
  for (const q of pre.fields) questions.append(question(q));

  // Look.
  const look = w.appearance;
  const accent = h("input", { type: "color", name: "accent_color", value: look.accent_color ?? "#4f46e5", "aria-label": "Accent colour" });

  // Words: per-language overrides of the widget's built-in words.
  const overrides = h("div", { class: "overrides" });
  const override = (lang = "en", key = "", text = "") => {
    const langSel = h("select", { class: "input", "aria-label": "Language", "data-lang": true }, LANGUAGES.map(([v, l]) => h("option", { value: v, selected: v === lang }, l)));
    const keySel = h("select", { class: "input", "aria-label": "Word", "data-key": true });
    const fill = () => {
      const table = wordsTable?.[langSel.value] ?? {};
      const keep = keySel.value || key;
      keySel.replaceChildren(...Object.keys(table).sort().map((k) => h("option", { value: k, selected: k === keep }, table[k])));
    };
    langSel.addEventListener("change", fill);
    const input = h("input", { class: "input", value: text, placeholder: "Your wording", "aria-label": "Your wording", "data-text": true });
    const el = h("div", { class: "override" }, langSel, keySel, input, h("button", { type: "button", class: "btn small danger", onclick: () => el.remove() }, "Remove"));
    el.fill = fill;
    fill();
    return el;
  };
  // The built-in words, to choose from. Without them the overrides are left as they are.
  wordsTable = wordsTable ?? await get("/api/widget/strings").catch(() => null);
  if (wordsTable) for (const [lang, words] of Object.entries(w.texts ?? {})) for (const [k, v] of Object.entries(words)) overrides.append(override(lang, k, v));

  const fields = h("div", { class: "widget-settings" },
    h("h3", {}, "Availability"),
    h("label", { class: "switch" }, hoursOn, h("span", {}, h("b", {}, "Business hours"), h("em", {}, "Outside them the widget says you're closed and when you're back."))),
    hoursBox,
    select("when_unavailable", "When nobody can answer", [
      ["queue", "Queue the chat and say you'll reply when you're back"],
      ["leave_message", "Offer “Leave a message”, answered by email"],
      ["hide", "Hide “Talk to a person”"],
    ], w.when_unavailable, "Outside business hours, or when no agent with access to this bot is available."),
    h("h3", {}, "Pre-chat form"),
    h("label", { class: "switch" }, preOn, h("span", {}, h("b", {}, "Ask before the chat starts"), h("em", {}, "Visitors answer these questions before their first message; agents see the answers."))),
    h("div", { class: "row2" }, select("pre_name", "Ask for the name", ask, pre.name), select("pre_email", "Ask for the email", ask, pre.email)),
    questions,
    h("button", { type: "button", class: "btn small", onclick: () => questions.append(question()) }, "Add a question"),
    h("h3", {}, "Look"),
    h("div", { class: "row2" },
      h("label", { class: "field" }, h("span", {}, "Accent colour"), accent),
      select("position", "Position", [["right", "Bottom right"], ["left", "Bottom left"]], look.position)),
    field("Launcher text", { name: "launcher_text", value: look.launcher_text ?? "", maxlength: 40, placeholder: "Chat with us" }, "Shown beside the chat icon; empty for the icon alone."),
    h("h3", {}, "Words"),
    h("p", { class: "sub" }, "The widget speaks English, German, French and Spanish, following the visitor's browser. Replace any of its words here."),
    wordsTable ? [overrides, h("button", { type: "button", class: "btn small", onclick: () => overrides.append(override()) }, "Replace a word")]
      : h("p", { class: "sub" }, "The widget's words could not be loaded; reload the page to change them."));

  const slug = (text, taken) => {
    const base = text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 30) || "question";
    let key = ["name", "email"].includes(base) ? `${base}_2` : base;
    for (let i = 2; taken.has(key); i++) key = `${base}_${i}`;
    taken.add(key);
    return key;
  };
  const value = () => {
    const taken = new Set([...questions.querySelectorAll(".question")].map((q) => q.dataset.key).filter(Boolean));
    const days = {};
    for (const d of dayRows) {
      if (!d.open.checked) continue;
      const to = d.to.value === "00:00" ? "24:00" : d.to.value;
      days[d.key] = [[d.from.value, to], ...d.extra];
    }
    const texts = {};
    for (const o of overrides.querySelectorAll(".override")) {
      const text = o.querySelector("[data-text]").value.trim();
      if (!text) continue;
      const lang = o.querySelector("[data-lang]").value;
      (texts[lang] ??= {})[o.querySelector("[data-key]").value] = text;
    }
    return {
      hours: hoursOn.checked ? { time_zone: zone.value.trim(), days, closed_dates: closed.value.split(/\s+/).filter(Boolean) } : null,
      when_unavailable: fields.querySelector("[name=when_unavailable]").value,
      pre_chat: {
        enabled: preOn.checked,
        name: fields.querySelector("[name=pre_name]").value,
        email: fields.querySelector("[name=pre_email]").value,
        fields: [...questions.querySelectorAll(".question")].filter((q) => q.querySelector("[data-label]").value.trim()).map((q) => {
          const label = q.querySelector("[data-label]").value.trim();
          const type = q.querySelector("[data-type]").value;
          return {
            key: q.dataset.key || slug(label, taken),
            label,
            type,
            ...(type === "choice" ? { options: q.querySelector("[data-options]").value.split(",").map((o) => o.trim()).filter(Boolean) } : {}),
            required: q.querySelector("[data-required]").checked,
          };
        }),
      },
      appearance: {
        accent_color: accent.value,
        position: fields.querySelector("[name=position]").value,
        launcher_text: fields.querySelector("[name=launcher_text]").value.trim() || null,
      },
      // Unchanged when the words could not be loaded.
      ...(wordsTable ? { texts } : {}),
    };
  };
  return { fields, value };
}

// The logo in the widget's header: uploaded on its own, with a preview.
function logoCard(bot) {
  const error = errorBox();
  const preview = h("span", { class: "logo-preview" }, bot.logo_url ? h("img", { src: bot.logo_url, alt: `${bot.name} logo` }) : "No logo");
  const file = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", class: "sr-only", id: "logo-file" });
  const status = h("span", { class: "muted", "aria-live": "polite" });
  const remove = h("button", { type: "button", class: "btn", hidden: !bot.logo_url }, "Remove logo");
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    status.textContent = "Uploading…";
    await guarded(error, async () => {
      try {
        const r = await api("PUT", `/api/bots/${bot.id}/logo`, f, { raw: true });
        clear(preview, h("img", { src: r.logo_url, alt: `${bot.name} logo` }));
        remove.hidden = false;
        toast("Logo saved");
      } finally {
        status.textContent = "";
        file.value = "";
      }
    });
  });
  remove.addEventListener("click", () => guarded(error, async () => {
    await del(`/api/bots/${bot.id}/logo`);
    clear(preview, "No logo");
    remove.hidden = true;
    toast("Logo removed");
  }));
  return h("section", { class: "card" }, h("h2", {}, "Logo"), h("p", { class: "sub" }, "Shown in the widget's header. PNG, JPEG, WebP or GIF, at most 2 MB."), error,
    h("div", { class: "logo-row" }, preview, h("label", { class: "btn", for: "logo-file" }, "Upload a logo"), file, remove, status));
}

async function auditPage(content) {
  const members = await get(`/api/teams/${app.teamId}/members`);
  const card = await auditCard(members);
  page(content, "audit", card);
  // Every new entry (here, in another tab, by another admin or by Baton) shows.
  const onTeam = (e) => { if (e.detail.data?.what === "audit") card.refresh(); };
  app.live?.addEventListener("team.changed", onTeam);
  app.cleanup.push(() => app.live?.removeEventListener("team.changed", onTeam));
}

async function settingsPage(content) {
  const s = await get(`/api/teams/${app.teamId}/settings`);
  const error = errorBox();
  const num = (name, label, help, min, max) => field(label, { name, type: "number", min, max, value: s[name], required: true }, help);
  const form = h("form", { novalidate: true }, error,
    num("auto_away_minutes", "Auto-away after (minutes)", "An available agent with no activity in the inbox becomes Away.", 1, 1440),
    num("heartbeat_timeout_seconds", "Offline after no heartbeat for (seconds)", "When every inbox tab of an agent has been closed this long, they go Offline.", 20, 3600),
    num("orphan_grace_seconds", "Requeue an offline agent's chats after (seconds)", "Their active chats go back to the queue if they stay offline this long.", 0, 86400),
    num("visitor_email_delay_seconds", "Email an unread reply after (seconds)", "When a visitor left their email and is not in the chat.", 0, 86400),
    num("pending_alert_seconds", "Remind agents of a waiting chat every (seconds)", "While a chat waits unclaimed, agents who get new-chat notifications hear again. 0 turns reminders off.", 0, 86400),
    h("label", { class: "field" }, h("span", {}, "Satisfaction survey"),
      h("select", { class: "input", name: "csat" }, [["stars", "Five stars"], ["thumbs", "Thumbs up or down"], ["off", "Off"]].map(([v, l]) => h("option", { value: v, selected: s.csat === v }, l))),
      h("small", {}, "Asked in the widget after a chat with the team ends; the rating shows on the resolved chat.")),
    field("Largest file agents and visitors may send (MB)", { name: "attachment_mb", type: "number", min: 0, max: 25, step: "any",
      value: Math.round((s.attachment_max_bytes / (1024 * 1024)) * 100) / 100, required: true }, "Up to 25 MB. 0 turns files off."),
    h("fieldset", { class: "field kinds", "data-testid": "attachment-kinds" }, h("legend", {}, "Files people may send"),
      [["image", "Images (PNG, JPEG, GIF, WebP)"], ["pdf", "PDF"], ["text", "Text and CSV"], ["office", "Office documents"], ["archive", "ZIP archives"]]
        .map(([k, l]) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "attachment_kinds", value: k, checked: s.attachment_kinds.includes(k) }), " ", l))),
    field("Delete resolved conversations after (days)", { name: "retention_days", type: "number", min: 0, max: 3650, value: s.retention_days, required: true },
      "Resolved conversations, with their messages and files, are deleted this many days after they ended. 0 keeps them."),
    h("button", { class: "btn primary", type: "submit" }, "Save settings"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const v = Object.fromEntries([...data].filter(([k]) => !k.startsWith("attachment")).map(([k, x]) => [k, k === "csat" ? x : Number(x)]));
    v.attachment_max_bytes = Math.round(Number(data.get("attachment_mb")) * 1024 * 1024);
    v.attachment_kinds = data.getAll("attachment_kinds");
    guarded(error, async () => { await patch(`/api/teams/${app.teamId}/settings`, v); toast("Settings saved"); });
  });
  page(content, "settings", h("section", { class: "card" }, h("h2", {}, "Team settings"), h("p", { class: "sub" }, "Presence timers and handoff rules for everyone in the team."), form));
}
