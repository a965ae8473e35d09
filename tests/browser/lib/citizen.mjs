// Reading the citizen pages: small helpers the citizen scenarios share.

/** The results page's count line, as numbers: `共 N 条结果，第 P / Q 页`. */
export async function resultCount(page) {
  const text = (await page.locator("p.count").first().textContent()) ?? "";
  const match = text.match(/共\s*(\d+)\s*条结果，第\s*(\d+)\s*\/\s*(\d+)\s*页/);
  if (!match) return { total: 0, page: 0, pages: 0, text };
  return { total: Number(match[1]), page: Number(match[2]), pages: Number(match[3]), text };
}

/** The hits on a results page: `{id, title, position}` from each title link. */
export function hits(page) {
  return page.$$eval("ol.hits a[data-rid]", (links) =>
    links.map((a) => ({
      id: a.getAttribute("data-rid"),
      title: a.textContent.trim(),
      position: Number(a.getAttribute("data-pos")),
    })),
  );
}

/** The page's query parameters as a list of `[key, value]` pairs. */
export function params(page) {
  return [...new URL(page.url()).searchParams.entries()];
}

/** The facet links of a results page: `{key, value, label, count, chosen, href}`. */
export function facetLinks(page) {
  return page.$$eval(".facets fieldset a[href*='/search']", (links) =>
    links.map((a) => {
      const legend = a.closest("fieldset")?.querySelector("legend")?.textContent.trim() ?? "";
      const count = Number((a.querySelector(".n")?.textContent ?? "").replace(/[^\d]/g, ""));
      return {
        legend,
        label: a.textContent.trim(),
        count,
        chosen: a.hasAttribute("aria-current"),
        href: a.getAttribute("href"),
      };
    }),
  );
}

/**
 * What the focused element looks like: its tag, text, whether it matches `:focus-visible`,
 * whether an outline or a box shadow marks it, and whether it is inside the viewport.
 */
export function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    const outlineWidth = parseFloat(style.outlineWidth) || 0;
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.textContent || el.getAttribute("aria-label") || "").trim(),
      href: el.getAttribute("href"),
      inFacets: !!el.closest(".facets fieldset"),
      focusVisible: el.matches(":focus-visible"),
      outline: style.outlineStyle !== "none" && outlineWidth >= 2,
      outlineWidth,
      outlineColor: style.outlineColor,
      boxShadow: style.boxShadow !== "none",
      onScreen:
        rect.width > 0 &&
        rect.height > 0 &&
        rect.bottom > 0 &&
        rect.right > 0 &&
        rect.top < window.innerHeight &&
        rect.left < window.innerWidth,
    };
  });
}
