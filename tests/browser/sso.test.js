// Single sign-on against a real OpenID provider (the oidc-provider package, run here on a free
// port): the login page offers it, the provider's own pages sign the person in, and Baton signs
// in the account with that verified email; an email with no account, or one the provider has
// not verified, comes back to the login page with the reason. Desktop and phone.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Provider from "oidc-provider";
import { launchBrowser, newPage, northwindTeam, shots, startServer } from "./support.js";

let server;
let base;
let browser;
let dataDir;
let idp;
let issuer;

// The people the provider knows: Olivia has a Baton account; Sam has none; Una's email is not
// verified by the provider.
const PEOPLE = {
  "olivia@shop.test": { email: "olivia@shop.test", email_verified: true, name: "Olivia Owner" },
  "sam@elsewhere.test": { email: "sam@elsewhere.test", email_verified: true, name: "Sam" },
  "una@shop.test": { email: "una@shop.test", email_verified: false, name: "Una" },
};

before(async () => {
  mkdirSync(shots, { recursive: true });
  // The provider's address first (Baton is told it), its settings once Baton's address is known.
  let handler = (_req, res) => res.writeHead(503).end();
  idp = createServer((req, res) => handler(req, res));
  await new Promise((r) => idp.listen(0, "127.0.0.1", r));
  issuer = `http://127.0.0.1:${idp.address().port}`;
  dataDir = mkdtempSync(join(tmpdir(), "baton-sso-"));
  const s = startServer(dataDir, "127.0.0.1:0", ["--oidc-issuer", issuer, "--oidc-client-id", "baton", "--oidc-client-secret", "baton-client-secret", "--oidc-name", "Northwind SSO"]);
  server = s.child;
  base = await s.url;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "baton", client_secret: "baton-client-secret", redirect_uris: [`${base}/api/auth/oidc/callback`], grant_types: ["authorization_code"], response_types: ["code"] }],
    cookies: { keys: ["a-test-cookie-key"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    pkce: { required: () => true },
    findAccount: (_ctx, id) => PEOPLE[id] ? { accountId: id, claims: () => ({ sub: id, ...PEOPLE[id] }) } : undefined,
  });
  provider.on("server_error", (_ctx, e) => console.error("provider:", e));
  const callback = provider.callback();
  handler = (req, res) => callback(req, res);
  await northwindTeam(base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  idp?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });

/// Through the provider's own sign-in and consent pages as `login`.
async function signInAtProvider(page, login) {
  await page.waitForURL((u) => u.toString().startsWith(issuer));
  await page.fill("input[name=login]", login);
  await page.fill("input[name=password]", "anything");
  await page.click("button[type=submit]");
  const consent = page.getByRole("button", { name: "Continue" });
  await Promise.race([consent.waitFor().then(() => consent.click()), page.waitForURL((u) => u.toString().startsWith(base))]);
}

for (const [size, viewport] of [["desktop", { width: 1360, height: 840 }], ["phone", { width: 390, height: 844 }]]) {
  test(`${size}: an owner signs in with the team's identity provider`, async () => {
    const page = await newPage(browser, `sso-${size}`, viewport);
    await page.goto(`${base}/app`);
    const sso = page.getByTestId("sso");
    await sso.waitFor();
    assert.equal(await sso.textContent(), "Sign in with Northwind SSO");
    await shot(page, `68-sso-login-${size}`);
    await sso.click();
    await signInAtProvider(page, "olivia@shop.test");
    await page.locator(".app").waitFor();
    assert.equal(new URL(page.url()).pathname, "/app/inbox");
    const me = await page.evaluate(() => fetch("/api/me").then((r) => r.json()));
    assert.equal(me.user.email, "olivia@shop.test");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("someone without an account, or with an email the provider has not verified, is told why", async () => {
  for (const [who, why] of [["sam@elsewhere.test", /no Baton account uses the email your identity provider gave/], ["una@shop.test", /has not verified your email/]]) {
    const page = await newPage(browser, `sso-${who}`, { width: 1360, height: 840 });
    await page.goto(`${base}/app/login`);
    await page.getByTestId("sso").click();
    await signInAtProvider(page, who);
    const error = page.getByTestId("sso-error");
    await error.waitFor();
    assert.match(await error.textContent(), why);
    assert.equal(new URL(page.url()).search, "", "the reason is shown, not left in the address");
    const me = await page.evaluate(() => fetch("/api/me").then((r) => r.status));
    assert.equal(me, 401, "not signed in");
    if (who.startsWith("sam")) await shot(page, "69-sso-no-account");
    await page.context().close();
  }
  // A callback nobody started is refused too.
  const r = await fetch(`${base}/api/auth/oidc/callback?code=x&state=forged`, { redirect: "manual" });
  assert.equal(r.status, 303);
  const to = new URL(r.headers.get("location"), base);
  assert.equal(to.pathname, "/app/login");
  assert.equal(to.searchParams.get("sso_error"), "expired");
});
