// The directory of venues: "open now" with its checkbox, a district, an institution's hours
// with today marked, and the next mobile-library stops in a district. The demo's 24-hour
// 城市书吧 is open whenever the suite runs, and its mobile library stops every week, so the
// answers are certain at any time.
export const title = "the open-now directory, an institution's hours and the mobile stops";

export default async function ({ page, assert, checkAccessibility, screenshot }) {
  await page.goto("/institutions");
  assert.equal(await page.locator("h1").textContent(), "场馆与服务点");
  await checkAccessibility("directory");

  // Only what is open now: the book bar is, and every venue listed says so.
  await page.getByLabel("只看正在开放的").check();
  await Promise.all([page.waitForURL(/open_now=1/), page.getByRole("button", { name: "筛选" }).click()]);
  const listed = page.locator("ul.venues > li");
  assert.ok((await listed.count()) >= 1, "something is open");
  const names = await page.locator("ul.venues h3").allTextContents();
  assert.ok(names.some((n) => n.includes("城市书吧")), `the 24-hour book bar is open: ${names}`);
  const statuses = await page.locator("ul.venues p.open, ul.venues p.closed").allTextContents();
  assert.ok(statuses.every((s) => s.startsWith("正在开放")), `all open: ${statuses}`);
  assert.equal(await page.getByLabel("只看正在开放的").isChecked(), true, "the filter stays set");
  await checkAccessibility("open-now");
  await screenshot("open-now");

  // A county: its village service point (农家书屋) is listed, whether open or not.
  await page.getByLabel("只看正在开放的").uncheck();
  await page.getByLabel("所在区县").selectOption("榆中县");
  await Promise.all([page.waitForURL(/district=/), page.getByRole("button", { name: "筛选" }).click()]);
  const county = await page.locator("ul.venues h3").allTextContents();
  assert.ok(county.some((n) => n.includes("农家书屋")), `the village point is listed: ${county}`);
  assert.ok(!county.some((n) => n.includes("城市书吧")), "and nothing of another district");

  // The book bar's page: open, today's row marked, its parent library named.
  await page.goto("/institutions?open_now=1");
  await Promise.all([
    page.waitForURL(/\/institutions\/lzlib-bookbar/),
    page.getByRole("link", { name: /城市书吧/ }).first().click(),
  ]);
  assert.ok((await page.locator("main").textContent()).includes("正在开放"));
  assert.equal(await page.locator("tr[aria-current='date']").count(), 1, "today is marked");
  assert.ok((await page.locator("table.hours tbody tr").count()) === 7, "a week of hours");
  assert.ok((await page.getByRole("link", { name: "兰州市图书馆" }).count()) >= 1, "the parent is linked");
  await checkAccessibility("institution");
  await screenshot("institution");

  // The mobile library's next stops in 榆中县.
  await page.goto("/mobile-stops");
  await page.getByLabel("所在区县").selectOption("榆中县");
  await Promise.all([page.waitForURL(/district=/), page.getByRole("button", { name: "查看" }).click()]);
  const stops = await page.locator("ul.agenda li").allTextContents();
  assert.ok(stops.length >= 1 && stops.every((s) => s.includes("榆中县")), `stops in 榆中县: ${stops}`);
  await checkAccessibility("mobile-stops");
  await screenshot("mobile-stops");
}
