// What every scenario gets: a fresh browser context and page, a guard that fails the scenario
// if any request leaves the server under test, axe-core checks, and screenshots.

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const axeSource = await readFile(axePath, "utf8");

/** axe impacts that fail a scenario. */
const FAILING_IMPACTS = new Set(["serious", "critical"]);

/**
 * Opens one scenario: a new browser context (no cookies shared with other scenarios) and page.
 * Returns `api` (what the scenario function receives), `checkUncheckedPages` and `close`.
 */
export async function openScenario({ browser, name, baseUrl, artifactsDir }) {
  const origin = new URL(baseUrl).origin;
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: "zh-CN",
    viewport: { width: 1280, height: 900 },
    serviceWorkers: "block",
  });
  const problems = [];
  const offHost = new Set();
  const pageErrors = [];
  // Document URLs this scenario has shown, and whether axe has looked at each.
  const visited = new Map();

  const isOnHost = (url) => {
    try {
      const parsed = new URL(url);
      return ["data:", "blob:", "about:"].includes(parsed.protocol) || parsed.origin === origin;
    } catch {
      return false;
    }
  };
  // Anything not on the server under test is recorded (the scenario fails) and never sent.
  await context.route(
    (url) => !isOnHost(url.href),
    (route) => {
      offHost.add(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  context.on("request", (request) => {
    if (!isOnHost(request.url())) offHost.add(request.url());
  });
  const watch = (page) => {
    page.on("pageerror", (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    page.on("framenavigated", (frame) => {
      if (frame !== page.mainFrame()) return;
      const url = documentKey(frame.url());
      if (url.startsWith(origin) && !visited.has(url)) visited.set(url, false);
    });
  };
  context.on("page", watch);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(20_000);

  const log = (...parts) => console.log(`  · ${parts.join(" ")}`);
  log(`▶ ${name}`);

  /**
   * Runs axe-core in `target` (default: the scenario's page) and records every serious or
   * critical violation as a failure of the scenario; returns axe's results. The full report
   * is kept as `{name}-{label}.axe.json` in the artefacts.
   */
  async function checkAccessibility(label, target = page) {
    await target.waitForLoadState("load");
    const loaded = () => target.evaluate(() => typeof window.axe?.run === "function");
    if (!(await loaded())) {
      // A page whose Content-Security-Policy refuses inline scripts refuses the tag;
      // evaluation through the DevTools protocol is not subject to it.
      await target.addScriptTag({ path: axePath }).catch(() => {});
      if (!(await loaded())) await target.evaluate(axeSource);
    }
    const results = await target.evaluate(() =>
      window.axe.run(document, { resultTypes: ["violations"] }),
    );
    visited.set(documentKey(target.url()), true);
    const file = `${name}-${slug(label)}.axe.json`;
    await writeFile(path.join(artifactsDir, file), JSON.stringify(results, null, 2));
    const failing = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact));
    const other = results.violations.filter((v) => !FAILING_IMPACTS.has(v.impact));
    log(
      `axe ${pathOf(target.url())}: ${failing.length} serious/critical` +
        (other.length ? `, ${other.map((v) => `${v.id} (${v.impact})`).join(", ")}` : ""),
    );
    if (failing.length > 0) {
      problems.push(
        `axe-core found ${failing.length} serious or critical violation(s) on ${target.url()} (${label}):\n` +
          failing.map(describeViolation).join("\n"),
      );
    }
    return results;
  }

  /** A full-page screenshot, kept as `{name}-{label}.png`; returns its path. */
  async function screenshot(label, target = page) {
    const file = path.join(artifactsDir, `${name}-${slug(label)}.png`);
    await target.screenshot({ path: file, fullPage: true });
    return file;
  }

  /** Visits and checks every page the scenario showed but did not check itself. */
  async function checkUncheckedPages() {
    let n = 0;
    for (const [url, checked] of [...visited]) {
      if (checked) continue;
      n += 1;
      await page.goto(url);
      await checkAccessibility(`unchecked-${n}`);
    }
  }

  /** Ends the scenario; returns its problems (none when it passed). */
  async function close(error) {
    if (error) {
      problems.unshift(error.stack || String(error));
      await screenshot("failure").catch(() => {});
    }
    if (offHost.size > 0) {
      problems.push(
        `the pages asked for ${offHost.size} address(es) off 127.0.0.1 (blocked):\n` +
          [...offHost].map((u) => `  ${u}`).join("\n"),
      );
    }
    if (pageErrors.length > 0) {
      problems.push(`uncaught errors in the page:\n${pageErrors.map((e) => `  ${e}`).join("\n")}`);
    }
    await context.close();
    return problems;
  }

  return {
    api: {
      page,
      context,
      baseUrl,
      artifactsDir,
      assert,
      checkAccessibility,
      screenshot,
      log,
    },
    checkUncheckedPages,
    close,
  };
}

function documentKey(url) {
  return url.split("#")[0];
}

function pathOf(url) {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname + u.search);
  } catch {
    return url;
  }
}

function slug(label) {
  return String(label)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "page";
}

function describeViolation(v) {
  const nodes = v.nodes
    .slice(0, 5)
    .map((n) => `      ${n.target.join(" ")}\n        ${(n.failureSummary || "").replace(/\n/g, "\n        ")}`)
    .join("\n");
  const more = v.nodes.length > 5 ? `\n      … and ${v.nodes.length - 5} more` : "";
  return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
}
