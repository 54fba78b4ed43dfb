import assert from "node:assert/strict";
import { describe, eventually, test } from "../lib/t.ts";
import { errorOf, setup } from "./helpers.ts";

const put = (body: unknown) => ({ method: "PUT", body: JSON.stringify(body) });

describe("hono router: schedules", () => {
  test("PUT /schedules/:id declares (201), again changes nothing (200), another spec replaces; GET lists and reads", async () => {
    const { bus, send } = setup();
    const spec = { cron: "0 9 * * MON", name: "report.weekly", body: {}, tz: "Europe/Paris" };
    const created = await send("/schedules/weekly-report", put(spec));
    assert.equal(created.status, 201);
    const first = await created.json();
    assert.equal(first.change, "created");
    assert.equal(first.tz, "Europe/Paris");
    assert.equal(new Date(first.next).getUTCDay(), 1);
    const again = await send("/schedules/weekly-report", put(spec));
    assert.equal(again.status, 200);
    assert.equal((await again.json()).change, "unchanged");
    const replaced = await send("/schedules/weekly-report", put({ ...spec, cron: "0 10 * * MON", paused: true }));
    assert.equal(replaced.status, 200);
    const body = await replaced.json();
    assert.deepEqual([body.change, body.cron, body.paused, body.next], ["replaced", "0 10 * * MON", true, undefined]);
    await send("/schedules/a-first", put({ cron: "@daily", name: "report.daily" }));
    const page = await (await send("/schedules?limit=1")).json();
    assert.deepEqual(page.items.map((s: { id: string }) => s.id), ["a-first"]);
    const rest = await (await send(`/schedules?limit=1&cursor=${page.cursor}`)).json();
    assert.deepEqual(rest.items.map((s: { id: string }) => s.id), ["weekly-report"]);
    assert.equal((await (await send("/schedules/weekly-report")).json()).paused, true);
    assert.equal((await send("/schedules/nope")).status, 404);
    await bus.stop();
  });

  test("DELETE /schedules/:id removes it (404 after); ticks of a schedule declared over HTTP are events", async () => {
    const { bus, send } = setup();
    const ids: string[] = [];
    bus.on("tick.http", (event) => void ids.push(event.id));
    assert.equal((await send("/schedules/every-second", put({ cron: "* * * * * *", name: "tick.http" }))).status, 201);
    await eventually(() => ids.length >= 1, 3_000);
    assert.match(ids[0], /^every-second:\d{8}T\d{6}Z$/);
    const deleted = await send("/schedules/every-second", { method: "DELETE" });
    assert.deepEqual([deleted.status, await deleted.json()], [200, { id: "every-second", deleted: true }]);
    assert.equal((await send("/schedules/every-second", { method: "DELETE" })).status, 404);
    await bus.stop();
  });

  test("bad schedules are refused with 400 naming the value, and need the router's auth", async () => {
    const { bus, app, send } = setup();
    for (
      const [body, code, fragment] of [
        [{ cron: "61 * * * *", name: "a.b" }, "invalid_schedule", "61 * * * *"],
        [{ cron: "* * * * *", name: "a.b", tz: "Mars/Olympus" }, "invalid_schedule", "Mars/Olympus"],
        [{ cron: "* * * * *", name: "a..b" }, "invalid_name", "a..b"],
        [{ cron: "* * * * *", name: "a.b", every: 5 }, "invalid_schedule", "every"],
        [{ cron: "* * * * *", name: "a.b", paused: "yes" }, "invalid_schedule", "yes"],
        [["* * * * *"], "invalid_schedule", "object"],
      ] as const
    ) {
      const response = await send("/schedules/s1", put(body));
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = await errorOf(response);
      assert.equal(error.code, code);
      assert.ok(error.message.includes(fragment), error.message);
    }
    assert.equal((await send("/schedules/bad%20id", put({ cron: "* * * * *", name: "a.b" }))).status, 400);
    assert.equal((await send("/schedules?limit=0")).status, 400);
    assert.deepEqual((await (await send("/schedules")).json()).items, []);
    assert.equal((await app.request("/schedules")).status, 401);
    assert.equal((await app.request("/schedules/s1", put({ cron: "* * * * *", name: "a.b" }))).status, 401);
    await bus.stop();
  });
});
