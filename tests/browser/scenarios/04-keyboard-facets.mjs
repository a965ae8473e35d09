// Facets without a mouse: Tab reaches a facet value with a visible focus mark, Enter chooses
// it, and the same again unchooses it.
import { focusState, resultCount } from "../lib/citizen.mjs";

export const title = "keyboard-only facet use with visible focus";

const MAX_TABS = 300;

/** Presses Tab until `wanted(focus)` holds; every element on the way must show its focus. */
async function tabUntil(page, assert, wanted, what) {
  for (let n = 1; n <= MAX_TABS; n += 1) {
    await page.keyboard.press("Tab");
    const focus = await focusState(page);
    if (!focus) continue;
    assert.ok(
      focus.focusVisible && (focus.outline || focus.boxShadow),
      `Tab ${n} focuses ${focus.tag} “${focus.text}” without a visible focus mark: ${JSON.stringify(focus)}`,
    );
    if (wanted(focus)) return { focus, presses: n };
  }
  assert.fail(`${MAX_TABS} presses of Tab never reached ${what}`);
}

export default async function ({ page, assert, checkAccessibility, screenshot, log }) {
  await page.goto(`/search?q=${encodeURIComponent("黄河")}`);
  const all = await resultCount(page);
  assert.ok(all.total > 1, all.text);

  // The first Tab reaches the skip link, shown on screen while focused.
  await page.keyboard.press("Tab");
  const skip = await focusState(page);
  assert.equal(skip?.text, "跳到主要内容", `the first Tab stop is the skip link: ${JSON.stringify(skip)}`);
  assert.ok(skip.onScreen && skip.focusVisible, `the skip link is visible when focused: ${JSON.stringify(skip)}`);

  // On through the page to the first facet value that is not chosen and narrows the results.
  const { focus, presses } = await tabUntil(
    page,
    assert,
    (f) => f.inFacets && f.href && !/\(\s*0\s*\)/.test(f.text),
    "a facet value",
  );
  log(`facet reached after ${presses} Tab presses: ${focus.text} (outline ${focus.outlineWidth}px ${focus.outlineColor})`);
  assert.ok(focus.onScreen, "the focused facet value is scrolled into view");
  await screenshot("facet-focused");
  const target = new URL(focus.href, page.url());
  await Promise.all([page.waitForURL((url) => url.href === target.href), page.keyboard.press("Enter")]);
  const narrowed = await resultCount(page);
  assert.ok(narrowed.total > 0 && narrowed.total <= all.total, narrowed.text);
  const added = [...target.searchParams].filter(([k]) => k !== "q");
  assert.equal(added.length, 1, `one filter chosen: ${target.search}`);
  await checkAccessibility("facet-chosen");

  // The chosen value is now marked; reach it again by keyboard and unchoose it with Enter.
  const again = await tabUntil(
    page,
    assert,
    (f) => f.inFacets && f.text.includes("已选"),
    "the chosen facet value",
  );
  log(`chosen value reached after ${again.presses} Tab presses: ${again.focus.text}`);
  await Promise.all([
    page.waitForURL((url) => !url.searchParams.getAll(added[0][0]).includes(added[0][1])),
    page.keyboard.press("Enter"),
  ]);
  assert.equal((await resultCount(page)).total, all.total, "unchoosing gives back every result");
}
