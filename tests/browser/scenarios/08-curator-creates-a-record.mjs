// A curator logs in, is told beside the field what is missing, creates a record, uploads an
// image (previewed before it is sent, with its alt text), and a citizen finds the record in
// the search with that image.
import { hits } from "../lib/citizen.mjs";

export const title = "a curator logs in, creates a record with an image, and finds it in the citizen search";
export const timeoutMs = 180_000;

/** Waits until a (lazily loaded) image has been fetched and decoded. */
async function loaded(page, image) {
  await image.scrollIntoViewIfNeeded();
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await image.elementHandle());
}

const TITLE = "浏览器测试鎏金铜佛像";
const ALT = "鎏金铜佛像正面，结跏趺坐";

export default async function ({ page, assert, credentials, checkAccessibility, screenshot, log }) {
  // The curator pages need a login, and come back to where the curator was going.
  await page.goto("/curator/records/new");
  await page.waitForURL(/\/curator\/login\?next=/);
  await page.getByLabel("用户名").fill(credentials.curator.username);
  await page.getByLabel("密码").fill("not the password");
  await page.getByRole("button", { name: "登录" }).click();
  await page.locator(".error-summary").waitFor();
  assert.match(await page.locator(".error-summary").textContent(), /用户名或密码错误/);
  await checkAccessibility("login-error");
  await page.getByLabel("密码").fill(credentials.curator.password);
  await Promise.all([
    page.waitForURL(/\/curator\/records\/new$/),
    page.getByRole("button", { name: "登录" }).click(),
  ]);
  assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");

  // Submitting without a title: the message is beside the field, and the summary has focus.
  await page.locator("#f-description").fill("北魏，甘肃出土。");
  await Promise.all([
    page.waitForURL(/\/curator\/records$/),
    page.getByRole("button", { name: "创建记录" }).click(),
  ]);
  const titleField = page.locator("#field-title");
  assert.match(await titleField.locator(".field-error").textContent(), /题名为必填项/);
  assert.equal(await page.locator("#f-title").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#f-description").inputValue(), "北魏，甘肃出土。", "values kept");
  assert.equal(
    await page.evaluate(() => document.activeElement?.id),
    "error-summary",
    "the error summary takes the focus",
  );
  await checkAccessibility("create-errors");
  await screenshot("create-errors");

  // The event fields are hidden for a record that is not an event, and shown for one.
  assert.equal(await page.locator("#field-event").isHidden(), true);
  await page.locator("#f-resource_type").selectOption("event");
  assert.equal(await page.locator("#field-event").isVisible(), true);
  await page.locator("#f-resource_type").selectOption("artefact");

  await page.locator("#f-title").fill(TITLE);
  await page.locator("#f-subjects").fill("佛教造像；鎏金");
  await page.locator("#f-special_collection").check();
  await Promise.all([
    page.waitForURL(/\/curator\/records\/[^/]+\?done=created/),
    page.getByRole("button", { name: "创建记录" }).click(),
  ]);
  const id = decodeURIComponent(new URL(page.url()).pathname.split("/")[3]);
  log(`created ${id}`);
  assert.match(await page.locator(".done").textContent(), /记录已创建/);

  // Choose an image: it is previewed before anything is sent.
  const png = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const g = canvas.getContext("2d");
    g.fillStyle = "#b45309";
    g.fillRect(0, 0, 320, 240);
    g.fillStyle = "#fde68a";
    g.beginPath();
    g.arc(160, 120, 70, 0, 2 * Math.PI);
    g.fill();
    return canvas.toDataURL("image/png").split(",")[1];
  });
  await page.locator("#f-file").setInputFiles({
    name: "buddha.png",
    mimeType: "image/png",
    buffer: Buffer.from(png, "base64"),
  });
  const preview = page.locator("#upload-preview");
  await preview.waitFor({ state: "visible" });
  assert.match(await preview.getAttribute("src"), /^blob:/, "the preview is the chosen file");
  assert.ok(await preview.evaluate((img) => img.complete && img.naturalWidth === 320), "the preview is drawn");
  await page.locator("#f-alt").fill(ALT);
  await checkAccessibility("upload-preview");
  await screenshot("upload-preview");
  await Promise.all([
    page.waitForURL(/\?done=uploaded/),
    page.getByRole("button", { name: "上传图像" }).click(),
  ]);
  const listed = page.locator(`ol.image-list img[alt="${ALT}"]`);
  await listed.waitFor();
  await loaded(page, listed);
  await checkAccessibility("edit-with-image");
  await screenshot("edit-with-image");

  // The history names who did what.
  await page.getByRole("link", { name: "修改历史" }).click();
  await page.waitForURL(/\/history$/);
  const entries = await page.locator("ol.history > li").allTextContents();
  assert.equal(entries.length, 2, JSON.stringify(entries));
  assert.match(entries[0], new RegExp(`${credentials.curator.username}.*上传图像`));
  assert.match(entries[1], new RegExp(`${credentials.curator.username}.*创建`));
  await checkAccessibility("history");
  await screenshot("history");

  // The record is in the curator's list…
  await page.goto("/curator");
  assert.ok((await page.locator("table.records").textContent()).includes(TITLE));
  await checkAccessibility("list");
  await screenshot("list");

  // …and a citizen finds it, and sees the image with its alt text.
  await page.goto(`/search?q=${encodeURIComponent(TITLE)}`);
  const found = await hits(page);
  assert.ok(
    found.some((h) => h.id === id),
    `the new record is a hit: ${JSON.stringify(found.slice(0, 5))}`,
  );
  await screenshot("citizen-search");
  await Promise.all([
    page.waitForURL(/\/records\//),
    page.locator(`ol.hits a[data-rid="${id}"]`).click(),
  ]);
  assert.equal((await page.locator("h1").textContent()).trim(), TITLE);
  const image = page.locator(`main img[alt="${ALT}"]`).first();
  await image.waitFor();
  await loaded(page, image);
  await checkAccessibility("citizen-record");
  await screenshot("citizen-record");
}
