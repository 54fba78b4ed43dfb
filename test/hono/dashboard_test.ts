import assert from "node:assert/strict";
import { Hono } from "hono";
import { type Bus, createBus, EdgebusError, NonRetriableError } from "../../mod.ts";
import { dashboard, type DashboardOptions } from "../../adapters/hono/mod.ts";
import { describe, eventually, test } from "../lib/t.ts";

const TOKEN = "tok_dash_0123456789abcdef";

interface Viewer {
  readonly bus: Bus;
  readonly app: Hono;
  cookie: string;
  get(path: string): Promise<{ status: number; text: string; location: string | null }>;
  post(path: string, fields: Record<string, string | string[]>, csrf?: string): Promise<Response>;
  csrf(): Promise<string>;
}

async function viewer(options: DashboardOptions = { tokens: [TOKEN] }, signIn = true): Promise<Viewer> {
  const bus = createBus({ retry: { maxAttempts: 1 } });
  const app = new Hono().route("/ui", dashboard(bus, { onError: () => {}, ...options }));
  const v: Viewer = {
    bus,
    app,
    cookie: "",
    async get(path) {
      const r = await app.request(path, { headers: { cookie: v.cookie } });
      return { status: r.status, text: await r.text(), location: r.headers.get("location") };
    },
    async post(path, fields, csrf) {
      const body = new URLSearchParams();
      for (const [k, value] of Object.entries(fields)) for (const x of [value].flat()) body.append(k, x);
      if (csrf !== undefined) body.set("_csrf", csrf);
      return await app.request(path, { method: "POST", body, headers: { cookie: v.cookie } });
    },
    async csrf() {
      const page = await v.get("/ui/send");
      const csrf = /name="_csrf" value="([0-9a-f]+)"/.exec(page.text)?.[1];
      assert.ok(csrf, "the page carries a CSRF token");
      return csrf;
    },
  };
  if (signIn && options.tokens) {
    const r = await v.post("/ui/login", { token: TOKEN, next: "/ui" });
    assert.equal(r.status, 303);
    v.cookie = r.headers.get("set-cookie")!.split(";")[0];
  }
  if (!options.tokens) {
    const r = await app.request("/ui");
    v.cookie = r.headers.get("set-cookie")!.split(";")[0];
  }
  return v;
}

const alertOf = (text: string) => /role="alert">([^<]*)/.exec(text)?.[1];
const flashOf = async (v: Viewer, r: Response) => {
  const next = await v.app.request(r.headers.get("location")!, {
    headers: { cookie: `${v.cookie}; ${r.headers.get("set-cookie")!.split(";")[0]}` },
  });
  return /class="flash[^"]*" role="\w+">([^<]*)/.exec(await next.text())?.[1];
};

describe("dashboard", () => {
  test("refuses to start without auth unless auth: false is given", async () => {
    const bus = createBus();
    assert.throws(() => dashboard(bus), (e: unknown) => e instanceof EdgebusError && /auth: false/.test(e.message));
    assert.throws(() => dashboard(bus, { tokens: ["short"] }), EdgebusError);
    assert.ok(dashboard(bus, { auth: false }));
    await bus.stop();
  });

  test("sends a viewer without a session to the sign-in form, and refuses a wrong token", async () => {
    const v = await viewer({ tokens: [TOKEN] }, false);
    const page = await v.get("/ui/events/x?y=1");
    assert.equal(page.status, 302);
    assert.equal(page.location, "/ui/login?next=%2Fui%2Fevents%2Fx%3Fy%3D1");
    const wrong = await v.post("/ui/login", { token: "tok_wrong_0123456789abcdef", next: "/ui" });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /That token is not accepted/);
    assert.equal((await v.get("/ui/api/stamp")).status, 401);
    const forged = await v.app.request("/ui", { headers: { cookie: "edgebus_session=s1.0.9999999999999.00" } });
    assert.equal(forged.status, 302);
    await v.bus.stop();
  });

  test("signs in with a cookie that is HttpOnly, SameSite=Strict, Secure on https, and holds no token", async () => {
    const bus = createBus();
    const app = new Hono().route("/ui", dashboard(bus, { tokens: [TOKEN] }));
    const login = (url: string) =>
      app.request(url, { method: "POST", body: new URLSearchParams({ token: TOKEN, next: "https://evil.example/" }) });
    const plain = await login("http://127.0.0.1/ui/login");
    const cookie = plain.headers.get("set-cookie")!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/);
    assert.ok(!cookie.includes(TOKEN) && !cookie.includes(encodeURIComponent(TOKEN)));
    assert.equal(plain.headers.get("location"), "/ui", "an outside next is not followed");
    assert.match((await login("https://bus.example/ui/login")).headers.get("set-cookie")!, /; Secure/);
    await bus.stop();
  });

  test("refuses a form without the session's CSRF token", async () => {
    const v = await viewer();
    const r = await v.post("/ui/send", { name: "user.joined", body: "{}" });
    assert.equal(r.status, 403);
    assert.equal((await v.post("/ui/send", { name: "user.joined", body: "{}" }, "00".repeat(32))).status, 403);
    assert.deepEqual((await v.bus.list()).items, []);
    await v.bus.stop();
  });

  test("publishes through the send form and shows the event, its body escaped", async () => {
    const v = await viewer();
    v.bus.on("user.joined", () => {});
    const hostile = JSON.stringify({ html: "<script>alert(1)</script><img src=x onerror=alert(2)>" });
    const r = await v.post("/ui/send", { name: "user.joined", body: hostile, id: "join-1" }, await v.csrf());
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/ui/events/join-1");
    assert.equal(await flashOf(v, r), "Published user.joined as join-1");
    await eventually(async () => (await v.bus.get("join-1"))?.status === "done");
    const page = await v.get("/ui/events/join-1");
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes("<script>alert") && !page.text.includes("<img src=x"), "nothing hostile as markup");
    assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    const list = await v.get("/ui");
    assert.ok(!list.text.includes("<script>alert"));
    assert.match(list.text, /join-1/);
    await v.bus.stop();
  });

  test("the send form says why an event was not published", async () => {
    const v = await viewer();
    const csrf = await v.csrf();
    const bad = await v.post("/ui/send", { name: "user.joined", body: "{not json" }, csrf);
    assert.equal(bad.status, 400);
    assert.match(alertOf(await bad.text())!, /not valid JSON/);
    const name = await v.post("/ui/send", { name: "user..joined", body: "{}" }, csrf);
    assert.equal(name.status, 400);
    assert.match(alertOf(await name.text())!, /Not published: .*empty token/);
    await v.bus.stop();
  });

  test("unknown ids get a 404 page and bad filters a clear message, never a 500", async () => {
    const v = await viewer();
    const missing = await v.get("/ui/events/no-such-event");
    assert.equal(missing.status, 404);
    assert.match(alertOf(missing.text)!, /No event with id &quot;no-such-event&quot;/);
    assert.equal((await v.get("/ui/events/no-such-event/chain")).status, 404);
    for (
      const [query, said] of [
        ["status=bogus", /Invalid status/],
        ["name=a..b", /Invalid pattern/],
        ["from=yesterday", /Invalid from/],
        ["from=2026-01-02T00:00&to=2026-01-01T00:00", /from is after to/],
        ["cursor=zzz", /cursor/],
      ] as const
    ) {
      const page = await v.get(`/ui?${query}`);
      assert.equal(page.status, 400, query);
      assert.match(alertOf(page.text)!, said);
    }
    assert.equal((await v.get("/ui/find?id=a%20b")).status, 400);
    assert.equal((await v.get("/ui/nowhere")).status, 404);
    await v.bus.stop();
  });

  test("the events page counts per status, filters by status, name and time, and pages", async () => {
    const v = await viewer();
    v.bus.on("shop.>", () => {});
    for (let i = 0; i < 60; i++) await v.bus.publish(`shop.${i % 2 ? "odd" : "even"}`, { id: `e-${i}` }, { i });
    await eventually(async () => (await v.bus.driver.store.count!()).done === 60);
    const page = await v.get("/ui");
    assert.match(page.text, /<b>60<\/b><span class="status s-done">done/);
    assert.equal((page.text.match(/<tr>/g) ?? []).length, 51, "a header row and 50 events");
    const older = /href="([^"]+)">Older events/.exec(page.text)![1].replaceAll("&amp;", "&");
    assert.equal(((await v.get(older)).text.match(/<tr>/g) ?? []).length, 11);
    const odd = await v.get("/ui?name=shop.odd&status=done");
    assert.equal((odd.text.match(/<tr>/g) ?? []).length, 31);
    const future = await v.get("/ui?from=2999-01-01T00:00");
    assert.match(future.text, /No events match/);
    const past = await v.get("/ui?to=2000-01-01T00:00");
    assert.match(past.text, /No events match/);
    assert.equal((await v.get("/ui/find?id=e-3")).location, "/ui/events/e-3");
    await v.bus.stop();
  });

  test("the chain page draws each event under its cause, each a link", async () => {
    const v = await viewer();
    v.bus.on("order.placed", async (_e, ctx) => void await ctx.publish("order.charged", { id: "charge-1" }, {}));
    v.bus.on("order.charged", async (_e, ctx) => void await ctx.publish("receipt.sent", { id: "receipt-1" }, {}));
    v.bus.on("receipt.sent", () => {});
    await v.bus.publish("order.placed", { id: "order-1" }, {});
    await eventually(async () => (await v.bus.get("receipt-1"))?.status === "done");
    const page = await v.get("/ui/events/charge-1/chain");
    assert.equal(page.status, 200);
    const tree = /<ul class="tree"[\s\S]*<\/ul>/.exec(page.text)![0];
    const order = ["order-1", "charge-1", "receipt-1"].map((id) => tree.indexOf(`href="/ui/events/${id}"`));
    assert.ok(order.every((i, k) => i > 0 && (k === 0 || i > order[k - 1])), "cause before effect");
    assert.match(
      tree,
      /<ul><li><span class="node here" aria-current="true"><a class="id" href="\/ui\/events\/charge-1">/,
    );
    await v.bus.stop();
  });

  test("cancels a scheduled event, and says why when it cannot", async () => {
    const v = await viewer();
    const id = await v.bus.publish("trial.ends", { after: "1 hour" }, {});
    const scheduled = await v.get("/ui/scheduled");
    assert.match(scheduled.text, new RegExp(`/ui/events/${id}/cancel`));
    const csrf = await v.csrf();
    const r = await v.post(`/ui/events/${id}/cancel`, {}, csrf);
    assert.equal(await flashOf(v, r), `Cancelled ${id}`);
    assert.equal((await v.bus.get(id))?.status, "cancelled");
    const again = await v.post(`/ui/events/${id}/cancel`, {}, csrf);
    assert.match((await flashOf(v, again))!, /Cannot cancel .*: it is cancelled/);
    await v.bus.stop();
  });

  test("replays and deletes dead letters, one or in bulk after a confirmation", async () => {
    const v = await viewer();
    let fail = true;
    v.bus.on("job.run", () => {
      if (fail) throw new NonRetriableError("The job broke");
    });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await v.bus.publish("job.run", { id: `job-${i}` }, {}));
    await eventually(async () => (await v.bus.deadLetters.list()).items.length === 4);
    const dead = await v.get("/ui/dead");
    assert.match(dead.text, /NonRetriableError<\/strong>: The job broke/);
    const csrf = await v.csrf();
    fail = false;
    const replayed = await v.post("/ui/dead/job-0/replay", {}, csrf);
    assert.equal(replayed.headers.get("location"), "/ui/events/job-0");
    assert.match((await flashOf(v, replayed))!, /Replayed job-0/);
    await eventually(async () => (await v.bus.get("job-0"))?.status === "done");
    const notDead = await v.post("/ui/dead/job-0/delete", {}, csrf);
    assert.match((await flashOf(v, notDead))!, /Cannot delete job-0: it is done, not a dead letter/);
    const ask = await v.post("/ui/dead/bulk", { action: "delete", scope: "selected", id: ["job-1", "job-2"] }, csrf);
    assert.equal(ask.status, 200);
    assert.match(await ask.text(), /Delete for good 2 dead letters\?/);
    assert.equal((await v.bus.deadLetters.list()).items.length, 3, "nothing happens before the confirmation");
    const bulk = await v.post("/ui/dead/bulk", {
      action: "delete",
      scope: "selected",
      id: ["job-1", "job-2"],
      confirm: "yes",
    }, csrf);
    assert.equal(await flashOf(v, bulk), "Deleted 2 of 2 dead letters");
    const all = await v.post("/ui/dead/bulk", { action: "replay", scope: "all", name: "", confirm: "yes" }, csrf);
    assert.equal(await flashOf(v, all), "Replayed 1 of 1 dead letters");
    await eventually(async () => (await v.bus.get("job-3"))?.status === "done");
    const none = await v.post("/ui/dead/bulk", { action: "delete", scope: "selected" }, csrf);
    assert.match((await flashOf(v, none))!, /Nothing to do/);
    await v.bus.stop();
  });

  test("readOnly hides the actions and refuses them", async () => {
    const v = await viewer({ tokens: [TOKEN], readOnly: true });
    v.bus.on("job.run", () => {
      throw new NonRetriableError("no");
    });
    await v.bus.publish("job.run", { id: "job-ro" }, {});
    await eventually(async () => (await v.bus.get("job-ro"))?.status === "dead");
    const page = await v.get("/ui/events/job-ro");
    assert.doesNotMatch(page.text, /Replay|Delete/);
    assert.doesNotMatch((await v.get("/ui/dead")).text, /<button[^>]*formaction/);
    assert.equal((await v.get("/ui/send")).status, 403);
    const csrf = /name="_csrf" value="([0-9a-f]+)"/.exec(page.text)![1];
    const r = await v.post("/ui/dead/job-ro/replay", {}, csrf);
    assert.equal(r.status, 403);
    assert.match(alertOf(await r.text())!, /read-only/);
    assert.equal((await v.bus.get("job-ro"))?.status, "dead");
    assert.equal((await v.post("/ui/logout", {}, csrf)).status, 303, "signing out still works");
    await v.bus.stop();
  });

  test("without auth, forms carry a double-submit CSRF cookie", async () => {
    const v = await viewer({ auth: false });
    const csrf = await v.csrf();
    assert.equal(v.cookie, `edgebus_csrf=${csrf}`);
    assert.equal((await v.post("/ui/send", { name: "a.b", body: "1" }, csrf)).status, 303);
    assert.equal((await v.post("/ui/send", { name: "a.b", body: "1" }, "ab".repeat(16))).status, 403);
    await v.bus.stop();
  });

  test("live updates poll a stamp that changes only when the page would", async () => {
    const v = await viewer();
    v.bus.on("tick.tock", () => {});
    const page = await v.get("/ui?name=tick.*");
    const url = /data-live="([^"]+)" data-stamp="([^"]+)"/.exec(page.text)!;
    const stamp = async () => JSON.parse((await v.get(url[1].replaceAll("&amp;", "&"))).text).stamp;
    assert.equal(await stamp(), url[2]);
    assert.equal(await stamp(), url[2], "nothing changed, nor does the stamp");
    await v.bus.publish("tick.tock", { id: "t-1" }, {});
    await eventually(async () => (await stamp()) !== url[2]);
    const event = await v.get("/ui/events/t-1");
    assert.match(event.text, /data-live="\/ui\/api\/stamp\?view=event&amp;id=t-1"/);
    assert.match((await v.get("/ui/assets/dashboard.js")).text, /Pause live updates/);
    await v.bus.stop();
  });
});
