// For the people who run a team, in real headless Chromium at 1360×840 and 390×844: reports with
// charts and CSV, webhooks with their delivery log, the audit log, and a visitor's data found,
// exported and erased. Screenshots land in tests/browser/screenshots/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiLogin, launchBrowser, logIn, newPage, northwindTeam, shots, startServer } from "./support.js";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1360, height: 840 };
let server;
let base;
let browser;
let dataDir;
let owner;
let team;
let bot;

before(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "baton-ops-"));
  const s = startServer(dataDir, "127.0.0.1:0", ["--allow-private-webhooks"]);
  server = s.child;
  base = await s.url;
  ({ owner, team } = await northwindTeam(base));
  const b = await owner("POST", `/api/teams/${team}/bots`, { name: "Shop", settings: { human_escalation: true } });
  bot = b.body.id;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function fitsTheScreen(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page is ${width}px wide on a ${PHONE.width}px screen`);
}

/// A visitor through the widget's API: their calls.
async function visitor(name, email) {
  const v = await (await fetch(`${base}/api/widget/bots/${bot}/visitors`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, email }) })).json();
  return (path, body) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${v.visitor_token}` }, body: JSON.stringify(body ?? {}) }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
}

/// A chat taken by Alice, answered, resolved and rated.
async function handledChat(alice, name, score) {
  const v = await visitor(name, `${name.toLowerCase()}@example.com`);
  await v("/api/widget/messages", { body: `Hello, I am ${name}` });
  const e = await v("/api/widget/escalate");
  const chat = e.body.conversation_id;
  for (const [path, body] of [[`/api/live-chats/${chat}/claim`, {}], [`/api/live-chats/${chat}/messages`, { body: `Hi ${name}!` }], [`/api/live-chats/${chat}/resolve`, {}]]) {
    const r = await alice("POST", path, body);
    assert.ok(r.status < 300, `${path}: ${JSON.stringify(r.body)}`);
  }
  if (score) assert.equal((await v("/api/widget/rating", { score })).status, 201);
  return { v, chat };
}

for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
  test(`${size}: reports show the team's chats in tiles, charts and tables, and download as CSV`, async () => {
    const alice = await apiLogin(base, "alice@shop.test", "agent-password");
    await alice("PUT", "/api/me/status", { status: "available" });
    await handledChat(alice, size === "desktop" ? "Dora" : "Pia", 5);
    const page = await newPage(browser, `reports-${size}`, viewport, { acceptDownloads: true });
    await logIn(page, base, "olivia@shop.test", "owner-password");
    if (size === "phone") await page.goto(`${base}/app/reports`);
    else await page.getByRole("link", { name: "Reports" }).click();
    const tiles = page.getByTestId("report-kpis");
    await tiles.locator("[data-kpi=conversations] .kpi-value").waitFor();
    const expected = (await owner("GET", `/api/teams/${team}/reports?tz=${encodeURIComponent(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone))}`)).body;
    assert.equal(await tiles.locator("[data-kpi=conversations] .kpi-value").textContent(), String(expected.totals.conversations));
    assert.match(await tiles.locator("[data-kpi=csat] .kpi-value").textContent(), /^100(\.0)?%$/);
    // Both charts drew.
    await page.waitForFunction(() => [...document.querySelectorAll("canvas")].filter((c) => window.Chart?.getChart(c)).length === 2);
    assert.ok(await page.getByRole("cell", { name: "Alice Agent" }).isVisible());
    if (size === "phone") await fitsTheScreen(page);
    await shot(page, `60-reports-${size}`);
    // The CSV of every conversation.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Every conversation" }).click()]);
    const csv = readFileSync(await download.path(), "utf8");
    assert.match(csv.split("\n")[0], /^conversation_id,bot,agent,state,escalated_at/);
    assert.ok(csv.includes(",Shop,Alice Agent,resolved,"), csv);
    // A range with nothing in it says so.
    await page.fill("input[name=from]", "2020-01-01");
    await page.fill("input[name=to]", "2020-01-31");
    await page.locator("input[name=to]").dispatchEvent("change");
    await page.waitForFunction(() => document.querySelector("[data-kpi=conversations] .kpi-value")?.textContent === "0");
    assert.ok(await page.getByText("Nothing in this range.").first().isVisible());
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("a webhook is added in the app, its deliveries are logged, and a failed one is sent again", async () => {
  // A receiver that answers 200 until told otherwise.
  const got = [];
  let answer = 200;
  const waiters = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      got.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(answer).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${receiver.address().port}/events`;
  const until = async (f) => { while (!f()) await new Promise((r) => waiters.push(r)); };
  try {
    const page = await newPage(browser, "webhooks", DESKTOP);
    await logIn(page, base, "olivia@shop.test", "owner-password");
    await page.goto(`${base}/app/team/webhooks`);
    await page.getByTestId("no-webhooks").waitFor();
    const add = page.getByTestId("webhook-add");
    await add.locator("input[name=name]").fill("CRM");
    await add.locator("input[name=url]").fill(url);
    await add.getByLabel(/New message or note/).check();
    await add.getByRole("button", { name: "Add webhook" }).click();
    const secret = page.getByTestId("webhook-secret");
    await secret.waitFor();
    assert.match(await secret.locator("code").textContent(), /^whsec_/);
    await shot(page, "61-webhook-added");

    // A visitor writes: the receiver hears it, signed.
    const v = await visitor("Walt", "walt@example.com");
    await v("/api/widget/messages", { body: "Is this thing on?" });
    await until(() => got.some((g) => g.body.data?.message?.text === "Is this thing on?"));
    const one = got.find((g) => g.body.data?.message?.text === "Is this thing on?");
    assert.match(one.headers["baton-signature"], /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(one.headers["baton-event"], "message.created");

    // The receiver fails: the log shows it waiting to retry, with the error.
    answer = 503;
    const before = got.length;
    await v("/api/widget/messages", { body: "Second try" });
    await until(() => got.length > before && got.some((g) => g.body.data?.message?.text === "Second try"));
    const card = page.locator("article.webhook");
    await card.getByRole("button", { name: "Deliveries" }).click();
    const log = card.getByTestId("delivery-log");
    await log.locator("li.delivery").first().waitFor();
    await page.waitForFunction(() => document.querySelector("li.delivery.pending .delivery-error")?.textContent.includes("503"));
    await shot(page, "62-webhook-log-failing");
    // It comes back; the owner sends the failed one again from the log.
    answer = 200;
    const retried = got.length;
    const failed = log.locator("li.delivery.pending").first();
    const id = await failed.getAttribute("data-delivery");
    await failed.getByRole("button", { name: "Send again" }).click();
    await until(() => got.length > retried);
    await page.waitForFunction((id) => document.querySelector(`li.delivery[data-delivery="${id}"]`)?.classList.contains("delivered"), id);
    await shot(page, "63-webhook-log-delivered");
    // The phone shows the same page within the screen.
    const phone = await newPage(browser, "webhooks-phone", PHONE);
    await logIn(phone, base, "olivia@shop.test", "owner-password");
    await phone.goto(`${base}/app/team/webhooks`);
    await phone.locator("article.webhook").waitFor();
    await phone.locator("article.webhook").getByRole("button", { name: "Deliveries" }).click();
    await phone.locator("li.delivery").first().waitFor();
    await fitsTheScreen(phone);
    await shot(phone, "64-webhooks-phone");
    assert.deepEqual([...page.errors, ...phone.errors], []);
    await page.context().close();
    await phone.context().close();
  } finally {
    receiver.close();
  }
});

test("the audit log lists who did what, filtered by action, on desktop and phone", async () => {
  await owner("PATCH", `/api/teams/${team}/settings`, { retention_days: 400 });
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    const page = await newPage(browser, `audit-${size}`, viewport);
    await logIn(page, base, "olivia@shop.test", "owner-password");
    await page.goto(`${base}/app/team/audit`);
    const list = page.getByTestId("audit-list");
    await list.locator("li").first().waitFor();
    assert.ok(await list.getByText("created the bot").first().isVisible());
    await page.getByLabel("What").selectOption("team.settings_changed");
    await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=audit-list] li")].every((li) => li.dataset.action === "team.settings_changed"));
    assert.match(await list.locator("li").first().textContent(), /Olivia Owner changed team settings: retention period/);
    if (size === "phone") await fitsTheScreen(page);
    await shot(page, `65-audit-${size}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test("a visitor's data is found by email, exported, and erased after typing the confirmation; an open chat says so", async () => {
  const alice = await apiLogin(base, "alice@shop.test", "agent-password");
  await alice("PUT", "/api/me/status", { status: "available" });
  const { chat } = await handledChat(alice, "Erin", 4);
  // Alice has Erin's chat open.
  const agentPage = await newPage(browser, "alice", DESKTOP);
  await logIn(agentPage, base, "alice@shop.test", "agent-password");
  await agentPage.goto(`${base}/app/resolved/${chat}`);
  await agentPage.getByText("Hello, I am Erin").waitFor();

  const page = await newPage(browser, "privacy", PHONE, { acceptDownloads: true });
  await logIn(page, base, "olivia@shop.test", "owner-password");
  await page.goto(`${base}/app/team/data`);
  await page.getByLabel("Visitor's email").fill("ERIN@example.com");
  await page.getByRole("button", { name: "Find" }).click();
  const results = page.getByTestId("data-results");
  await results.getByText("erin@example.com").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), results.getByRole("button", { name: "Export as JSON" }).click()]);
  const doc = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(doc.visitor.email, "erin@example.com");
  assert.ok(JSON.stringify(doc.conversations).includes("Hello, I am Erin"));
  await results.getByRole("button", { name: "Erase…" }).click();
  const dialog = page.getByRole("dialog");
  const go = dialog.getByRole("button", { name: "Erase for good" });
  assert.ok(await go.isDisabled(), "not before the word is typed");
  await dialog.getByLabel("Type erase to confirm").fill("erase");
  await fitsTheScreen(page);
  await shot(page, "66-erase-dialog-phone");
  await go.click();
  await results.getByText("No visitor gave").waitFor();
  // Alice's open chat is gone from under her, said in words.
  await agentPage.getByTestId("chat-erased").waitFor();
  // And gone from her list.
  await agentPage.getByText("Hi Erin!").waitFor({ state: "detached" });
  await shot(agentPage, "67-chat-erased");
  const left = await owner("GET", `/api/teams/${team}/visitors?email=erin@example.com`);
  assert.deepEqual(left.body, []);
  assert.deepEqual([...page.errors, ...agentPage.errors], []);
  await page.context().close();
  await agentPage.context().close();
});
