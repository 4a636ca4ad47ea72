// The composer: rich text (bold, italic, link, lists, code), Enter sends, Shift+Enter breaks the
// line, "/" searches shortcuts, and a Reply / Internal note toggle.

import { del, get, upload } from "./api.js";
import { clear, fileSize, h, icon } from "./dom.js";

let shortcutCache = null;
/// Files attached to a conversation's composer and not yet sent: conversation id -> {files, render}.
const pendingFiles = new Map();

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

/// Fills a shortcut's variables: `{{visitor.name}}`, `{{agent.first_name}}`, ... with what
/// `vars` knows (HTML-escaped); `{{visitor.first_name|there}}` says what to use when it is
/// unknown. An unknown variable without a fallback stays as written, so the agent sees it.
export function fillVariables(html, vars) {
  return html.replace(/\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*(?:\|\s*([^}]*?)\s*)?\}\}/gi, (whole, path, fallback) => {
    const value = path.split(".").reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), vars);
    if (typeof value === "string" && value.trim()) return escapeHtml(value.trim());
    return fallback !== undefined ? fallback : whole;
  });
}

/// The variables a shortcut can use, as the shortcuts page explains them.
export const VARIABLES = ["visitor.name", "visitor.first_name", "visitor.email", "agent.name", "agent.first_name", "bot.name"];

/// The formatting tools (bold, italic, link, lists, code) for a contenteditable `editor`. A link
/// is asked for in a small form beside the tools (not the browser's prompt), and the caret lands
/// after it, so the next keystroke does not type over it.
export function richTools(editor, extra = []) {
  const tool = (label, title, run) => h("button", { type: "button", title, "aria-label": title, onmousedown: (e) => { e.preventDefault(); run(); } }, label);
  const linkInput = h("input", { class: "input", type: "url", placeholder: "https://…", "aria-label": "Link address" });
  const linkError = h("span", { class: "link-error", role: "alert", hidden: true }, "Use an address that starts with https://, http:// or mailto:");
  let saved = null;
  // Not a <form>: it may sit inside one (the shortcuts page), and forms do not nest.
  const linkBox = h("div", { class: "link-box", hidden: true },
    linkInput, h("button", { class: "btn small primary", type: "button", onclick: () => addLink() }, "Add link"),
    h("button", { class: "btn small", type: "button", onclick: () => closeLink() }, "Cancel"), linkError);
  function closeLink() {
    linkBox.hidden = true;
    linkError.hidden = true;
    editor.focus();
    if (saved) {
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(saved);
    }
  }
  function addLink() {
    const url = linkInput.value.trim();
    if (!/^(https?:\/\/|mailto:)\S+$/i.test(url)) {
      linkError.hidden = false;
      return linkInput.focus();
    }
    const range = saved;
    closeLink();
    const text = range && !range.collapsed ? range.toString() : url;
    document.execCommand("insertHTML", false, `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>&nbsp;`);
    editor.dispatchEvent(new Event("input"));
  }
  linkInput.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); closeLink(); }
    if (e.key === "Enter") { e.preventDefault(); addLink(); }
  });
  const tools = h("div", { class: "tools", role: "toolbar", "aria-label": "Formatting" },
    tool(h("b", {}, "B"), "Bold (Ctrl+B)", () => { editor.focus(); document.execCommand("bold"); }),
    tool(h("i", {}, "I"), "Italic (Ctrl+I)", () => { editor.focus(); document.execCommand("italic"); }),
    tool(icon("link"), "Link", () => {
      const sel = getSelection();
      saved = sel.rangeCount && editor.contains(sel.anchorNode) ? sel.getRangeAt(0).cloneRange() : null;
      linkInput.value = "";
      linkBox.hidden = false;
      linkInput.focus();
    }),
    tool("•", "Bulleted list", () => { editor.focus(); document.execCommand("insertUnorderedList"); }),
    tool("1.", "Numbered list", () => { editor.focus(); document.execCommand("insertOrderedList"); }),
    tool("</>", "Code", () => {
      editor.focus();
      const text = String(getSelection() ?? "") || "code";
      document.execCommand("insertHTML", false, `<code>${escapeHtml(text)}</code>&nbsp;`);
    }),
    h("span", { class: "spacer" }),
    extra);
  return { tools, linkBox };
}

/// `locked`: null when replies are allowed, else [reason, ...extra nodes]; notes always work.
/// `variables`: what a shortcut's `{{...}}` are filled with.
/// `uploadPath`: where files are uploaded (attach button, drop and paste); `onSend(html, note,
/// fileIds)`.
export function composer({ conversationId, locked, onSend, onTyping, variables, uploadPath }) {
  let note = false;
  let lastTyping = 0;
  const draftKey = `baton:draft:${conversationId}`;

  const editor = h("div", { class: "editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": "Message", "data-placeholder": "" });
  editor.innerHTML = sessionStorage.getItem(draftKey) ?? "";
  const popover = h("div", { class: "popover", role: "listbox", "aria-label": "Shortcuts", hidden: true });
  const picker = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "file-input", onchange: () => { addFiles([...picker.files]); picker.value = ""; } });
  const attachTool = uploadPath
    ? h("button", { type: "button", title: "Attach files", "aria-label": "Attach files", onmousedown: (e) => { e.preventDefault(); picker.click(); } }, icon("clip"))
    : null;
  const { tools, linkBox } = richTools(editor, [attachTool, picker, h("span", { class: "sr-only" }, "Type / to insert a shortcut")]);
  const fileList = h("div", { class: "pending-files", "data-testid": "pending-files", hidden: true });
  const box = h("div", { class: "box" }, tools, linkBox, fileList, editor, popover);
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

  // ---- files: picked, dropped or pasted; uploaded at once with progress, sent with the message ----
  // Kept per conversation, outside this composer: a composer drawn again (the chat's state
  // changed) shows the same files, and uploads on their way report to whichever is shown.
  const held = pendingFiles.get(conversationId) ?? { files: [], render: () => {} };
  pendingFiles.set(conversationId, held);
  const files = held.files;
  held.render = () => renderFiles();

  function addFiles(list) {
    if (!uploadPath) return;
    for (const file of list) {
      const f = { file, id: null, state: "uploading", progress: 0, error: null, handle: null };
      files.push(f);
      f.handle = upload(uploadPath, file, (p) => { f.progress = p; held.render(); });
      f.handle.done.then((a) => { f.id = a.id; f.state = "ready"; held.render(); }, (e) => {
        if (e.code === "aborted") return;
        f.state = "failed";
        // The server's own words say what is wrong with the file ("files of this type cannot be
        // sent; allowed: image, pdf"), without the request field they came from.
        const said = e.detail?.replace(/^(name|body): /, "");
        f.error = (e.code === "too_large" || e.code === "invalid_input") && said ? said.charAt(0).toUpperCase() + said.slice(1) : e.message;
        held.render();
      });
    }
    renderFiles();
    editor.focus();
  }

  function removeFile(f) {
    files.splice(files.indexOf(f), 1);
    if (f.state === "uploading") f.handle.abort();
    if (f.state === "ready") del(`/api/attachments/${f.id}`).catch(() => { /* it expires by itself */ });
    renderFiles();
  }

  function renderFiles() {
    fileList.hidden = !files.length;
    clear(fileList, files.map((f) => h("div", { class: `pending-file ${f.state}`, "data-state": f.state },
      icon(f.file.type.startsWith("image/") ? "clip" : "file"),
      h("span", { class: "fname", title: f.file.name }, f.file.name || "Pasted image"),
      f.state === "uploading" ? h("progress", { max: 1, value: f.progress, "aria-label": `Uploading ${f.file.name}` })
        : f.state === "failed" ? h("span", { class: "ferror", role: "alert" }, f.error)
        : h("span", { class: "fsize" }, fileSize(f.file.size)),
      h("button", { type: "button", class: "remove", "aria-label": `Remove ${f.file.name}`, title: "Remove", onclick: () => removeFile(f) }, icon("close")))));
    sendButton.disabled = files.some((f) => f.state === "uploading");
  }

  if (uploadPath) {
    {
      const over = (e) => { if ([...(e.dataTransfer?.types ?? [])].includes("Files")) { e.preventDefault(); box.classList.add("dropping"); } };
      box.addEventListener("dragover", over);
      box.addEventListener("dragenter", over);
      box.addEventListener("dragleave", () => box.classList.remove("dropping"));
      box.addEventListener("drop", (e) => {
        box.classList.remove("dropping");
        if (!e.dataTransfer?.files?.length) return;
        e.preventDefault();
        addFiles([...e.dataTransfer.files]);
      });
      editor.addEventListener("paste", (e) => {
        const pasted = [...(e.clipboardData?.files ?? [])];
        // Copying from an office program puts a picture of the text beside the text: paste the text.
        const types = [...(e.clipboardData?.types ?? [])];
        if (!pasted.length || types.includes("text/html") || types.includes("text/plain")) return;
        e.preventDefault();
        addFiles(pasted);
      });
    }
  }

  async function submit() {
    closePopover();
    const text = editor.textContent.trim();
    if (files.some((f) => f.state === "uploading")) return;
    const ready = files.filter((f) => f.state === "ready");
    if (!text && !ready.length) return;
    const html = text ? editor.innerHTML : "";
    sendButton.disabled = true;
    // The draft goes before the send: a composer drawn again while the message is on its way
    // (the chat's state changed, as when taking over a transferred chat) must not bring it back.
    sessionStorage.removeItem(draftKey);
    const ok = await onSend(html, note, ready.map((f) => f.id));
    sendButton.disabled = false;
    if (ok) {
      editor.innerHTML = "";
      for (const f of ready) files.splice(files.indexOf(f), 1);
      // Whichever composer is shown now (one drawn again while the message was on its way too).
      held.render();
    } else if (html) sessionStorage.setItem(draftKey, html);
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
    document.execCommand("insertHTML", false, fillVariables(s.body, variables?.() ?? {}));
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

  if (files.length) renderFiles();
  // Start on Reply: when replies are not allowed yet, it explains why (with the Claim button).
  setMode(false);
  return root;
}
