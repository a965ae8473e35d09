// A reader's purchase suggestion (读者荐购) from a library search that finds nothing, through
// the curator's answer: the search offers the form, the form sends the reader to the public
// status page by code, the library's curator answers 已订购 with a note, and the status page
// shows the answer. Every page is checked with axe-core.

export const title = "a zero-result library search leads to a purchase suggestion that a library curator answers";
export const timeoutMs = 180_000;

const TITLE = "浏览器测试荐购之书";

export default async function ({ page, assert, credentials, checkAccessibility, screenshot, log }) {
  // A search limited to the city library that finds nothing offers the suggestion form.
  await page.goto(`/search?q=${encodeURIComponent(TITLE)}&institution=lzlib`);
  assert.match(await page.locator(".count").textContent(), /没有找到结果/);
  const offer = page.locator(".purchase-offer a");
  assert.match(await offer.textContent(), /向图书馆荐购/);
  await checkAccessibility("zero-results");
  await Promise.all([page.waitForURL(/\/suggestions\/new\?/), offer.click()]);

  // The form comes with the library chosen and the title filled in.
  assert.equal(await page.locator("#s-library").inputValue(), "lzlib");
  assert.equal(await page.locator("#s-title").inputValue(), TITLE);
  await checkAccessibility("form");

  // A contact without consent is refused beside the field, with the values kept.
  await page.getByLabel("作者").fill("测试作者");
  await page.getByLabel("ISBN").fill("978-7-5580-6440-1");
  await page.getByLabel("荐购理由").fill("读书会想读");
  await page.getByLabel("联系方式（电话或电子邮箱）").fill("reader@example.cn");
  await Promise.all([
    page.waitForURL(/\/suggestions$/),
    page.getByRole("button", { name: "提交荐购" }).click(),
  ]);
  assert.match(await page.locator("#s-consent-error").textContent(), /勾选同意/);
  assert.equal(await page.locator("#s-consent").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#s-title").inputValue(), TITLE, "values kept");
  await checkAccessibility("form-errors");
  await screenshot("form-errors");

  // Without the contact it goes through, to the status page by its code.
  await page.getByLabel("联系方式（电话或电子邮箱）").fill("");
  await Promise.all([
    page.waitForURL(/\/suggestions\/[0-9A-F]{10}\?sent=new$/),
    page.getByRole("button", { name: "提交荐购" }).click(),
  ]);
  const code = new URL(page.url()).pathname.split("/")[2];
  log(`suggestion ${code}`);
  assert.match(await page.locator(".purchase-sent").textContent(), new RegExp(code));
  assert.equal(await page.locator(".purchase-status").textContent(), "待处理");
  assert.match(await page.locator("main").textContent(), /兰州市图书馆/);
  await checkAccessibility("status-open");
  await screenshot("status-open");

  // The library's curator logs in, finds it and answers 已订购 with a note.
  await page.goto("/curator/suggestions");
  await page.waitForURL(/\/curator\/login\?next=/);
  await page.getByLabel("用户名").fill(credentials.librarian.username);
  await page.getByLabel("密码").fill(credentials.librarian.password);
  await Promise.all([
    page.waitForURL(/\/curator\/suggestions/),
    page.getByRole("button", { name: "登录" }).click(),
  ]);
  const item = page.locator("article", { has: page.locator(`a[href="/suggestions/${code}"]`) });
  assert.equal(await item.count(), 1, "the suggestion is listed for its library");
  await checkAccessibility("curator-list");
  await item.locator(`#st-${code}`).selectOption("ordered");
  await item.locator(`#nt-${code}`).fill("已订购，预计下月上架");
  await Promise.all([
    page.waitForURL(/done=answered/),
    item.getByRole("button", { name: "保存答复" }).click(),
  ]);
  assert.match(await page.locator(".done").textContent(), /答复已保存/);
  await checkAccessibility("curator-answered");
  await screenshot("curator-answered");

  // The public status page shows the answer, and no contact.
  await page.goto(`/suggestions/${code}`);
  assert.equal(await page.locator(".purchase-status").textContent(), "已订购");
  assert.equal(await page.locator(".purchase-note").textContent(), "已订购，预计下月上架");
  assert.doesNotMatch(await page.content(), /reader@example\.cn/);
  await checkAccessibility("status-answered");
  await screenshot("status-answered");
}
