// The HTTP API with the session cookie: JSON in and out, the CSRF token on every write.

let csrf = null;

// What a person reads for each error code: one table for the whole app. Input errors keep the
// server's words for what is wrong, with the field named as the form names it.
const WORDS = {
  network: "Baton can't be reached. Check your connection and try again.",
  not_found: "This is no longer here: it was deleted, or you no longer have access to it.",
  unauthenticated: "Your session has ended. Please log in again.",
  invalid_credentials: "That email and password don't match an account.",
  invalid_token: "This link has expired.",
  forbidden: "Only owners and admins of the team can do that.",
  rate_limited: "That was too many attempts in a short time. Please wait a minute and try again.",
  too_large: "That is too large to send.",
  unsupported_media_type: "That kind of file can't be used here.",
  request_timeout: "That took too long. Please try again.",
  too_many_connections: "Baton is very busy right now. Please try again in a moment.",
  server_busy: "Baton is very busy right now. Please try again in a moment.",
  not_ready: "Baton is starting up. Please try again in a moment.",
  internal: "Something went wrong on our side. Please try again.",
  wrong_password: "The current password is wrong.",
  already_claimed: "Another agent has just claimed this chat.",
  agent_not_available: "That agent is not available for this chat right now.",
  claim_first: "Claim the chat before replying.",
  not_assignee: "Only the agent handling this chat, or an admin, can do that.",
  chat_resolved: "This chat has been resolved.",
  already_escalated: "A person is already handling this chat.",
  escalation_disabled: "This bot does not hand chats to people.",
  email_taken: "An account with that email already exists.",
  already_member: "That person is already in the team.",
  already_invited: "That person has already been invited.",
  last_owner: "A team needs at least one owner: make someone else an owner first.",
  shortcut_exists: "A shortcut with that name already exists.",
  already_set_up: "Baton is already set up. Log in instead.",
  not_resolved: "Only a resolved chat can be reopened.",
  newer_conversation: "The visitor has started a newer chat since: continue in that one.",
  attachments_off: "This team does not accept files. An admin can allow them in Team settings.",
  too_many_uploads: "Send or remove the files already attached first.",
};
const FIELDS = {
  auto_away_minutes: "Auto-away after (minutes)",
  heartbeat_timeout_seconds: "Offline after no heartbeat (seconds)",
  visitor_email_delay_seconds: "Email an unread reply after (seconds)",
  orphan_grace_seconds: "Requeue an offline agent's chats after (seconds)",
  pending_alert_seconds: "Remind agents of a waiting chat every (seconds)",
  attachment_max_bytes: "Largest file",
  attachment_kinds: "Files people may send",
  attachments: "Files",
  first_name: "First name",
  last_name: "Last name",
  new_password: "The new password",
  current_password: "Current password",
  email: "Email",
  password: "Password",
  team_name: "Team name",
  name: "Name",
  allowed_origins: "Allowed websites",
  "settings.allowed_origins": "Allowed websites",
  "responder.url": "Webhook URL",
  "widget.hours.time_zone": "Time zone",
  "widget.hours.closed_dates": "Closed on",
  "widget.appearance.launcher_text": "Launcher text",
  "widget.appearance.accent_color": "Accent colour",
};
const DAYS = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };

/// "auto_away_minutes: must be between 1 and 1440" → "Auto-away after (minutes) must be between
/// 1 and 1440"; a field the table does not name is spelt out from its key.
function inputWords(detail) {
  const m = /^([\w.[\]-]+): (.*)$/s.exec(detail ?? "");
  if (!m) return detail ? detail.charAt(0).toUpperCase() + detail.slice(1) : "Please check what you entered.";
  const [, field, what] = m;
  const day = /^widget\.hours\.days\.(\w+)$/.exec(field);
  const label = FIELDS[field] ?? (day ? `Opening hours on ${DAYS[day[1]] ?? day[1]}` : field.split(".").pop().replace(/\[\d+\]/g, "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()));
  // "must be …", "is too easy …" read on from the name; anything else follows a colon.
  return /^(is|are|must|should|cannot|can't|has|needs)\b/.test(what) ? `${label} ${what}` : `${label}: ${what}`;
}

export function wordsFor(code, detail) {
  if (code === "invalid_input") return inputWords(detail);
  return WORDS[code] ?? (detail ? detail.charAt(0).toUpperCase() + detail.slice(1) : WORDS.internal);
}

export class ApiError extends Error {
  /// `message` is for people; `detail` keeps the server's own words.
  constructor(status, code, detail) {
    super(wordsFor(code, detail));
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function setCsrf(token) {
  csrf = token;
}

export async function api(method, path, body, { raw = false } = {}) {
  const headers = {};
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
  let payload;
  if (raw) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", null);
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? (res.status >= 500 ? "internal" : "error"), err.message ?? null);
  }
  return data;
}

/// Uploads a file's bytes with progress (`onProgress(fraction)`); resolves with the answer's
/// JSON, rejects with an ApiError worded like any other. `abort()` on the returned handle stops it.
export function upload(path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", `${path}?name=${encodeURIComponent(file.name || "pasted.png")}`);
    if (csrf) xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "network", null));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const err = data?.error ?? {};
      reject(new ApiError(xhr.status, err.code ?? (xhr.status >= 500 ? "internal" : "error"), err.message ?? null));
    };
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

export const get = (p) => api("GET", p);
export const post = (p, b = {}) => api("POST", p, b);
export const put = (p, b) => api("PUT", p, b);
export const patch = (p, b) => api("PATCH", p, b);
export const del = (p) => api("DELETE", p);
