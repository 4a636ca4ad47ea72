// Login and first-run setup.

import { ApiError, get, post, setCsrf } from "./api.js";
import { clear, h } from "./dom.js";

/// What a refused single sign-on came back with, in words (the address bar carries only a code).
const SSO_ERRORS = {
  off: "single sign-on is not set up here.",
  expired: "the sign-in took too long, was already used, or was started in another browser. Try again.",
  provider: "the identity provider could not be reached. Try again in a moment.",
  token: "the identity provider's answer could not be verified.",
  unverified: "your identity provider has not verified your email address.",
  no_email: "your identity provider did not share your email address.",
  no_account: "no Baton account uses the email your identity provider gave. Ask an admin of your team to invite you.",
  cancelled: "the sign-in was cancelled.",
  refused: "the identity provider refused the sign-in.",
  incomplete: "the sign-in answer was incomplete. Try again.",
};

function card(...children) {
  return h("main", { class: "auth" }, h("div", { class: "auth-card" },
    h("div", { class: "brand" }, h("img", { src: "/app/favicon.svg", alt: "" }), "Baton"), children));
}

function field(label, attrs) {
  return h("label", { class: "field" }, h("span", {}, label), h("input", { class: "input", ...attrs }));
}

function form(onSubmit, submitLabel, ...fields) {
  const error = h("div", { class: "error-box", role: "alert", hidden: true });
  const button = h("button", { class: "btn primary block", type: "submit" }, submitLabel);
  const f = h("form", { novalidate: true }, error, fields, button);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(new FormData(f)));
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : "Something went wrong. Try again.";
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export async function loginView(root, onSignedIn) {
  // A single sign-on that came back refused says why (in words Baton chose).
  const ssoError = new URLSearchParams(location.search).get("sso_error");
  history.replaceState(null, "", "/app/login");
  const status = await get("/api/setup").catch(() => ({ set_up: true }));
  if (!status.set_up) {
    history.replaceState(null, "", "/app/setup");
    return setupView(root, onSignedIn);
  }
  const methods = await get("/api/auth/methods").catch(() => ({ password: true, email: false }));
  const f = form(async ({ email, password }) => {
    const r = await post("/api/auth/login", { email, password });
    setCsrf(r.csrf_token);
    await onSignedIn();
  }, "Log in",
    field("Email", { name: "email", type: "email", autocomplete: "email", required: true, autofocus: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }));
  const sso = methods.oidc ? [
    h("a", { class: "btn block sso", href: methods.oidc.start_url, "data-testid": "sso" }, `Sign in with ${methods.oidc.name}`),
    h("div", { class: "or" }, h("span", {}, "or with your password")),
  ] : null;
  clear(root, card(h("h1", {}, "Log in to your inbox"), h("p", { class: "lead" }, "Pick up the conversations your bots hand over."),
    ssoError ? h("div", { class: "error-box", role: "alert", "data-testid": "sso-error" }, `Single sign-on did not work: ${SSO_ERRORS[ssoError] ?? "something went wrong. Try again."}`) : null,
    sso, f,
    methods.email ? h("p", { class: "aside" }, h("a", { href: "/app/forgot" }, "Forgot your password?")) : null));
}

export async function setupView(root, onSignedIn) {
  const status = await get("/api/setup").catch(() => ({ set_up: false }));
  if (status.set_up) {
    history.replaceState(null, "", "/app/login");
    return loginView(root, onSignedIn);
  }
  const f = form(async (v) => {
    await post("/api/setup", v);
    const r = await post("/api/auth/login", { email: v.email, password: v.password });
    setCsrf(r.csrf_token);
    await onSignedIn();
  }, "Create account",
    h("div", { class: "row" },
      field("First name", { name: "first_name", autocomplete: "given-name", required: true }),
      field("Last name", { name: "last_name", autocomplete: "family-name" })),
    field("Work email", { name: "email", type: "email", autocomplete: "email", required: true }),
    h("label", { class: "field" }, h("span", {}, "Password"),
      h("input", { class: "input", name: "password", type: "password", autocomplete: "new-password", minlength: 8, required: true }),
      h("small", {}, "At least 8 characters.")),
    field("Team name", { name: "team_name", placeholder: "Acme Support", required: true }));
  clear(root, card(h("h1", {}, "Welcome to Baton"), h("p", { class: "lead" }, "Create the first account and your team. You'll be its owner."), f));
}

/// The secret after `#` in a link Baton emailed (never sent to a server in the URL).
function linkToken() {
  return location.hash.replace(/^#/, "");
}

function gone(root, title, text) {
  clear(root, card(h("h1", {}, title), h("p", { class: "lead" }, text), h("a", { class: "btn primary block", href: "/app/login" }, "Go to sign in")));
}

/// An invitation link: see what it invites to, choose a password, join and land in the inbox.
export async function joinView(root, onSignedIn) {
  const token = linkToken();
  let invite;
  try {
    invite = await post("/api/join/preview", { token });
  } catch (e) {
    return gone(root, "This invitation link no longer works", e instanceof ApiError && e.status === 404 ? "It has expired, was withdrawn, or was already used. Ask whoever invited you to send a new one." : "It is not a link Baton sent.");
  }
  const f = form(async (v) => {
    const r = await post("/api/join", { token, ...v });
    setCsrf(r.csrf_token);
    history.replaceState(null, "", "/app/join");
    await onSignedIn();
  }, `Join ${invite.team_name}`,
    h("div", { class: "row" },
      field("First name", { name: "first_name", autocomplete: "given-name", value: invite.first_name }),
      field("Last name", { name: "last_name", autocomplete: "family-name", value: invite.last_name })),
    h("label", { class: "field" }, h("span", {}, "Email"), h("input", { class: "input", value: invite.email, disabled: true, "aria-label": "Email" })),
    h("label", { class: "field" }, h("span", {}, "Choose a password"),
      h("input", { class: "input", name: "password", type: "password", autocomplete: "new-password", minlength: 8, required: true, autofocus: true }),
      h("small", {}, "At least 8 characters.")));
  clear(root, card(h("h1", {}, `Join ${invite.team_name}`),
    h("p", { class: "lead" }, `${invite.invited_by ?? "Your team"} invited you to answer chats with them on Baton.`), f));
}

/// "Forgot your password?": an email with a reset link.
export function forgotView(root) {
  const done = h("div", { class: "notice", role: "status", hidden: true });
  const f = form(async ({ email }) => {
    await post("/api/auth/password-reset", { email });
    done.textContent = `If ${email} has a Baton account, a link to choose a new password is on its way. It works for an hour.`;
    done.hidden = false;
  }, "Email me a link",
    field("Email", { name: "email", type: "email", autocomplete: "email", required: true, autofocus: true }));
  clear(root, card(h("h1", {}, "Reset your password"), h("p", { class: "lead" }, "We'll email you a link to choose a new one."), done, f,
    h("p", { class: "aside" }, h("a", { href: "/app/login" }, "Back to sign in"))));
}

/// A reset link: choose the new password, then sign in with it.
export function resetView(root) {
  const token = linkToken();
  const f = form(async ({ password }) => {
    await post("/api/auth/password-reset/confirm", { token, password });
    history.replaceState(null, "", "/app/reset");
    clear(root, card(h("h1", {}, "Your password is changed"), h("p", { class: "lead" }, "Every session of your account was signed out. Sign in with the new password."),
      h("a", { class: "btn primary block", href: "/app/login" }, "Sign in")));
  }, "Set the new password",
    h("label", { class: "field" }, h("span", {}, "New password"),
      h("input", { class: "input", name: "password", type: "password", autocomplete: "new-password", minlength: 8, required: true, autofocus: true }),
      h("small", {}, "At least 8 characters.")));
  clear(root, card(h("h1", {}, "Choose a new password"), f));
}
