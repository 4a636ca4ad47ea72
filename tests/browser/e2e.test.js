// End to end in real headless Chromium: a visitor and two agents complete the whole lifecycle
// through the UI. Screenshots of the main screens land in tests/browser/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchBrowser, logIn, newPage as openPage, shots, smtpSink, startServer as start } from "./support.js";

let server;
let base;
let browser;
let dataDir;
let smtp;

const startServer = (listen) => start(dataDir, listen, smtp.args);

before(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "baton-e2e-"));
  smtp = await smtpSink();
  const started = startServer("127.0.0.1:0");
  server = started.child;
  base = await started.url;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  smtp?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const newPage = (name, viewport) => openPage(browser, name, viewport);

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });

const login = (page, email, password) => logIn(page, base, email, password);

/// Logs Bob in as Available; his API calls go through his page (cookie and CSRF token).
async function availableBob(bob) {
  await login(bob, "bob@shop.test", "agent-password");
  await setStatus(bob, "Available");
  const agentCall = (method, path, body) => bob.evaluate(async ({ method, path, body }) => {
    const me = await (await fetch("/api/me")).json();
    const res = await fetch(path, { method, headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token }, body: body && JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, { method, path, body });
  const team = (await agentCall("GET", "/api/me")).body.active_team_id;
  const bots = (await agentCall("GET", `/api/teams/${team}/bots`)).body;
  return { agentCall, bots };
}

async function setStatus(page, label) {
  await page.locator(".status-button").click();
  await page.getByRole("menuitemradio", { name: new RegExp(label) }).click();
  await page.locator("[data-testid=my-status]", { hasText: label }).waitFor();
}

test("a visitor and two agents go through the whole lifecycle in the browser", async () => {
  // --- the owner sets Baton up, adds two agents, a bot and a team shortcut ---
  const owner = await newPage("owner");
  await owner.goto(`${base}/app`);
  await owner.getByRole("heading", { name: "Welcome to Baton" }).waitFor();
  await shot(owner, "01-setup");
  await owner.fill("input[name=first_name]", "Olivia");
  await owner.fill("input[name=last_name]", "Owner");
  await owner.fill("input[name=email]", "olivia@shop.test");
  await owner.fill("input[name=password]", "owner-password");
  await owner.fill("input[name=team_name]", "Northwind Support");
  await owner.click("button[type=submit]");
  await owner.getByText("Select a conversation to start chatting").waitFor();
  const banner = owner.getByRole("region", { name: "Notifications" });
  await banner.getByText("Get notified about new chats.").waitFor();
  await shot(owner, "02-inbox-first-visit");
  await banner.getByRole("button", { name: "Dismiss" }).click();

  await owner.goto(`${base}/app/team`);
  for (const [first, email] of [["Alice", "alice@shop.test"], ["Bob", "bob@shop.test"]]) {
    await owner.fill("form input[name=email]", email);
    await owner.fill("form input[name=first_name]", first);
    await owner.fill("form input[name=last_name]", "Agent");
    await owner.fill("form input[name=password]", "agent-password");
    await owner.getByRole("button", { name: "Add member" }).click();
    await owner.locator("table.grid", { hasText: email }).waitFor();
  }
  await shot(owner, "03-team-members");

  await owner.goto(`${base}/app/team/bots`);
  await owner.fill("input[name=name]", "Shop Assistant");
  await owner.getByRole("button", { name: "Create bot" }).click();
  await owner.waitForURL(/\/app\/team\/bots\/[0-9a-f-]+$/);
  const botId = owner.url().split("/").pop();
  await owner.getByLabel("Greeting").fill("Hi! Ask me about shipping, or ask for a person.");
  await owner.locator("label.switch", { hasText: "Show agent availability" }).locator("input").check();
  await owner.getByRole("button", { name: "Add an answer" }).click();
  await owner.locator("[data-q]").last().fill("Do you ship internationally?");
  await owner.locator("[data-a]").last().fill("We ship to the EU and the UK.");
  await owner.getByRole("button", { name: "Save bot" }).click();
  await owner.getByText("Bot saved").waitFor();
  await owner.locator("pre.snippet", { hasText: `data-bot="${botId}"` }).waitFor();
  await shot(owner, "04-bot-editor");

  await owner.goto(`${base}/app/shortcuts`);
  await owner.fill("input[name=name]", "refund");
  await owner.selectOption("select[name=scope]", "team");
  await owner.fill("[data-field=body]", "Refunds reach your account within 5 business days.");
  await owner.getByRole("button", { name: "Add shortcut" }).click();
  await owner.locator(".list-plain", { hasText: "/refund" }).waitFor();

  // --- a visitor on the shop asks the bot, then for a person ---
  const visitor = await newPage("visitor", { width: 1280, height: 800 });
  await visitor.goto(`${base}/demo?bot=${botId}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.getByText("Hi! Ask me about shipping").waitFor();
  await w.locator(".line", { hasText: /Nobody is available right now/ }).waitFor();
  await w.locator("textarea").fill("Do you ship internationally?");
  await w.locator("textarea").press("Enter");
  await w.locator(".m.bot", { hasText: "We ship to the EU and the UK." }).waitFor();
  await w.getByRole("button", { name: "Talk to a person" }).click();
  await w.getByText("Connecting you to a person…").waitFor();
  await w.locator("input[type=email]").fill("vera@example.com");
  await w.getByRole("button", { name: "Save" }).click();
  await w.getByText("We'll email you at").waitFor();
  await shot(visitor, "05-widget-waiting");

  // --- Alice goes available (the widget sees the team come online), claims and replies ---
  const alice = await newPage("alice");
  await login(alice, "alice@shop.test", "agent-password");
  await alice.locator("[data-testid=my-status]", { hasText: "Offline" }).waitFor();
  await setStatus(alice, "Available");
  await w.locator(".line", { hasText: "We're online" }).waitFor();
  const row = alice.locator(".chat-row").first();
  await row.locator(".pill", { hasText: "pending" }).waitFor();
  await row.click();
  await alice.locator(".msg.visitor", { hasText: "Do you ship internationally?" }).waitFor();
  await shot(alice, "06-inbox-pending-chat");
  await alice.locator(".conv-head").getByRole("button", { name: "Claim" }).click();
  await alice.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await w.getByText("Alice Agent joined the chat").waitFor();

  const editor = alice.locator(".editor");
  await editor.click();
  await alice.keyboard.type("Hello ");
  await alice.keyboard.press("Control+b");
  await alice.keyboard.type("Vera");
  await alice.keyboard.press("Control+b");
  await alice.keyboard.type("! ");
  await alice.keyboard.type("/ref");
  await alice.locator(".popover .opt", { hasText: "/refund" }).waitFor();
  await alice.keyboard.press("Enter");
  await editor.getByText("Refunds reach your account").waitFor();
  await alice.keyboard.press("Enter");
  const reply = w.locator(".m.them", { hasText: "Refunds reach your account within 5 business days." });
  await reply.waitFor();
  assert.equal(await reply.locator("b").innerText(), "Vera", "formatting reaches the visitor");

  await alice.getByRole("button", { name: "Internal note" }).click();
  await editor.click();
  await alice.keyboard.type("VIP customer, be generous");
  await alice.keyboard.press("Enter");
  await alice.locator(".msg.note", { hasText: "VIP customer" }).waitFor();
  await w.locator("textarea").fill("Great, thanks!");
  await w.locator("textarea").press("Enter");
  await alice.locator(".msg.visitor", { hasText: "Great, thanks!" }).waitFor();
  await shot(alice, "07-conversation-active");

  // --- transfer to Bob, who answers and resolves ---
  const bob = await newPage("bob");
  await login(bob, "bob@shop.test", "agent-password");
  await setStatus(bob, "Available");
  await alice.getByRole("button", { name: "Transfer" }).click();
  const dialog = alice.getByRole("dialog", { name: "Transfer chat" });
  await dialog.getByRole("button", { name: /Bob Agent/ }).waitFor();
  await shot(alice, "08-transfer-picker");
  await dialog.getByRole("button", { name: /Bob Agent/ }).click();
  await w.getByText("You're now chatting with Bob Agent").waitFor();
  await bob.getByRole("link", { name: "Assigned to me" }).click();
  await bob.locator(".chat-row", { hasText: "transferred" }).click();
  await bob.locator(".editor").click();
  await bob.keyboard.type("Bob here, happy to help.");
  await bob.keyboard.press("Enter");
  await w.locator(".m.them", { hasText: "Bob here, happy to help." }).waitFor();
  await bob.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await shot(visitor, "09-widget-transferred");
  assert.equal(await w.getByText("VIP customer").count(), 0, "the visitor never sees internal notes");

  await bob.locator(".conv-head").getByRole("button", { name: "Resolve" }).click();
  await w.getByText("This chat has ended.").waitFor();
  await shot(visitor, "10-widget-resolved");
  await w.getByRole("button", { name: "Start a new chat" }).click();
  await w.getByRole("button", { name: "Talk to a person" }).waitFor();
  assert.equal(await w.getByText("Bob here, happy to help.").count(), 0, "a new chat starts empty");
  await w.getByText("Hi! Ask me about shipping").waitFor();

  // --- presence shows in the header and the widget ---
  await setStatus(bob, "Away");
  await setStatus(alice, "Offline");
  await w.locator(".line", { hasText: "Last active" }).waitFor();
  await alice.goto(`${base}/app/resolved`);
  await alice.locator(".chat-row", { hasText: "resolved" }).waitFor();
  await shot(alice, "11-resolved-list");

  // --- the widget on a phone ---
  const phone = await newPage("phone", { width: 390, height: 780 });
  await phone.goto(`${base}/demo?bot=${botId}`);
  await phone.locator("[data-baton-widget] .launcher").click();
  await phone.locator("[data-baton-widget]").getByText("Hi! Ask me about shipping").waitFor();
  await shot(phone, "12-widget-phone");

  for (const p of [owner, visitor, alice, bob, phone]) assert.deepEqual(p.errors, [], "no script errors");
});

test("the profile page uploads an avatar with a preview and saves the name", async () => {
  const page = await newPage("profile");
  await login(page, "alice@shop.test", "agent-password");
  await page.goto(`${base}/app/profile`);
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==", "base64");
  await page.setInputFiles("#avatar-file", { name: "me.png", mimeType: "image/png", buffer: png });
  await page.getByRole("img", { name: "New profile picture preview" }).waitFor();
  await page.fill("input[name=first_name]", "Alicia");
  await page.getByRole("button", { name: "Save Changes" }).click();
  await page.getByText("Profile saved").waitFor();
  await page.locator(".avatar.lg img[src*='/api/avatars/']").waitFor();
  await shot(page, "13-profile");

  // A new email takes the current password; the field shows only when the email changes.
  const confirm = page.locator("section.card", { has: page.getByRole("heading", { name: "Profile", exact: true }) }).getByLabel("Current password");
  assert.equal(await confirm.isVisible(), false);
  const changeEmail = async (email) => {
    await page.fill("input[name=email]", email);
    await confirm.waitFor();
    await page.getByRole("button", { name: "Save Changes" }).click();
    await page.getByText("Enter your current password to change your email.").waitFor();
    await confirm.fill("not-my-password");
    await page.getByRole("button", { name: "Save Changes" }).click();
    await page.getByText("the current password is wrong").waitFor();
    await shot(page, "13b-profile-email-needs-password");
    await confirm.fill("agent-password");
    await page.getByRole("button", { name: "Save Changes" }).click();
    // Saved: the page shows the profile again, with the new email and no password field.
    await page.locator(`input[name=email][value="${email}"]`).waitFor();
    assert.equal(await confirm.isVisible(), false);
  };
  await changeEmail("alicia@shop.test");
  await changeEmail("alice@shop.test");

  // The password: the current one is asked, mistakes are explained, and it changes.
  const card = page.getByRole("form", { name: "Change password" });
  const changePassword = async (current, next, repeat = next) => {
    await card.getByLabel("Current password").fill(current);
    await card.getByLabel(/^New password/).fill(next);
    await card.getByLabel("Repeat the new password").fill(repeat);
    await card.getByRole("button", { name: "Change password" }).click();
  };
  await changePassword("agent-password", "brand-new-pass-1", "brand-new-pass-2");
  await card.getByText("The new passwords do not match.").waitFor();
  await changePassword("agent-password", "password1");
  await card.getByText("The new password is too easy to guess").waitFor();
  await changePassword("not-my-password", "brand-new-pass-1");
  await card.getByText("The current password is wrong").waitFor();
  await shot(page, "13c-profile-password");
  // A change clears the form once it is saved.
  const saved = () => page.waitForFunction(() => document.querySelector("form[aria-label='Change password'] input[name=current_password]").value === "");
  await changePassword("agent-password", "brand-new-pass-1");
  await page.getByText("Password changed; your other sessions were signed out").waitFor();
  await saved();
  // And back, for the tests that follow.
  await changePassword("brand-new-pass-1", "agent-password");
  await saved();
  const relogin = await page.evaluate(async () => (await fetch("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "alice@shop.test", password: "agent-password" }) })).status);
  assert.equal(relogin, 200);
  assert.deepEqual(page.errors, []);
});

test("an agent invited to another team joins it from the inbox banner", async () => {
  // Bob starts a team of his own and invites Alice, who already has an account.
  const bob = await newPage("bob-invites");
  await login(bob, "bob@shop.test", "agent-password");
  const call = (method, path, body) => bob.evaluate(async ({ method, path, body }) => {
    const me = await (await fetch("/api/me")).json();
    const res = await fetch(path, { method, headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token }, body: body && JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, { method, path, body });
  const side = await call("POST", "/api/teams", { name: "Weekend Desk" });
  assert.equal(side.status, 201);
  const invited = await call("POST", `/api/teams/${side.body.id}/members`, { email: "alice@shop.test", role: "chat_agent" });
  assert.equal(invited.status, 201);
  // Bob's team page lists the pending invitation.
  assert.equal((await call("PUT", "/api/me/active-team", { team_id: side.body.id })).status, 200);
  await bob.goto(`${base}/app/team`);
  await bob.getByRole("heading", { name: "Pending invitations" }).waitFor();
  await bob.locator("table.grid", { hasText: "alice@shop.test" }).waitFor();
  await shot(bob, "14-team-pending-invitation");

  // First at phone width (looked at, left pending), then on the desktop, where Alice joins.
  for (const [name, viewport] of [["phone", { width: 390, height: 844 }], ["desktop", undefined]]) {
    const alice = await newPage(`alice-invited-${name}`, viewport);
    await login(alice, "alice@shop.test", "agent-password");
    const banner = alice.getByRole("region", { name: "Invitation to Weekend Desk" });
    await banner.getByText("Bob Agent invited you to join").waitFor();
    await shot(alice, `15-invitation-banner-${name}`);
    if (name === "desktop") {
      // Withdrawn while Alice looks: the banner goes; sent again: it comes back, no reload.
      const pending = (await call("GET", `/api/teams/${side.body.id}/invitations`)).body;
      assert.equal((await call("DELETE", `/api/teams/${side.body.id}/invitations/${pending[0].id}`)).status, 204);
      await banner.waitFor({ state: "detached" });
      assert.equal((await call("POST", `/api/teams/${side.body.id}/members`, { email: "alice@shop.test", role: "chat_agent" })).status, 201);
      await banner.getByText("Bob Agent invited you to join").waitFor();
    }
    if (name === "phone") {
      // The banner wraps within the screen, its buttons in reach.
      for (const part of [banner, banner.getByRole("button", { name: "Join team" }), banner.getByRole("button", { name: "Decline" })]) {
        const box = await part.boundingBox();
        assert.ok(box.x + box.width <= 390, `within the phone's width: ${JSON.stringify(box)}`);
      }
      await alice.close();
      continue;
    }
    await banner.getByRole("button", { name: "Join team" }).click();
    await alice.getByText("You joined Weekend Desk").waitFor();
    await banner.waitFor({ state: "detached" });
    // Joining does not switch teams; the switcher now offers both.
    const switcher = alice.locator("select[aria-label='Active team']");
    assert.deepEqual(await switcher.locator("option").allTextContents(), ["Northwind Support", "Weekend Desk"]);
    assert.equal(await switcher.inputValue(), (await switcher.locator("option", { hasText: "Northwind Support" }).getAttribute("value")));
    assert.deepEqual(alice.errors, []);
    await alice.close();
  }
  // Bob's page no longer lists it as pending, and Alice is a member.
  await bob.reload();
  await bob.locator("table.grid", { hasText: "alice@shop.test" }).waitFor();
  assert.equal(await bob.getByRole("heading", { name: "Pending invitations" }).count(), 0);
  // Bob goes back to the shop's team for the tests that follow.
  const shop = (await call("GET", "/api/me")).body.teams.find((t) => t.name === "Northwind Support");
  assert.equal((await call("PUT", "/api/me/active-team", { team_id: shop.id })).status, 200);
  await bob.close();
});

test("the inbox reconnects after a crash and misses nothing; the widget survives a reload", async () => {
  const api = async (method, path, body, token) => {
    const res = await fetch(base + path, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body && JSON.stringify(body) });
    return res.status === 204 ? null : res.json();
  };
  // Bob's inbox shows an active chat with a visitor on the demo shop.
  const bob = await newPage("bob-again");
  await login(bob, "bob@shop.test", "agent-password");
  await setStatus(bob, "Available");
  const bots = await bob.evaluate(async () => (await fetch("/api/me")).json());
  const teamBots = await bob.evaluate(async (team) => (await fetch(`/api/teams/${team}/bots`)).json(), bots.active_team_id);
  const botId = teamBots[0].id;
  const visitor = await newPage("visitor-again", { width: 1280, height: 800 });
  await visitor.goto(`${base}/demo?bot=${botId}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.locator("textarea").fill("Hello again, I need a person");
  await w.locator("textarea").press("Enter");
  await w.getByRole("button", { name: "Talk to a person" }).click();
  await bob.locator(".chat-row", { hasText: "pending" }).first().click();
  await bob.locator(".conv-head").getByRole("button", { name: "Claim" }).click();
  await w.getByText("Bob Agent joined the chat").waitFor();

  // The widget picks the conversation up again after a reload.
  await visitor.reload();
  await w.locator(".launcher").click();
  await w.getByText("Hello again, I need a person").waitFor();
  await w.getByText("Bob Agent joined the chat").waitFor();
  const token = await visitor.evaluate((bot) => localStorage.getItem(`baton:${bot}:token`), botId);
  assert.ok(token?.startsWith("bv_"), "the visitor token is kept");

  // The server dies hard and comes back on the same address.
  const port = new URL(base).port;
  server.kill("SIGKILL");
  await new Promise((r) => server.once("exit", r));
  await bob.getByText("Reconnecting…").waitFor();
  await shot(bob, "14-inbox-reconnecting");
  const restarted = startServer(`127.0.0.1:${port}`);
  server = restarted.child;
  await restarted.url;
  // A message sent while Bob's inbox is still reconnecting reaches him through the resync.
  const sent = await api("POST", "/api/widget/messages", { body: "Are you still there after the outage?" }, token);
  assert.ok(sent.seq > 0, "the server took the message");
  await bob.getByText("Reconnecting…").waitFor({ state: "detached" });
  await bob.locator(".msg.visitor", { hasText: "Are you still there after the outage?" }).waitFor();
  await bob.locator(".msg.visitor", { hasText: "Hello again, I need a person" }).waitFor();
  const seqs = await bob.locator(".messages [data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in order");
  assert.equal(new Set(seqs).size, seqs.length, "no message twice");
  await w.getByText("Are you still there after the outage?").waitFor();
  for (const p of [bob, visitor]) assert.deepEqual(p.errors, []);
});

test("the Enable banner turns notifications on and a new escalation shows one that opens the chat", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 840 } });
  // Record every notification the page shows.
  await ctx.addInitScript(() => {
    const Native = window.Notification;
    window.__shown = [];
    class Recorded extends Native {
      constructor(title, options) {
        super(title, options);
        window.__shown.push({ title, body: options?.body, note: this });
      }
    }
    Object.defineProperty(Recorded, "permission", { get: () => Native.permission });
    Recorded.requestPermission = (...a) => Native.requestPermission(...a);
    window.Notification = Recorded;
  });
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  await page.goto(`${base}/app`);
  await page.fill("input[name=email]", "alice@shop.test");
  await page.fill("input[name=password]", "agent-password");
  await page.click("button[type=submit]");
  const banner = page.getByRole("region", { name: "Notifications" });
  await banner.waitFor();
  await ctx.grantPermissions(["notifications"], { origin: base });
  await banner.getByRole("button", { name: "Enable notifications" }).click();
  await banner.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => Notification.permission), "granted");
  await setStatus(page, "Available");

  const bots = await page.evaluate(async () => {
    const me = await (await fetch("/api/me")).json();
    return (await fetch(`/api/teams/${me.active_team_id}/bots`)).json();
  });
  const visitor = await newPage("notified-visitor", { width: 1280, height: 800 });
  // Baton is slow to create the visitor: the message typed and the button pressed meanwhile
  // still reach it, in that order.
  let release;
  const created = new Promise((r) => { release = r; });
  await visitor.route("**/api/widget/bots/*/visitors", async (route) => { await created; await route.continue(); });
  await visitor.goto(`${base}/demo?bot=${bots[0].id}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.locator("textarea").fill("Can somebody help me with a return?");
  await w.locator("textarea").press("Enter");
  await w.getByRole("button", { name: "Talk to a person" }).click();
  release();
  await page.waitForFunction(() => window.__shown.some((n) => /waiting for a person/.test(n.title)));
  const shown = await page.evaluate(() => window.__shown.map(({ title, body }) => ({ title, body })));
  assert.ok(shown.some((n) => n.body.includes("Can somebody help me with a return?")), JSON.stringify(shown));
  await page.evaluate(() => window.__shown.find((n) => /waiting/.test(n.title)).note.onclick());
  await page.waitForURL(/\/app\/inbox\/[0-9a-f-]+$/);
  await page.locator(".msg.visitor", { hasText: "Can somebody help me with a return?" }).waitFor();

  await page.goto(`${base}/app/notifications`);
  await page.getByText("Notifications are allowed in this browser.").waitFor();
  await page.getByRole("button", { name: "Send test notification" }).click();
  await page.waitForFunction(() => window.__shown.some((n) => n.title === "Baton test notification"));
  await shot(page, "15-notification-settings");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(visitor.errors, []);
});

test("an escalation that lands while the inbox is still connecting shows once the socket opens", async () => {
  // Bob's inbox socket is held back until the visitor has asked for a person.
  let release;
  const escalated = new Promise((r) => { release = r; });
  const bob = await newPage("bob-connecting");
  await bob.routeWebSocket(/\/ws$/, async (ws) => {
    await escalated;
    ws.connectToServer();
  });
  await login(bob, "bob@shop.test", "agent-password");
  // The list is loaded (over HTTP) before anything happens.
  await bob.locator(".list .rows > *").first().waitFor();
  const team = await bob.evaluate(async () => (await (await fetch("/api/me")).json()).active_team_id);
  const bots = await bob.evaluate(async (t) => (await fetch(`/api/teams/${t}/bots`)).json(), team);
  const call = async (method, path, body, token) => {
    const res = await fetch(base + path, { method, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body && JSON.stringify(body) });
    assert.ok(res.ok, `${method} ${path} answered ${res.status}`);
    return res.json();
  };
  const { visitor_token: token } = await call("POST", `/api/widget/bots/${bots[0].id}/visitors`, { name: "Connie Late" });
  await call("POST", "/api/widget/messages", { body: "Anyone there while you connect?" }, token);
  await call("POST", "/api/widget/escalate", undefined, token);
  // The list Bob loaded before the escalation is re-read when the socket opens.
  assert.equal(await bob.locator(".chat-row", { hasText: "Connie Late" }).count(), 0);
  release();
  await bob.locator(".chat-row", { hasText: "Connie Late" }).waitFor();
  assert.deepEqual(bob.errors, []);
});

test("the widget keeps the newer chat state when two state frames arrive out of order", async () => {
  const bob = await newPage("bob-order");
  const { agentCall, bots } = await availableBob(bob);

  // The widget's socket delivers the escalation only after the claim that followed it.
  const visitor = await newPage("visitor-order", { width: 1280, height: 800 });
  let heldBack = null;
  let claimedSent;
  const claimedForwarded = new Promise((r) => { claimedSent = r; });
  await visitor.routeWebSocket(/\/api\/widget\/ws/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((m) => {
      const type = JSON.parse(m).type;
      if (type === "chat.escalated") { heldBack = m; return; }
      ws.send(m);
      if (type === "chat.claimed") {
        if (heldBack) ws.send(heldBack);
        // Frames are handled in order: once this one shows, the stale one has been handled.
        const conversation_id = JSON.parse(m).data.conversation_id;
        ws.send(JSON.stringify({ type: "typing", at: new Date().toISOString(), data: { conversation_id, author: { kind: "agent", display_name: "Sentinel" } } }));
        claimedSent();
      }
    });
  });
  await visitor.goto(`${base}/demo?bot=${bots[0].id}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.locator("textarea").fill("Please put me through to someone");
  await w.locator("textarea").press("Enter");
  await w.locator(".m.me:not(.sending)", { hasText: "Please put me through to someone" }).waitFor();
  await w.getByRole("button", { name: "Talk to a person" }).click();
  await w.getByText("Connecting you to a person…").waitFor();
  const token = await visitor.evaluate((bot) => localStorage.getItem(`baton:${bot}:token`), bots[0].id);
  const conv = await (await fetch(`${base}/api/widget/conversation`, { headers: { authorization: `Bearer ${token}` } })).json();
  const claimed = await agentCall("POST", `/api/live-chats/${conv.id}/claim`);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  await claimedForwarded;
  assert.ok(heldBack, "the escalation frame was held back and delivered after the claim");
  await w.getByText("Sentinel is typing…").waitFor();
  // The stale escalation came last and was dropped: still joined, not waiting again.
  await w.getByText("Bob Agent joined the chat").waitFor();
  assert.equal(await w.getByText("Connecting you to a person…").count(), 0);
  assert.deepEqual(visitor.errors, []);
  await agentCall("POST", `/api/live-chats/${conv.id}/resolve`);
});

test("the widget catches up on a state change it missed while its socket was down", async () => {
  const bob = await newPage("bob-missed");
  const { agentCall, bots } = await availableBob(bob);

  // The first socket works; once it drops, the next one waits until the test lets it through.
  const visitor = await newPage("visitor-missed", { width: 1280, height: 800 });
  const sockets = [];
  let letThrough;
  const reconnectAllowed = new Promise((r) => { letThrough = r; });
  await visitor.routeWebSocket(/\/api\/widget\/ws/, async (ws) => {
    sockets.push(ws);
    if (sockets.length > 1) await reconnectAllowed;
    ws.connectToServer();
  });
  await visitor.goto(`${base}/demo?bot=${bots[0].id}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.locator("textarea").fill("Hello, may I speak to someone?");
  await w.locator("textarea").press("Enter");
  await w.locator(".m.me:not(.sending)", { hasText: "Hello, may I speak to someone?" }).waitFor();
  await w.getByRole("button", { name: "Talk to a person" }).click();
  await w.getByText("Connecting you to a person…").waitFor();

  await sockets[0].close();
  const token = await visitor.evaluate((bot) => localStorage.getItem(`baton:${bot}:token`), bots[0].id);
  const conv = await (await fetch(`${base}/api/widget/conversation`, { headers: { authorization: `Bearer ${token}` } })).json();
  const claimed = await agentCall("POST", `/api/live-chats/${conv.id}/claim`);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  letThrough();
  // No chat.claimed frame ever reached this widget: it reads the state when the socket reopens.
  await w.getByText("Bob Agent joined the chat").waitFor();
  assert.ok(sockets.length >= 2, "the widget reconnected");
  assert.deepEqual(visitor.errors, []);
  await agentCall("POST", `/api/live-chats/${conv.id}/resolve`);
});

test("the widget works on another site, and only on sites the bot allows", async (t) => {
  const { createServer } = await import("node:http");
  // A customer's site on its own origin, embedding the widget with the one-line snippet.
  const site = createServer((req, res) => {
    const bot = new URL(req.url, "http://x").searchParams.get("bot");
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><html><head><title>Customer site</title><style>div,button{color:red!important;font-size:40px!important}</style></head>
      <body><h1>Customer site</h1><script src="${base}/widget.js" data-bot="${bot}" async></script></body></html>`);
  });
  await new Promise((r) => site.listen(0, "127.0.0.1", r));
  // Closed even when the test fails, so the run ends.
  t.after(() => { site.closeAllConnections(); site.close(); });
  const origin = `http://localhost:${site.address().port}`;

  const owner = await newPage("site-owner");
  await login(owner, "olivia@shop.test", "owner-password");
  const bot = await owner.evaluate(async () => {
    const me = await (await fetch("/api/me")).json();
    const csrf = me.csrf_token;
    const post = (path, body) => fetch(path, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify(body) }).then((r) => r.json());
    return post(`/api/teams/${me.active_team_id}/bots`, { name: "Site bot", greeting: "Welcome to our site!", knowledge: [{ question: "Where are you based?", answer: "In Oslo." }] });
  });

  const visitor = await newPage("site-visitor", { width: 1280, height: 800 });
  await visitor.goto(`${origin}/?bot=${bot.id}`);
  const w = visitor.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.getByText("Welcome to our site!").waitFor();
  await w.locator("textarea").fill("Where are you based?");
  await w.locator("textarea").press("Enter");
  await w.locator(".m.bot", { hasText: "In Oslo." }).waitFor();
  // The host page's CSS does not reach inside the widget.
  const color = await w.locator(".m.bot .b").first().evaluate((el) => getComputedStyle(el).color);
  assert.notEqual(color, "rgb(255, 0, 0)");
  await shot(visitor, "16-widget-on-another-site");
  assert.deepEqual(visitor.errors, []);

  // Restricted to another site: the widget does not appear here.
  await owner.evaluate(async ({ id }) => {
    const me = await (await fetch("/api/me")).json();
    await fetch(`/api/bots/${id}`, { method: "PATCH", headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token }, body: JSON.stringify({ settings: { allowed_origins: ["https://shop.example.com"] } }) });
  }, bot);
  const blocked = await newPage("blocked-visitor");
  const refused = blocked.waitForResponse((r) => new URL(r.url()).pathname === `/api/widget/bots/${bot.id}/config`);
  await blocked.goto(`${origin}/?bot=${bot.id}`);
  assert.equal((await refused).status(), 403, "Baton refuses a site outside the allow-list");
  await blocked.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  assert.equal(await blocked.locator("[data-baton-widget]").count(), 0, "no widget on a site the bot does not allow");
});
