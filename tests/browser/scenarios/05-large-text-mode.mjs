// The large-text, high-contrast switch: it comes back to the same page, enlarges the text,
// turns the page to light on dark, is remembered from page to page, and switches back.
export const title = "large-text, high-contrast mode switch";

/** Follows the display switch link `name` and checks that it comes back to the same page. */
async function switchDisplay(page, assert, name) {
  const here = page.url();
  await page.evaluate(() => {
    window.beforeSwitch = true;
  });
  const [request] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname === "/display"),
    page.getByRole("link", { name }).click(),
  ]);
  await page.waitForFunction(() => !window.beforeSwitch, null, { polling: 100 });
  await page.waitForLoadState("load");
  assert.equal((await request.response())?.status(), 303);
  assert.equal(page.url(), here, "the switch comes back to the same page");
}

function look(page) {
  return page.evaluate(() => ({
    large: document.documentElement.classList.contains("large"),
    rootFont: parseFloat(getComputedStyle(document.documentElement).fontSize),
    background: getComputedStyle(document.body).backgroundColor,
    color: getComputedStyle(document.body).color,
  }));
}

export default async function ({ page, assert, checkAccessibility, screenshot }) {
  const results = `/search?q=${encodeURIComponent("黄河")}&page=1`;
  await page.goto(results);
  const normal = await look(page);
  assert.equal(normal.large, false);
  assert.equal(normal.background, "rgb(255, 255, 255)");

  await switchDisplay(page, assert, "大字高对比");
  const large = await look(page);
  assert.equal(large.large, true, "the page is in large mode");
  assert.ok(large.rootFont >= normal.rootFont * 1.2, `larger text: ${normal.rootFont} → ${large.rootFont}`);
  assert.equal(large.background, "rgb(0, 0, 0)", "dark background");
  assert.equal(large.color, "rgb(255, 255, 255)", "light text");
  await checkAccessibility("results-large");
  await screenshot("results-large");

  // Remembered on the next pages.
  await page.goto("/");
  assert.equal((await look(page)).large, true, "the mode is remembered");
  await checkAccessibility("home-large");
  await screenshot("home-large");
  await page.goto(results);
  await Promise.all([page.waitForURL(/\/records\//), page.locator("ol.hits a[data-rid]").first().click()]);
  assert.equal((await look(page)).large, true);
  await checkAccessibility("record-large");
  await screenshot("record-large");

  // And back to the standard display, on the same page.
  await switchDisplay(page, assert, "标准显示");
  const back = await look(page);
  assert.equal(back.large, false);
  assert.equal(back.rootFont, normal.rootFont);
}
