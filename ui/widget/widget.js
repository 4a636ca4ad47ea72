// Baton chat widget. Embed with:
//   <script src="https://baton.example.com/widget.js" data-bot="BOT_ID" async></script>
// Everything lives in a shadow root, so the host page's CSS cannot reach it and ours cannot leak.
(() => {
  "use strict";
  const script = document.currentScript || document.querySelector('script[src*="widget.js"][data-bot]');
  const BOT = script && script.dataset.bot;
  if (!BOT) return;
  window.__baton = window.__baton || {};
  if (window.__baton[BOT]) return;
  window.__baton[BOT] = true;
  const BASE = new URL(script.src, location.href).origin;
  const KEY = `baton:${BOT}`;

  const store = {
    get token() { try { return localStorage.getItem(`${KEY}:token`); } catch { return null; } },
    set token(v) { try { v ? localStorage.setItem(`${KEY}:token`, v) : localStorage.removeItem(`${KEY}:token`); } catch { /* private mode */ } },
  };

  // ---------- state ----------
  let config = null;
  let conv = null; // {id, state, mode, agent}
  let email = null;
  const messages = new Map(); // seq -> message
  const pending = new Map(); // client_id -> element of a message on its way
  let lastSeq = 0;
  let ws = null;
  let wsAttempt = 0;
  let open = false;
  let unread = 0;
  let lastTypingSent = 0;
  let typingTimer = null;

  // ---------- api ----------
  async function call(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (store.token) headers.authorization = `Bearer ${store.token}`;
    // Actions run one after another: a request that never answers must not hold the rest up.
    const signal = AbortSignal.timeout ? AbortSignal.timeout(30000) : undefined;
    const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const e = new Error((data && data.error && data.error.message) || `HTTP ${res.status}`);
      e.status = res.status;
      e.code = data && data.error && data.error.code;
      throw e;
    }
    return data;
  }

  // ---------- dom ----------
  const host = document.createElement("div");
  host.setAttribute("data-baton-widget", BOT);
  const root = host.attachShadow({ mode: "open" });
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "html") el.innerHTML = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  const ICON = {
    chat: '<svg viewBox="0 0 24 24" width="26" height="26" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M4 5h16v11H9l-5 4z"/></svg>',
    close: '<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M6 6l12 12M18 6L6 18"/></svg>',
    send: '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M4 12l16-8-6 16-2-6z"/></svg>',
    bot: '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"><rect x="4" y="8" width="16" height="11" rx="3"/><path d="M12 4v4"/><circle cx="9" cy="13.5" r="1"/><circle cx="15" cy="13.5" r="1"/></svg>',
  };
  const svg = (name) => h("span", { class: "i", "aria-hidden": "true", html: ICON[name] });

  root.append(h("style", {}, `
    :host { all: initial; }
    * { box-sizing: border-box; }
    .wrap { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #111827; }
    button { font: inherit; cursor: pointer; }
    .launcher { width: 58px; height: 58px; border-radius: 50%; border: 0; background: #4f46e5; color: #fff; display: grid; place-items: center; box-shadow: 0 10px 25px rgba(79,70,229,.35); position: relative; margin-left: auto; }
    .launcher:hover { background: #4338ca; }
    .launcher:focus-visible, .panel button:focus-visible, textarea:focus-visible, input:focus-visible { outline: 2px solid #a5b4fc; outline-offset: 2px; }
    .launcher .count { position: absolute; top: -2px; right: -2px; background: #dc2626; color: #fff; border-radius: 10px; font-size: 11px; font-weight: 700; min-width: 20px; height: 20px; display: grid; place-items: center; padding: 0 5px; border: 2px solid #fff; }
    .panel { width: 380px; height: min(620px, calc(100vh - 110px)); background: #fff; border-radius: 16px; box-shadow: 0 20px 50px rgba(17,24,39,.25); display: flex; flex-direction: column; overflow: hidden; margin-bottom: 14px; }
    .panel[hidden], [hidden] { display: none !important; }
    header { background: linear-gradient(135deg, #4f46e5, #4338ca); color: #fff; padding: 16px 16px 14px; display: flex; align-items: center; gap: 12px; }
    header .who { flex: 1; min-width: 0; }
    header b { display: block; font-size: 16px; }
    header .line { font-size: 12.5px; opacity: .9; display: flex; align-items: center; gap: 6px; }
    header .dot { width: 8px; height: 8px; border-radius: 50%; background: #a5b4fc; }
    header .dot.on { background: #4ade80; }
    header .x { background: rgba(255,255,255,.15); border: 0; color: #fff; width: 34px; height: 34px; border-radius: 50%; display: grid; place-items: center; }
    header .x:hover { background: rgba(255,255,255,.28); }
    .face { width: 36px; height: 36px; border-radius: 50%; background: rgba(255,255,255,.2); display: grid; place-items: center; font-weight: 700; overflow: hidden; flex: none; }
    .face img { width: 100%; height: 100%; object-fit: cover; }
    .banner { margin: 10px 12px 0; padding: 10px 12px; border-radius: 12px; font-size: 13px; display: flex; align-items: center; gap: 10px; }
    .banner.wait { background: #fff7ed; color: #9a3412; }
    .banner.joined { background: #ecfdf5; color: #065f46; }
    .banner.ended { background: #f3f4f6; color: #374151; flex-direction: column; align-items: stretch; text-align: center; }
    .banner .face { width: 28px; height: 28px; background: #d1fae5; color: #065f46; font-size: 12px; }
    .dots span { display: inline-block; width: 5px; height: 5px; border-radius: 50%; background: currentColor; margin: 0 1px; animation: b 1.2s infinite; }
    .dots span:nth-child(2) { animation-delay: .2s; } .dots span:nth-child(3) { animation-delay: .4s; }
    @keyframes b { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
    .log { flex: 1; overflow-y: auto; padding: 14px 12px; display: flex; flex-direction: column; gap: 8px; background: #fafafe; }
    .m { max-width: 82%; display: flex; gap: 8px; align-items: flex-end; }
    .m .b { padding: 9px 12px; border-radius: 16px; background: #fff; border: 1px solid #e5e7eb; overflow-wrap: anywhere; }
    .m .b p, .m .b ul, .m .b ol { margin: 0 0 4px; } .m .b > :last-child { margin-bottom: 0; }
    .m .b code { background: #eef2ff; border-radius: 4px; padding: 0 4px; }
    .m .n { font-size: 11px; color: #6b7280; margin: 0 4px 2px; }
    .m .col { display: flex; flex-direction: column; min-width: 0; }
    .m.me { align-self: flex-end; } .m.me .b { background: #4f46e5; border-color: #4f46e5; color: #fff; border-bottom-right-radius: 4px; }
    .m.me .b a { color: #fff; }
    .m.them .b { border-bottom-left-radius: 4px; }
    .m.bot .b { background: #f5f3ff; border-color: #ede9fe; }
    .m .face { width: 26px; height: 26px; font-size: 11px; background: #e0e7ff; color: #4338ca; }
    .m.bot .face { background: #ede9fe; color: #6d28d9; }
    .m.sending { opacity: .6; }
    .m.failed .b { border-color: #fca5a5; }
    .sys { align-self: center; font-size: 12px; color: #6b7280; text-align: center; }
    .typing { font-size: 12px; color: #6b7280; padding: 0 16px 4px; min-height: 18px; font-style: italic; }
    .actions { padding: 0 12px 8px; display: flex; gap: 8px; }
    .chip { border: 1px solid #c7d2fe; background: #eef2ff; color: #4338ca; border-radius: 18px; padding: 6px 12px; font-weight: 600; font-size: 13px; }
    .chip:hover { background: #e0e7ff; }
    .email { margin: 8px 12px 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 12px; padding: 10px; font-size: 13px; }
    .email form { display: flex; gap: 6px; margin-top: 6px; }
    .email input { flex: 1; min-width: 0; border: 1px solid #d1d5db; border-radius: 8px; padding: 7px 9px; font: inherit; }
    .email button, .primary { background: #4f46e5; color: #fff; border: 0; border-radius: 8px; padding: 7px 12px; font-weight: 600; }
    .compose { display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px 12px; border-top: 1px solid #eef0f4; background: #fff; }
    .compose textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 12px; padding: 9px 12px; font: inherit; max-height: 110px; min-height: 40px; color: inherit; background: #fff; }
    .compose textarea:focus { outline: none; border-color: #4f46e5; box-shadow: 0 0 0 3px #e0e7ff; }
    .compose .send { width: 40px; height: 40px; border-radius: 50%; border: 0; background: #4f46e5; color: #fff; display: grid; place-items: center; flex: none; }
    .compose .send:disabled { background: #c7d2fe; }
    .foot { text-align: center; font-size: 11px; color: #9ca3af; padding: 0 0 8px; background: #fff; }
    .end { background: none; border: 0; color: #fff; opacity: .85; font-size: 12px; text-decoration: underline; padding: 0; }
    .i { display: inline-grid; }
    @media (max-width: 480px) {
      .wrap { right: 12px; bottom: 12px; left: 12px; }
      .panel { position: fixed; inset: 0; width: auto; height: 100%; border-radius: 0; margin: 0; }
      .wrap.open .launcher { display: none; }
    }
  `));

  const title = h("b", {}, "Chat");
  const line = h("div", { class: "line" });
  const faceSlot = h("span", {}, h("span", { class: "face", "aria-hidden": "true" }, svg("bot")));
  const endButton = h("button", { class: "end", type: "button", hidden: true, onclick: endChat }, "End chat");
  const closeButton = h("button", { class: "x", type: "button", "aria-label": "Close chat", onclick: () => toggle(false) }, svg("close"));
  const banners = h("div", { "aria-live": "polite" });
  const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const typing = h("div", { class: "typing", "aria-live": "polite" });
  const actions = h("div", { class: "actions" });
  const input = h("textarea", { rows: 1, placeholder: "Write a message…", "aria-label": "Message", maxlength: 10000 });
  const sendButton = h("button", { class: "send", type: "button", "aria-label": "Send", onclick: () => send() }, svg("send"));
  const compose = h("div", { class: "compose" }, input, sendButton);
  const panel = h("div", { class: "panel", role: "dialog", "aria-label": "Chat", hidden: true },
    h("header", {}, faceSlot, h("div", { class: "who" }, title, line), endButton, closeButton),
    banners, log, typing, actions, compose, h("div", { class: "foot" }, "Powered by Baton"));
  const count = h("span", { class: "count", hidden: true });
  const launcher = h("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false", onclick: () => toggle(!open) }, svg("chat"), count);
  const wrap = h("div", { class: "wrap" }, panel, launcher);
  root.append(wrap);

  function initials(name) {
    const p = String(name || "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
    return ((p[0] || "?")[0] + ((p[1] || "")[0] || "")).toUpperCase();
  }
  function faceOf(agent) {
    return h("span", { class: "face", "aria-hidden": "true" }, agent && agent.avatar_url ? h("img", { src: BASE + agent.avatar_url, alt: "" }) : initials(agent && agent.display_name));
  }
  function ago(iso) {
    const m = Math.round((Date.now() - Date.parse(iso)) / 60000);
    if (m < 1) return "just now";
    if (m < 60) return `${m} min ago`;
    const hrs = Math.round(m / 60);
    return hrs < 24 ? `${hrs} h ago` : `${Math.round(hrs / 24)} d ago`;
  }

  // ---------- rendering ----------
  function renderHeader() {
    const live = conv && ["active", "transferred"].includes(conv.state) && conv.agent;
    title.textContent = live ? conv.agent.display_name : (config ? config.name : "Chat");
    faceSlot.replaceChildren(live ? faceOf(conv.agent) : h("span", { class: "face", "aria-hidden": "true" }, svg("bot")));
    line.replaceChildren();
    const a = config && config.show_agent_availability && config.availability;
    if (live) line.append("Online now");
    else if (a && a.online) line.append(h("span", { class: "dot on" }), "We're online");
    else if (a && a.last_active_at) line.append(h("span", { class: "dot" }), `Last active ${ago(a.last_active_at)}`);
    else if (a) line.append(h("span", { class: "dot" }), "We'll reply as soon as we can");
    else line.append("Ask us anything");
    panel.setAttribute("aria-label", `Chat with ${title.textContent}`);
    endButton.hidden = !conv || conv.state === "resolved";
  }

  function renderState() {
    banners.replaceChildren();
    actions.replaceChildren();
    const s = conv ? conv.state : "bot";
    if (s === "pending") {
      banners.append(h("div", { class: "banner wait", role: "status" }, h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), "Connecting you to a person…"));
      if (!email) banners.append(emailCapture());
    } else if (s === "active" && conv.agent) {
      banners.append(h("div", { class: "banner joined", role: "status" }, faceOf(conv.agent), `${conv.agent.display_name} joined the chat`));
    } else if (s === "transferred" && conv.agent) {
      banners.append(h("div", { class: "banner joined", role: "status" }, faceOf(conv.agent), `You're now chatting with ${conv.agent.display_name}`));
    } else if (s === "resolved") {
      banners.append(h("div", { class: "banner ended", role: "status" }, h("div", {}, "This chat has ended. Thanks for reaching out!"),
        h("button", { class: "primary", type: "button", style: "margin-top:8px", onclick: newChat }, "Start a new chat")));
    }
    if (s === "bot" && config && (config.human_escalation || config.human_only)) {
      actions.append(h("button", { class: "chip", type: "button", onclick: escalate }, "Talk to a person"));
    }
    compose.hidden = s === "resolved";
    renderHeader();
  }

  function emailCapture() {
    const field = h("input", { type: "email", placeholder: "you@example.com", "aria-label": "Your email", autocomplete: "email" });
    const box = h("div", { class: "email" }, "Leave your email and we'll send the reply there if you have to go.",
      h("form", { onsubmit: async (e) => {
        e.preventDefault();
        try {
          const v = await call("PATCH", "/api/widget/visitor", { email: field.value });
          email = v.email;
          box.replaceChildren("Thanks! We'll email you at ", h("b", {}, email), " if you're away.");
        } catch (err) { field.setCustomValidity(err.message); field.reportValidity(); field.setCustomValidity(""); }
      } }, field, h("button", { type: "submit" }, "Save")));
    return box;
  }

  function messageEl(m) {
    if (m.author.kind === "system") return h("div", { class: "sys", "data-seq": m.seq }, m.text);
    const mine = m.author.kind === "visitor";
    const bot = m.author.kind === "bot";
    const name = bot ? (config ? config.name : "Bot") : (m.author.display_name || "Agent");
    return h("div", { class: `m ${mine ? "me" : "them"} ${bot ? "bot" : ""}`, "data-seq": m.seq },
      mine ? null : (bot ? h("span", { class: "face", "aria-hidden": "true" }, svg("bot")) : faceOf(m.author)),
      h("div", { class: "col" }, mine ? null : h("div", { class: "n" }, name), h("div", { class: "b", html: m.body })));
  }

  function add(m) {
    if (m.client_id) settle(m.client_id);
    if (m.visibility === "internal" || messages.has(m.seq)) return;
    messages.set(m.seq, m);
    lastSeq = Math.max(lastSeq, m.seq);
    const mine = m.client_id && pending.get(m.client_id);
    const el = messageEl(m);
    if (mine) {
      mine.replaceWith(el);
      pending.delete(m.client_id);
    } else {
      const after = [...log.querySelectorAll("[data-seq]")].find((c) => Number(c.dataset.seq) > m.seq);
      log.insertBefore(el, after || null);
    }
    log.scrollTop = log.scrollHeight;
    if (!open && m.author.kind !== "visitor" && m.author.kind !== "system") {
      unread += 1;
      count.textContent = unread;
      count.hidden = false;
    }
    if (m.author.kind === "agent") typing.textContent = "";
    markRead();
  }

  // While the panel is open the visitor sees what arrives: tell Baton (no reply email needed).
  let readSent = 0;
  let readTimer = null;
  function markRead() {
    if (!open || lastSeq <= readSent || document.visibilityState !== "visible") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const upTo = lastSeq;
      call("POST", "/api/widget/read", { up_to_seq: upTo }).then(() => { readSent = Math.max(readSent, upTo); }).catch(() => {});
    }, 300);
  }
  document.addEventListener("visibilitychange", markRead);

  function resetConversation(c) {
    conv = { id: c.id, state: c.state, mode: c.mode, agent: c.agent, version: c.last_seq ?? 0 };
    messages.clear();
    lastSeq = 0;
    // Messages still on their way stay, after the history: they go to this conversation.
    log.replaceChildren();
    for (const m of c.messages) add(m);
    log.append(...pending.values());
    renderState();
  }

  // ---------- actions ----------
  // The visitor's actions run one after another, each once the chat is ready: a message typed
  // and a "Talk to a person" clicked straight after reach Baton in that order, even while the
  // visitor is still being created or the socket is still opening.
  let ready = null;
  function whenReady() {
    ready = ready || (async () => {
      await ensureVisitor();
      if (!conv) await loadConversation();
      connect(false);
    })().catch((e) => { ready = null; throw e; });
    return ready;
  }
  let queue = Promise.resolve();
  function serial(task) {
    const run = queue.then(() => whenReady()).then(task);
    queue = run.catch(() => {});
    return run;
  }

  async function ensureVisitor() {
    if (store.token) return;
    const v = await call("POST", `/api/widget/bots/${BOT}/visitors`, { page_url: location.href.split("#")[0] });
    store.token = v.visitor_token;
  }

  async function loadConversation() {
    try {
      resetConversation(await call("GET", "/api/widget/conversation"));
    } catch (e) {
      if (e.status === 401) { store.token = null; await ensureVisitor(); return loadConversation(); }
      throw e;
    }
  }

  // Resolves when Baton has answered for the message with this client id (stored or refused).
  const acks = new Map(); // client_id -> resolve
  function settle(clientId) {
    const done = acks.get(clientId);
    if (done) { acks.delete(clientId); done(); }
  }

  function send() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    const el = h("div", { class: "m me sending" }, h("div", { class: "col" }, h("div", { class: "b" }, text)));
    pending.set(clientId, el);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    serial(() => deliver(text, clientId)).catch((e) => failed(clientId, e.message, e.code));
  }

  // Over the open socket when there is one (it echoes the message back with our client_id);
  // over HTTP otherwise, or if no echo came in time — the client_id makes a repeat harmless.
  async function deliver(text, clientId) {
    if (!pending.has(clientId)) return;
    if (ws && ws.readyState === 1) {
      const acked = new Promise((resolve) => acks.set(clientId, resolve));
      ws.send(JSON.stringify({ type: "message", body: text, client_id: clientId }));
      const timedOut = await Promise.race([acked.then(() => false), new Promise((r) => setTimeout(() => r(true), 4000))]);
      if (!timedOut) return;
      acks.delete(clientId);
    }
    await post(text, clientId);
  }

  async function post(text, clientId) {
    try {
      const r = await call("POST", "/api/widget/messages", { body: text, client_id: clientId });
      add(r);
      if (r.bot_reply) add(r.bot_reply);
    } catch (e) {
      failed(clientId, e.message, e.code);
    }
  }

  function failed(clientId, message, code) {
    settle(clientId);
    const el = pending.get(clientId);
    if (el) {
      el.classList.remove("sending");
      el.classList.add("failed");
      el.querySelector(".b").title = message;
      pending.delete(clientId);
    }
    if (code === "chat_resolved") { conv.state = "resolved"; renderState(); }
  }

  // A state from a frame or an answer, unless it is older than the one shown: two changes can
  // reach the widget in either order, and the newer one must stay.
  function setState(d) {
    if (typeof d.version === "number") {
      if (d.version < conv.version) return;
      conv.version = d.version;
    }
    conv.state = d.state;
    if ("agent" in d) conv.agent = d.agent || (d.state === "pending" ? null : conv.agent);
    renderState();
  }

  function escalate() {
    return serial(async () => {
      setState(await call("POST", "/api/widget/escalate"));
    }).catch((e) => { if (e.code === "escalation_disabled") actions.replaceChildren(); });
  }

  function endChat() {
    return serial(async () => setState(await call("POST", "/api/widget/end"))).catch(() => { /* already ended */ });
  }

  async function newChat() {
    const c = await call("POST", "/api/widget/conversations").catch(() => call("GET", "/api/widget/conversation"));
    resetConversation(c);
    connect(true);
    input.focus();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(110, input.scrollHeight)}px`;
  }
  input.addEventListener("input", () => {
    autosize();
    const now = Date.now();
    if (conv && now - lastTypingSent > 2000 && input.value.trim() && ws && ws.readyState === 1) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ type: "typing", conversation_id: conv.id }));
    }
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  wrap.addEventListener("keydown", (e) => { if (e.key === "Escape" && open) toggle(false); });

  // ---------- live ----------
  function connect(force) {
    if (!store.token) return;
    if (ws && !force && ws.readyState <= 1) return;
    if (ws) { ws.onclose = null; ws.close(); }
    const url = `${BASE.replace(/^http/, "ws")}/api/widget/ws?token=${encodeURIComponent(store.token)}`;
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      wsAttempt = 0;
      if (!conv) return;
      sock.send(JSON.stringify({ type: "sync", conversation_id: conv.id, after_seq: lastSeq }));
      // A state change made while the socket was closed reached no frame: read it.
      call("GET", `/api/widget/conversation?after_seq=${lastSeq}`).then((c) => {
        if (!conv) return;
        // Another tab started a new chat meanwhile: show that one, whole.
        if (c.id !== conv.id) return call("GET", "/api/widget/conversation").then(resetConversation);
        for (const m of c.messages) add(m);
        setState({ state: c.state, agent: c.agent, version: c.last_seq });
      }).catch(() => { /* the next reconnect tries again */ });
    };
    sock.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      const d = f.data || {};
      if (f.type === "message.created" && conv && d.conversation_id === conv.id) add(d);
      else if (f.type.startsWith("chat.") && conv && d.conversation_id === conv.id) setState(d);
      else if (f.type === "availability" && config) {
        config.availability = d;
        renderHeader();
      } else if (f.type === "error" && d.code === "sync_throttled" && conv && d.conversation_id === conv.id) {
        // More history than one sync serves: go on from where the server stopped, once it lets us.
        const from = d.after_seq ?? lastSeq;
        const chat = conv.id;
        setTimeout(() => {
          if (ws === sock && sock.readyState === 1 && conv && conv.id === chat) sock.send(JSON.stringify({ type: "sync", conversation_id: chat, after_seq: from }));
        }, Math.max(1000, d.retry_in_ms ?? 3000));
      } else if (f.type === "error" && d.client_id) {
        failed(d.client_id, d.message, d.code);
      } else if (f.type === "typing" && conv && d.conversation_id === conv.id) {
        typing.textContent = `${d.author.display_name || "Someone"} is typing…`;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.textContent = ""; }, 4000);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      const delay = Math.min(15000, 500 * 2 ** wsAttempt++) * (0.75 + Math.random() / 2);
      setTimeout(() => connect(true), delay);
    };
  }

  async function toggle(next) {
    open = next;
    panel.hidden = !open;
    wrap.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    launcher.replaceChildren(svg(open ? "close" : "chat"), count);
    if (!open) return launcher.focus();
    unread = 0;
    count.hidden = true;
    try {
      await whenReady();
      markRead();
    } catch (e) {
      banners.replaceChildren(h("div", { class: "banner wait" }, "Chat is unavailable right now. Please try again later."));
    }
    input.focus();
  }

  async function init() {
    try {
      config = await call("GET", `/api/widget/bots/${BOT}/config`);
    } catch {
      return; // unknown bot or a site not allowed: show nothing
    }
    document.body.append(host);
    renderState();
    // Back from an email link: trade its resume token for a visitor token, then open the chat.
    const resume = location.hash.match(/baton-resume=([\w-]+)/);
    if (resume) {
      history.replaceState(null, "", location.pathname + location.search);
      try {
        const r = await call("POST", `/api/widget/bots/${BOT}/resume`, { token: resume[1] });
        store.token = r.visitor_token;
        conv = null;
      } catch { /* expired: a fresh chat starts on open */ }
      return toggle(true);
    }
    if (script.dataset.open === "true") return toggle(true);
    if (store.token) {
      // A returning visitor: pick the conversation up where it was, and hear replies while closed.
      try { await whenReady(); } catch { /* starts fresh on open */ }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
