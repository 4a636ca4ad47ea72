// The composer: rich text (bold, italic, link, lists, code), Enter sends, Shift+Enter breaks the
// line, "/" searches shortcuts, and a Reply / Internal note toggle.

import { get } from "./api.js";
import { clear, h, icon } from "./dom.js";

let shortcutCache = null;

async function shortcuts() {
  shortcutCache ??= get("/api/shortcuts").catch(() => []);
  return shortcutCache;
}

export function invalidateShortcuts() {
  shortcutCache = null;
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/// `locked`: null when replies are allowed, else [reason, ...extra nodes]; notes always work.
export function composer({ conversationId, locked, onSend, onTyping }) {
  let note = false;
  let lastTyping = 0;
  const draftKey = `baton:draft:${conversationId}`;

  const editor = h("div", { class: "editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": "Message", "data-placeholder": "" });
  editor.innerHTML = sessionStorage.getItem(draftKey) ?? "";
  const popover = h("div", { class: "popover", role: "listbox", "aria-label": "Shortcuts", hidden: true });
  const tool = (label, title, run) => h("button", { type: "button", title, "aria-label": title, onmousedown: (e) => { e.preventDefault(); run(); editor.focus(); } }, label);
  const tools = h("div", { class: "tools", role: "toolbar", "aria-label": "Formatting" },
    tool(h("b", {}, "B"), "Bold (Ctrl+B)", () => document.execCommand("bold")),
    tool(h("i", {}, "I"), "Italic (Ctrl+I)", () => document.execCommand("italic")),
    tool(icon("link"), "Link", () => {
      const url = prompt("Link address (https://…)");
      if (url && /^(https?:\/\/|mailto:)/i.test(url.trim())) document.execCommand("createLink", false, url.trim());
    }),
    tool("•", "Bulleted list", () => document.execCommand("insertUnorderedList")),
    tool("1.", "Numbered list", () => document.execCommand("insertOrderedList")),
    tool("</>", "Code", () => {
      const text = String(getSelection() ?? "") || "code";
      document.execCommand("insertHTML", false, `<code>${escapeHtml(text)}</code>&nbsp;`);
    }),
    h("span", { class: "spacer" }),
    h("span", { class: "sr-only" }, "Type / to insert a shortcut"));
  const box = h("div", { class: "box" }, tools, editor, popover);
  const sendButton = h("button", { class: "btn primary small", type: "button", onclick: () => submit() }, "Send");
  const hint = h("div", { class: "hint" }, h("span", {}, "Enter to send · Shift+Enter for a new line · / for shortcuts"), sendButton);
  const lockedBox = h("div", { class: "locked" });
  const replyTab = h("button", { type: "button", "aria-pressed": "false", onclick: () => setMode(false) }, "Reply");
  const noteTab = h("button", { type: "button", "aria-pressed": "false", onclick: () => setMode(true) }, "Internal note");
  const root = h("div", { class: "composer" }, h("div", { class: "modes", role: "group", "aria-label": "Message kind" }, replyTab, noteTab), box, hint, lockedBox);

  function setMode(isNote) {
    note = isNote;
    replyTab.setAttribute("aria-pressed", String(!note));
    noteTab.setAttribute("aria-pressed", String(note));
    root.classList.toggle("note-mode", note);
    const blocked = !note && locked !== null;
    box.hidden = hint.hidden = blocked;
    lockedBox.hidden = !blocked;
    if (blocked) clear(lockedBox, ...locked);
    editor.dataset.placeholder = note ? "Write an internal note — only agents see it" : "Write a reply…";
    if (!blocked) editor.focus();
  }

  async function submit() {
    closePopover();
    const text = editor.textContent.trim();
    if (!text) return;
    const html = editor.innerHTML;
    sendButton.disabled = true;
    // The draft goes before the send: a composer drawn again while the message is on its way
    // (the chat's state changed, as when taking over a transferred chat) must not bring it back.
    sessionStorage.removeItem(draftKey);
    const ok = await onSend(html, note);
    sendButton.disabled = false;
    if (ok) editor.innerHTML = "";
    else sessionStorage.setItem(draftKey, html);
    editor.focus();
  }

  // ---- "/" shortcut search ----
  let options = [];
  let active = 0;

  function slashQuery() {
    const sel = getSelection();
    if (!sel?.rangeCount || !editor.contains(sel.anchorNode) || sel.anchorNode.nodeType !== Node.TEXT_NODE) return null;
    const before = sel.anchorNode.textContent.slice(0, sel.anchorOffset);
    const m = before.match(/(?:^|\s)\/([^\s/]*)$/);
    return m ? { node: sel.anchorNode, start: sel.anchorOffset - m[1].length - 1, end: sel.anchorOffset, q: m[1].toLowerCase() } : null;
  }

  async function updatePopover() {
    const q = slashQuery();
    if (!q) return closePopover();
    const all = await shortcuts();
    options = all.filter((s) => s.name.toLowerCase().includes(q.q) || s.body.toLowerCase().includes(q.q)).slice(0, 8);
    active = 0;
    renderPopover();
  }

  function renderPopover() {
    popover.hidden = false;
    clear(popover, options.length
      ? options.map((s, i) => h("button", { type: "button", class: "opt", role: "option", "aria-selected": String(i === active), onmousedown: (e) => { e.preventDefault(); insert(s); } },
          h("b", {}, "/", s.name), h("span", {}, new DOMParser().parseFromString(s.body, "text/html").body.textContent)))
      : h("div", { class: "none" }, "No shortcut matches. Create some on the Shortcuts page."));
  }

  function closePopover() {
    popover.hidden = true;
    options = [];
  }

  function insert(s) {
    const q = slashQuery();
    if (q) {
      const range = document.createRange();
      range.setStart(q.node, q.start);
      range.setEnd(q.node, q.end);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    document.execCommand("insertHTML", false, s.body);
    closePopover();
  }

  editor.addEventListener("keydown", (e) => {
    if (!popover.hidden && options.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
        return renderPopover();
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        return insert(options[active]);
      }
    }
    if (e.key === "Escape" && !popover.hidden) {
      e.preventDefault();
      return closePopover();
    }
    if (e.key === "Enter" && e.shiftKey) {
      e.preventDefault();
      document.execCommand("insertLineBreak");
    } else if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  editor.addEventListener("input", () => {
    sessionStorage.setItem(draftKey, editor.innerHTML);
    updatePopover();
    const now = Date.now();
    if (now - lastTyping > 2000 && editor.textContent.trim()) {
      lastTyping = now;
      onTyping?.(note);
    }
  });
  editor.addEventListener("blur", () => setTimeout(closePopover, 150));

  // Start on Reply: when replies are not allowed yet, it explains why (with the Claim button).
  setMode(false);
  return root;
}
