// The visitor's side in real headless Chromium, at desktop size and on a 390×844 phone: the
// outbox across a server crash and a reload, honest availability (business hours, nobody
// available, leave a message), the queue, visitor wording, the rating, the transcript, the
// pre-chat form and the widget's look and language. Screenshots land in tests/browser/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiLogin, launchBrowser, logIn, newPage, northwindTeam, shots, smtpSink, startServer } from "./support.js";

const SIZES = [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]];
let server;
let base;
let port;
let browser;
let dataDir;
let smtp;
let owner; // API calls as the owner
let alice; // API calls as Alice, an agent
let team;

async function start() {
  const s = startServer(dataDir, port ? `127.0.0.1:${port}` : "127.0.0.1:0", smtp.args);
  server = s.child;
  base = await s.url;
  port = new URL(base).port;
}

async function crash() {
  server.kill("SIGKILL");
  await new Promise((r) => server.once("exit", r));
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "baton-widget-"));
  smtp = await smtpSink();
  await start();
  // Replies are emailed as soon as they are unread.
  ({ owner, team } = await northwindTeam(base, { visitor_email_delay_seconds: 0 }));
  alice = await apiLogin(base, "alice@shop.test", "agent-password");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  smtp?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });

async function makeBot(body) {
  const r = await owner("POST", `/api/teams/${team}/bots`, { greeting: "Hi! How can I help?", settings: { human_escalation: true }, ...body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

async function setStatus(who, status) {
  const r = await who("PUT", "/api/me/status", { status });
  assert.equal(r.status, 200);
}

async function openWidget(name, viewport, bot, options) {
  const page = await newPage(browser, name, viewport, options);
  await page.goto(`${base}/demo?bot=${bot}`);
  const w = page.locator("[data-baton-widget]");
  await w.locator(".launcher").click();
  await w.locator(".panel").waitFor();
  return { page, w };
}

async function say(w, text) {
  await w.locator(".compose textarea").fill(text);
  await w.locator(".compose textarea").press("Enter");
}

/// The visitor's current conversation, read with the widget's own token.
async function conversationOf(page, bot) {
  const token = await page.evaluate((b) => localStorage.getItem(`baton:${b}:token`), bot);
  const r = await fetch(`${base}/api/widget/conversation`, { headers: { authorization: `Bearer ${token}` } });
  return r.json();
}

for (const [size, viewport] of SIZES) {
  test(`${size}: a message typed while the server is down arrives once, in order, after a restart and a reload`, async () => {
    await setStatus(alice, "available");
    const bot = await makeBot({ name: `Outbox ${size}` });
    const page = await newPage(browser, `outbox-${size}`, viewport);
    // The test can make Baton unreachable for this page alone (as a dropped network would).
    let blocked = false;
    let socketsDown = false; // the socket alone is unreachable
    let refuse = false; // Baton refuses the next message sent over HTTP
    let socket = null;
    await page.route(/\/api\/widget\//, (r) => {
      if (blocked) return r.abort("internetdisconnected");
      if (refuse && r.request().method() === "POST" && new URL(r.request().url()).pathname === "/api/widget/messages") {
        return r.fulfill({ status: 400, contentType: "application/json", body: JSON.stringify({ error: { code: "invalid_input", message: "body: this message cannot be sent" } }) });
      }
      return r.continue();
    });
    await page.routeWebSocket(/\/api\/widget\/ws/, (ws) => {
      if (blocked || socketsDown) return ws.close();
      socket = ws;
      ws.connectToServer();
    });
    await page.goto(`${base}/demo?bot=${bot}`);
    const w = page.locator("[data-baton-widget]");
    await w.locator(".launcher").click();
    await say(w, "One: my parcel is late");
    await w.locator(".m.me:not(.sending)", { hasText: "One: my parcel is late" }).waitFor();
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.getByText("Connecting you to a person…").waitFor();
    const conv = await conversationOf(page, bot);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);
    await w.getByText("Alice Agent joined the chat").waitFor();

    // Baton dies. The widget says so, and keeps what the visitor types.
    await crash();
    await w.locator("[data-testid=line]", { hasText: "Reconnecting…" }).waitFor();
    await say(w, "Two: typed while you were down");
    await say(w, "Three: still down");
    await w.locator(".m.me.sending", { hasText: "Three: still down" }).waitFor();
    await w.locator(".m.me.sending", { hasText: "Two: typed while you were down" }).getByText("Waiting for the connection…").waitFor();
    await shot(page, `20-widget-outbox-offline-${size}`);

    // Baton comes back, but this page cannot reach it yet; the visitor reloads.
    blocked = true;
    await start();
    await page.reload();
    await w.locator(".launcher").click();
    // The chat as last seen, and what still waits to go.
    await w.locator(".m.me:not(.sending)", { hasText: "One: my parcel is late" }).waitFor();
    await w.locator(".m.me.sending", { hasText: "Two: typed while you were down" }).waitFor();
    await w.locator(".m.me.sending", { hasText: "Three: still down" }).waitFor();
    await w.locator("[data-testid=line]", { hasText: "Reconnecting…" }).waitFor();
    await shot(page, `21-widget-outbox-after-reload-${size}`);

    // The connection is back: the outbox empties, and the agent has each message once, in order.
    blocked = false;
    await w.locator(".m.me:not(.sending)", { hasText: "Three: still down" }).waitFor({ timeout: 30_000 });
    await w.locator(".m.me.sending").waitFor({ state: "detached" });
    await w.locator("[data-testid=line]", { hasText: "Online now" }).waitFor({ timeout: 30_000 });
    const chat = (await alice("GET", `/api/live-chats/${conv.id}`)).body;
    const said = chat.messages.filter((m) => m.author.kind === "visitor").map((m) => m.text);
    assert.deepEqual(said, ["One: my parcel is late", "Two: typed while you were down", "Three: still down"]);
    assert.equal(await page.evaluate((b) => localStorage.getItem(`baton:${b}:outbox`), bot), null, "the outbox is empty");
    const shown = await w.locator(".m.me").allInnerTexts();
    assert.equal(shown.filter((t) => t.includes("Two: typed")).length, 1, "shown once");

    // A message Baton refuses is marked, and the visitor can try it again.
    socketsDown = true;
    refuse = true;
    await socket.close();
    await w.locator("[data-testid=line]", { hasText: "Reconnecting…" }).waitFor();
    await say(w, "Four: refused at first");
    const four = w.locator(".m.me.failed", { hasText: "Four: refused at first" });
    await four.getByText("Not sent").waitFor();
    await shot(page, `20b-widget-not-sent-${size}`);
    refuse = false;
    socketsDown = false;
    await four.getByRole("button", { name: "Retry" }).click();
    await w.locator(".m.me:not(.sending):not(.failed)", { hasText: "Four: refused at first" }).waitFor({ timeout: 30_000 });
    const after = (await alice("GET", `/api/live-chats/${conv.id}`)).body.messages.filter((m) => m.author.kind === "visitor").map((m) => m.text);
    assert.deepEqual(after.slice(-2), ["Three: still down", "Four: refused at first"]);
    await alice("POST", `/api/live-chats/${conv.id}/resolve`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${size}: outside business hours the widget says so and takes a message; the reply is emailed`, async () => {
    await setStatus(alice, "available");
    // Open an hour a day, six hours from now: closed now, whatever the time.
    const from = (new Date().getUTCHours() + 6) % 24;
    const hh = (n) => String(n).padStart(2, "0");
    const span = [[`${hh(from)}:00`, `${hh(from)}:59`]];
    const days = Object.fromEntries(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => [d, span]));
    const bot = await makeBot({ name: `After hours ${size}`, widget: { hours: { time_zone: "UTC", days }, when_unavailable: "leave_message" } });
    const { page, w } = await openWidget(`hours-${size}`, viewport, bot);
    await w.locator("[data-testid=line]", { hasText: "We're closed right now" }).waitFor();
    await w.locator("[data-testid=line]", { hasText: "Back" }).waitFor();
    assert.equal(await w.getByRole("button", { name: "Talk to a person" }).count(), 0);
    await w.getByRole("button", { name: "Leave a message" }).click();
    const form = w.locator("[data-testid=leave-message]");
    await form.getByRole("button", { name: "Send message" }).click();
    await form.getByText("Please fill this in.").first().waitFor();
    await form.getByLabel("Name").fill("Lea");
    await form.getByLabel("Email").fill(`lea-${size}@example.com`);
    await form.getByLabel("Message").fill("Please call me back about order 42.");
    await shot(page, `22-widget-leave-message-${size}`);
    await form.getByRole("button", { name: "Send message" }).click();
    await w.getByText(`Thanks! We'll reply to lea-${size}@example.com.`).waitFor();
    await w.locator(".m.me", { hasText: "Please call me back about order 42." }).waitFor();
    await w.getByText("You left a message").waitFor();
    await w.locator("[data-testid=queue]", { hasText: "We'll reply when we're back" }).waitFor();
    await shot(page, `23-widget-message-left-${size}`);
    const conv = await conversationOf(page, bot);
    assert.deepEqual(page.errors, []);
    await page.context().close();

    // The team answers the next morning; the visitor is gone, so the reply goes by email.
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/messages`, { body: `We will call you today (${size}).` })).status, 201);
    const mail = await smtp.waitFor(new RegExp(`We will call you today \\(${size}\\)`));
    assert.match(mail, new RegExp(`To: lea-${size}@example.com`));

    // Set to hide the button instead: nothing to ask for while closed.
    await owner("PATCH", `/api/bots/${bot}`, { widget: { when_unavailable: "hide" } });
    const again = await openWidget(`hours-hidden-${size}`, viewport, bot);
    await again.w.locator("[data-testid=line]", { hasText: "We're closed right now" }).waitFor();
    await again.w.locator(".compose textarea").waitFor();
    assert.equal(await again.w.locator(".actions .chip").count(), 0, "no button while closed");
    await again.page.context().close();
  });

  test(`${size}: with nobody available the widget says so, and changes live when an agent comes online`, async () => {
    await setStatus(alice, "offline");
    await setStatus(owner, "offline");
    const bot = await makeBot({ name: `Away ${size}` });
    const { page, w } = await openWidget(`away-${size}`, viewport, bot);
    await w.locator("[data-testid=line]", { hasText: "Nobody is available right now" }).waitFor();
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.locator("[data-testid=queue]", { hasText: "We'll reply when we're back" }).waitFor();
    await shot(page, `24-widget-nobody-available-${size}`);
    // An agent comes online: the widget hears it without a reload.
    await setStatus(alice, "available");
    await w.locator("[data-testid=queue]", { hasText: "You're next in line · usually a few minutes" }).waitFor();
    assert.equal(await w.locator("[data-testid=line]", { hasText: "Nobody is available" }).count(), 0);
    const conv = await conversationOf(page, bot);
    await alice("POST", `/api/live-chats/${conv.id}/resolve`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("the queue shows each visitor their place and moves up live as chats ahead are claimed", async () => {
  await setStatus(alice, "available");
  const bot = await makeBot({ name: "Queue" });
  const first = await openWidget("queue-first", SIZES[0][1], bot);
  await say(first.w, "First in line");
  await first.w.getByRole("button", { name: "Talk to a person" }).click();
  await first.w.locator("[data-testid=queue]", { hasText: "You're next in line · usually a few minutes" }).waitFor();
  const second = await openWidget("queue-second", SIZES[1][1], bot);
  await say(second.w, "Second in line");
  await second.w.getByRole("button", { name: "Talk to a person" }).click();
  await second.w.locator("[data-testid=queue]", { hasText: "You're 2nd in line · usually a few minutes" }).waitFor();
  await shot(second.page, "25-widget-queue-phone");
  await shot(first.page, "25-widget-queue-desktop");
  const c1 = await conversationOf(first.page, bot);
  assert.equal((await alice("POST", `/api/live-chats/${c1.id}/claim`)).status, 200);
  // The first claim gives the bot its first wait: under a minute here.
  await second.w.locator("[data-testid=queue]", { hasText: "You're next in line · usually less than a minute" }).waitFor();
  await first.w.getByText("Alice Agent joined the chat").waitFor();
  for (const p of [first, second]) {
    await alice("POST", `/api/live-chats/${(await conversationOf(p.page, bot)).id}/resolve`);
    assert.deepEqual(p.page.errors, []);
    await p.page.context().close();
  }
});

for (const [size, viewport] of SIZES) {
  test(`${size}: the visitor reads their own wording, with times, the newest in view and nothing over the transcript`, async () => {
    await setStatus(alice, "available");
    const bob = await apiLogin(base, "bob@shop.test", "agent-password");
    await setStatus(bob, "available");
    const bot = await makeBot({ name: `Words ${size}` });
    const { page, w } = await openWidget(`words-${size}`, viewport, bot);
    await say(w, "Hello, I would like a person");
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.locator(".sys", { hasText: "You asked to talk to a person" }).waitFor();
    assert.equal(await w.getByText("The visitor asked for a person").count(), 0, "no staff wording");
    // The email box sits in the transcript's flow, after the messages, not over them.
    const card = w.locator("[data-testid=email-capture]");
    await card.waitFor();
    assert.equal(await card.evaluate((el) => !!el.closest(".log")), true);
    const conv = await conversationOf(page, bot);
    await alice("POST", `/api/live-chats/${conv.id}/claim`);
    await w.locator(".sys", { hasText: "Alice Agent joined" }).waitFor();
    const me = (await bob("GET", "/api/me")).body.user.id;
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/transfer`, { agent_id: me })).status, 200);
    await w.locator(".sys", { hasText: "Bob Agent has taken over" }).waitFor();
    assert.equal(await w.getByText("claimed the chat").count(), 0);
    for (let i = 1; i <= 25; i++) await bob("POST", `/api/live-chats/${conv.id}/messages`, { body: `Update ${i} on your order` });
    await w.locator(".m.them", { hasText: "Update 25 on your order" }).waitFor();
    // The newest is in view without scrolling.
    await w.locator(".m.them", { hasText: "Update 25 on your order" }).evaluate((el) => new Promise((r) => requestAnimationFrame(r)));
    const inView = await w.locator(".m.them", { hasText: "Update 25 on your order" }).evaluate((el) => {
      const log = el.closest(".log").getBoundingClientRect();
      const box = el.getBoundingClientRect();
      return box.bottom <= log.bottom + 1 && box.top >= log.top - 1;
    });
    assert.ok(inView, "auto-scrolled to the newest");
    // Every message shows its time.
    const times = await w.locator(".m .meta time").allInnerTexts();
    assert.ok(times.length >= 26 && times.every((t) => /\d/.test(t)), `times: ${times.slice(0, 3)}`);
    await shot(page, `26-widget-visitor-wording-${size}`);
    await bob("POST", `/api/live-chats/${conv.id}/resolve`);
    await w.locator(".sys", { hasText: "Bob Agent ended the chat" }).waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

for (const [size, viewport, scale] of [["desktop", SIZES[0][1], "stars"], ["phone", SIZES[1][1], "thumbs"]]) {
  test(`${size}: after a resolve the visitor rates the chat (${scale}) once, and the inbox shows it`, async () => {
    await owner("PATCH", `/api/teams/${team}/settings`, { csat: scale });
    await setStatus(alice, "available");
    const bot = await makeBot({ name: `Rating ${size}` });
    const { page, w } = await openWidget(`rating-${size}`, viewport, bot);
    await say(w, "Can a person help me?");
    await w.getByRole("button", { name: "Talk to a person" }).click();
    // Waiting for a person before an agent can claim it.
    await w.locator("[data-testid=queue]").waitFor();
    const conv = await conversationOf(page, bot);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);
    await alice("POST", `/api/live-chats/${conv.id}/messages`, { body: "Sorted, have a nice day!" });
    await alice("POST", `/api/live-chats/${conv.id}/resolve`);
    const card = w.locator("[data-testid=rating]");
    await card.getByText("How was your chat?").waitFor();
    if (scale === "stars") await card.getByRole("button", { name: "4 out of 5 stars" }).click();
    else await card.getByRole("button", { name: "Good" }).click();
    await card.getByRole("textbox").fill("Quick and kind");
    await shot(page, `27-widget-rating-${size}`);
    await card.getByRole("button", { name: "Send feedback" }).click();
    await w.getByText("Thanks for your feedback!").waitFor();
    assert.equal(await w.locator("[data-testid=rating]").count(), 0, "asked once");

    // The inbox shows the rating on the resolved chat.
    const inbox = await newPage(browser, `rating-inbox-${size}`, viewport);
    await logIn(inbox, base, "alice@shop.test", "agent-password");
    await inbox.goto(`${base}/app/resolved/${conv.id}`);
    const shown = inbox.locator("[data-testid=rating]");
    await shown.getByText("Quick and kind").waitFor();
    assert.match(await shown.innerText(), scale === "stars" ? /4 out of 5/ : /Good/);
    await shot(inbox, `28-inbox-rating-${size}`);

    // The reload still knows it was rated.
    await page.reload();
    await w.locator(".launcher").click();
    await w.getByText("Thanks for your feedback!").waitFor();
    assert.equal(await w.locator("[data-testid=rating]").count(), 0);
    for (const p of [page, inbox]) assert.deepEqual(p.errors, []);
    await page.context().close();
    await inbox.context().close();
  });
}

for (const [size, viewport] of SIZES) {
  test(`${size}: the visitor gets the transcript by email after the chat`, async () => {
    await setStatus(alice, "available");
    const bot = await makeBot({ name: `Transcript ${size}` });
    const { page, w } = await openWidget(`transcript-${size}`, viewport, bot);
    await say(w, `Where is my order? (${size})`);
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.locator("[data-testid=queue]").waitFor();
    const conv = await conversationOf(page, bot);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);
    await alice("POST", `/api/live-chats/${conv.id}/messages`, { body: `It ships tomorrow (${size}).` });
    await w.getByRole("button", { name: "End chat" }).click();
    const card = w.locator("[data-testid=transcript]");
    await card.getByText("Email me a copy of this chat").waitFor();
    await card.getByRole("textbox").fill("nope");
    await card.getByRole("button", { name: "Send" }).click();
    await card.locator(".err").waitFor();
    await card.getByRole("textbox").fill(`copy-${size}@example.com`);
    await card.getByRole("button", { name: "Send" }).click();
    await w.getByText(`A copy is on its way to copy-${size}@example.com.`).waitFor();
    await shot(page, `29-widget-transcript-${size}`);
    const mail = await smtp.waitFor(new RegExp(`It ships tomorrow \\(${size}\\)`));
    assert.match(mail, new RegExp(`To: copy-${size}@example.com`));
    assert.match(mail, new RegExp(`Where is my order\\? \\(${size}\\)`));
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("the pre-chat form, the bot's colour, side, launcher text, logo and the visitor's language", async () => {
  await setStatus(alice, "available");
  const bot = await makeBot({
    name: "Kundendienst",
    greeting: "Hallo!",
    widget: {
      pre_chat: { enabled: true, name: "required", email: "optional", fields: [
        { key: "order", label: "Bestellnummer", type: "text" },
        { key: "topic", label: "Thema", type: "choice", options: ["Versand", "Rückgabe"], required: true },
      ] },
      appearance: { accent_color: "#0f766e", position: "left", launcher_text: "Fragen?" },
      texts: { de: { talk_to_person: "Mit Anna sprechen" } },
    },
  });
  // A logo, uploaded as the owner would.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+AAAAEklEQVR4nGPgL8v7j4wZSBcAAAyAHyEJNsSnAAAAAElFTkSuQmCC", "base64");
  const me = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "olivia@shop.test", password: "owner-password" }) });
  const cookie = me.headers.get("set-cookie").split(";")[0];
  const csrf = (await me.json()).csrf_token;
  const up = await fetch(`${base}/api/bots/${bot}/logo`, { method: "PUT", headers: { cookie, "x-csrf-token": csrf, "content-type": "image/png" }, body: png });
  assert.equal(up.status, 200);

  for (const [size, viewport] of SIZES) {
    const page = await newPage(browser, `prechat-${size}`, viewport, { locale: "de-DE" });
    await page.goto(`${base}/demo?bot=${bot}`);
    const w = page.locator("[data-baton-widget]");
    const launcher = w.locator(".launcher");
    await launcher.getByText("Fragen?").waitFor();
    const look = await launcher.evaluate((el) => ({ left: el.getBoundingClientRect().left, bg: getComputedStyle(el).backgroundColor }));
    assert.ok(look.left < 40, `on the left: ${look.left}`);
    assert.equal(look.bg, "rgb(15, 118, 110)");
    await shot(page, `30-widget-launcher-custom-${size}`);
    await launcher.click();
    const form = w.locator("[data-testid=prechat]");
    await form.getByText("Bevor wir beginnen").waitFor();
    assert.equal(await w.locator(".compose").isHidden(), true, "the form comes first");
    await w.locator("header .face.logo img").waitFor();
    await form.getByRole("button", { name: "Chat beginnen" }).click();
    await form.getByText("Bitte ausfüllen.").first().waitFor();
    await shot(page, `31-widget-prechat-de-${size}`);
    await form.getByLabel("Name").fill(`Vera ${size}`);
    await form.getByLabel("Bestellnummer").fill("42");
    await form.getByLabel("Thema").selectOption("Rückgabe");
    await form.getByRole("button", { name: "Chat beginnen" }).click();
    await w.locator(".compose textarea[placeholder='Nachricht schreiben…']").waitFor();
    await w.getByRole("button", { name: "Mit Anna sprechen" }).click();
    await w.getByText("Wir verbinden Sie mit einem Menschen…").waitFor();
    await w.locator(".sys", { hasText: "Sie haben nach einem Menschen gefragt" }).waitFor();
    await shot(page, `32-widget-german-${size}`);
    const conv = await conversationOf(page, bot);
    const chat = (await alice("GET", `/api/live-chats/${conv.id}`)).body;
    assert.deepEqual(chat.visitor.fields, { order: "42", topic: "Rückgabe" });
    assert.equal(chat.visitor.name, `Vera ${size}`);
    await alice("POST", `/api/live-chats/${conv.id}/resolve`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

for (const [size, viewport] of SIZES) {
  test(`${size}: the owner sets business hours, the pre-chat form, the look, a word and the survey in the app`, async () => {
    const bot = await makeBot({ name: `Editor ${size}` });
    const page = await newPage(browser, `editor-${size}`, viewport);
    await logIn(page, base, "olivia@shop.test", "owner-password");
    await page.goto(`${base}/app/team/bots/${bot}`);
    const form = page.locator("form", { has: page.getByRole("button", { name: "Save bot" }) });
    await form.locator("label.switch", { hasText: "Business hours" }).locator("input").check();
    await form.getByLabel("Time zone", { exact: true }).fill("Europe/Berlin");
    await form.getByLabel("Open on Saturday").check();
    await form.getByLabel("Saturday opens at").fill("10:00");
    await form.getByLabel("Saturday closes at").fill("14:00");
    await form.getByLabel("Closed on").fill("2026-12-25\n2026-12-26");
    await form.getByLabel("When nobody can answer").selectOption("leave_message");
    await form.locator("label.switch", { hasText: "Ask before the chat starts" }).locator("input").check();
    await form.getByLabel("Ask for the name").selectOption("required");
    await form.getByRole("button", { name: "Add a question" }).click();
    await form.getByLabel("Question", { exact: true }).fill("Order number");
    await form.getByLabel("Launcher text").fill("Need help?");
    await form.locator("select[name=position]").selectOption("left");
    await form.getByRole("button", { name: "Replace a word" }).click();
    await form.getByLabel("Language", { exact: true }).selectOption("de");
    await form.getByLabel("Word", { exact: true }).selectOption("talk_to_person");
    await form.getByLabel("Your wording", { exact: true }).fill("Mit Anna sprechen");
    await shot(page, `33-bot-editor-widget-${size}`);
    await form.getByRole("button", { name: "Save bot" }).click();
    await page.getByText("Bot saved").waitFor();
    const saved = (await owner("GET", `/api/bots/${bot}`)).body.widget;
    assert.equal(saved.hours.time_zone, "Europe/Berlin");
    assert.deepEqual(saved.hours.days.sat, [["10:00", "14:00"]]);
    assert.deepEqual(saved.hours.days.mon, [["09:00", "17:00"]]);
    assert.equal(saved.hours.days.sun, undefined);
    assert.deepEqual(saved.hours.closed_dates, ["2026-12-25", "2026-12-26"]);
    assert.equal(saved.when_unavailable, "leave_message");
    assert.deepEqual(saved.pre_chat, { enabled: true, name: "required", email: "off", fields: [{ key: "order_number", label: "Order number", type: "text", required: false }] });
    assert.equal(saved.appearance.launcher_text, "Need help?");
    assert.equal(saved.appearance.position, "left");
    assert.deepEqual(saved.texts, { de: { talk_to_person: "Mit Anna sprechen" } });
    // A mistake is worded, and nothing is saved.
    await form.getByLabel("Time zone", { exact: true }).fill("Europe/Atlantis");
    await form.getByRole("button", { name: "Save bot" }).click();
    await form.getByRole("alert").getByText("is not a known time zone").waitFor();
    assert.equal((await owner("GET", `/api/bots/${bot}`)).body.widget.hours.time_zone, "Europe/Berlin");

    await page.goto(`${base}/app/team/settings`);
    await page.getByLabel("Satisfaction survey").selectOption("thumbs");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Settings saved").waitFor();
    assert.equal((await owner("GET", `/api/teams/${team}/settings`)).body.csat, "thumbs");
    await owner("PATCH", `/api/teams/${team}/settings`, { csat: "stars" });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

/// A small real PNG (a 24×16 red rectangle), made in the page so the test needs no image files.
async function pngBytes(page) {
  return Buffer.from(await page.evaluate(async () => {
    const c = new OffscreenCanvas(24, 16);
    const g = c.getContext("2d");
    g.fillStyle = "#c0392b";
    g.fillRect(0, 0, 24, 16);
    const blob = await c.convertToBlob({ type: "image/png" });
    return [...new Uint8Array(await blob.arrayBuffer())];
  }));
}

const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

for (const [size, viewport] of SIZES) {
  test(`${size}: files go both ways — picked, dropped and pasted — shown inline or as cards, and bad ones are explained`, async () => {
    await owner("PATCH", `/api/teams/${team}/settings`, { attachment_max_bytes: 1024 * 1024, attachment_kinds: ["image", "pdf"] });
    await setStatus(alice, "available");
    const bot = await makeBot({ name: `Files ${size}` });
    const { page, w } = await openWidget(`files-${size}`, viewport, bot);
    await say(w, "The box arrived broken");
    assert.equal(await w.locator(".compose .attach").isVisible(), false, "no files while the bot answers");
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.locator("[data-testid=queue]").waitFor();
    await w.locator(".compose .attach").waitFor();
    const conv = await conversationOf(page, bot);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);

    const inbox = await newPage(browser, `files-inbox-${size}`, viewport);
    await logIn(inbox, base, "alice@shop.test", "agent-password");
    await inbox.goto(`${base}/app/mine/${conv.id}`);
    await inbox.locator(".msg.visitor", { hasText: "The box arrived broken" }).waitFor();

    // The visitor picks a photo: it uploads, then arrives in the inbox as a picture.
    const png = await pngBytes(page);
    await w.locator("[data-testid=widget-file]").setInputFiles({ name: "broken-box.png", mimeType: "image/png", buffer: png });
    await w.locator(".m.me .files img[src^='blob:']").waitFor();
    await w.locator(".m.me.sending").waitFor({ state: "detached" });
    const pic = inbox.locator(".msg.visitor .files img[alt='broken-box.png']");
    await pic.waitFor();
    await inbox.waitForFunction(() => [...document.querySelectorAll(".msg.visitor .files img")].some((i) => i.complete && i.naturalWidth === 24));

    // The agent attaches a PDF by the picker, writes, and sends both in one message.
    await inbox.locator("[data-testid=file-input]").setInputFiles({ name: "invoice.pdf", mimeType: "application/pdf", buffer: PDF });
    await inbox.locator(".pending-file[data-state=ready]", { hasText: "invoice.pdf" }).waitFor();
    // The composer is drawn again when the chat changes (here: snoozed and back): the file stays.
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/snooze`, {})).status, 200);
    await inbox.locator("[data-testid=snoozed]").waitFor();
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/unsnooze`)).status, 200);
    await inbox.locator("[data-testid=snoozed]").waitFor({ state: "detached" });
    await inbox.locator(".pending-file[data-state=ready]", { hasText: "invoice.pdf" }).waitFor();
    await inbox.locator(".composer .editor").click();
    await inbox.keyboard.type("Here is your invoice");
    await inbox.keyboard.press("Enter");
    await inbox.locator(".msg.agent .file-card", { hasText: "invoice.pdf" }).waitFor();
    assert.equal(await inbox.locator(".pending-file").count(), 0, "the sent file leaves the composer");
    const card = w.locator(".m.them .fcard", { hasText: "invoice.pdf" });
    await card.waitFor();
    await w.locator(".m.them", { hasText: "Here is your invoice" }).waitFor();
    const download = page.waitForEvent("download");
    await card.click();
    assert.equal((await download).suggestedFilename(), "invoice.pdf");

    // Text copied from an office program comes with a picture of itself: the text is pasted,
    // nothing is uploaded (the next step's file is the only one that appears).
    await inbox.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.setData("text/plain", "Order 4711");
      dt.items.add(new File([new Uint8Array(bytes)], "image.png", { type: "image/png" }));
      document.querySelector(".composer .editor").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...png]);
    // Dropped (desktop) or pasted (phone) into the composer: a picture of the agent's own.
    const how = size === "desktop" ? "drop" : "paste";
    await inbox.evaluate(({ bytes, how }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "label.png", { type: "image/png" }));
      if (how === "drop") document.querySelector(".composer .box").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      else document.querySelector(".composer .editor").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, { bytes: [...png], how });
    await inbox.locator(".pending-file[data-state=ready]", { hasText: "label.png" }).waitFor();
    assert.equal(await inbox.locator(".pending-file").count(), 1, "the office paste uploaded nothing");
    await inbox.locator(".composer .editor").press("Enter");
    await w.locator(".m.them .files img[alt='label.png'][src^='blob:']").waitFor();

    // A file the team does not take is explained, in words, on both sides.
    await inbox.locator("[data-testid=file-input]").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    const refused = inbox.locator(".pending-file[data-state=failed]", { hasText: "notes.txt" });
    await refused.getByText("This team does not accept text files; allowed: image, pdf").waitFor();
    await shot(inbox, `50-files-inbox-${size}`);
    await refused.getByRole("button", { name: "Remove notes.txt" }).click();
    await w.locator("[data-testid=widget-file]").setInputFiles({ name: "big.pdf", mimeType: "application/pdf", buffer: Buffer.concat([PDF, Buffer.alloc(1100 * 1024)]) });
    await w.locator(".m.failed", { hasText: "Files can be at most 1 MB." }).waitFor();
    await shot(page, `51-files-widget-${size}`);

    // The other side's history, after a reload, still has every file.
    await inbox.reload();
    await inbox.locator(".msg.agent .file-card", { hasText: "invoice.pdf" }).waitFor();
    assert.equal(await inbox.locator(".msg .files img").count(), 2);
    for (const p of [page, inbox]) assert.deepEqual(p.errors, []);
    await page.context().close();
    await inbox.context().close();
  });
}

for (const [size, viewport] of SIZES) {
  test(`${size}: agents see the visitor's page live, their browser, local time, what the site says, and their chats`, async () => {
    await setStatus(alice, "available");
    const bot = await makeBot({ name: `Context ${size}` });
    const { page, w } = await openWidget(`context-${size}`, viewport, bot);
    await page.evaluate(() => window.Baton.setUser({ name: "Vera Jones", email: "vera@example.com", plan: "pro", account_id: 4711 }));
    await say(w, "Do these boots come in 42?");
    await w.getByRole("button", { name: "Talk to a person" }).click();
    await w.locator("[data-testid=queue]").waitFor();
    const conv = await conversationOf(page, bot);
    assert.equal((await alice("POST", `/api/live-chats/${conv.id}/claim`)).status, 200);

    const inbox = await newPage(browser, `context-inbox-${size}`, viewport);
    await logIn(inbox, base, "alice@shop.test", "agent-password");
    await inbox.goto(`${base}/app/mine/${conv.id}`);
    await inbox.locator(".msg.visitor", { hasText: "Do these boots come in 42?" }).waitFor();
    const panel = inbox.locator("[data-testid=visitor-panel]");
    if (!(await panel.isVisible())) await inbox.getByRole("button", { name: "Visitor details" }).click();
    await panel.locator(".vp-who", { hasText: "Vera Jones" }).waitFor();
    await panel.locator("[data-testid=vp-browser]", { hasText: /Chrome \d+ on Linux/ }).waitFor();
    await panel.locator("[data-testid=vp-time]").waitFor();
    await panel.locator("[data-testid=vp-attributes]", { hasText: "pro" }).waitFor();
    assert.match(await panel.locator("[data-testid=vp-attributes]").innerText(), /account id\s+4711/);
    await panel.locator(".vp-chat.current", { hasText: "This chat" }).waitFor();

    // The visitor moves on in a single-page site: the panel follows.
    await page.evaluate(() => { history.pushState({}, "", `${location.pathname}${location.search}&p=boots`); document.title = "Winter boots — Northwind"; });
    await panel.locator("[data-testid=vp-page] a", { hasText: "Winter boots — Northwind" }).waitFor();
    assert.match(await panel.locator("[data-testid=vp-page] a").getAttribute("href"), /p=boots/);
    if (size === "phone") {
      const width = await inbox.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `the page is ${width}px wide`);
    }
    await shot(inbox, `54-visitor-panel-${size}`);
    for (const p of [page, inbox]) assert.deepEqual(p.errors, []);
    await page.context().close();
    await inbox.context().close();
  });
}
