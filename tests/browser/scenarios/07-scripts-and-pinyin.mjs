// Readers type traditional characters, simplified characters or toneless pinyin: each finds
// the poem 静夜思 whichever script it was catalogued in (the demo's copy is traditional,
// 靜夜思; the test server adds a simplified one).
import { hits } from "../lib/citizen.mjs";

export const title = "靜夜思, 静夜思 and jingyesi all find 静夜思";

export default async function ({ page, assert, checkAccessibility, screenshot, log }) {
  await page.goto("/");
  const cases = [
    { query: "靜夜思", label: "traditional" },
    { query: "jingyesi", label: "pinyin" },
    { query: "静夜思", label: "simplified" },
  ];
  for (const { query, label } of cases) {
    const box = page.getByLabel("搜索馆藏与活动");
    await box.fill("");
    await box.focus();
    await page.keyboard.type(query, { delay: 20 });
    await Promise.all([
      page.waitForURL((url) => url.pathname === "/search" && url.searchParams.get("q") === query),
      page.keyboard.press("Enter"),
    ]);
    const titles = (await hits(page)).map((h) => h.title);
    log(`${query}: ${titles.slice(0, 4).join(" | ")}`);
    const top = titles.slice(0, 3);
    assert.ok(top.includes("静夜思"), `${query} finds the simplified 静夜思 first: ${titles}`);
    assert.ok(top.includes("靜夜思"), `${query} finds the traditional 靜夜思 first: ${titles}`);
    // The reader sees it on the page, not only in the markup.
    await assert.doesNotReject(
      page.locator("ol.hits a[data-rid]", { hasText: /^静夜思$/ }).first().waitFor({ state: "visible" }),
    );
    await screenshot(`results-${label}`);
    await checkAccessibility(`results-${label}`);
  }
}
