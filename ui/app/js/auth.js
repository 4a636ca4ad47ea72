// Login and first-run setup.

import { ApiError, get, post, setCsrf } from "./api.js";
import { clear, h } from "./dom.js";

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
  history.replaceState(null, "", "/app/login");
  const status = await get("/api/setup").catch(() => ({ set_up: true }));
  if (!status.set_up) {
    history.replaceState(null, "", "/app/setup");
    return setupView(root, onSignedIn);
  }
  const f = form(async ({ email, password }) => {
    const r = await post("/api/auth/login", { email, password });
    setCsrf(r.csrf_token);
    await onSignedIn();
  }, "Log in",
    field("Email", { name: "email", type: "email", autocomplete: "email", required: true, autofocus: true }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }));
  clear(root, card(h("h1", {}, "Log in to your inbox"), h("p", { class: "lead" }, "Pick up the conversations your bots hand over."), f));
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
