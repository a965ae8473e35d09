// Clicking a hit sends which hit of which query was opened (navigator.sendBeacon from
// web/suggest.js) to POST /api/v1/analytics/click; the administrator's report counts it.
import { request } from "playwright-core";
import { hits } from "../lib/citizen.mjs";

export const title = "a result click is sent as a beacon and counted in the analytics";

// A query no other scenario uses, so its click count is this scenario's alone.
const QUERY = "马家窑";

/** The `top_queries` row of QUERY as the administrator reads it (clicks 0 when absent). */
async function clicksOf(api, assert) {
  const response = await api.get("/api/v1/admin/analytics/top_queries?format=json");
  assert.equal(response.status(), 200, await response.text());
  const body = await response.json();
  const row = body.rows.find((r) => r.query === QUERY);
  return { clicks: row?.clicks ?? 0, searches: row?.searches ?? 0 };
}

export default async function ({ page, baseUrl, credentials, assert, log }) {
  // The administrator's session, in its own cookie jar (not the reader's browser).
  const admin = await request.newContext({ baseURL: baseUrl });
  const login = await admin.post("/api/v1/auth/login", {
    data: { username: credentials.admin.username, password: credentials.admin.password },
  });
  assert.equal(login.status(), 200, await login.text());
  const before = await clicksOf(admin, assert);

  await page.goto(`/search?q=${encodeURIComponent(QUERY)}`);
  const found = await hits(page);
  assert.ok(found.length >= 2, `results for ${QUERY}: ${found.length}`);
  const second = found[1];

  // Click the second hit: the beacon goes out with the query, the record and its position.
  const beacon = page.waitForRequest(
    (r) => new URL(r.url()).pathname === "/api/v1/analytics/click" && r.method() === "POST",
  );
  await Promise.all([
    page.waitForURL(/\/records\//),
    page.locator(`ol.hits a[data-rid="${second.id}"]`).click(),
  ]);
  const sent = await beacon;
  const payload = JSON.parse(sent.postData() ?? "{}");
  assert.deepEqual(payload, { query: QUERY, record_id: second.id, position: 2 });
  const answer = await sent.response();
  if (answer) assert.equal(answer.status(), 202, "the click is accepted");

  // The analytics writer batches events (about a second): poll the report until it counts it.
  let after = before;
  const deadline = Date.now() + 15_000;
  while (after.clicks < before.clicks + 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    after = await clicksOf(admin, assert);
  }
  log(`top_queries ${QUERY}: clicks ${before.clicks} → ${after.clicks}, searches ${before.searches} → ${after.searches}`);
  assert.equal(after.clicks, before.clicks + 1, "exactly one click was recorded");
  assert.ok(after.searches >= before.searches + 1, "the web search itself was recorded too");
  await admin.dispose();
}
