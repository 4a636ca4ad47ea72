// One conversation: the whole history, the actions of the lifecycle, the composer.

import { ApiError, get, post } from "./api.js";
import { attachmentsEl, avatar, clear, clock, h, icon, since, snoozeWhen, toast } from "./dom.js";
import { app, navigate } from "./main.js";
import { composer } from "./composer.js";
import { visitorPanel } from "./visitor.js";

export async function conversationPane(pane, id, { onRead }) {
  let chat = null;
  let lastSeq = 0;
  let readSeq = 0;
  const shown = new Set();
  const messages = h("div", { class: "messages", role: "log", "aria-label": "Messages", "aria-live": "polite" });
  const typing = h("div", { class: "typing", "aria-live": "polite" });
  // Who else has this chat open (collision detection): agents heard from in the last 40 s.
  const viewers = new Map(); // agent id -> {name, at}
  const viewersLine = h("div", { class: "viewers", "aria-live": "polite", "data-testid": "viewers" });
  function renderViewers() {
    const now = Date.now();
    for (const [k, v] of viewers) if (now - v.at > 40_000) viewers.delete(k);
    const names = [...viewers.values()].map((v) => v.name);
    clear(viewersLine, names.length ? [h("span", { class: "dot available" }), ` ${names.join(", ")} ${names.length === 1 ? "is" : "are"} also here`] : null);
  }
  const head = h("header", { class: "conv-head" });
  const foot = h("div");
  const side = visitorPanel(id);
  clear(pane, head, h("div", { class: "conv-body" }, h("div", { class: "conv-main" }, messages, typing, foot), side.panel));

  const me = () => app.me.user.id;
  const admin = () => app.role === "owner" || app.role === "admin";

  // Two answers (a load, a re-read, an action) may arrive in either order: the chat shown is
  // never replaced by an older state than the one it has.
  function accept(fresh) {
    if (chat && fresh.last_seq < chat.last_seq) return false;
    chat = fresh;
    return true;
  }

  async function load() {
    try {
      accept(await get(`/api/live-chats/${id}`));
    } catch (e) {
      clear(pane, h("div", { class: "placeholder" }, h("div", {}, h("h2", {}, "This conversation is not available"), h("p", {}, e.message))));
      return false;
    }
    renderHead();
    renderComposer();
    loadFieldLabels();
    sayViewing();
    for (const m of chat.messages) add(m);
    // Opened from a search result: show that message.
    if (app.focusSeq != null) {
      const el = messages.querySelector(`[data-seq="${app.focusSeq}"]`);
      app.focusSeq = null;
      if (el) {
        el.scrollIntoView({ block: "center" });
        el.classList.add("found");
        setTimeout(() => el.classList.remove("found"), 2500);
      }
    }
    markRead();
    if (reconnectedWhileLoading) {
      reconnectedWhileLoading = false;
      onReconnect();
    }
    return true;
  }

  function add(m) {
    // Before the chat is loaded there is nothing to place a message in; load() brings it.
    if (!chat || shown.has(m.seq)) return;
    shown.add(m.seq);
    lastSeq = Math.max(lastSeq, m.seq);
    const el = messageEl(m);
    // keep seq order even if a late frame arrives
    const after = [...messages.children].find((c) => Number(c.dataset.seq) > m.seq);
    messages.insertBefore(el, after ?? null);
    if (!after) messages.scrollTop = messages.scrollHeight;
  }

  function messageEl(m) {
    if (m.author.kind === "system") return h("div", { class: "sys", "data-seq": m.seq, role: "note" }, m.text, " · ", clock(m.created_at));
    const note = m.visibility === "internal";
    const kind = note ? "note" : m.author.kind;
    const who = m.author.kind === "visitor" ? chat.visitor.display_name : m.author.kind === "bot" ? chat.bot.name : m.author.display_name ?? "Agent";
    const label = note ? `Internal note · ${who}` : who;
    return h("div", { class: `msg ${kind}`, "data-seq": m.seq, "data-kind": kind },
      m.author.kind === "bot" ? h("span", { class: "avatar bot", "aria-hidden": "true" }, icon("bot")) : avatar(who, m.author.avatar_url),
      h("div", { class: "stack" },
        h("div", { class: "label" }, label, " · ", clock(m.created_at)),
        m.body ? h("div", { class: "bubble", html: m.body }) : null,
        attachmentsEl(m.attachments, (a, download) => download ? `${a.url}?download=true` : a.url)));
  }

  function renderHead() {
    const s = chat.state;
    const mine = chat.assignee?.id === me();
    const actions = [];
    if (s === "pending") actions.push(h("button", { class: "btn primary", onclick: () => act("claim") }, "Claim"));
    if (s === "transferred" && mine) actions.push(h("button", { class: "btn primary", onclick: () => act("claim") }, "Accept"));
    if ((s === "active" || s === "transferred") && (mine || admin())) actions.push(h("button", { class: "btn", onclick: transferDialog }, "Transfer"));
    if (s === "pending" || ((s === "active" || s === "transferred") && (mine || admin()))) actions.push(h("button", { class: "btn", onclick: () => act("resolve") }, "Resolve"));
    if (s === "resolved") actions.push(h("button", { class: "btn", onclick: reopen }, "Reopen"));
    if ((s === "active" || s === "transferred") && (mine || admin())) actions.unshift(chat.snoozed
      ? h("button", { class: "btn", onclick: () => act("unsnooze"), title: "Bring the chat back now" }, "Unsnooze")
      : snoozeMenu());
    // What the visitor told us in the pre-chat form, and where they started.
    const answers = Object.entries(chat.visitor.fields ?? {});
    let page = null;
    try { page = chat.visitor.page_url ? new URL(chat.visitor.page_url) : null; } catch { /* not shown */ }
    clear(head,
      h("a", { class: "btn ghost back", href: location.pathname.split("/").slice(0, 3).join("/"), "data-link": true, "aria-label": "Back to the list" }, icon("back")),
      avatar(chat.visitor.display_name, null),
      h("div", { class: "title" },
        h("b", {}, chat.visitor.display_name),
        h("div", {}, [chat.visitor.email, `via ${chat.bot.name}`].filter(Boolean).join(" · "),
          // The same clock as the list's: both say the same and move together.
          chat.escalated_at ? [" · handed off ", h("time", { datetime: chat.escalated_at, "data-since": chat.escalated_at }, since(chat.escalated_at))] : null),
        answers.length || page ? h("dl", { class: "facts", "data-testid": "visitor-facts" },
          answers.map(([k, v]) => [h("dt", {}, fieldLabel(k)), h("dd", {}, v)]),
          page ? [h("dt", {}, "Page"), h("dd", {}, h("a", { href: page.href, target: "_blank", rel: "noopener noreferrer" }, page.pathname === "/" ? page.host : page.host + page.pathname))] : null) : null),
      viewersLine,
      side.toggle,
      h("span", { class: `pill ${s}`, "data-testid": "chat-state" }, s),
      chat.assignee ? h("span", { class: "tag" }, chat.assignee.id === me() ? "You" : chat.assignee.display_name) : null,
      chat.snoozed ? h("span", { class: "tag snoozed", "data-testid": "snoozed" }, icon("snooze"), chat.snoozed_until ? ` Until ${snoozeWhen(chat.snoozed_until)}` : " Until the visitor writes") : null,
      h("div", { class: "actions" }, actions));
  }

  // The pre-chat questions by key, as the bot asks them.
  function fieldLabel(key) {
    const f = botFields.get(key);
    return f ? f.label : key;
  }
  const botFields = new Map();
  async function loadFieldLabels() {
    if (!Object.keys(chat.visitor.fields ?? {}).length) return;
    try {
      const bot = await get(`/api/bots/${chat.bot.id}`);
      for (const f of bot.widget?.pre_chat?.fields ?? []) botFields.set(f.key, f);
      renderHead();
    } catch { /* the keys stand in for the labels */ }
  }

  function ratingEl(r) {
    if (!r) return null;
    const said = r.scale === "thumbs"
      ? (r.score >= 5 ? "👍 Good" : "👎 Bad")
      : `${"★".repeat(r.score)}${"☆".repeat(5 - r.score)} ${r.score} out of 5`;
    return h("div", { class: "rating", "data-testid": "rating" },
      h("span", { class: "label" }, "Visitor's rating"),
      h("b", { class: `score ${r.scale}`, "aria-label": r.scale === "thumbs" ? (r.score >= 5 ? "Good" : "Bad") : `${r.score} out of 5 stars` }, said),
      r.comment ? h("q", {}, r.comment) : null);
  }

  function renderComposer() {
    // Drawn again while the agent types (a chat event arrived): the new editor, with the draft,
    // keeps the focus and the caret at the end, so no keystroke lands elsewhere.
    const typing = foot.contains(document.activeElement) && document.activeElement.classList.contains("editor");
    drawComposer();
    if (typing) {
      const editor = foot.querySelector(".editor:not([hidden])");
      if (editor) {
        editor.focus();
        const range = document.createRange();
        range.selectNodeContents(editor);
        range.collapse(false);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
    }
  }

  function drawComposer() {
    const s = chat.state;
    if (s === "resolved") return clear(foot, h("div", { class: "composer" }, h("div", { class: "locked" }, "This chat is resolved."), ratingEl(chat.rating)));
    const mine = chat.assignee?.id === me();
    let locked = null;
    if (s === "pending") locked = ["Claim this chat to reply to the visitor.", h("button", { class: "btn primary small", onclick: () => act("claim") }, "Claim")];
    else if (!mine) locked = [`${chat.assignee?.display_name ?? "Another agent"} is handling this chat. You can still leave an internal note.`];
    clear(foot, composer({
      conversationId: id,
      locked,
      onSend: send,
      uploadPath: `/api/live-chats/${id}/attachments`,
      onTyping: (note) => app.live?.send({ type: "typing", conversation_id: id, note }),
      // What a shortcut's {{...}} become in this chat.
      variables: () => ({
        visitor: { name: chat.visitor.name, first_name: chat.visitor.name?.trim().split(/\s+/)[0], email: chat.visitor.email },
        agent: { name: app.me.user.display_name, first_name: app.me.user.first_name },
        bot: { name: chat.bot.name },
      }),
    }));
  }

  async function send(html, note, files = []) {
    const path = `/api/live-chats/${id}/${note ? "notes" : "messages"}`;
    try {
      const m = await post(path, { body: html, client_id: crypto.randomUUID(), attachments: files });
      add(m);
      if (chat.state === "transferred" && !note) await refresh();
      return true;
    } catch (e) {
      toast(e.message);
      if (e instanceof ApiError && e.status === 409) refresh();
      return false;
    }
  }

  // Snooze: put the chat aside until a time or the visitor's next message.
  function snoozeMenu() {
    const at = (days, hour) => { const d = new Date(); d.setDate(d.getDate() + days); d.setHours(hour, 0, 0, 0); return d; };
    const nextMonday = () => { const d = new Date(); const add = ((8 - d.getDay()) % 7) || 7; return at(add, 9); };
    const options = [
      ["In 1 hour", () => new Date(Date.now() + 3600_000)],
      ["Tomorrow at 9:00", () => at(1, 9)],
      ["Next Monday at 9:00", nextMonday],
      ["Until the visitor writes", () => null],
    ];
    const popup = h("div", { class: "popup snooze-popup", role: "menu", hidden: true });
    const close = () => { popup.hidden = true; document.removeEventListener("click", outside, true); };
    const outside = (e) => { if (!wrap.isConnected || !wrap.contains(e.target)) close(); };
    const button = h("button", { class: "btn", "aria-haspopup": "menu", onclick: () => {
      popup.hidden = !popup.hidden;
      if (!popup.hidden) { document.addEventListener("click", outside, true); popup.querySelector("button")?.focus(); }
    } }, icon("snooze"), "Snooze");
    clear(popup, options.map(([label, when]) => h("button", { type: "button", role: "menuitem", onclick: () => {
      close();
      const until = when();
      act("snooze", { until: until ? until.toISOString() : null });
    } }, label)));
    popup.addEventListener("keydown", (e) => { if (e.key === "Escape") { close(); button.focus(); } });
    const wrap = h("div", { class: "snooze-wrap" }, button, popup);
    return wrap;
  }

  async function act(action, body = {}) {
    try {
      if (!accept(await post(`/api/live-chats/${id}/${action}`, body))) return;
      renderHead();
      renderComposer();
      for (const m of chat.messages) add(m);
      onRead?.();
    } catch (e) {
      toast(e.message);
      refresh();
    }
  }

  // A resolved chat taken up again is the reopener's: it moves to "Assigned to me".
  async function reopen() {
    try {
      accept(await post(`/api/live-chats/${id}/reopen`));
      toast("Chat reopened");
      navigate(`/app/mine/${id}`);
    } catch (e) {
      toast(e.message);
    }
  }

  async function transferDialog() {
    const agents = await get(`/api/teams/${app.teamId}/agents`);
    const candidates = agents.filter((a) => a.status === "available" && a.user.id !== chat.assignee?.id
      && (a.bot_access === "all" || a.bot_access.includes(chat.bot.id)));
    const close = () => overlay.remove();
    const overlay = h("div", { class: "overlay", onclick: (e) => { if (e.target === overlay) close(); } },
      h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "transfer-title" },
        h("h2", { id: "transfer-title" }, "Transfer chat"),
        h("p", { class: "sub" }, "Available agents who can see this bot."),
        h("div", { class: "choices" }, candidates.length ? candidates.map((a) => h("button", { class: "choice", onclick: async () => { close(); await act("transfer", { agent_id: a.user.id }); } },
          avatar(a.user.display_name, a.user.avatar_url), h("span", { style: { flex: 1 } }, a.user.display_name), h("span", { class: "dot available" }), "Available"))
          : h("p", { class: "sub" }, "Nobody else is available right now.")),
        h("div", { class: "foot" }, h("button", { class: "btn", onclick: close }, "Cancel"))));
    overlay.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
    document.body.append(overlay);
    overlay.querySelector(".choice, .btn")?.focus();
  }

  async function refresh() {
    side.reload();
    try {
      if (!accept(await get(`/api/live-chats/${id}`))) return;
      renderHead();
      renderComposer();
      for (const m of chat.messages) add(m);
    } catch { /* gone from view: the list refresh handles it */ }
  }

  function markRead() {
    if (lastSeq > readSeq && document.visibilityState === "visible") {
      readSeq = lastSeq;
      post(`/api/live-chats/${id}/read`, { up_to_seq: lastSeq }).then(() => onRead?.()).catch(() => {});
    }
  }

  let typingTimer = null;
  let resyncTimer = null;
  const onFrame = (e) => {
    if (!chat) return;
    const f = e.detail;
    const d = f.data ?? {};
    side.onFrame(f);
    if (f.type === "message.created" && d.conversation_id === id) {
      if (d.seq > lastSeq + 1) app.live.send({ type: "sync", conversation_id: id, after_seq: lastSeq });
      add(d);
      markRead();
      if (d.author.kind === "visitor") typing.textContent = "";
    } else if (f.type === "chat.erased" && d.conversation_id === id) {
      // Its visitor's data was erased (here or by another admin): nothing of it is left to show.
      chat = null;
      clear(pane, h("div", { class: "placeholder", "data-testid": "chat-erased" }, h("div", {},
        h("h2", {}, "This conversation was erased"), h("p", {}, "Its visitor's data was deleted by an admin. Nothing of it is kept."))));
    } else if (f.type.startsWith("chat.") && d.conversation_id === id) {
      refresh();
    } else if (f.type === "error" && d.code === "sync_throttled" && d.conversation_id === id) {
      // More history than one sync serves: go on from where the server stopped, once it lets us.
      clearTimeout(resyncTimer);
      resyncTimer = setTimeout(() => app.live?.send({ type: "sync", conversation_id: id, after_seq: d.after_seq ?? lastSeq }), Math.max(1000, d.retry_in_ms ?? 3000));
    } else if (f.type === "viewing" && d.conversation_id === id && d.agent?.id !== me()) {
      const newcomer = !viewers.has(d.agent.id);
      viewers.set(d.agent.id, { name: d.agent.display_name, at: Date.now() });
      renderViewers();
      // Someone just opened it: let them know at once that it is open here too.
      if (newcomer) sayViewing();
    } else if (f.type === "typing" && d.conversation_id === id) {
      const who = d.author.kind === "visitor" ? chat?.visitor.display_name : d.author.display_name;
      typing.textContent = `${who} is ${d.note ? "writing a note" : "typing"}…`;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { typing.textContent = ""; }, 4000);
    }
  };
  // The socket (re)opened: state changes made meanwhile reached no frame, so re-read the chat;
  // the sync makes the socket follow this conversation from what we hold.
  let reconnectedWhileLoading = false;
  const onReconnect = () => {
    // Opened before the chat was loaded: catch up once it is (what changed meanwhile).
    if (!chat) {
      reconnectedWhileLoading = true;
      return;
    }
    refresh();
    app.live.send({ type: "sync", conversation_id: id, after_seq: lastSeq });
  };
  // The open chat's keys (the inbox routes them here while the agent is not typing).
  const focusComposer = (asNote) => {
    const tab = foot.querySelector(asNote ? ".modes button:nth-child(2)" : ".modes button:nth-child(1)");
    tab?.click();
    foot.querySelector(".editor:not([hidden])")?.focus();
  };
  app.chatKeys = {
    c: () => { if (chat?.state === "pending" || (chat?.state === "transferred" && chat.assignee?.id === me())) act("claim"); },
    e: () => { if (chat && chat.state !== "resolved" && chat.state !== "bot") act("resolve"); },
    t: () => { if (chat && (chat.state === "active" || chat.state === "transferred")) transferDialog(); },
    r: () => focusComposer(false),
    n: () => focusComposer(true),
  };
  // Tell the other agents this chat is open here: now, every 15 s while visible, and after a
  // reconnect.
  // Baton forwards one every 2 s at most: a reply to a newcomer waits for that.
  let lastViewing = 0;
  let viewingSoon = null;
  const sayViewing = () => {
    if (document.visibilityState !== "visible") return;
    const wait = lastViewing + 2_100 - Date.now();
    clearTimeout(viewingSoon);
    if (wait > 0) { viewingSoon = setTimeout(sayViewing, wait); return; }
    lastViewing = Date.now();
    app.live?.send({ type: "viewing", conversation_id: id });
  };
  const viewingTimer = setInterval(() => { sayViewing(); renderViewers(); }, 15_000);
  const onVisible = () => { markRead(); sayViewing(); };
  app.live?.addEventListener("frame", onFrame);
  app.live?.addEventListener("reconnected", onReconnect);
  document.addEventListener("visibilitychange", onVisible);
  app.live?.addEventListener("reconnected", sayViewing);
  app.cleanup.push(() => {
    clearInterval(viewingTimer);
    clearTimeout(viewingSoon);
    side.stop();
    app.live?.removeEventListener("reconnected", sayViewing);
    app.chatKeys = null;
    clearTimeout(resyncTimer);
    app.live?.removeEventListener("frame", onFrame);
    app.live?.removeEventListener("reconnected", onReconnect);
    document.removeEventListener("visibilitychange", onVisible);
    clearTimeout(typingTimer);
  });
  await load();
}
