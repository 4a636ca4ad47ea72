// Baton chat widget. Embed with:
//   <script src="https://baton.example.com/widget.js" data-bot="BOT_ID" async></script>
// Everything lives in a shadow root, so the host page's CSS cannot reach it and ours cannot leak.
//
// Nothing the visitor types is lost: each message gets its client_id when typed and waits in an
// outbox (localStorage) until Baton acknowledges it; it is sent again, with the same client_id,
// whenever the connection comes back, also after a reload, so it arrives once and in order.
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

  const saved = {
    get(name) { try { return localStorage.getItem(`${KEY}:${name}`); } catch { return null; } },
    set(name, v) { try { v === null || v === undefined ? localStorage.removeItem(`${KEY}:${name}`) : localStorage.setItem(`${KEY}:${name}`, v); } catch { /* private mode */ } },
    json(name) { try { return JSON.parse(this.get(name)); } catch { return null; } },
  };
  const store = {
    get token() { return saved.get("token"); },
    set token(v) { saved.set("token", v); },
  };

  // ---------- state ----------
  let config = null;
  let conv = null; // {id, state, mode, agent, version, queue, rating, rating_asked}
  let visitor = { name: null, email: null, fields: {} };
  const messages = new Map(); // seq -> message
  let lastSeq = 0;
  let ws = null;
  let wsAttempt = 0;
  let link = "idle"; // idle (no socket yet), open, down
  let open = false;
  let unread = 0;
  let lastTypingSent = 0;
  let typingTimer = null;
  let configTimer = null;
  let panelNote = null; // a worded problem shown above the composer
  const done = { left: null, transcript: null, rated: false, emailSaved: null, prechat: saved.get("prechat") === "done" };

  // ---------- words ----------
  let words = {};
  function t(key, vars) {
    let s = words[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(String(v));
    return s;
  }
  const lang = () => (config && config.language) || "en";
  function nth(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }
  function clock(iso) {
    try { return new Intl.DateTimeFormat(lang(), { hour: "numeric", minute: "2-digit" }).format(new Date(iso)); } catch { return ""; }
  }
  // "Back at 9:00 AM", "Back tomorrow at 9:00 AM", "Back Monday at 9:00 AM", in the visitor's
  // own time zone and language.
  function backAt(iso) {
    const d = new Date(iso);
    const days = Math.round((new Date(d).setHours(0, 0, 0, 0) - new Date().setHours(0, 0, 0, 0)) / 86400000);
    const time = clock(iso);
    if (days <= 0) return t("back_today", { time });
    let day;
    try {
      day = days === 1 ? new Intl.RelativeTimeFormat(lang(), { numeric: "auto" }).format(1, "day")
        : new Intl.DateTimeFormat(lang(), days < 7 ? { weekday: "long" } : { weekday: "long", day: "numeric", month: "long" }).format(d);
    } catch { day = d.toDateString(); }
    return t("back_later", { day, time });
  }
  function ago(iso) {
    const m = Math.round((Date.now() - Date.parse(iso)) / 60000);
    try {
      const f = new Intl.RelativeTimeFormat(lang(), { numeric: "auto" });
      if (m < 1) return f.format(0, "minute");
      if (m < 60) return f.format(-m, "minute");
      const hrs = Math.round(m / 60);
      return hrs < 24 ? f.format(-hrs, "hour") : f.format(-Math.round(hrs / 24), "day");
    } catch { return ""; }
  }

  // ---------- api ----------
  async function call(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (store.token) headers.authorization = `Bearer ${store.token}`;
    // A request that never answers must not hold the rest up.
    const signal = AbortSignal.timeout ? AbortSignal.timeout(20000) : undefined;
    let res;
    try {
      res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (cause) {
      const e = new Error(t("reconnecting"));
      e.offline = true;
      e.cause = cause;
      throw e;
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const e = new Error((data && data.error && data.error.message) || t("try_again"));
      e.status = res.status;
      e.code = data && data.error && data.error.code;
      // Worth trying again later: the server is restarting, overloaded, or asks us to wait.
      e.offline = res.status >= 500 || res.status === 429;
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
    star: '<svg viewBox="0 0 24 24" width="26" height="26" fill="currentColor"><path d="M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1L3.2 9.5l6.1-.9z"/></svg>',
    up: '<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"><path d="M7 11v9H4v-9zM7 11l4-8c1.7 0 2.5 1 2.2 2.6L12.6 9H19a2 2 0 0 1 2 2.3l-1.2 7A2 2 0 0 1 17.8 20H7"/></svg>',
    clip: '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"><path d="M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.4 8.4a1.7 1.7 0 0 1-2.4-2.4l7.7-7.7"/></svg>',
    file: '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"><path d="M6 2h8l5 5v15H6z"/><path d="M14 2v5h5"/></svg>',
    clock: '<svg viewBox="0 0 24 24" width="12" height="12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/></svg>',
  };
  const svg = (name, cls) => h("span", { class: `i ${cls || ""}`, "aria-hidden": "true", html: ICON[name] });

  const style = h("style");
  function paintStyle() {
    const accent = (config && config.appearance && config.appearance.accent_color) || "#4f46e5";
    style.textContent = `
    :host { all: initial; --accent: ${accent}; }
    * { box-sizing: border-box; }
    .wrap { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #111827; display: flex; flex-direction: column; align-items: flex-end; }
    .wrap.left { right: auto; left: 20px; align-items: flex-start; }
    button { font: inherit; cursor: pointer; }
    .launcher { min-width: 58px; height: 58px; border-radius: 29px; border: 0; background: var(--accent); color: #fff; display: flex; align-items: center; justify-content: center; gap: 8px; box-shadow: 0 10px 25px rgba(17,24,39,.28); position: relative; padding: 0 16px; font-weight: 600; font-size: 15px; }
    .launcher:hover { filter: brightness(.92); }
    .launcher:focus-visible, .panel button:focus-visible, textarea:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid color-mix(in srgb, var(--accent) 45%, white); outline-offset: 2px; }
    .launcher .count { position: absolute; top: -2px; right: -2px; background: #dc2626; color: #fff; border-radius: 10px; font-size: 11px; font-weight: 700; min-width: 20px; height: 20px; display: grid; place-items: center; padding: 0 5px; border: 2px solid #fff; }
    .panel { width: 380px; height: min(640px, calc(100vh - 110px)); background: #fff; border-radius: 16px; box-shadow: 0 20px 50px rgba(17,24,39,.25); display: flex; flex-direction: column; overflow: hidden; margin-bottom: 14px; }
    .panel[hidden], [hidden] { display: none !important; }
    header { background: var(--accent); background-image: linear-gradient(135deg, rgba(255,255,255,.08), rgba(0,0,0,.12)); color: #fff; padding: 14px 14px 12px 16px; display: flex; align-items: center; gap: 12px; flex: none; }
    header .who { flex: 1; min-width: 0; }
    header b { display: block; font-size: 16px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    header .line { font-size: 12.5px; opacity: .92; display: flex; align-items: center; gap: 6px; min-height: 18px; }
    header .dot { width: 8px; height: 8px; border-radius: 50%; background: rgba(255,255,255,.55); flex: none; }
    header .dot.on { background: #4ade80; }
    header .dot.down { background: #fbbf24; animation: pulse 1.2s infinite; }
    @keyframes pulse { 50% { opacity: .3; } }
    header .x { background: rgba(255,255,255,.15); border: 0; color: #fff; width: 34px; height: 34px; border-radius: 50%; display: grid; place-items: center; flex: none; }
    header .x:hover { background: rgba(255,255,255,.28); }
    .face { width: 36px; height: 36px; border-radius: 50%; background: rgba(255,255,255,.2); display: grid; place-items: center; font-weight: 700; overflow: hidden; flex: none; }
    .face img { width: 100%; height: 100%; object-fit: cover; }
    .face.logo { background: #fff; }
    .face.logo img { object-fit: contain; }
    .status { margin: 8px 12px 0; padding: 8px 12px; border-radius: 12px; font-size: 13px; display: flex; align-items: center; gap: 10px; flex: none; }
    .status.wait { background: #fff7ed; color: #9a3412; }
    .status.wait .sub { display: block; font-size: 12px; opacity: .85; }
    .status.joined { background: #ecfdf5; color: #065f46; }
    .status .face { width: 26px; height: 26px; background: #d1fae5; color: #065f46; font-size: 11px; }
    .dots { flex: none; white-space: nowrap; }
    .dots span { display: inline-block; width: 5px; height: 5px; border-radius: 50%; background: currentColor; margin: 0 1px; animation: b 1.2s infinite; }
    .dots span:nth-child(2) { animation-delay: .2s; } .dots span:nth-child(3) { animation-delay: .4s; }
    @keyframes b { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
    .log { flex: 1; overflow-y: auto; padding: 12px 12px 14px; display: flex; flex-direction: column; gap: 8px; background: #fafafe; overscroll-behavior: contain; }
    .msgs, .tail { display: flex; flex-direction: column; gap: 8px; }
    .m { max-width: 84%; display: flex; gap: 8px; align-items: flex-end; }
    .m .b { padding: 9px 12px; border-radius: 16px; background: #fff; border: 1px solid #e5e7eb; overflow-wrap: anywhere; white-space: pre-wrap; }
    .m .b p, .m .b ul, .m .b ol { margin: 0 0 4px; white-space: normal; } .m .b > :last-child { margin-bottom: 0; }
    .m .b code { background: #eef2ff; border-radius: 4px; padding: 0 4px; }
    .m .n { font-size: 11px; color: #6b7280; margin: 0 4px 2px; }
    .m .meta { font-size: 11px; color: #9ca3af; margin: 2px 6px 0; display: flex; gap: 8px; align-items: center; }
    .m.me .meta { justify-content: flex-end; }
    .m .col { display: flex; flex-direction: column; min-width: 0; }
    .m.me { align-self: flex-end; } .m.me .b { background: var(--accent); border-color: var(--accent); color: #fff; border-bottom-right-radius: 4px; }
    .m.me .b a { color: #fff; }
    .m.them .b { border-bottom-left-radius: 4px; }
    .m.bot .b { background: #f5f3ff; border-color: #ede9fe; }
    .m .face { width: 26px; height: 26px; font-size: 11px; background: #e0e7ff; color: #4338ca; }
    .m.bot .face { background: #ede9fe; color: #6d28d9; }
    .m.sending .b { opacity: .65; }
    .m.failed .b { background: #fff; color: #991b1b; border: 1px solid #fca5a5; }
    .m .meta .bad { color: #b91c1c; font-weight: 600; }
    .link { background: none; border: 0; padding: 0; color: var(--accent); font-weight: 600; font-size: 11px; text-decoration: underline; }
    .sys { align-self: center; font-size: 12px; color: #6b7280; text-align: center; padding: 2px 8px; }
    .sys time { margin-left: 6px; color: #9ca3af; }
    .typing { font-size: 12px; color: #6b7280; padding: 0 16px 4px; min-height: 18px; font-style: italic; flex: none; }
    .actions { padding: 0 12px 8px; display: flex; gap: 8px; flex-wrap: wrap; flex: none; }
    .actions:empty { display: none; }
    .chip { border: 1px solid color-mix(in srgb, var(--accent) 35%, white); background: color-mix(in srgb, var(--accent) 9%, white); color: var(--accent); border-radius: 18px; padding: 6px 12px; font-weight: 600; font-size: 13px; }
    .chip:hover { background: color-mix(in srgb, var(--accent) 16%, white); }
    .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 14px; padding: 12px; font-size: 13px; display: flex; flex-direction: column; gap: 8px; }
    .card.center { text-align: center; align-items: center; }
    .card h3 { margin: 0; font-size: 14px; }
    .card p { margin: 0; color: #4b5563; }
    .card label { display: flex; flex-direction: column; gap: 3px; font-weight: 600; font-size: 12.5px; color: #374151; width: 100%; text-align: left; }
    .card label small { font-weight: 400; color: #6b7280; }
    .card input, .card textarea, .card select { border: 1px solid #d1d5db; border-radius: 8px; padding: 7px 9px; font: inherit; font-weight: 400; width: 100%; color: inherit; background: #fff; }
    .card textarea { resize: vertical; min-height: 64px; }
    .card .err { color: #b91c1c; font-size: 12px; font-weight: 400; }
    .card .row { display: flex; gap: 6px; width: 100%; }
    .card .row input { flex: 1; min-width: 0; }
    .primary { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 8px 14px; font-weight: 600; }
    .primary:disabled { opacity: .6; cursor: progress; }
    .stars { display: flex; gap: 4px; justify-content: center; }
    .stars button { background: none; border: 0; color: #d1d5db; padding: 2px; border-radius: 6px; }
    .stars button.on { color: #f59e0b; }
    .thumbs { display: flex; gap: 12px; justify-content: center; }
    .thumbs button { background: #f3f4f6; border: 1px solid #e5e7eb; border-radius: 12px; padding: 8px 16px; display: flex; gap: 6px; align-items: center; color: #374151; }
    .thumbs button.on { border-color: var(--accent); color: var(--accent); background: color-mix(in srgb, var(--accent) 9%, white); }
    .thumbs .down .i { transform: rotate(180deg); }
    .note { margin: 0 12px 6px; font-size: 12.5px; color: #991b1b; background: #fef2f2; border-radius: 10px; padding: 6px 10px; flex: none; }
    .compose { display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px 12px; border-top: 1px solid #eef0f4; background: #fff; flex: none; }
    .compose textarea { flex: 1; resize: none; border: 1px solid #d1d5db; border-radius: 12px; padding: 9px 12px; font: inherit; max-height: 110px; min-height: 40px; color: inherit; background: #fff; }
    .compose textarea:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px color-mix(in srgb, var(--accent) 18%, white); }
    .compose .attach { width: 40px; height: 40px; border-radius: 50%; border: 0; background: none; color: #6b7280; display: grid; place-items: center; flex: none; }
    .compose .attach:hover { background: #f3f4f6; color: var(--accent); }
    .panel.dropping .log { outline: 2px dashed var(--accent); outline-offset: -8px; background: color-mix(in srgb, var(--accent) 6%, white); }
    .files { display: flex; flex-direction: column; gap: 4px; margin-top: 2px; }
    .m.me .files { align-items: flex-end; }
    .files .pic { display: block; width: fit-content; padding: 0; border: 1px solid #e5e7eb; border-radius: 14px; overflow: hidden; background: #f3f4f6; max-width: 220px; cursor: zoom-in; }
    .files .pic img { display: block; max-width: 100%; max-height: 220px; width: auto; height: auto; }
    .files .fcard { display: inline-flex; align-items: center; gap: 8px; padding: 8px 12px; border-radius: 12px; border: 1px solid #e5e7eb; background: #fff; color: #374151; max-width: 240px; text-align: left; }
    .files .fcard .i { color: var(--accent); flex: none; }
    .files .fname { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; min-width: 0; }
    .files .fsize { color: #6b7280; font-size: 12px; flex: none; }
    .m .up progress { width: 120px; height: 6px; accent-color: var(--accent); }
    .compose .send { width: 40px; height: 40px; border-radius: 50%; border: 0; background: var(--accent); color: #fff; display: grid; place-items: center; flex: none; }
    .foot { text-align: center; font-size: 11px; color: #9ca3af; padding: 0 0 8px; background: #fff; flex: none; }
    .end { background: none; border: 0; color: #fff; opacity: .9; font-size: 12px; text-decoration: underline; padding: 0; flex: none; }
    .i { display: inline-grid; }
    @media (max-width: 480px) {
      .wrap, .wrap.left { right: 12px; bottom: 12px; left: auto; }
      .wrap.left { left: 12px; right: auto; }
      .panel { position: fixed; inset: 0; width: auto; height: 100%; border-radius: 0; margin: 0; }
      .wrap.open .launcher { display: none; }
    }`;
  }
  root.append(style);

  const title = h("b", {}, "Chat");
  const line = h("div", { class: "line", "data-testid": "line" });
  const faceSlot = h("span", {});
  const endButton = h("button", { class: "end", type: "button", hidden: true, onclick: endChat }, "");
  const closeButton = h("button", { class: "x", type: "button", onclick: () => toggle(false) }, svg("close"));
  const banners = h("div", { "aria-live": "polite" });
  const msgs = h("div", { class: "msgs" });
  const tail = h("div", { class: "tail" });
  const log = h("div", { class: "log", role: "log", "aria-live": "polite" }, msgs, tail);
  const typing = h("div", { class: "typing", "aria-live": "polite" });
  const actions = h("div", { class: "actions" });
  const note = h("div", { class: "note", role: "alert", hidden: true });
  const input = h("textarea", { rows: 1, maxlength: 10000 });
  const sendButton = h("button", { class: "send", type: "button", onclick: () => send() }, svg("send"));
  const picker = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "widget-file", onchange: () => { sendFiles([...picker.files]); picker.value = ""; } });
  const attachButton = h("button", { class: "attach", type: "button", hidden: true, onclick: () => picker.click() }, svg("clip"));
  const compose = h("div", { class: "compose" }, attachButton, picker, input, sendButton);
  const foot = h("div", { class: "foot" });
  const panel = h("div", { class: "panel", role: "dialog", hidden: true },
    h("header", {}, faceSlot, h("div", { class: "who" }, title, line), endButton, closeButton),
    banners, log, typing, actions, note, compose, foot);
  const count = h("span", { class: "count", hidden: true });
  const launcher = h("button", { class: "launcher", type: "button", "aria-expanded": "false", onclick: () => toggle(!open) });
  const wrap = h("div", { class: "wrap" }, panel, launcher);
  root.append(wrap);

  function initials(name) {
    const p = String(name || "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
    return ((p[0] || "?")[0] + ((p[1] || "")[0] || "")).toUpperCase();
  }
  function faceOf(agent) {
    return h("span", { class: "face", "aria-hidden": "true" }, agent && agent.avatar_url ? h("img", { src: BASE + agent.avatar_url, alt: "" }) : initials(agent && agent.display_name));
  }
  function botFace() {
    const logo = config && config.appearance && config.appearance.logo_url;
    return logo ? h("span", { class: "face logo", "aria-hidden": "true" }, h("img", { src: BASE + logo, alt: "" })) : h("span", { class: "face", "aria-hidden": "true" }, svg("bot"));
  }

  // Scrolls to the newest unless the visitor scrolled up to read.
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 120; }
  function toBottom() { log.scrollTop = log.scrollHeight; }

  // ---------- rendering ----------
  function renderChrome() {
    paintStyle();
    wrap.classList.toggle("left", !!(config && config.appearance && config.appearance.position === "left"));
    const text = config && config.appearance && config.appearance.launcher_text;
    launcher.replaceChildren(...[svg(open ? "close" : "chat"), !open && text ? h("span", {}, text) : null, count].filter(Boolean));
    launcher.setAttribute("aria-label", open ? t("close_chat") : t("open_chat"));
    closeButton.setAttribute("aria-label", t("close_chat"));
    endButton.textContent = t("end_chat");
    input.placeholder = t("placeholder");
    input.setAttribute("aria-label", t("message"));
    sendButton.setAttribute("aria-label", t("send"));
    log.setAttribute("aria-label", t("messages"));
    foot.textContent = t("powered_by");
  }

  const reach = () => (config && config.reach) || "open";
  const canAsk = () => !!(config && (config.human_escalation || config.human_only));

  function renderHeader() {
    const live = conv && ["active", "transferred"].includes(conv.state) && conv.agent;
    title.textContent = live ? conv.agent.display_name : (config ? config.name : t("chat"));
    faceSlot.replaceChildren(live ? faceOf(conv.agent) : botFace());
    line.replaceChildren();
    const a = config && config.show_agent_availability && config.availability;
    if (link === "down") {
      // Whatever we knew about availability may be stale now: say only what is true.
      line.append(h("span", { class: "dot down" }), t("reconnecting"));
    } else if (live) line.append(h("span", { class: "dot on" }), t("online_now"));
    else if (reach() === "closed") {
      line.append(h("span", { class: "dot" }), t("closed_now"));
      if (config.next_change_at) line.append(" · ", backAt(config.next_change_at));
    } else if (reach() === "away") {
      line.append(h("span", { class: "dot" }), t("away_now"));
      if (a && a.last_active_at) line.append(" · ", t("last_active", { ago: ago(a.last_active_at) }));
    }
    else if (a && a.online) line.append(h("span", { class: "dot on" }), t("we_are_online"));
    else if (a && a.last_active_at) line.append(h("span", { class: "dot" }), t("last_active", { ago: ago(a.last_active_at) }));
    else if (a) line.append(h("span", { class: "dot" }), t("reply_soon"));
    else line.append(t("ask_anything"));
    panel.setAttribute("aria-label", `${t("chat")}: ${title.textContent}`);
    endButton.hidden = !conv || conv.state === "resolved" || conv.state === "bot";
  }

  function queueLine() {
    if (reach() !== "open") return t("reply_when_back");
    const q = conv && conv.queue;
    if (!q) return null;
    const place = q.position <= 1 ? t("position_next") : t("position", { n: q.position, nth: nth(q.position) });
    const s = q.expected_wait_seconds;
    const wait = s === null || s === undefined ? t("wait_few_minutes") : s < 60 ? t("wait_under_minute") : t("wait_minutes", { n: Math.round(s / 60) });
    return `${place} · ${wait}`;
  }

  function renderState() {
    const stick = nearBottom();
    banners.replaceChildren();
    actions.replaceChildren();
    const s = conv ? conv.state : "bot";
    if (s === "pending") {
      const sub = queueLine();
      banners.append(h("div", { class: "status wait", role: "status", "data-testid": "queue" }, h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
        h("span", {}, t("connecting"), sub ? h("span", { class: "sub" }, sub) : null)));
    } else if (s === "active" && conv.agent) {
      banners.append(h("div", { class: "status joined", role: "status" }, faceOf(conv.agent), t("joined_banner", { agent: conv.agent.display_name })));
    } else if (s === "transferred" && conv.agent) {
      banners.append(h("div", { class: "status joined", role: "status" }, faceOf(conv.agent), t("now_with", { agent: conv.agent.display_name })));
    }
    const gated = needsPrechat();
    if (s === "bot" && canAsk() && !gated && !done.left && link !== "down") {
      const unavailable = reach() !== "open";
      // Leaving a message needs a server that emails the reply; without one the chat queues.
      const mode = config.when_unavailable === "leave_message" && !config.email_enabled ? "queue" : (config.when_unavailable || "queue");
      if (!unavailable || mode === "queue") actions.append(h("button", { class: "chip", type: "button", onclick: escalate }, t("talk_to_person")));
      else if (mode === "leave_message" && !showLeave) actions.append(h("button", { class: "chip", type: "button", onclick: () => { showLeave = true; renderState(); } }, t("leave_message")));
    }
    renderTail(s, gated);
    compose.hidden = s === "resolved" || gated || (showLeave && s === "bot");
    // Files go to people: offered once the chat is with the team, if the team accepts any.
    attachButton.hidden = !(config && config.attachments) || !["pending", "active", "transferred"].includes(s);
    attachButton.setAttribute("aria-label", t("attach"));
    attachButton.title = t("attach");
    renderHeader();
    if (stick) toBottom();
  }

  // ---------- cards at the end of the transcript (they scroll with it, never over it) ----------
  let showLeave = false;
  function field(labelText, control, optional) {
    const err = h("span", { class: "err", hidden: true });
    control.addEventListener("input", () => { err.hidden = true; });
    control.addEventListener("change", () => { err.hidden = true; });
    return { el: h("label", {}, h("span", {}, labelText, optional ? h("small", {}, ` (${t("optional")})`) : null), control, err), err };
  }
  function busy(button, on) { button.disabled = on; button.setAttribute("aria-busy", String(on)); }

  // The cards at the end of the transcript, by what they show. A card already on screen is kept
  // (with what the visitor typed in it) however often the state is drawn; only a change in
  // which cards apply adds or removes one.
  const cards = new Map();
  function renderTail(s, gated) {
    const want = [];
    const status = (key, text) => want.push([key, () => h("div", { class: "card center", role: "status" }, h("p", {}, text))]);
    if (gated) want.push(["prechat", prechatCard]);
    else if (done.left) status(`left:${done.left}`, t("left_thanks", { email: done.left }));
    else if (showLeave && s === "bot") want.push(["leave", leaveCard]);
    if (s === "pending" && done.emailSaved) status(`email:${done.emailSaved}`, t("email_saved", { email: done.emailSaved }));
    else if (s === "pending" && !visitor.email && !done.left && config && config.email_enabled) want.push(["email", emailCard]);
    if (s === "resolved") {
      status("ended", t("chat_ended"));
      if (conv.rating_asked && !done.rated) want.push([`rating:${conv.rating_asked}`, () => ratingCard(conv.rating_asked)]);
      else if (conv.rating || done.rated) status("rated", t("rate_thanks"));
      // A copy is offered for chats that reached the team, when the server sends email.
      if (config && config.email_enabled && conv.mode === "live") {
        if (done.transcript) status(`transcript:${done.transcript}`, t("transcript_sent", { email: done.transcript }));
        else want.push(["transcript", transcriptCard]);
      }
      want.push(["new", () => h("div", { class: "card center" }, h("button", { class: "primary", type: "button", onclick: newChat }, t("new_chat")))]);
    }
    const keys = want.map(([k]) => k);
    for (const k of [...cards.keys()]) if (!keys.includes(k)) cards.delete(k);
    for (const [k, make] of want) if (!cards.has(k)) cards.set(k, make());
    const els = keys.map((k) => cards.get(k));
    if (els.length !== tail.children.length || els.some((el, i) => tail.children[i] !== el)) tail.replaceChildren(...els);
  }

  function needsPrechat() {
    const p = config && config.pre_chat;
    if (!p || !p.enabled || done.prechat) return false;
    if (!conv || conv.state !== "bot") return false;
    // Someone who already wrote in this chat is past the form.
    return ![...messages.values()].some((m) => m.author.kind === "visitor") && pendingEls.size === 0;
  }

  function prechatCard() {
    const p = config.pre_chat;
    const controls = [];
    const form = h("form", { class: "card", "data-testid": "prechat", novalidate: true }, h("p", {}, t("prechat_intro")));
    const add = (key, labelText, control, required) => {
      const f = field(labelText, control, !required);
      controls.push({ key, control, required, err: f.err });
      form.append(f.el);
    };
    if (p.name !== "off") add("name", t("name"), h("input", { name: "name", autocomplete: "name", maxlength: 100, value: visitor.name || "" }), p.name === "required");
    if (p.email !== "off") add("email", t("email"), h("input", { name: "email", type: "email", autocomplete: "email", value: visitor.email || "" }), p.email === "required");
    for (const f of p.fields || []) {
      const control = f.type === "choice"
        ? h("select", { name: f.key }, h("option", { value: "" }, t("choose")), f.options.map((o) => h("option", { value: o, selected: visitor.fields[f.key] === o }, o)))
        : h("input", { name: f.key, maxlength: 500, value: visitor.fields[f.key] || "" });
      add(f.key, f.label, control, f.required);
    }
    const submit = h("button", { class: "primary", type: "submit" }, t("start_chat"));
    const problem = h("span", { class: "err", role: "alert", hidden: true });
    form.append(problem, submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      let ok = true;
      for (const c of controls) {
        const missing = c.required && !c.control.value.trim();
        c.err.hidden = !missing;
        c.err.textContent = missing ? t("required_missing") : "";
        if (missing && ok) { c.control.focus(); ok = false; }
      }
      if (!ok) return;
      const body = { fields: {} };
      for (const c of controls) {
        const v = c.control.value.trim();
        if (c.key === "name") body.name = v || null;
        else if (c.key === "email") body.email = v || null;
        else body.fields[c.key] = v;
      }
      busy(submit, true);
      problem.hidden = true;
      try {
        await whenReady();
        const v = await call("PATCH", "/api/widget/visitor", body);
        visitor = { name: v.name, email: v.email, fields: v.fields || {} };
        done.prechat = true;
        saved.set("prechat", "done");
        renderState();
        input.focus();
      } catch (err) {
        busy(submit, false);
        const at = err.code === "invalid_input" && controls.find((c) => err.message.startsWith(c.key === "name" || c.key === "email" ? c.key : `fields.${c.key}`));
        if (at) { at.err.hidden = false; at.err.textContent = err.message.replace(/^[\w.]+: /, ""); at.control.focus(); } else { problem.hidden = false; problem.textContent = err.offline ? t("unavailable") : err.message; }
      }
    });
    return form;
  }

  function leaveCard() {
    // One id for this message however often the visitor has to send it: stored once.
    const clientId = newId();
    const name = h("input", { name: "name", autocomplete: "name", maxlength: 100, value: visitor.name || "" });
    const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true, value: visitor.email || "" });
    const text = h("textarea", { name: "message", maxlength: 10000, required: true });
    const f1 = field(t("name"), name, true), f2 = field(t("email"), email), f3 = field(t("message"), text);
    const submit = h("button", { class: "primary", type: "submit" }, t("send_message"));
    const problem = h("span", { class: "err", role: "alert", hidden: true });
    const form = h("form", { class: "card", "data-testid": "leave-message", novalidate: true }, h("h3", {}, t("leave_message")), h("p", {}, t("leave_intro")), f1.el, f2.el, f3.el, problem, submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      f2.err.hidden = !!email.value.trim(); f2.err.textContent = t("required_missing");
      f3.err.hidden = !!text.value.trim(); f3.err.textContent = t("required_missing");
      if (!email.value.trim()) return email.focus();
      if (!text.value.trim()) return text.focus();
      busy(submit, true);
      problem.hidden = true;
      try {
        await whenReady();
        const r = await call("POST", "/api/widget/leave-message", { name: name.value.trim() || null, email: email.value.trim(), body: text.value.trim(), client_id: clientId });
        visitor.email = email.value.trim();
        if (name.value.trim()) visitor.name = name.value.trim();
        done.left = visitor.email;
        showLeave = false;
        add(r.message);
        setState({ state: r.state, version: r.version });
      } catch (err) {
        busy(submit, false);
        if (err.code === "invalid_input" && /^email/.test(err.message)) { f2.err.hidden = false; f2.err.textContent = err.message.replace(/^email: /, ""); email.focus(); } else { problem.hidden = false; problem.textContent = err.offline ? t("unavailable") : err.message; }
      }
    });
    setTimeout(() => (visitor.email ? text : email).focus(), 0);
    return form;
  }

  function emailCard() {
    const fieldEl = h("input", { type: "email", placeholder: t("email_placeholder"), "aria-label": t("your_email"), autocomplete: "email" });
    const save = h("button", { class: "primary", type: "submit" }, t("save"));
    const err = h("span", { class: "err", role: "alert", hidden: true });
    const box = h("form", { class: "card", "data-testid": "email-capture", novalidate: true }, h("p", {}, t("email_prompt")), h("div", { class: "row" }, fieldEl, save), err);
    box.addEventListener("submit", async (e) => {
      e.preventDefault();
      busy(save, true);
      try {
        const v = await call("PATCH", "/api/widget/visitor", { email: fieldEl.value });
        visitor.email = v.email;
        done.emailSaved = v.email;
        renderState();
      } catch (x) { busy(save, false); err.hidden = false; err.textContent = x.offline ? t("unavailable") : x.message.replace(/^email: /, ""); }
    });
    return box;
  }

  function ratingCard(scale) {
    let score = 0;
    const comment = h("textarea", { maxlength: 2000, "aria-label": t("rate_comment"), placeholder: t("rate_comment") });
    const submit = h("button", { class: "primary", type: "submit", disabled: true }, t("rate_send"));
    const err = h("span", { class: "err", role: "alert", hidden: true });
    const pick = (n) => {
      score = n;
      submit.disabled = false;
      for (const b of choices.querySelectorAll("button")) { const on = scale === "stars" ? Number(b.dataset.n) <= n : Number(b.dataset.n) === n; b.classList.toggle("on", on); b.setAttribute("aria-pressed", String(Number(b.dataset.n) === n)); }
    };
    const choices = scale === "stars"
      ? h("div", { class: "stars", role: "group", "aria-label": t("rate_prompt") }, [1, 2, 3, 4, 5].map((n) => h("button", { type: "button", "data-n": n, "aria-label": t("stars", { n }), "aria-pressed": "false", onclick: () => pick(n) }, svg("star"))))
      : h("div", { class: "thumbs", role: "group", "aria-label": t("rate_prompt") },
        h("button", { type: "button", "data-n": 5, "aria-pressed": "false", onclick: () => pick(5) }, svg("up"), t("thumbs_up")),
        h("button", { type: "button", class: "down", "data-n": 1, "aria-pressed": "false", onclick: () => pick(1) }, svg("up"), t("thumbs_down")));
    const form = h("form", { class: "card center", "data-testid": "rating", novalidate: true }, h("h3", {}, t("rate_prompt")), choices, comment, err, submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!score) return;
      busy(submit, true);
      try {
        conv.rating = await call("POST", "/api/widget/rating", { score, comment: comment.value.trim() || null });
        done.rated = true;
        renderState();
      } catch (x) {
        busy(submit, false);
        if (x.code === "already_rated") { done.rated = true; renderState(); return; }
        err.hidden = false;
        err.textContent = x.offline ? t("unavailable") : x.message;
      }
    });
    return form;
  }

  function transcriptCard() {
    const email = h("input", { type: "email", autocomplete: "email", "aria-label": t("your_email"), placeholder: t("email_placeholder"), value: visitor.email || "" });
    const submit = h("button", { class: "primary", type: "submit" }, t("send"));
    const err = h("span", { class: "err", role: "alert", hidden: true });
    const form = h("form", { class: "card", "data-testid": "transcript", novalidate: true }, h("p", {}, t("transcript_offer")), h("div", { class: "row" }, email, submit), err);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      busy(submit, true);
      try {
        const r = await call("POST", "/api/widget/transcript", { email: email.value.trim() || null });
        done.transcript = r.email;
        renderState();
      } catch (x) { busy(submit, false); err.hidden = false; err.textContent = x.offline ? t("unavailable") : x.message.replace(/^email: /, ""); }
    });
    return form;
  }

  // ---------- messages ----------
  // What the visitor reads for a system line: their own wording, not the agents'.
  function systemText(m) {
    const d = m.event_detail || {};
    const agent = d.agent || t("agent");
    switch (m.event) {
      case "escalated": return d.trigger === "visitor_request" ? t("sys_asked_person") : d.trigger === "left_message" ? t("sys_left_message") : t("sys_handed_over");
      case "claimed": return t("sys_joined", { agent });
      case "accepted": return null; // the transfer's line already said who took over
      case "transferred": return t("sys_taken_over", { agent });
      case "resolved": return d.by_visitor ? t("sys_ended_by_you") : t("sys_ended_by_agent", { agent });
      case "requeued": return t("sys_finding_someone");
      case "reopened": return t("sys_reopened", { agent });
      default: return m.text;
    }
  }

  function messageEl(m) {
    if (m.author.kind === "system") {
      const text = systemText(m);
      return h("div", { class: "sys", "data-seq": m.seq, hidden: text === null }, text, h("time", { datetime: m.created_at }, clock(m.created_at)));
    }
    const mine = m.author.kind === "visitor";
    const bot = m.author.kind === "bot";
    const name = bot ? (config ? config.name : t("bot")) : (m.author.display_name || t("agent"));
    return h("div", { class: `m ${mine ? "me" : "them"} ${bot ? "bot" : ""}`, "data-seq": m.seq },
      mine ? null : (bot ? botFace() : faceOf(m.author)),
      h("div", { class: "col" }, mine ? null : h("div", { class: "n" }, name), m.body ? h("div", { class: "b", html: m.body }) : null, filesEl(m.attachments),
        h("div", { class: "meta" }, h("time", { datetime: m.created_at }, clock(m.created_at)))));
  }

  // ---------- files ----------
  // A file is fetched with the visitor's token (never put in a URL) and shown from memory.
  const fileUrls = new Map(); // id -> Promise<object URL>
  function fileUrl(a) {
    if (!fileUrls.has(a.id)) {
      const p = fetch(`${BASE}/api/widget/attachments/${a.id}`, { headers: { authorization: `Bearer ${store.token}` } })
        .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
        .then((b) => URL.createObjectURL(b));
      p.catch(() => fileUrls.delete(a.id));
      fileUrls.set(a.id, p);
    }
    return fileUrls.get(a.id);
  }
  function size(bytes) {
    return bytes >= 1048576 ? `${Number((bytes / 1048576).toFixed(bytes >= 10485760 ? 0 : 1))} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
  }
  function filesEl(list) {
    if (!list || !list.length) return null;
    return h("div", { class: "files", "data-testid": "files" }, list.map((a) => {
      if (a.kind === "image") {
        const img = h("img", { alt: a.name, width: a.width, height: a.height, style: a.width ? `aspect-ratio: ${a.width} / ${a.height}` : null });
        fileUrl(a).then((u) => { img.src = u; }, () => { img.alt = t("file_failed"); });
        return h("button", { class: "pic", type: "button", title: a.name, "aria-label": a.name, onclick: () => fileUrl(a).then((u) => window.open(u, "_blank", "noopener")) }, img);
      }
      return h("button", { class: "fcard", type: "button", title: `${t("download")} ${a.name}`, onclick: () => fileUrl(a).then((u) => {
        const link = h("a", { href: u, download: a.name });
        root.append(link);
        link.click();
        link.remove();
      }) }, svg("file"), h("span", { class: "fname" }, a.name), h("span", { class: "fsize" }, size(a.size)));
    }));
  }

  // Each file is uploaded at once (with progress), then sent as a message of its own through the
  // outbox, like text: its id is kept until Baton has the message.
  function sendFiles(list) {
    const limits = config && config.attachments;
    for (const file of list) {
      const bar = h("progress", { max: 1, value: 0 });
      const meta = h("div", { class: "meta up" }, bar, h("span", {}, t("uploading")));
      const el = h("div", { class: "m me sending", "data-testid": "uploading" }, h("div", { class: "col" }, h("div", { class: "b" }, file.name || "image.png"), meta));
      msgs.insertBefore(el, firstPending());
      toBottom();
      const fail = (text) => {
        el.classList.remove("sending");
        el.classList.add("failed");
        meta.replaceChildren(h("span", { class: "bad" }, text), h("button", { class: "link", type: "button", onclick: () => el.remove() }, t("remove")));
      };
      if (limits && file.size > limits.max_bytes) { fail(t("file_too_large", { size: size(limits.max_bytes) })); continue; }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${BASE}/api/widget/attachments?name=${encodeURIComponent(file.name || "image.png")}`);
      xhr.setRequestHeader("authorization", `Bearer ${store.token}`);
      xhr.setRequestHeader("content-type", "application/octet-stream");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      xhr.onerror = () => fail(t("file_failed"));
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status !== 201 || !data) {
          const code = data && data.error && data.error.code;
          return fail(code === "too_large" && limits ? t("file_too_large", { size: size(limits.max_bytes) })
            : code === "invalid_input" || code === "attachments_off" ? t("file_not_allowed") : t("file_failed"));
        }
        el.remove();
        const o = { client_id: newId(), body: "", files: [data], at: Date.now() };
        outbox.push(o);
        persistOutbox();
        msgs.append(pendingEl(o));
        toBottom();
        flush();
      };
      xhr.send(file);
    }
  }
  panel.addEventListener("dragover", (e) => {
    if (attachButton.hidden || !e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
    e.preventDefault();
    panel.classList.add("dropping");
  });
  panel.addEventListener("dragleave", (e) => { if (!panel.contains(e.relatedTarget)) panel.classList.remove("dropping"); });
  panel.addEventListener("drop", (e) => {
    panel.classList.remove("dropping");
    if (attachButton.hidden || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    sendFiles([...e.dataTransfer.files]);
  });
  input.addEventListener("paste", (e) => {
    const pasted = e.clipboardData ? [...e.clipboardData.files] : [];
    const types = e.clipboardData ? [...e.clipboardData.types] : [];
    // Text copied from an office program comes with a picture of itself: the text is pasted.
    if (attachButton.hidden || !pasted.length || types.includes("text/plain") || types.includes("text/html")) return;
    e.preventDefault();
    sendFiles(pasted);
  });

  function add(m) {
    if (m.client_id) {
      // Baton has it, whichever conversation it went to: it leaves the outbox.
      settle(m.client_id);
      dropOutbox(m.client_id);
    }
    if (!conv || m.conversation_id !== conv.id) return;
    if (m.visibility === "internal" || messages.has(m.seq)) return;
    const stick = nearBottom() || m.author.kind === "visitor";
    messages.set(m.seq, m);
    lastSeq = Math.max(lastSeq, m.seq);
    const el = messageEl(m);
    const after = [...msgs.querySelectorAll("[data-seq]")].find((c) => Number(c.dataset.seq) > m.seq);
    msgs.insertBefore(el, after || firstPending());
    if (stick) toBottom();
    if (!open && !loadingHistory && m.author.kind !== "visitor" && m.author.kind !== "system") {
      unread += 1;
      count.textContent = unread;
      count.hidden = false;
    }
    if (m.author.kind === "agent") typing.textContent = "";
    markRead();
    remember();
  }

  // While the panel is open the visitor sees what arrives: tell Baton (no reply email needed).
  let readSent = 0;
  let readTimer = null;
  function markRead() {
    if (!open || lastSeq <= readSent || document.visibilityState !== "visible" || !conv) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const upTo = lastSeq;
      call("POST", "/api/widget/read", { up_to_seq: upTo }).then(() => { readSent = Math.max(readSent, upTo); }).catch(() => {});
    }, 300);
  }
  document.addEventListener("visibilitychange", markRead);

  // What the visitor saw last, so that a reload while Baton is unreachable still shows the chat.
  let stale = false;
  let rememberTimer = null;
  function writeDown() {
    clearTimeout(rememberTimer);
    rememberTimer = null;
    if (!conv || stale) return;
    const recent = [...messages.values()].sort((a, b) => a.seq - b.seq).slice(-50);
    saved.set("conv", JSON.stringify({ id: conv.id, state: conv.state, mode: conv.mode, agent: conv.agent, last_seq: conv.version, messages: recent, visitor }));
  }
  // At most one write per burst of changes, and never later than 100 ms after the first.
  function remember() {
    if (!rememberTimer) rememberTimer = setTimeout(writeDown, 100);
  }
  window.addEventListener("pagehide", () => { if (rememberTimer) writeDown(); });

  let loadingHistory = false;
  function resetConversation(c) {
    // The cards (forms) belong to a conversation: kept while it is the same one, so a form being
    // filled in survives the chat being read again.
    if (conv && conv.id !== c.id) cards.clear();
    conv = { id: c.id, state: c.state, mode: c.mode, agent: c.agent, version: c.last_seq ?? 0, queue: c.queue || null, rating: c.rating || null, rating_asked: c.rating_asked || null };
    if (c.visitor) visitor = { name: c.visitor.name, email: c.visitor.email, fields: c.visitor.fields || {} };
    if (c.visitor && (c.visitor.name || c.visitor.email || Object.keys(c.visitor.fields || {}).length)) done.prechat = true;
    messages.clear();
    lastSeq = 0;
    readSent = 0;
    // Messages still in the outbox stay, after the history: they go to this conversation.
    msgs.replaceChildren(...pendingEls.values());
    // History is not news: it does not count as unread.
    loadingHistory = true;
    try { for (const m of c.messages) add(m); } finally { loadingHistory = false; }
    renderState();
    toBottom();
    remember();
  }

  // ---------- the outbox ----------
  // [{client_id, body, at, failed?}] in the order typed; kept until Baton has the message.
  let outbox = (saved.json("outbox") || []).filter((o) => o && typeof o.client_id === "string" && typeof o.body === "string" && (o.files === undefined || Array.isArray(o.files)));
  const pendingEls = new Map(); // client_id -> element
  function persistOutbox() { saved.set("outbox", outbox.length ? JSON.stringify(outbox) : null); }
  function firstPending() { return pendingEls.values().next().value || null; }
  function newId() { return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(36).slice(2)}`; }

  function pendingEl(o) {
    const meta = h("div", { class: "meta" });
    const el = h("div", { class: "m me sending", "data-client-id": o.client_id },
      h("div", { class: "col" }, o.body ? h("div", { class: "b" }, o.body) : null, o.files ? filesEl(o.files) : null, meta));
    pendingEls.set(o.client_id, el);
    paintPending(o);
    return el;
  }
  function paintPending(o) {
    const el = pendingEls.get(o.client_id);
    if (!el) return;
    const meta = el.querySelector(".meta");
    el.classList.toggle("failed", !!o.failed);
    el.classList.toggle("sending", !o.failed);
    if (o.failed) {
      meta.replaceChildren(h("span", { class: "bad", title: o.failed }, t("not_sent")),
        h("button", { class: "link", type: "button", onclick: () => retry(o.client_id) }, t("retry")),
        h("button", { class: "link", type: "button", onclick: () => discard(o.client_id) }, t("remove")));
    } else {
      meta.replaceChildren(svg("clock"), h("span", {}, link === "down" || flushStalled ? t("waiting_to_send") : t("sending")));
    }
  }
  function paintAllPending() { for (const o of outbox) paintPending(o); }

  function dropOutbox(clientId) {
    const before = outbox.length;
    outbox = outbox.filter((o) => o.client_id !== clientId);
    if (outbox.length !== before) persistOutbox();
    const el = pendingEls.get(clientId);
    if (el) { el.remove(); pendingEls.delete(clientId); }
  }

  function send() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    const o = { client_id: newId(), body: text, at: Date.now() };
    outbox.push(o);
    persistOutbox();
    msgs.append(pendingEl(o));
    toBottom();
    flush();
  }

  function retry(clientId) {
    const o = outbox.find((x) => x.client_id === clientId);
    if (!o) return;
    delete o.failed;
    persistOutbox();
    paintPending(o);
    flush();
  }
  function discard(clientId) { dropOutbox(clientId); renderState(); }

  // Delivers the outbox in order, one at a time. A message the server refuses is marked failed
  // (retry or remove); a connection problem stops the round, and the next one starts when the
  // socket is back (or after a back-off), with the same client ids.
  let flushing = null;
  let flushStalled = false;
  let flushTimer = null;
  let flushAttempt = 0;
  function flush() {
    if (flushing) { flushing.again = true; return flushing.run; }
    const state = { again: false };
    state.run = (async () => {
      do {
        state.again = false;
        for (;;) {
          const o = outbox.find((x) => !x.failed);
          if (!o) break;
          try {
            await whenReady();
            await deliver(o);
            flushStalled = false;
            flushAttempt = 0;
          } catch (e) {
            if (e.offline) {
              flushStalled = true;
              paintAllPending();
              clearTimeout(flushTimer);
              flushTimer = setTimeout(flush, Math.min(15000, 1000 * 2 ** flushAttempt++));
              return;
            }
            o.failed = e.message || t("try_again");
            persistOutbox();
            paintPending(o);
            if (e.code === "chat_resolved") { conv.state = "resolved"; renderState(); }
          }
        }
      } while (state.again);
    })().finally(() => { flushing = null; });
    flushing = state;
    return state.run;
  }

  // Resolves when Baton has answered for the message with this client id (stored or refused).
  const acks = new Map(); // client_id -> {resolve, reject}
  function settle(clientId, error) {
    const done = acks.get(clientId);
    if (done) { acks.delete(clientId); error ? done.reject(error) : done.resolve(); }
  }

  // Over the open socket when there is one (it echoes the message back with our client_id);
  // over HTTP otherwise, or if no echo came in time: the client_id makes a repeat harmless.
  async function deliver(o) {
    if (!outbox.includes(o)) return;
    if (ws && ws.readyState === 1 && !o.files) {
      const acked = new Promise((resolve, reject) => acks.set(o.client_id, { resolve, reject }));
      acked.catch(() => {}); // a late refusal after the time-out is handled by the HTTP repeat
      ws.send(JSON.stringify({ type: "message", body: o.body, client_id: o.client_id }));
      const timedOut = await Promise.race([acked.then(() => false), new Promise((r) => setTimeout(() => r(true), 4000))]);
      if (!timedOut) return;
      acks.delete(o.client_id);
    }
    const r = await call("POST", "/api/widget/messages", { body: o.body, client_id: o.client_id, attachments: o.files ? o.files.map((f) => f.id) : undefined });
    // Stored in another conversation than the one shown (a new chat started in another tab):
    // the outbox lets it go, and the widget shows that conversation.
    if (conv && r.conversation_id !== conv.id) {
      dropOutbox(o.client_id);
      await call("GET", "/api/widget/conversation").then(resetConversation);
      return;
    }
    add(r);
    if (r.bot_reply) add(r.bot_reply);
  }

  // ---------- actions ----------
  let ready = null;
  function whenReady() {
    ready = ready || (async () => {
      await ensureVisitor();
      if (!conv || stale) await loadConversation();
      connect(false);
    })().catch((e) => { ready = null; throw e; });
    return ready;
  }

  async function ensureVisitor() {
    if (store.token) return;
    const v = await call("POST", `/api/widget/bots/${BOT}/visitors`, { page_url: location.href.split("#")[0] });
    store.token = v.visitor_token;
    reportContext(true);
    sendUser();
  }

  // ---------- what agents see beside the chat ----------
  // Where the visitor is (reported when it changes, also in single-page sites) and what the
  // host page tells about them: `Baton.setUser({name, email, plan: "pro"})` or data-user-*
  // attributes on the script tag.
  let reported = null;
  function reportContext(force) {
    if (!store.token) return;
    const ctx = {
      page_url: location.href.split("#")[0],
      page_title: document.title || null,
      referrer: document.referrer || null,
      time_zone: (Intl.DateTimeFormat().resolvedOptions().timeZone) || null,
      language: navigator.language || null,
    };
    const key = JSON.stringify(ctx);
    if (!force && key === reported) return;
    reported = key;
    // Tried again only when Baton could not be reached (a refusal would be refused again).
    call("PUT", "/api/widget/context", ctx).catch((e) => { if (e.offline) reported = null; });
  }
  setInterval(() => reportContext(false), 2000);
  window.addEventListener("popstate", () => reportContext(false));
  window.addEventListener("hashchange", () => reportContext(false));

  const camelToSnake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  let user = {};
  for (const [k, v] of Object.entries(script.dataset)) {
    if (/^user[A-Z]/.test(k)) user[camelToSnake(k.slice(4, 5).toLowerCase() + k.slice(5))] = v;
  }
  let userSent = null;
  function sendUser() {
    if (!store.token) return;
    const { name, email, ...attributes } = user;
    const key = JSON.stringify(user);
    if (key === userSent) return;
    userSent = key;
    const profile = {};
    if (typeof name === "string" && name.trim()) profile.name = name.trim();
    if (typeof email === "string" && email.trim()) profile.email = email.trim();
    if (Object.keys(profile).length) call("PATCH", "/api/widget/visitor", profile).then((v) => { visitor = Object.assign(visitor, v); }).catch(() => {});
    if (Object.keys(attributes).length) call("PUT", "/api/widget/attributes", { attributes }).catch((e) => { if (window.console) console.warn("Baton.setUser:", e.message); });
  }
  const api = window.Baton = window.Baton || {};
  api.setUser = (u) => {
    if (!u || typeof u !== "object") return;
    user = Object.assign({}, user, u);
    sendUser();
  };

  async function loadConversation() {
    try {
      const c = await call("GET", "/api/widget/conversation");
      stale = false;
      resetConversation(c);
    } catch (e) {
      if (e.status === 401) { store.token = null; saved.set("prechat", null); saved.set("conv", null); done.prechat = false; await ensureVisitor(); return loadConversation(); }
      throw e;
    }
  }

  // A state from a frame or an answer, unless it is older than the one shown: two changes can
  // reach the widget in either order, and the newer one must stay.
  function setState(d) {
    if (typeof d.version === "number") {
      if (d.version < conv.version) return;
      conv.version = d.version;
    }
    const was = conv.state;
    conv.state = d.state;
    // Once with the team, a chat stays a live one (a transcript is offered for it).
    if (d.mode) conv.mode = d.mode;
    else if (["pending", "active", "transferred"].includes(d.state)) conv.mode = "live";
    if ("agent" in d) conv.agent = d.agent || (d.state === "pending" ? null : conv.agent);
    if (d.state !== "pending") conv.queue = null;
    renderState();
    remember();
    // Just ended: read what the widget offers now (the rating).
    if (d.state === "resolved" && was !== "resolved") refreshConversation();
  }

  function refreshConversation() {
    if (!conv) return Promise.resolve();
    const id = conv.id;
    return call("GET", `/api/widget/conversation?after_seq=${lastSeq}`).then((c) => {
      if (!conv || conv.id !== id) return;
      // Another tab started a new chat meanwhile: show that one, whole.
      if (c.id !== conv.id) return call("GET", "/api/widget/conversation").then(resetConversation);
      for (const m of c.messages) add(m);
      conv.queue = c.queue || null;
      conv.rating = c.rating || null;
      conv.rating_asked = c.rating_asked || null;
      if (c.visitor) visitor = { name: c.visitor.name, email: c.visitor.email, fields: c.visitor.fields || {} };
      setState({ state: c.state, agent: c.agent, version: c.last_seq });
    }).catch(() => { /* the next reconnect tries again */ });
  }

  function showNote(text) {
    panelNote = text;
    note.hidden = !text;
    note.textContent = text || "";
  }

  function escalate() {
    showNote(null);
    return whenReady().then(async () => {
      // Messages typed before the click go first.
      await flush();
      setState(await call("POST", "/api/widget/escalate"));
    }).catch((e) => {
      // The bot's rules or the team's availability changed: show what is true now.
      if (e.code === "escalation_disabled" || e.code === "team_unavailable") return refreshConfig().then(() => renderState()).catch(() => {});
      showNote(e.offline ? t("unavailable") : e.message);
    });
  }

  function endChat() {
    return whenReady().then(async () => setState(await call("POST", "/api/widget/end"))).catch((e) => {
      if (e.code !== "chat_resolved") showNote(e.offline ? t("unavailable") : e.message);
    });
  }

  async function newChat() {
    try {
      const c = await call("POST", "/api/widget/conversations").catch((e) => { if (e.code === "conversation_open") return call("GET", "/api/widget/conversation"); throw e; });
      done.rated = false;
      done.transcript = null;
      done.left = null;
      done.emailSaved = null;
      showLeave = false;
      resetConversation(c);
      connect(true);
      input.focus();
    } catch (e) { showNote(e.offline ? t("unavailable") : e.message); }
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

  // ---------- config ----------
  async function refreshConfig() {
    const langs = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]).join(",");
    const c = await call("GET", `/api/widget/bots/${BOT}/config?lang=${encodeURIComponent(langs)}`);
    applyConfig(c, true);
    saved.set("config", JSON.stringify(c));
    return c;
  }
  function applyConfig(c, fresh) {
    config = c;
    words = c.strings || {};
    if (!fresh) config = { ...c, reach: "open" };
    clearTimeout(configTimer);
    // Business hours open or close at a known time: look again then.
    if (fresh && c.next_change_at) {
      const ms = Date.parse(c.next_change_at) - Date.now();
      if (ms > 0 && ms < 2 ** 31 - 1) configTimer = setTimeout(() => refreshConfig().then(() => renderState()).catch(() => {}), ms + 1000);
    }
    renderChrome();
  }

  // ---------- live ----------
  function setLink(next) {
    if (link === next) return;
    link = next;
    renderState();
    paintAllPending();
  }

  function connect(force) {
    if (!store.token) return;
    if (ws && !force && ws.readyState <= 1) return;
    if (ws) { ws.onclose = null; ws.close(); }
    const url = `${BASE.replace(/^http/, "ws")}/api/widget/ws?token=${encodeURIComponent(store.token)}`;
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      wsAttempt = 0;
      setLink("open");
      if (!conv) return;
      sock.send(JSON.stringify({ type: "sync", conversation_id: conv.id, after_seq: lastSeq }));
      // What changed while the socket was closed reached no frame: read it, and the
      // availability, which may have changed too.
      refreshConversation();
      refreshConfig().then(() => renderState()).catch(() => {});
      flush();
    };
    sock.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      const d = f.data || {};
      if (f.type === "message.created" && conv && d.conversation_id === conv.id) add(d);
      else if (f.type === "queue.updated" && conv && d.conversation_id === conv.id) {
        if (conv.state === "pending") { conv.queue = { position: d.position, expected_wait_seconds: d.expected_wait_seconds }; renderState(); }
      } else if (f.type === "agent.updated" && conv && d.conversation_id === conv.id) {
        // The agent changed their name or picture: the header follows.
        conv.agent = d.agent;
        renderState();
        remember();
      } else if (f.type.startsWith("chat.") && conv && d.conversation_id === conv.id) setState(d);
      else if (f.type === "availability" && config) {
        if (d.reach) config.reach = d.reach;
        if ("next_change_at" in d) config.next_change_at = d.next_change_at;
        if ("online" in d) config.availability = { online: d.online, last_active_at: d.last_active_at };
        renderState();
      } else if (f.type === "error" && d.code === "sync_throttled" && conv && d.conversation_id === conv.id) {
        // More history than one sync serves: go on from where the server stopped, once it lets us.
        const from = d.after_seq ?? lastSeq;
        const chat = conv.id;
        setTimeout(() => {
          if (ws === sock && sock.readyState === 1 && conv && conv.id === chat) sock.send(JSON.stringify({ type: "sync", conversation_id: chat, after_seq: from }));
        }, Math.max(1000, d.retry_in_ms ?? 3000));
      } else if (f.type === "error" && d.client_id) {
        const err = new Error(d.message || t("try_again"));
        err.code = d.code;
        err.offline = d.code === "rate_limited";
        settle(d.client_id, err);
      } else if (f.type === "typing" && conv && d.conversation_id === conv.id) {
        typing.textContent = t("typing", { name: d.author.display_name || t("someone") });
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.textContent = ""; }, 4000);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      setLink("down");
      for (const [id] of acks) settle(id, Object.assign(new Error(t("reconnecting")), { offline: true }));
      const delay = Math.min(15000, 500 * 2 ** wsAttempt++) * (0.75 + Math.random() / 2);
      setTimeout(() => connect(true), delay);
    };
  }
  window.addEventListener("online", () => { if (store.token && link === "down") connect(true); flush(); });

  async function toggle(next) {
    open = next;
    panel.hidden = !open;
    wrap.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    renderChrome();
    if (!open) return launcher.focus();
    unread = 0;
    count.hidden = true;
    toBottom();
    try {
      await whenReady();
      markRead();
      showNote(null);
    } catch (e) {
      if (link !== "down" && !conv) showNote(t("unavailable"));
      // Try again shortly: the server may be restarting.
      setTimeout(() => { if (open && !conv) toggle(true); }, 3000);
    }
    renderState();
    if (!compose.hidden) input.focus();
  }

  let initRetry = 0;
  async function init() {
    const cached = saved.json("config");
    try {
      await refreshConfig();
    } catch (e) {
      // Unreachable: a visitor with a chat (or messages waiting to go) still gets the widget,
      // from what it showed last, marked as reconnecting; anyone else sees nothing until it is back.
      if (!e.offline) return; // an unknown bot, or a site it does not allow: show nothing
      if (!cached || !store.token) {
        // Nothing to show yet: appear once Baton answers.
        initRetry = Math.min(60000, (initRetry || 2500) * 2);
        setTimeout(init, initRetry);
        return;
      }
      applyConfig(cached, false);
      link = "down";
      // Back: show what is true now, pick the chat up and send what waits in the outbox.
      const retryConfig = () => refreshConfig().then(() => {
        renderState();
        whenReady().then(() => flush()).catch(() => {});
      }).catch(() => setTimeout(retryConfig, 3000));
      setTimeout(retryConfig, 2000);
    }
    document.body.append(host);
    // Messages typed before a reload, still unacknowledged, are shown and sent again.
    for (const o of outbox) msgs.append(pendingEl(o));
    // Unreachable: show the chat as it was last seen, until it can be read again.
    const seen = link === "down" && store.token ? saved.json("conv") : null;
    if (seen && Array.isArray(seen.messages)) {
      resetConversation(seen);
      stale = true;
    }
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
    // A returning visitor: agents see where they are now.
    reportContext(true);
    sendUser();
    if (script.dataset.open === "true") return toggle(true);
    if (store.token) {
      // A returning visitor: pick the conversation up where it was, hear replies while closed,
      // and send what is still in the outbox.
      try { await whenReady(); } catch { /* starts on open */ }
      if (outbox.length) flush();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
