// Outgoing webhooks: add one (its signing secret is shown once), change its events, turn it on
// or off, get a new secret, remove it, and read its delivery log with "Send again".

import { del, get, patch, post } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { app } from "./main.js";

const EVENTS = [
  ["conversation.escalated", "Chat handed to the team"],
  ["conversation.claimed", "Chat claimed"],
  ["conversation.transferred", "Chat transferred"],
  ["conversation.resolved", "Chat resolved"],
  ["conversation.reopened", "Chat reopened"],
  ["message.created", "New message or note"],
  ["csat.given", "Satisfaction rating given"],
];

const when = (iso) => iso ? new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", hour: "numeric", minute: "2-digit", second: "2-digit" }) : "";

function eventBoxes(chosen = []) {
  return h("fieldset", { class: "field kinds", "data-testid": "webhook-events" }, h("legend", {}, "Send these events"),
    EVENTS.map(([v, l]) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "events", value: v, checked: chosen.includes(v) }), " ", l, " ", h("code", { class: "muted" }, v))));
}

function errorBox() {
  return h("div", { class: "error-box", role: "alert", hidden: true });
}

/// The secret, shown once, with a copy button.
function secretNotice(secret) {
  const copy = h("button", { class: "btn small", type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(secret); toast("Secret copied"); } catch { toast("Select the secret and copy it"); }
  } }, "Copy");
  return h("div", { class: "notice secret", role: "status", "data-testid": "webhook-secret" },
    h("div", {}, h("b", {}, "Signing secret — shown only now. "), "Check each delivery's Baton-Signature header with it."),
    h("div", { class: "secret-row" }, h("code", {}, secret), copy));
}

export async function webhooksPage(content, frame) {
  const team = app.teamId;
  const hooks = await get(`/api/teams/${team}/webhooks`);
  const error = errorBox();
  const cards = hooks.map((w) => webhookCard(w, () => webhooksPage(content, frame)));
  const addError = errorBox();
  const add = h("form", { novalidate: true, "data-testid": "webhook-add" }, addError,
    h("div", { class: "row" },
      h("label", { class: "field" }, h("span", {}, "Name"), h("input", { class: "input", name: "name", placeholder: "CRM sync", required: true })),
      h("label", { class: "field" }, h("span", {}, "Address (URL)"), h("input", { class: "input", name: "url", type: "url", placeholder: "https://example.com/baton-events", required: true }))),
    eventBoxes(["conversation.escalated", "conversation.resolved"]),
    h("button", { class: "btn primary", type: "submit" }, "Add webhook"));
  const shown = h("div");
  add.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(add);
    const button = add.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Adding…";
    addError.hidden = true;
    try {
      const w = await post(`/api/teams/${team}/webhooks`, { name: f.get("name"), url: f.get("url"), events: f.getAll("events") });
      await webhooksPage(content, frame);
      frame.secret?.(w.id, w.secret);
      toast("Webhook added");
    } catch (err) {
      addError.textContent = err.message;
      addError.hidden = false;
    } finally {
      button.disabled = false;
      button.textContent = "Add webhook";
    }
  });
  frame.draw(
    h("section", { class: "card" }, h("h2", {}, "Webhooks"),
      h("p", { class: "sub" }, "Baton posts the events you choose to your address as JSON, signed with the webhook's secret, and tries again for about a day when it fails. A webhook that fails for a whole day is turned off and the owners are emailed."),
      error, hooks.length ? cards : h("p", { class: "sub", "data-testid": "no-webhooks" }, "No webhooks yet."), shown),
    h("section", { class: "card" }, h("h2", {}, "Add a webhook"), add));
}

function webhookCard(w, redraw) {
  const error = errorBox();
  const secretSlot = h("div");
  const status = w.enabled
    ? (w.failing_since ? h("span", { class: "pill failing" }, `Failing since ${when(w.failing_since)}`) : h("span", { class: "pill ok" }, "On"))
    : h("span", { class: "pill off" }, "Off");
  const run = (f) => async () => {
    error.hidden = true;
    try { await f(); } catch (e) { error.textContent = e.message; error.hidden = false; }
  };
  const edit = h("form", { novalidate: true, hidden: true, class: "webhook-edit" },
    h("div", { class: "row" },
      h("label", { class: "field" }, h("span", {}, "Name"), h("input", { class: "input", name: "name", value: w.name })),
      h("label", { class: "field" }, h("span", {}, "Address (URL)"), h("input", { class: "input", name: "url", type: "url", value: w.url }))),
    eventBoxes(w.events),
    h("div", { class: "actions" }, h("button", { class: "btn primary", type: "submit" }, "Save"), h("button", { class: "btn", type: "button", onclick: () => { edit.hidden = true; } }, "Cancel")));
  edit.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(edit);
    run(async () => { await patch(`/api/webhooks/${w.id}`, { name: f.get("name"), url: f.get("url"), events: f.getAll("events") }); toast("Webhook saved"); await redraw(); })();
  });
  const log = h("div", { class: "delivery-log", hidden: true, "data-testid": "delivery-log" });
  // While the log is open it follows the deliveries (re-read every few seconds).
  let follow = null;
  const stopFollowing = () => { clearInterval(follow); follow = null; };
  app.cleanup.push(stopFollowing);
  const logButton = h("button", { class: "btn small", type: "button", "aria-expanded": "false", onclick: async () => {
    const open = log.hidden;
    log.hidden = !open;
    logButton.setAttribute("aria-expanded", String(open));
    logButton.textContent = open ? "Hide deliveries" : "Deliveries";
    stopFollowing();
    if (open) {
      await loadLog(w, log, redraw);
      follow = setInterval(() => {
        if (!log.isConnected) return stopFollowing();
        if (document.visibilityState === "visible" && !log.dataset.moreLoaded) loadLog(w, log, redraw, null, false, true);
      }, 3000);
    }
  } }, "Deliveries");
  const card = h("article", { class: "webhook", "data-webhook": w.id },
    h("div", { class: "webhook-head" },
      h("div", { class: "webhook-title" }, h("b", {}, w.name), status, h("div", { class: "url" }, w.url),
        h("div", { class: "muted small" }, w.events.map((e) => EVENTS.find(([v]) => v === e)?.[1] ?? e).join(" · "))),
      h("div", { class: "actions" },
        logButton,
        h("button", { class: "btn small", type: "button", onclick: () => { edit.hidden = !edit.hidden; } }, "Edit"),
        h("button", { class: "btn small", type: "button", onclick: run(async () => { await patch(`/api/webhooks/${w.id}`, { enabled: !w.enabled }); toast(w.enabled ? "Webhook turned off" : "Webhook turned on"); await redraw(); }) }, w.enabled ? "Turn off" : "Turn on"),
        h("button", { class: "btn small", type: "button", onclick: run(async () => {
          if (!confirm(`Make a new secret for "${w.name}"? The old one stops working at once.`)) return;
          const r = await post(`/api/webhooks/${w.id}/secret`);
          card.showSecret(r.secret);
        }) }, "New secret"),
        h("button", { class: "btn small danger", type: "button", onclick: run(async () => {
          if (!confirm(`Remove the webhook "${w.name}" and its delivery log?`)) return;
          await del(`/api/webhooks/${w.id}`);
          toast("Webhook removed");
          await redraw();
        }) }, "Remove"))),
    !w.enabled && w.disabled_reason ? h("p", { class: "notice warn" }, `Turned off ${when(w.disabled_at)}: ${w.disabled_reason}.`) : null,
    error, secretSlot, edit, log);
  // A secret on screen counts as work in progress: the page is not redrawn under it (a notice
  // offers the latest instead), so it stays until copied.
  card.showSecret = (secret) => { clear(secretSlot, secretNotice(secret)); secretSlot.dispatchEvent(new Event("input", { bubbles: true })); };
  return card;
}

async function loadLog(w, log, redraw, cursor = null, append = false, quiet = false) {
  if (!append && !quiet) clear(log, h("p", { class: "sub", role: "status" }, "Loading…"));
  // A quiet re-read keeps the payloads that were open.
  const opened = new Set([...log.querySelectorAll("li.delivery details[open]")].map((d) => d.closest("li").dataset.delivery));
  try {
    const page = await get(`/api/webhooks/${w.id}/deliveries${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
    const rows = page.items.map((d) => h("li", { class: `delivery ${d.state}`, "data-delivery": d.id },
      h("div", { class: "delivery-top" },
        h("span", { class: `pill ${d.state}` }, d.state === "delivered" ? "Delivered" : d.state === "failed" ? "Failed" : "Retrying"),
        h("code", {}, d.event),
        h("span", { class: "muted small" }, when(d.last_attempt_at ?? d.created_at)),
        h("span", { class: "muted small" }, d.last_status ? `HTTP ${d.last_status}` : ""),
        h("span", { class: "muted small" }, `${d.attempts} ${d.attempts === 1 ? "attempt" : "attempts"}`),
        w.enabled ? h("button", { class: "btn small ghost", type: "button", onclick: async (e) => {
          e.currentTarget.disabled = true;
          try { await post(`/api/webhooks/${w.id}/deliveries/${encodeURIComponent(d.id)}/redeliver`); toast("Sent again shortly"); await loadLog(w, log, redraw); } catch (err) { toast(err.message); }
        } }, "Send again") : null),
      d.last_error && d.state !== "delivered" ? h("div", { class: "delivery-error" }, d.last_error, d.next_attempt_at ? ` · next try ${when(d.next_attempt_at)}` : "") : null,
      h("details", { open: opened.has(d.id) }, h("summary", {}, "Payload"), h("pre", {}, JSON.stringify(d.payload, null, 2)))));
    const more = page.next_cursor ? h("button", { class: "btn small", type: "button", onclick: () => { more.remove(); log.dataset.moreLoaded = "1"; loadLog(w, log, redraw, page.next_cursor, true); } }, "Older deliveries") : null;
    if (append) {
      log.querySelector("ul")?.append(...rows);
      if (more) log.append(more);
    } else {
      clear(log, rows.length ? h("ul", {}, rows) : h("p", { class: "sub" }, "Nothing sent yet."), more);
    }
  } catch (e) {
    if (!quiet) clear(log, h("div", { class: "error-box", role: "alert" }, e.message));
  }
}
