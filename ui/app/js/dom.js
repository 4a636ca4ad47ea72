// Small DOM helpers: elements are built with h(), text is always text (never HTML) unless a
// caller sets innerHTML on purpose with server-sanitised message bodies.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function svg(markup) {
  const t = document.createElement("template");
  t.innerHTML = markup.trim();
  return t.content.firstChild;
}

const ICONS = {
  inbox: '<path d="M3 13h4l2 3h6l2-3h4"/><path d="M5 5h14l2 8v6H3v-6z"/>',
  mine: '<circle cx="12" cy="8" r="4"/><path d="M4 21c1.5-4 4.5-6 8-6s6.5 2 8 6"/><path d="M16 11l2 2 4-4"/>',
  resolved: '<path d="M4 7h16v13H4z"/><path d="M2 4h20v3H2z"/><path d="M10 12h4"/>',
  bolt: '<path d="M13 2L4 14h7l-1 8 9-12h-7z"/>',
  bell: '<path d="M6 16V11a6 6 0 1 1 12 0v5l2 2H4z"/><path d="M10 20a2 2 0 0 0 4 0"/>',
  team: '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c1-3.5 3.6-5.5 6.5-5.5s5.5 2 6.5 5.5"/><circle cx="17" cy="9" r="2.5"/><path d="M16 14.6c2.6.2 4.6 2 5.5 5.4"/>',
  user: '<circle cx="12" cy="8" r="4"/><path d="M4 21c1.5-4 4.5-6 8-6s6.5 2 8 6"/>',
  chat: '<path d="M4 5h16v11H9l-5 4z"/>',
  chevron: '<path d="M6 9l6 6 6-6"/>',
  back: '<path d="M15 5l-7 7 7 7"/>',
  logout: '<path d="M15 4h4v16h-4"/><path d="M10 8l-4 4 4 4"/><path d="M6 12h10"/>',
  link: '<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/>',
  snooze: '<circle cx="12" cy="13" r="8"/><path d="M12 9v4l2.5 2"/><path d="M5 3L2 6M19 3l3 3"/>',
  search: '<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>',
  clip: '<path d="M20 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.4 8.4a1.7 1.7 0 0 1-2.4-2.4l7.7-7.7"/>',
  file: '<path d="M6 2h8l5 5v15H6z"/><path d="M14 2v5h5"/>',
  close: '<path d="M6 6l12 12M18 6L6 18"/>',
  chart: '<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>',
  bot: '<rect x="4" y="8" width="16" height="11" rx="3"/><path d="M12 4v4"/><circle cx="9" cy="13.5" r="1"/><circle cx="15" cy="13.5" r="1"/>',
};

export function icon(name) {
  return svg(`<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">${ICONS[name] ?? ""}</svg>`);
}

export function initials(name) {
  const parts = String(name ?? "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}

export function avatar(name, url, cls = "avatar") {
  return h("span", { class: cls, "aria-hidden": "true" }, url ? h("img", { src: url, alt: "" }) : initials(name));
}

/// "just now", "5m", "3h", "2d".
export function since(iso, now = Date.now()) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const hrs = Math.round(m / 60);
  if (hrs < 24) return `${hrs}h`;
  return `${Math.round(hrs / 24)}d`;
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Toasts stack in one place instead of covering each other; the same text twice shows once.
export function toast(text) {
  let stack = document.querySelector(".toasts");
  if (!stack) {
    stack = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(stack);
  }
  for (const old of stack.children) if (old.textContent === String(text)) old.remove();
  const t = h("div", { class: "toast" }, text);
  stack.append(t);
  while (stack.children.length > 3) stack.firstElementChild.remove();
  setTimeout(() => t.remove(), 2600);
}

export const STATUSES = [
  ["available", "Available", "Receive new chats"],
  ["away", "Away", "Not taking new chats"],
  ["busy", "Busy", "Handling chats"],
  ["offline", "Offline", "Signed out of chat"],
];

export function statusLabel(s) {
  return STATUSES.find((x) => x[0] === s)?.[1] ?? s;
}

/// "340 KB", "2.4 MB".
export function fileSize(bytes) {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(bytes >= 10 * 1024 * 1024 ? 0 : 1))} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/// Files of a message: images as pictures (opening full size in a new tab), others as cards with
/// their name, size and a download link. `urlOf(a, download)` gives each file's address.
export function attachmentsEl(list, urlOf) {
  if (!list?.length) return null;
  return h("div", { class: "files", "data-testid": "attachments" }, list.map((a) => a.kind === "image"
    ? h("a", { class: "pic", href: urlOf(a, false), target: "_blank", rel: "noopener", title: a.name },
        h("img", { src: urlOf(a, false), alt: a.name, loading: "lazy", width: a.width, height: a.height, style: a.width ? `aspect-ratio: ${a.width} / ${a.height}` : null }))
    : h("a", { class: "file-card", href: urlOf(a, true), download: a.name, title: `Download ${a.name}` },
        icon("file"), h("span", { class: "fname" }, a.name), h("span", { class: "fsize" }, fileSize(a.size)))));
}

/// "09:00", or "Mon 09:00" when not today.
export function snoozeWhen(iso) {
  const d = new Date(iso);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" })} ${time}`;
}
