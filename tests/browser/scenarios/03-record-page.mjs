// From a hit to its record page: every field, holdings, a citation, JSON-LD; and on to the
// institution that holds it.
import { hits } from "../lib/citizen.mjs";

export const title = "open a record page from the results, then its institution";

export default async function ({ page, assert, checkAccessibility, screenshot, log }) {
  await page.goto(`/search?q=${encodeURIComponent("永登县志")}`);
  const found = await hits(page);
  const hit = found.find((h) => h.id.startsWith("ydlib-cnmarc:"));
  assert.ok(hit, `a CNMARC record of 永登县图书馆 is found: ${JSON.stringify(found.slice(0, 5))}`);

  await Promise.all([
    page.waitForURL(/\/records\//),
    page.locator(`ol.hits a[data-rid="${hit.id}"]`).click(),
  ]);
  log(`record: ${decodeURIComponent(new URL(page.url()).pathname)}`);
  assert.equal(await page.locator("h1").textContent(), hit.title, "the record page is the hit's");
  assert.match(await page.title(), new RegExp(hit.title.slice(0, 4)));

  // Fields, holdings per branch with call numbers, a citation.
  const fields = await page.$$eval("dl.fields dt", (dts) => dts.map((dt) => dt.textContent.trim()));
  assert.ok(fields.length >= 3, `several fields: ${fields}`);
  const rows = await page.$$eval("table.holdings tbody tr", (trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())),
  );
  assert.ok(rows.length >= 1, "a holdings row");
  assert.ok(
    rows.some((r) => r.some((c) => c.startsWith("K294.24/"))),
    `a call number in the holdings: ${JSON.stringify(rows)}`,
  );
  const citation = await page.locator(".citation").textContent();
  assert.ok(citation.includes(hit.title), `the citation names the work: ${citation}`);

  // The embedded JSON-LD parses and describes the same work.
  const jsonld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
  assert.equal(jsonld.name, hit.title, JSON.stringify(jsonld));
  await checkAccessibility("record");
  await screenshot("record");

  // The holding institution's page.
  const institution = page.locator("main a[href^='/institutions/']").first();
  const name = (await institution.textContent()).trim();
  await Promise.all([page.waitForURL(/\/institutions\//), institution.click()]);
  assert.equal((await page.locator("h1").textContent()).trim(), name);
  await checkAccessibility("institution");
  await screenshot("institution");
}
