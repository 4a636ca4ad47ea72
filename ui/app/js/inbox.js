// The inbox: the conversation list (live, filterable by bot) and the selected conversation.

import { get } from "./api.js";
import { avatar, clear, h, icon, since, snoozeWhen } from "./dom.js";
import { app, navigate } from "./main.js";
import { conversationPane } from "./conversation.js";

const EMPTY = {
  inbox: ["No live chats right now", "When a visitor asks for a person, the chat shows up here."],
  mine: ["Nothing assigned to you", "Chats you claim or receive by transfer appear here."],
  snoozed: ["Nothing snoozed", "Snooze a chat to put it aside until later or until the visitor writes back."],
  resolved: ["No resolved chats yet", "Finished conversations are kept here."],
};

export async function inboxView(content, view, selectedId) {
  const filterKey = `baton:bot-filter:${app.teamId}`;
  let botFilter = localStorage.getItem(filterKey) ?? "";
  let chats = [];
  let nextCursor = null;

  const rows = h("div", { class: "rows", role: "listbox", "aria-label": "Conversations" });
  const botSelect = h("select", { class: "input", "aria-label": "Filter by bot", onchange: (e) => {
    botFilter = e.target.value;
    localStorage.setItem(filterKey, botFilter);
    load();
  } }, h("option", { value: "" }, "All bots"));
  // Search: typing replaces the list with what matches, until cleared (Esc or ✕). The query
  // stays while the agent opens results one after another.
  const searchKey = `baton:search:${app.teamId}`;
  const searchBox = h("input", { class: "input", type: "search", placeholder: "Search chats", "aria-label": "Search chats (Ctrl+K)", "data-testid": "search",
    value: sessionStorage.getItem(searchKey) ?? "", autocomplete: "off" });
  const searchWrap = h("div", { class: "search" }, icon("search"), searchBox, h("kbd", { class: "search-key", "aria-hidden": "true" }, "Ctrl K"));
  const results = h("div", { class: "rows results", role: "listbox", "aria-label": "Search results", "data-testid": "search-results", hidden: true });
  const list = h("section", { class: "list", "aria-label": "Conversation list" }, h("div", { class: "list-tools" }, searchWrap, botSelect), rows, results);
  const pane = h("section", { class: "pane", "aria-label": "Conversation" });
  clear(content, list, pane);
  // On a narrow screen the list and the conversation are separate screens.
  content.classList.toggle("has-chat", !!selectedId);

  // The bots to filter by, read again when a bot is added, renamed or deleted anywhere.
  const loadBots = () => get(`/api/teams/${app.teamId}/bots`).then((bots) => {
    clear(botSelect, h("option", { value: "" }, "All bots"), bots.map((b) => h("option", { value: b.id, selected: b.id === botFilter }, b.name)));
    if (botFilter && !bots.some((b) => b.id === botFilter)) {
      botFilter = "";
      localStorage.removeItem(filterKey);
      load();
    }
  }).catch(() => {});
  loadBots();
  const onTeam = (e) => { if (e.detail.data?.what === "bots") loadBots(); };
  app.live?.addEventListener("team.changed", onTeam);
  app.cleanup.push(() => app.live?.removeEventListener("team.changed", onTeam));

  // Re-reads may overlap: only the latest one's answer is shown.
  let loads = 0;
  async function load() {
    const q = new URLSearchParams({ view });
    if (botFilter) q.set("bot_id", botFilter);
    const mine = ++loads;
    try {
      const page = await get(`/api/live-chats?${q}`);
      if (mine !== loads) return;
      chats = page.items;
      nextCursor = page.next_cursor;
      render();
    } catch (e) {
      clear(rows, h("div", { class: "empty" }, e.message));
    }
  }

  async function more() {
    const q = new URLSearchParams({ view, cursor: nextCursor });
    if (botFilter) q.set("bot_id", botFilter);
    const page = await get(`/api/live-chats?${q}`);
    chats = chats.concat(page.items.filter((c) => !chats.some((x) => x.id === c.id)));
    nextCursor = page.next_cursor;
    render();
  }

  function row(c) {
    const name = c.visitor.display_name;
    const selected = c.id === selectedId;
    return h("button", { class: "chat-row", role: "option", "aria-selected": String(selected), "data-chat": c.id,
      onclick: () => navigate(`/app/${view}/${c.id}`) },
      avatar(name, null),
      h("div", { style: { minWidth: 0 } },
        h("div", { class: "who" }, h("span", {}, name)),
        h("div", { class: "preview" }, c.last_message?.preview ?? "No messages yet"),
        h("div", { class: "meta" },
          h("span", { class: `pill ${c.state}` }, c.state),
          h("span", { class: "tag" }, c.bot.name),
          c.assignee ? h("span", { class: "tag" }, "→ ", c.assignee.display_name) : null,
          c.snoozed ? h("span", { class: "tag snoozed" }, icon("snooze"), c.snoozed_until ? ` ${snoozeWhen(c.snoozed_until)}` : " until a reply") : null)),
      h("div", { class: "side" },
        h("time", { datetime: c.escalated_at, title: "Time since handoff", "data-since": c.escalated_at }, since(c.escalated_at)),
        c.unread_count > 0 ? h("span", { class: "badge", "aria-label": `${c.unread_count} unread` }, c.unread_count) : null));
  }

  function render() {
    if (!chats.length) {
      const [title, sub] = EMPTY[view];
      return clear(rows, h("div", { class: "empty" }, h("b", {}, title), h("div", {}, sub)));
    }
    clear(rows, chats.map(row), nextCursor ? h("div", { style: { padding: "12px", textAlign: "center" } }, h("button", { class: "btn small", onclick: more }, "Load more")) : null);
  }

  let searchTimer = null;
  let searches = 0;
  const viewOf = (state) => (state === "resolved" ? "resolved" : "inbox");
  const hitName = (c) => c.visitor.display_name;
  async function runSearch() {
    const q = searchBox.value.trim();
    q ? sessionStorage.setItem(searchKey, q) : sessionStorage.removeItem(searchKey);
    const on = q.length > 0;
    results.hidden = !on;
    rows.hidden = on;
    botSelect.hidden = on;
    if (!on) return;
    const mine = ++searches;
    clear(results, h("div", { class: "empty", role: "status" }, "Searching…"));
    let found;
    try {
      found = await get(`/api/search?${new URLSearchParams({ q })}`);
    } catch (e) {
      if (mine === searches) clear(results, h("div", { class: "empty" }, e.message));
      return;
    }
    if (mine !== searches) return;
    const open = (c, seq) => { app.focusSeq = seq ?? null; navigate(`/app/${viewOf(c.state)}/${c.id}`); };
    const people = found.conversations.map((c) => h("button", { class: "chat-row hit", role: "option", "aria-selected": String(c.id === selectedId), onclick: () => open(c) },
      avatar(hitName(c), null),
      h("div", { style: { minWidth: 0 } },
        h("div", { class: "who" }, h("span", {}, hitName(c))),
        h("div", { class: "preview" }, c.visitor.email ?? ""),
        h("div", { class: "meta" }, h("span", { class: `pill ${c.state}` }, c.state), h("span", { class: "tag" }, c.bot.name))),
      h("div", { class: "side" }, h("time", { datetime: c.last_activity_at }, since(c.last_activity_at)))));
    const messages = found.messages.map((m) => h("button", { class: "chat-row hit", role: "option", onclick: () => open(m.conversation, m.seq) },
      avatar(hitName(m.conversation), null),
      h("div", { style: { minWidth: 0 } },
        h("div", { class: "who" }, h("span", {}, hitName(m.conversation))),
        h("div", { class: "hit-text" }, m.visibility === "internal" ? h("b", {}, "Note · ") : m.author_kind === "agent" ? h("b", {}, `${m.author_name ?? "Agent"}: `) : null,
          h("span", { html: m.snippet })),
        h("div", { class: "meta" }, h("span", { class: `pill ${m.conversation.state}` }, m.conversation.state), h("span", { class: "tag" }, m.conversation.bot.name))),
      h("div", { class: "side" }, h("time", { datetime: m.created_at }, since(m.created_at)))));
    clear(results,
      !people.length && !messages.length ? h("div", { class: "empty" }, h("b", {}, "Nothing found"), h("div", {}, "No chat you can see has those words.")) : null,
      people.length ? [h("div", { class: "results-head" }, "People"), people] : null,
      messages.length ? [h("div", { class: "results-head" }, "Messages"), messages] : null);
  }
  searchBox.addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 200); });
  searchBox.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); searchBox.value = ""; runSearch(); searchBox.blur(); }
    if (e.key === "Enter") { e.preventDefault(); clearTimeout(searchTimer); runSearch(); }
  });
  searchBox.addEventListener("search", () => { if (!searchBox.value) runSearch(); });
  if (searchBox.value) runSearch();

  // Live: any chat event or new message re-reads the list (once per burst).
  let pending = null;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(load, 150);
  };
  const onFrame = (e) => {
    const t = e.detail.type;
    if (t.startsWith("chat.") || t === "message.created") refresh();
  };
  app.live?.addEventListener("frame", onFrame);
  app.live?.addEventListener("reconnected", refresh);
  const ticker = setInterval(() => {
    for (const t of content.querySelectorAll("[data-since]")) t.textContent = since(t.dataset.since);
  }, 30_000);
  // Keyboard: j/k next and previous chat, and the open chat's own keys (conversation.js).
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k" && !document.querySelector(".overlay")) {
      e.preventDefault();
      searchBox.focus();
      searchBox.select();
      return;
    }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target) || document.querySelector(".overlay")) return;
    if (e.key === "j" || e.key === "k") {
      if (!chats.length) return;
      const at = chats.findIndex((c) => c.id === selectedId);
      const next = at < 0 ? 0 : Math.min(chats.length - 1, Math.max(0, at + (e.key === "j" ? 1 : -1)));
      if (chats[next].id !== selectedId) navigate(`/app/${view}/${chats[next].id}`);
      e.preventDefault();
    } else if (e.key === "?") {
      e.preventDefault();
      keyboardHelp();
    } else if (e.key === "Escape" && selectedId) {
      navigate(`/app/${view}`);
    } else {
      const run = app.chatKeys?.[e.key];
      if (run) {
        e.preventDefault();
        run();
      }
    }
  };
  document.addEventListener("keydown", onKey);
  app.cleanup.push(() => {
    app.live?.removeEventListener("frame", onFrame);
    app.live?.removeEventListener("reconnected", refresh);
    document.removeEventListener("keydown", onKey);
    clearInterval(ticker);
    clearTimeout(pending);
    clearTimeout(searchTimer);
  });

  await load();
  if (selectedId) {
    conversationPane(pane, selectedId, { onRead: refresh });
  } else {
    clear(pane, h("div", { class: "placeholder" }, h("div", {}, icon("chat"), h("h2", {}, "Select a conversation to start chatting"),
      h("p", {}, "Pick a chat from the list. New ones appear as soon as a visitor asks for a person."),
      h("p", { class: "keys-hint" }, "Press ", h("kbd", {}, "?"), " for keyboard shortcuts."))));
  }
}

function typingIn(el) {
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

export const KEYS = [
  ["j", "Next chat"],
  ["k", "Previous chat"],
  ["c", "Claim the chat (or accept a transfer)"],
  ["r", "Write a reply"],
  ["n", "Write an internal note"],
  ["t", "Transfer the chat"],
  ["e", "Resolve the chat"],
  ["Ctrl K", "Search chats"],
  ["Esc", "Back to the list"],
  ["?", "Show these keys"],
];

/// The keyboard's keys, in a dialog.
export function keyboardHelp() {
  if (document.querySelector(".overlay")) return;
  const close = () => overlay.remove();
  const overlay = h("div", { class: "overlay", onclick: (e) => { if (e.target === overlay) close(); } },
    h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "keys-title" },
      h("h2", { id: "keys-title" }, "Keyboard shortcuts"),
      h("p", { class: "sub" }, "In the inbox, while you are not typing."),
      h("dl", { class: "keys" }, KEYS.map(([k, what]) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, what)])),
      h("div", { class: "foot" }, h("button", { class: "btn", onclick: close }, "Close"))));
  overlay.addEventListener("keydown", (e) => { if (e.key === "Escape" || e.key === "?") { e.preventDefault(); close(); } });
  document.body.append(overlay);
  overlay.querySelector(".btn").focus();
}
