// The agent's side on a phone, in real headless Chromium at 390×844 with touch: the inbox is one
// screen at a time, nothing is wider than the screen, and a chat is claimed, answered,
// transferred and resolved by tapping. Screenshots land in tests/browser/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiLogin, launchBrowser, logIn, newPage, northwindTeam, shots, startServer } from "./support.js";

const PHONE = { width: 390, height: 844 };
let server;
let base;
let browser;
let dataDir;
let owner;
let team;

before(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "baton-agent-"));
  const s = startServer(dataDir, "127.0.0.1:0");
  server = s.child;
  base = await s.url;
  ({ owner, team } = await northwindTeam(base));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });

/// Nothing on the page is wider than the screen.
async function fitsTheScreen(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page is ${width}px wide on a ${PHONE.width}px screen`);
}

/// A visitor waiting for a person, through the widget's API.
async function waitingVisitor(bot, text) {
  const v = await (await fetch(`${base}/api/widget/bots/${bot}/visitors`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Vera" }) })).json();
  const call = (path, body) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${v.visitor_token}` }, body: JSON.stringify(body ?? {}) }).then((r) => r.json());
  await call("/api/widget/messages", { body: text });
  await call("/api/widget/escalate");
  return call;
}

test("on a phone the inbox is one screen at a time, and a chat is claimed, answered, transferred and resolved by touch", async () => {
  const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Shop", settings: { human_escalation: true } })).body.id;
  const bob = await apiLogin(base, "bob@shop.test", "agent-password");
  await bob("PUT", "/api/me/status", { status: "available" });
  const visitor = await waitingVisitor(bot, "My parcel never arrived");

  const page = await newPage(browser, "alice-phone", PHONE, { hasTouch: true, isMobile: true });
  await page.goto(`${base}/app`);
  await page.fill("input[name=email]", "alice@shop.test");
  await page.fill("input[name=password]", "agent-password");
  await page.locator("button[type=submit]").tap();
  await page.locator(".app").waitFor();
  const dismiss = page.getByRole("button", { name: "Dismiss" });
  if (await dismiss.count()) await dismiss.tap();
  await page.locator(".status-button").tap();
  await page.getByRole("menuitemradio", { name: /Available/ }).tap();
  await page.locator("[data-testid=my-status]", { hasText: "Available" }).waitFor();

  // The list fills the screen; the conversation is a screen of its own.
  const row = page.locator(".chat-row", { hasText: "Vera" });
  await row.waitFor();
  assert.equal(await page.locator(".pane").isVisible(), false, "no conversation beside the list");
  await fitsTheScreen(page);
  await shot(page, "40-inbox-phone-list");
  await row.tap();
  await page.locator(".msg.visitor", { hasText: "My parcel never arrived" }).waitFor();
  assert.equal(await page.locator(".list").isVisible(), false, "the list gives way to the conversation");
  await fitsTheScreen(page);
  await page.locator(".conv-head").getByRole("button", { name: "Claim" }).tap();
  await page.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await shot(page, "41-inbox-phone-conversation");

  // Reply by touch: the editor, then Enter.
  await page.locator(".editor").tap();
  await page.keyboard.type("Sorry to hear that, let me check.");
  await page.keyboard.press("Enter");
  await page.locator(".msg.agent", { hasText: "Sorry to hear that, let me check." }).waitFor();

  // Transfer to Bob, then back to the list and into the chat again.
  await page.locator(".conv-head").getByRole("button", { name: "Transfer" }).tap();
  const dialog = page.getByRole("dialog", { name: "Transfer chat" });
  await dialog.getByRole("button", { name: /Bob Agent/ }).tap();
  await page.locator("[data-testid=chat-state]", { hasText: "transferred" }).waitFor();
  await page.getByRole("link", { name: "Back to the list" }).tap();
  await page.locator(".chat-row", { hasText: "Vera" }).waitFor();
  assert.equal(await page.locator(".pane").isVisible(), false);

  // Bob resolves it from his phone.
  const bobPage = await newPage(browser, "bob-phone", PHONE, { hasTouch: true, isMobile: true });
  await bobPage.goto(`${base}/app`);
  await bobPage.fill("input[name=email]", "bob@shop.test");
  await bobPage.fill("input[name=password]", "agent-password");
  await bobPage.locator("button[type=submit]").tap();
  await bobPage.locator(".app").waitFor();
  const bobDismiss = bobPage.getByRole("button", { name: "Dismiss" });
  if (await bobDismiss.count()) await bobDismiss.tap();
  await bobPage.getByRole("link", { name: "Assigned to me" }).tap();
  await bobPage.locator(".chat-row", { hasText: "Vera" }).tap();
  // Bob takes over by answering: the reply goes out once and leaves the composer empty.
  await bobPage.locator(".conv-head").getByRole("button", { name: "Accept" }).waitFor();
  await bobPage.locator(".editor").tap();
  await bobPage.keyboard.type("Bob here, I have found your parcel.");
  await bobPage.keyboard.press("Enter");
  await bobPage.locator(".msg.agent", { hasText: "Bob here, I have found your parcel." }).waitFor();
  await bobPage.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await bobPage.locator(".editor").waitFor();
  assert.equal((await bobPage.locator(".editor").innerText()).trim(), "", "the sent reply does not stay in the composer");
  assert.equal(await bobPage.locator(".msg.agent", { hasText: "Bob here, I have found your parcel." }).count(), 1);
  await bobPage.locator(".conv-head").getByRole("button", { name: "Resolve" }).tap();
  await bobPage.locator("[data-testid=chat-state]", { hasText: "resolved" }).waitFor();
  await fitsTheScreen(bobPage);
  await shot(bobPage, "42-inbox-phone-resolved");
  await visitor("/api/widget/conversations").catch(() => {});

  for (const p of [page, bobPage]) assert.deepEqual(p.errors, []);
  await page.context().close();
  await bobPage.context().close();
});

test("on a phone the team pages fit the screen", async () => {
  const page = await newPage(browser, "owner-phone", PHONE, { hasTouch: true, isMobile: true });
  await page.goto(`${base}/app`);
  await page.fill("input[name=email]", "olivia@shop.test");
  await page.fill("input[name=password]", "owner-password");
  await page.locator("button[type=submit]").tap();
  await page.locator(".app").waitFor();
  for (const path of ["/app/team", "/app/team/bots", "/app/team/settings", "/app/shortcuts", "/app/notifications", "/app/profile"]) {
    await page.goto(base + path);
    await page.locator(".page-inner, .page").first().waitFor();
    await fitsTheScreen(page);
  }
  const bots = (await owner("GET", `/api/teams/${team}/bots`)).body;
  await page.goto(`${base}/app/team/bots/${bots[0].id}`);
  await page.getByRole("button", { name: "Save bot" }).waitFor();
  await fitsTheScreen(page);
  await shot(page, "43-bot-editor-phone");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

async function loggedIn(name, email, password, viewport = { width: 1280, height: 800 }) {
  const page = await newPage(browser, name, viewport);
  await logIn(page, base, email, password);
  return page;
}

test("pages follow what another tab changes, shortcuts can be edited, and errors are worded for people", async () => {
  const a = await loggedIn("tab-a", "olivia@shop.test", "owner-password");
  const b = await loggedIn("tab-b", "olivia@shop.test", "owner-password");

  // A shortcut made in one tab shows in the other; edited there, the first follows.
  await a.goto(`${base}/app/shortcuts`);
  await b.goto(`${base}/app/shortcuts`);
  await b.fill("form input[name=name]", "thanks");
  await b.fill("form [data-field=body]", "Thanks for waiting!");
  await b.getByRole("button", { name: "Add shortcut" }).click();
  await a.locator(".list-plain li", { hasText: "/thanks" }).getByText("Thanks for waiting!").waitFor();
  await a.getByRole("button", { name: "Edit shortcut thanks" }).click();
  await a.fill("form [data-field=body]", "Thank you for your patience!");
  await a.getByRole("button", { name: "Save changes" }).click();
  await b.locator(".list-plain li", { hasText: "/thanks" }).getByText("Thank you for your patience!").waitFor();
  await shot(a, "44-shortcut-edited");

  // A bot made elsewhere appears in the inbox's bot filter without a reload.
  await a.goto(`${base}/app/inbox`);
  await a.locator(".list-tools select option", { hasText: "All bots" }).waitFor({ state: "attached" });
  await owner("POST", `/api/teams/${team}/bots`, { name: "Returns desk" });
  await a.locator(".list-tools select option", { hasText: "Returns desk" }).waitFor({ state: "attached" });

  // A new name in the profile reaches the other tab's header.
  await b.goto(`${base}/app/profile`);
  await b.fill("input[name=first_name]", "Liv");
  await b.getByRole("button", { name: "Save Changes" }).click();
  await b.getByText("Profile saved").waitFor();
  await a.getByRole("button", { name: "Profile menu" }).click();
  await a.locator(".menu .popup", { hasText: "Liv Owner" }).waitFor();
  await a.keyboard.press("Escape");

  // Errors a person reads: named fields, no codes, and a clear line when Baton is unreachable.
  await b.goto(`${base}/app/team/settings`);
  await b.fill("input[name=auto_away_minutes]", "0");
  await b.getByRole("button", { name: "Save settings" }).click();
  await b.getByRole("alert").getByText("Auto-away after (minutes) must be between 1 and 1440").waitFor();
  await b.route(/\/api\/me\/status$/, (r) => r.abort("internetdisconnected"));
  await b.locator(".status-button").click();
  await b.getByRole("menuitemradio", { name: /Away/ }).click();
  await b.getByText("Baton can't be reached. Check your connection and try again.").waitFor();
  await shot(b, "45-worded-errors");
  for (const p of [a, b]) assert.deepEqual(p.errors, []);
  await a.context().close();
  await b.context().close();
});

test("a waiting chat shows in the tab's title and icon, with a sound this browser can turn off", async () => {
  const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Chime desk", settings: { human_escalation: true } })).body.id;
  const page = await newPage(browser, "attention", { width: 1280, height: 800 });
  // Count the chimes instead of playing them.
  await page.addInitScript(() => {
    window.__chimes = 0;
    window.AudioContext = class {
      constructor() { this.currentTime = 0; this.state = "running"; this.destination = {}; }
      resume() {}
      createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (x) => x }; }
      createOscillator() { return { frequency: {}, connect: (x) => x, start: () => { window.__chimes += 1; }, stop() {} }; }
    };
  });
  await page.goto(`${base}/app`);
  await page.fill("input[name=email]", "alice@shop.test");
  await page.fill("input[name=password]", "agent-password");
  await page.click("button[type=submit]");
  await page.locator(".app").waitFor();
  const dismiss = page.getByRole("button", { name: "Dismiss" });
  if (await dismiss.count()) await dismiss.click();
  await page.locator(".status-button").click();
  await page.getByRole("menuitemradio", { name: /Available/ }).click();
  await page.locator("[data-testid=my-status]", { hasText: "Available" }).waitFor();
  // Earlier tests leave no chat waiting.
  await page.waitForFunction(() => document.title === "Baton");

  const visitor = await waitingVisitor(bot, "Hello, anyone there?");
  await page.waitForFunction(() => document.title === "(1) Baton");
  await page.waitForFunction(() => window.__chimes > 0);
  await page.waitForFunction(() => document.querySelector("link[rel=icon]").href.startsWith("data:image/png"));

  // Claimed and read: nothing waits, the title and icon are plain again.
  await page.locator(".chat-row", { hasText: "Hello, anyone there?" }).click();
  await page.locator(".conv-head").getByRole("button", { name: "Claim" }).click();
  await page.waitForFunction(() => document.title === "Baton");
  await page.waitForFunction(() => document.querySelector("link[rel=icon]").href.endsWith("/app/favicon.svg"));

  // Sound off for this browser: a visitor's new message makes no sound.
  await page.goto(`${base}/app/notifications`);
  await page.locator("label.switch", { hasText: "Play a sound" }).locator("input").uncheck();
  const before = await page.evaluate(() => window.__chimes);
  await visitor("/api/widget/messages", { body: "Still there?" });
  await page.waitForFunction(() => document.title === "(1) Baton");
  assert.equal(await page.evaluate(() => window.__chimes), before, "no sound once turned off");
  await shot(page, "46-sound-setting");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a shortcut fills in the visitor's and agent's names, and a link is added without the browser's prompt", async () => {
  const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Greeter", settings: { human_escalation: true } })).body.id;
  const made = await owner("POST", "/api/shortcuts", { name: "greet", body: "<p>Hi <b>{{visitor.first_name|there}}</b>, this is {{agent.first_name}} from {{bot.name}}.</p>" });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  await waitingVisitor(bot, "I have a question about sizes");
  const page = await loggedIn("shortcut-vars", "olivia@shop.test", "owner-password");
  await page.locator(".status-button").click();
  await page.getByRole("menuitemradio", { name: /Available/ }).click();
  await page.locator(".chat-row", { hasText: "I have a question about sizes" }).click();
  await page.locator(".conv-head").getByRole("button", { name: "Claim" }).click();
  await page.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  const editor = page.locator(".editor");
  await editor.click();
  await page.keyboard.type("/greet");
  await page.locator(".popover .opt", { hasText: "/greet" }).waitFor();
  await page.keyboard.press("Enter");
  const first = (await owner("GET", "/api/me")).body.user.first_name;
  await editor.getByText(`this is ${first} from Greeter`).waitFor();
  await page.keyboard.press("Enter");
  const sent = page.locator(".msg.agent", { hasText: `Hi Vera, this is ${first} from Greeter.` });
  await sent.waitFor();
  assert.equal(await sent.locator("b").innerText(), "Vera", "the shortcut's formatting is kept");

  // A link: asked for beside the tools, and the next keystrokes go after it, not over it.
  await editor.click();
  await page.keyboard.type("Track it here: ");
  await page.getByRole("button", { name: "Link" }).click();
  await page.getByLabel("Link address").fill("ftp://nope");
  await page.getByRole("button", { name: "Add link" }).click();
  await page.getByText("Use an address that starts with https://").waitFor();
  await page.getByLabel("Link address").fill("https://shop.example/track/42");
  await page.getByRole("button", { name: "Add link" }).click();
  await page.keyboard.type("thanks!");
  await shot(page, "47-composer-link");
  await page.keyboard.press("Enter");
  const linked = page.locator(".msg.agent", { hasText: "Track it here:" });
  await linked.waitFor();
  assert.equal(await linked.locator("a").getAttribute("href"), "https://shop.example/track/42");
  assert.equal(await linked.locator("a").innerText(), "https://shop.example/track/42");
  assert.match(await linked.locator(".bubble").innerText(), /track\/42\s*thanks!$/);
  await owner("POST", `/api/live-chats/${page.url().split("/").pop()}/resolve`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the keyboard moves through the inbox and claims, answers and resolves a chat", async () => {
  const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Keys", settings: { human_escalation: true } })).body.id;
  await waitingVisitor(bot, "Typing fast today?");
  const page = await loggedIn("keyboard", "alice@shop.test", "agent-password");
  await page.locator(".status-button").click();
  await page.getByRole("menuitemradio", { name: /Available/ }).click();
  await page.locator("[data-testid=my-status]", { hasText: "Available" }).waitFor();
  await page.locator(".chat-row", { hasText: "Typing fast today?" }).waitFor();
  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await help.getByText("Claim the chat").waitFor();
  await shot(page, "48-keyboard-help");
  await page.keyboard.press("Escape");
  await help.waitFor({ state: "detached" });

  await page.keyboard.press("j");
  await page.locator(".msg.visitor", { hasText: "Typing fast today?" }).waitFor();
  await page.keyboard.press("c");
  await page.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await page.keyboard.press("r");
  await page.keyboard.type("Very fast!");
  await page.keyboard.press("Enter");
  await page.locator(".msg.agent", { hasText: "Very fast!" }).waitFor();
  // Out of the composer, the letters are keys again.
  await page.locator(".messages").click();
  await page.keyboard.press("e");
  await page.locator("[data-testid=chat-state]", { hasText: "resolved" }).waitFor();
  // Taken up again: the chat is Alice's and active, under "Assigned to me".
  await page.locator(".conv-head").getByRole("button", { name: "Reopen" }).click();
  await page.waitForURL(/\/app\/mine\//);
  await page.locator("[data-testid=chat-state]", { hasText: "active" }).waitFor();
  await page.locator(".sys", { hasText: "Alice Agent reopened the chat" }).waitFor();
  await page.keyboard.press("e");
  await page.locator("[data-testid=chat-state]", { hasText: "resolved" }).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("two agents on the same chat see that the other is there", async () => {
  const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Both", settings: { human_escalation: true } })).body.id;
  await waitingVisitor(bot, "Is anyone looking at this?");
  const alicePage = await loggedIn("viewing-alice", "alice@shop.test", "agent-password");
  await alicePage.locator(".chat-row", { hasText: "Is anyone looking at this?" }).click();
  await alicePage.locator(".msg.visitor", { hasText: "Is anyone looking at this?" }).waitFor();
  const bobPage = await loggedIn("viewing-bob", "bob@shop.test", "agent-password", { width: 390, height: 844 });
  await bobPage.locator(".chat-row", { hasText: "Is anyone looking at this?" }).click();
  await bobPage.locator("[data-testid=viewers]", { hasText: "Alice Agent is also here" }).waitFor();
  await alicePage.locator("[data-testid=viewers]", { hasText: "Bob Agent is also here" }).waitFor();
  await shot(bobPage, "49-also-here-phone");
  await shot(alicePage, "49-also-here-desktop");
  for (const p of [alicePage, bobPage]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

for (const [size, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", PHONE]]) {
  test(`${size}: search finds messages, notes and visitors from Ctrl+K and opens the chat at the message`, async () => {
    const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: `Search ${size}`, settings: { human_escalation: true } })).body.id;
    await waitingVisitor(bot, `The ${size} parcel never arrived`);
    await waitingVisitor(bot, `Where is my ${size} refund?`);
    const page = await newPage(browser, `search-${size}`, viewport, size === "phone" ? { hasTouch: true, isMobile: true } : {});
    await logIn(page, base, "alice@shop.test", "agent-password");
    await page.locator(".chat-row").first().waitFor();

    const box = page.locator("[data-testid=search]");
    if (size === "desktop") {
      await page.keyboard.press("Control+k");
      assert.equal(await box.evaluate((el) => el === document.activeElement), true, "Ctrl+K focuses the search");
      await page.keyboard.type(`${size} parc`);
    } else {
      await box.tap();
      await box.fill(`${size} parc`);
    }
    const results = page.locator("[data-testid=search-results]");
    const hit = results.locator(".chat-row", { hasText: "parcel never arrived" });
    await hit.waitFor();
    assert.deepEqual(await hit.locator("mark").allInnerTexts(), [size, "parc"], "the matched words are marked");
    assert.equal(await results.locator(".chat-row", { hasText: "refund" }).count(), 0, "every word must match");
    assert.equal(await page.locator(".rows:not(.results)").isVisible(), false, "results replace the list");
    if (size === "phone") await fitsTheScreen(page);
    await shot(page, `52-search-${size}`);
    await (size === "phone" ? hit.tap() : hit.click());
    await page.locator(".msg.found", { hasText: "parcel never arrived" }).waitFor();
    await shot(page, `53-search-opened-${size}`);

    // The query stays while results are opened one after another; Esc gives the list back.
    if (size === "phone") await page.locator(".conv-head .back").tap();
    await hit.waitFor();
    await box.fill("vera");
    await results.locator(".results-head", { hasText: "People" }).waitFor();
    await box.press("Escape");
    await page.locator(".rows:not(.results) .chat-row").first().waitFor();
    assert.equal(await results.isVisible(), false);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

for (const [size, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", PHONE]]) {
  test(`${size}: a snoozed chat leaves the list until the visitor writes, and comes back live`, async () => {
    const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: `Snooze ${size}`, settings: { human_escalation: true } })).body.id;
    const alice = await apiLogin(base, "alice@shop.test", "agent-password");
    await alice("PUT", "/api/me/status", { status: "available" });
    const visitor = await waitingVisitor(bot, `Snooze me (${size})`);
    const list = (await alice("GET", "/api/live-chats?view=inbox")).body.items;
    const chat = list.find((c) => c.bot.id === bot).id;
    assert.equal((await alice("POST", `/api/live-chats/${chat}/claim`)).status, 200);

    const page = await newPage(browser, `snooze-${size}`, viewport, size === "phone" ? { hasTouch: true, isMobile: true } : {});
    await logIn(page, base, "alice@shop.test", "agent-password");
    await page.goto(`${base}/app/mine/${chat}`);
    await page.locator(".msg.visitor", { hasText: `Snooze me (${size})` }).waitFor();
    await page.getByRole("button", { name: "Snooze", exact: true }).click();
    await page.getByRole("menuitem", { name: "Until the visitor writes" }).click();
    await page.locator("[data-testid=snoozed]", { hasText: "Until the visitor writes" }).waitFor();
    await page.getByRole("button", { name: "Unsnooze" }).waitFor();
    await shot(page, `55-snoozed-${size}`);

    // Out of "Assigned to me", in "Snoozed".
    await page.goto(`${base}/app/snoozed`);
    const row = page.locator(".chat-row", { hasText: `Snooze me (${size})` });
    await row.waitFor();
    await row.locator(".tag.snoozed", { hasText: "until a reply" }).waitFor();
    await page.goto(`${base}/app/mine`);
    await page.locator(".rows .empty, .rows .chat-row").first().waitFor();
    assert.equal(await page.locator(".chat-row", { hasText: `Snooze me (${size})` }).count(), 0, "out of the list while snoozed");

    // The visitor writes: it is back in "Assigned to me", live.
    await visitor("/api/widget/messages", { body: "Any news?" });
    await page.locator(".chat-row", { hasText: "Any news?" }).waitFor();
    if (size === "phone") await fitsTheScreen(page);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("a chat left waiting is announced again until someone claims it", async () => {
  // The shortest interval a team may set; the server's timers run on its real clock here.
  assert.equal((await owner("PATCH", `/api/teams/${team}/settings`, { pending_alert_seconds: 30 })).status, 200);
  try {
    const bot = (await owner("POST", `/api/teams/${team}/bots`, { name: "Reminders", settings: { human_escalation: true } })).body.id;
    const page = await newPage(browser, "reminders", { width: 1280, height: 800 });
    await logIn(page, base, "alice@shop.test", "agent-password");
    const alice = await apiLogin(base, "alice@shop.test", "agent-password");
    await alice("PUT", "/api/me/status", { status: "available" });
    await page.locator("[data-testid=my-status]", { hasText: "Available" }).waitFor();
    await waitingVisitor(bot, "Is anyone there?");
    const toasts = page.locator(".toasts");
    await toasts.getByText(/still waiting for a person/).waitFor({ timeout: 60_000 });
    await shot(page, "56-reminder");
    // Claimed: no more reminders (the list shows it claimed; a later toast would be a bug the
    // API test covers with the controllable clock).
    const chat = (await alice("GET", "/api/live-chats?view=inbox")).body.items.find((c) => c.bot.id === bot).id;
    assert.equal((await alice("POST", `/api/live-chats/${chat}/claim`)).status, 200);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await owner("PATCH", `/api/teams/${team}/settings`, { pending_alert_seconds: 120 });
  }
});

test("a settings page follows another admin's change, and never throws away what is being typed", async () => {
  const page = await newPage(browser, "settings-live", { width: 1280, height: 800 });
  await logIn(page, base, "olivia@shop.test", "owner-password");
  await page.goto(`${base}/app/team/settings`);
  const field = page.locator("input[name=auto_away_minutes]");
  await field.waitFor();
  // Untouched: redrawn with the change.
  assert.equal((await owner("PATCH", `/api/teams/${team}/settings`, { auto_away_minutes: 17 })).status, 200);
  await page.waitForFunction(() => document.querySelector("input[name=auto_away_minutes]")?.value === "17");
  // Being edited: the typing stays, a notice offers the latest.
  await page.locator("input[name=heartbeat_timeout_seconds]").fill("95");
  assert.equal((await owner("PATCH", `/api/teams/${team}/settings`, { auto_away_minutes: 18 })).status, 200);
  const notice = page.locator("[data-testid=changed-elsewhere]");
  await notice.waitFor();
  assert.equal(await page.locator("input[name=heartbeat_timeout_seconds]").inputValue(), "95");
  assert.equal(await field.inputValue(), "17");
  await shot(page, "57-changed-elsewhere");
  await notice.getByRole("button", { name: "Show the latest" }).click();
  await page.waitForFunction(() => document.querySelector("input[name=auto_away_minutes]")?.value === "18");
  assert.equal(await notice.count(), 0);
  // Saving here is not news to this page.
  await page.locator("input[name=auto_away_minutes]").fill("19");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved").waitFor();
  assert.equal(await notice.count(), 0);
  await owner("PATCH", `/api/teams/${team}/settings`, { auto_away_minutes: 10, heartbeat_timeout_seconds: 60 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
