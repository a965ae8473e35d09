// A reader types on the home page, sees suggestions from /api/v1/suggest, picks one with the
// keyboard and gets its results.
import { hits, resultCount } from "../lib/citizen.mjs";

export const title = "home page search with autocomplete, chosen with the keyboard";

export default async function ({ page, assert, checkAccessibility, screenshot, log }) {
  await page.goto("/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await checkAccessibility("home");
  await screenshot("home");

  const box = page.getByLabel("搜索馆藏与活动");
  await box.focus();
  const suggested = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/api/v1/suggest" && r.url().includes("q=%E9%9D%99%E5%A4%9C"),
  );
  await page.keyboard.type("静夜", { delay: 60 });
  const response = await suggested;
  assert.equal(response.status(), 200);
  const body = await response.json();
  const texts = body.suggestions.map((s) => s.text);
  log(`suggestions for 静夜: ${texts.join(" | ")}`);
  assert.ok(texts.length > 0, "the suggest API offers something for 静夜");

  // The suggestions are shown under the box, in the API's order, as an ARIA listbox.
  const list = page.getByRole("listbox", { name: "搜索建议" });
  await list.waitFor({ state: "visible" });
  assert.equal(await box.getAttribute("aria-expanded"), "true");
  const options = await list.getByRole("option").allTextContents();
  assert.deepEqual(options, texts, "the list shows the API's suggestions");
  const poem = options.find((o) => o === "靜夜思" || o === "静夜思");
  assert.ok(poem, `a suggestion is the poem: ${options.join(" | ")}`);

  // Down to the poem's suggestion: it is marked as the active option, the focus stays in the
  // box; Enter takes it into the box and closes the list; Enter again searches.
  const index = options.indexOf(poem);
  for (let i = 0; i <= index; i += 1) await page.keyboard.press("ArrowDown");
  const activeId = await box.getAttribute("aria-activedescendant");
  assert.ok(activeId, "the box names its active option");
  const activeOption = page.locator(`#${activeId}`);
  assert.equal(await activeOption.textContent(), poem);
  assert.equal(await activeOption.getAttribute("aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q", "the focus stays in the box");
  await checkAccessibility("suggestions");
  await screenshot("suggestions");
  await page.keyboard.press("Enter");
  assert.equal(await box.inputValue(), poem, "Enter takes the suggestion into the box");
  assert.equal(await box.getAttribute("aria-expanded"), "false");
  assert.ok(await list.isHidden(), "the list closes");
  assert.equal(new URL(page.url()).pathname, "/", "taking a suggestion does not search yet");
  const before = page.url();
  await Promise.all([page.waitForURL(/\/search\?/), page.keyboard.press("Enter")]);
  assert.notEqual(page.url(), before);
  assert.equal(new URL(page.url()).searchParams.get("q"), poem, "the URL holds the query");
  assert.equal(await page.inputValue("#q"), poem, "the results page keeps the query in the box");

  const count = await resultCount(page);
  assert.ok(count.total >= 1, `results for ${poem}: ${count.text}`);
  const found = await hits(page);
  assert.ok(
    found.slice(0, 3).some((h) => h.title === "靜夜思"),
    `the demo's 靜夜思 is among the first hits: ${JSON.stringify(found.slice(0, 5))}`,
  );
  assert.ok(
    (await page.locator("ol.hits em").count()) > 0,
    "the matched words are highlighted",
  );
  await checkAccessibility("results");
  await screenshot("results");

  // Mobile first: on a phone-sized screen the results fit the width (no sideways scrolling).
  await page.setViewportSize({ width: 375, height: 812 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the results page is ${overflow}px wider than a 375px screen`);
  await checkAccessibility("results-mobile");
  await screenshot("results-mobile");
}
