// A results page: a facet click narrows the results, paging moves through them, and the URL
// holds the whole state (back, and opening the URL afresh, show the same results).
import { facetLinks, hits, params, resultCount } from "../lib/citizen.mjs";

export const title = "results: facet click and paging, the state in the URL";

const QUERY = "兰州";

export default async function ({ page, context, assert, checkAccessibility, screenshot, log }) {
  await page.goto(`/search?q=${encodeURIComponent(QUERY)}`);
  const all = await resultCount(page);
  log(`${QUERY}: ${all.text}`);
  assert.ok(all.total > 20, `enough results to page through: ${all.text}`);
  await checkAccessibility("results");

  // Choose a facet value that narrows the results but still leaves more than one page.
  const pageSize = (await hits(page)).length;
  const facets = await facetLinks(page);
  assert.ok(facets.length > 0, "the results have facets");
  const choice = facets.find((f) => !f.chosen && f.count > pageSize && f.count < all.total);
  assert.ok(choice, `a facet value with ${pageSize}–${all.total} results: ${JSON.stringify(facets)}`);
  log(`facet: ${choice.legend} / ${choice.label}`);
  const [key, value] = [...new URL(choice.href, page.url()).searchParams].find(([k]) => k !== "q");

  await Promise.all([
    page.waitForURL((url) => url.searchParams.getAll(key).includes(value)),
    page.locator(`.facets a[href="${choice.href.replace(/"/g, '\\"')}"]`).first().click(),
  ]);
  assert.equal(new URL(page.url()).searchParams.get("q"), QUERY, "the query is kept");
  const narrowed = await resultCount(page);
  assert.equal(narrowed.total, choice.count, `the facet's count is the new total: ${narrowed.text}`);
  assert.ok(narrowed.total < all.total);
  const chosen = (await facetLinks(page)).find((f) => f.chosen);
  assert.ok(chosen, "the chosen value is marked (aria-current)");
  assert.ok(
    (await page.locator("nav.active a").count()) >= 2,
    "the filter in force is listed, with a link that clears it",
  );
  const firstPage = await hits(page);
  await checkAccessibility("facet-chosen");
  await screenshot("facet-chosen");

  // Next page: same query and facet, page 2, other hits numbered on from the first page.
  await Promise.all([
    page.waitForURL((url) => url.searchParams.get("page") === "2"),
    page.locator("nav.pager a[rel=next]").click(),
  ]);
  const secondUrl = page.url();
  const state = params(page);
  assert.ok(state.some(([k, v]) => k === key && v === value), `the facet is kept: ${state}`);
  assert.ok(state.some(([k, v]) => k === "q" && v === QUERY), `the query is kept: ${state}`);
  const second = await resultCount(page);
  assert.equal(second.page, 2, second.text);
  assert.equal(second.total, narrowed.total);
  const secondPage = await hits(page);
  assert.ok(secondPage.length > 0);
  assert.equal(secondPage[0].position, firstPage.length + 1, "page 2 numbers on from page 1");
  const overlap = secondPage.filter((h) => firstPage.some((f) => f.id === h.id));
  assert.deepEqual(overlap, [], "page 2 shows other records than page 1");
  assert.equal(
    await page.getAttribute("nav.pager a[aria-current=page]", "href").then((h) => h && new URL(h, secondUrl).searchParams.get("page")),
    "2",
    "the pager marks page 2 as the current page",
  );
  await checkAccessibility("page-2");
  await screenshot("page-2");

  // Back shows page 1 again; the page-2 URL opened afresh (a shared link) shows page 2 again.
  await page.goBack();
  assert.deepEqual((await hits(page)).map((h) => h.id), firstPage.map((h) => h.id));
  const shared = await context.newPage();
  await shared.goto(secondUrl);
  assert.deepEqual((await hits(shared)).map((h) => h.id), secondPage.map((h) => h.id));
  await shared.close();

  // Unchoosing the facet (its link toggles) gives back every result.
  await Promise.all([
    page.waitForURL((url) => !url.searchParams.getAll(key).includes(value)),
    page.locator(".facets a[aria-current]").first().click(),
  ]);
  assert.equal((await resultCount(page)).total, all.total);
}
