/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against the
 * example Worker under `wrangler dev` and against a Bun server over NATS. Run by vitest only (its
 * name is no `_test.ts`, so Deno and Bun leave it alone). With EDGEBUS_SCREENSHOTS=1 it saves
 * the README's screenshots to docs/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, test } from "vitest";
import { type NatsServer, startNatsServer } from "../nats/server.ts";
import { startBun, startWorker, type Target } from "./targets.ts";

const TOKEN = "tok_browser_0123456789abcdef";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = process.env.EDGEBUS_SCREENSHOTS === "1";

let browser: Browser;
let worker: Target;
let bun: Target;
let nats: NatsServer;

beforeAll(async () => {
  assert.ok(existsSync(CHROMIUM), `No browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  nats = await startNatsServer();
  [browser, worker, bun] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }),
    startWorker(TOKEN),
    startBun(TOKEN, nats.wsUrl),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([browser?.close(), worker?.stop(), bun?.stop()]);
  await nats?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync("docs", { recursive: true });
  await page.screenshot({ path: `docs/dashboard-${name}.png` });
}

async function newPage(): Promise<{ page: Page; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const dialogs: string[] = [];
  page.on("dialog", (d) => void (dialogs.push(d.message()), d.dismiss()));
  return { page, dialogs };
}

async function signIn(page: Page, origin: string, path = "/ui"): Promise<void> {
  await page.goto(`${origin}${path}`);
  assert.match(page.url(), new RegExp(`${path}/login\\?next=`));
  await page.getByLabel("API token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${origin}${path}`);
}

async function send(page: Page, name: string, body: unknown): Promise<string> {
  await page.getByRole("link", { name: "Send an event" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Body (JSON)").fill(JSON.stringify(body));
  await page.getByRole("button", { name: "Publish" }).click();
  const flash = await page.getByRole("status").filter({ hasText: "Published" }).textContent();
  return /as (\S+)$/.exec(flash!.trim())![1];
}

const statusIs = (page: Page, status: string) => page.locator("h1 .status", { hasText: status }).waitFor();

async function journey(origin: string, screenshots: boolean): Promise<void> {
  const { page, dialogs } = await newPage();

  // A wrong token is refused, the right one signs in.
  await page.goto(`${origin}/`);
  await page.waitForURL(/\/ui\/login\?next=/);
  await page.getByLabel("API token").fill("tok_wrong_0123456789abcdef");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "That token is not accepted" }).waitFor();
  await page.getByLabel("API token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Events" }).waitFor();

  // Publish through the form and see the event reach done (live updates refresh the page).
  await send(page, "email.sent", { to: "ada@example.com" });
  await statusIs(page, "done");

  // A chain: user.joined publishes email.sent and a follow-up two days later.
  const joined = await send(page, "user.joined", { user_id: "2b6m", email: "ada@example.com" });
  await page.getByRole("link", { name: "Show the chain" }).click();
  const follow = page.locator("ul.tree ul a", { hasText: "user.follow-up" });
  await follow.waitFor();
  await page.locator("ul.tree ul a", { hasText: "email.sent" }).waitFor();
  if (screenshots) await shot(page, "chain");
  await follow.click();
  await statusIs(page, "scheduled");
  await page.locator(`dd a[href$="/events/${joined}"]`).waitFor(); // "Caused by", a link back
  const followId = `follow-up-${joined}`;
  assert.ok(page.url().endsWith(`/ui/events/${followId}`));

  // Cancel it from the scheduled page.
  await page.getByRole("link", { name: "Scheduled" }).click();
  await page.getByRole("button", { name: `Cancel ${followId}` }).click();
  await page.getByRole("status").filter({ hasText: `Cancelled ${followId}` }).waitFor();
  assert.equal(await page.getByRole("button", { name: `Cancel ${followId}` }).count(), 0);

  // A dead letter, replayed once its handler accepts it, runs to done.
  const failUntil = Date.now() + 2_500;
  const dead = await send(page, "demo.fails", { failUntil });
  await statusIs(page, "dead");
  await page.getByRole("link", { name: "Dead letters" }).click();
  const row = page.locator("tr", { hasText: dead });
  await row.getByText("demo.fails refuses until").waitFor();
  await new Promise((r) => setTimeout(r, Math.max(0, failUntil - Date.now() + 200)));
  await row.getByRole("button", { name: "Replay" }).click();
  await page.getByRole("status").filter({ hasText: `Replayed ${dead}` }).waitFor();
  await statusIs(page, "done");

  // Bulk delete of two dead letters, after a confirmation.
  const doomed = [
    await send(page, "demo.fails", { failUntil: 8e15 }),
    await send(page, "demo.fails", { failUntil: 8e15 }),
  ];
  await statusIs(page, "dead");
  await page.getByRole("link", { name: "Dead letters" }).click();
  for (let i = 0; i < 20 && await page.getByLabel(`Select ${doomed[0]}`).count() === 0; i++) {
    await page.waitForTimeout(250);
    await page.reload();
  }
  if (screenshots) await shot(page, "dead-letters");
  for (const id of doomed) await page.getByLabel(`Select ${id}`).check();
  await page.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("heading", { name: "Delete for good 2 dead letters?" }).waitFor();
  await page.getByRole("button", { name: "Yes, delete for good 2" }).click();
  await page.getByRole("status").filter({ hasText: "Deleted 2 of 2 dead letters" }).waitFor();
  assert.equal(await page.locator("tr", { hasText: doomed[0] }).count(), 0);

  // A hostile body is shown as text, and runs nothing.
  const hostile = { html: `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">` };
  await send(page, "email.sent", hostile);
  assert.equal(await page.locator("pre code").textContent(), JSON.stringify(hostile, null, 2));
  assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.deepEqual(dialogs, []);

  // Times in the viewer's zone, UTC on hover.
  const stamp = page.locator("dd time").first();
  assert.doesNotMatch((await stamp.textContent())!, /UTC/);
  assert.match((await stamp.getAttribute("title"))!, /UTC$/);
  if (screenshots) {
    await shot(page, "event");
    await page.getByRole("link", { name: "Send an event" }).click();
    await shot(page, "send");
    await page.getByRole("link", { name: "Events" }).click();
    await shot(page, "events");
  }
  await page.context().close();
}

test(
  "dashboard in chromium against the example Worker under wrangler dev",
  () => journey(worker.origin, SHOTS),
  60_000,
);

test("dashboard in chromium against a Bun server over NATS", () => journey(bun.origin, false), 60_000);

test("dashboard in chromium: read-only mode hides and refuses actions", async () => {
  const { page } = await newPage();
  await signIn(page, bun.origin, "/ro");
  await page.getByText("read-only").first().waitFor();
  assert.equal(await page.getByRole("link", { name: "Send an event" }).count(), 0);
  await page.goto(`${bun.origin}/ro/dead`);
  assert.equal(await page.getByRole("button", { name: /Replay|Delete/ }).count(), 0);
  const refused = await page.goto(`${bun.origin}/ro/send`);
  assert.equal(refused?.status(), 403);
  await page.getByRole("alert").filter({ hasText: "This dashboard is read-only" }).waitFor();
  await page.context().close();
}, 30_000);
