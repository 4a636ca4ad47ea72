// What the browser tests share: a Baton server they start (and can kill and restart on the same
// address), a small SMTP server that keeps what Baton sends, and Chromium pages that record
// script errors.

import { spawn } from "node:child_process";
import { chromium } from "playwright-core";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import readline from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
export const shots = join(here, "screenshots");
export const bin = process.env.BATON_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(here, "..", "..", "target"), "debug", "baton");

/// Starts `baton serve` and resolves `url` once it prints its address.
export function startServer(dataDir, listen, extra = []) {
  const child = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", listen, ...extra], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BATON_LOG: "warn" } });
  const url = new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (l) => {
      const m = l.match(/(http:\/\/127\.0\.0\.1:\d+)\/app/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`baton exited with ${code}`)));
  });
  return { child, url };
}

/// An SMTP server on a free port that accepts every message and keeps its text.
export async function smtpSink() {
  const mails = [];
  const waiters = [];
  const server = createServer((sock) => {
    let data = null;
    let buf = "";
    sock.write("220 sink ESMTP\r\n");
    sock.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      let i;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data !== null) {
          if (line === ".") {
            mails.push(data.join("\n"));
            data = null;
            sock.write("250 kept\r\n");
            for (const w of waiters.splice(0)) w();
          } else data.push(line.startsWith("..") ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") sock.write("250-sink\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") { data = []; sock.write("354 go on\r\n"); }
        else if (verb === "QUIT") { sock.write("221 bye\r\n"); sock.end(); }
        else sock.write("250 ok\r\n");
      }
    });
    sock.on("error", () => {});
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    mails,
    args: ["--smtp-host", "127.0.0.1", "--smtp-port", String(port), "--smtp-tls", "none", "--smtp-from", "Baton <baton@shop.test>"],
    /// Resolves with the first kept mail that matches.
    async waitFor(match) {
      for (;;) {
        const found = mails.find((m) => match.test(m.replace(/=\n/g, "")));
        if (found) return found.replace(/=\n/g, "");
        await new Promise((r) => waiters.push(r));
      }
    },
    close: () => server.close(),
  };
}

/// Headless Chromium as every browser test runs it.
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

export async function newPage(browser, name, viewport = { width: 1360, height: 840 }, options = {}) {
  const ctx = await browser.newContext({ viewport, ...options });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  page.errors = errors;
  return page;
}

/// An agent's session from Node: the cookie and CSRF token of a login, for API calls.
export async function apiLogin(base, email, password) {
  const res = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status}`);
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const { csrf_token: csrf } = await res.json();
  return async (method, path, body) => {
    const r = await fetch(base + path, { method, headers: { "content-type": "application/json", cookie, "x-csrf-token": csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: r.status === 204 ? null : await r.json().catch(() => null) };
  };
}

/// First-run set-up through the API: Olivia owns the "Northwind" team, Alice and Bob are its chat
/// agents (password `agent-password`). Agents stay as set (no heartbeats in these tests).
/// Resolves with the owner's API calls and the team id.
export async function northwindTeam(base, settings = {}) {
  const setup = await fetch(`${base}/api/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "olivia@shop.test", password: "owner-password", first_name: "Olivia", last_name: "Owner", team_name: "Northwind" }),
  });
  if (setup.status !== 201) throw new Error(`set-up: ${setup.status}`);
  const owner = await apiLogin(base, "olivia@shop.test", "owner-password");
  const team = (await owner("GET", "/api/me")).body.active_team_id;
  const s = await owner("PATCH", `/api/teams/${team}/settings`, { heartbeat_timeout_seconds: 3600, orphan_grace_seconds: 86400, ...settings });
  if (s.status !== 200) throw new Error(`team settings: ${JSON.stringify(s.body)}`);
  for (const [first, email] of [["Alice", "alice@shop.test"], ["Bob", "bob@shop.test"]]) {
    const r = await owner("POST", `/api/teams/${team}/members`, { email, role: "chat_agent", first_name: first, last_name: "Agent", password: "agent-password" });
    if (r.status !== 201) throw new Error(`adding ${first}: ${JSON.stringify(r.body)}`);
  }
  return { owner, team };
}

/// Logs a person in to the inbox on `page` and dismisses the notification banner.
export async function logIn(page, base, email, password) {
  await page.goto(`${base}/app`);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.locator(".app").waitFor();
  const dismiss = page.getByRole("button", { name: "Dismiss" });
  if (await dismiss.count()) await dismiss.click();
}
