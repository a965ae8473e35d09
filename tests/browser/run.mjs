// Runs every browser scenario in ./scenarios against a running Jincheng server, in Debian's
// headless Chromium driven by playwright-core. Started by tests/browser.rs; see README.md.
//
// Environment:
//   JINCHENG_BASE_URL     the server, e.g. http://127.0.0.1:43117 (required)
//   JINCHENG_CREDENTIALS  JSON: {"curator": {"username", "password", "institutions"},
//                                "admin": {"username", "password"}}
//   JINCHENG_ARTIFACTS    where screenshots and axe reports go (default ../../target/browser-artifacts)
//   JINCHENG_CHROMIUM     the browser (default /usr/bin/chromium)
//   BROWSER_SCENARIOS     optional, comma-separated parts of file names: run only those

import { mkdir, readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";
import { openScenario } from "./lib/harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set: run the scenarios through \`cargo test --test browser\``);
    process.exit(2);
  }
  return value;
}

const baseUrl = required("JINCHENG_BASE_URL").replace(/\/$/, "");
const credentials = JSON.parse(process.env.JINCHENG_CREDENTIALS || "{}");
const artifactsDir = path.resolve(
  process.env.JINCHENG_ARTIFACTS || path.join(here, "../../target/browser-artifacts"),
);
const executablePath = process.env.JINCHENG_CHROMIUM || "/usr/bin/chromium";
const only = (process.env.BROWSER_SCENARIOS || "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

if (new URL(baseUrl).hostname !== "127.0.0.1") {
  console.error(`JINCHENG_BASE_URL must be on 127.0.0.1, not ${baseUrl}`);
  process.exit(2);
}
await mkdir(artifactsDir, { recursive: true });

const scenarioDir = path.join(here, "scenarios");
const files = (await readdir(scenarioDir))
  .filter((f) => f.endsWith(".mjs") && !f.startsWith("_"))
  .filter((f) => only.length === 0 || only.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error(`no scenario in ${scenarioDir} matches ${only.join(",") || "*.mjs"}`);
  process.exit(1);
}

// The flags Chromium needs on a machine whose network is closed: without the
// background-networking ones it keeps trying (and failing) to reach Google's services.
// playwright-core adds --headless and --no-sandbox (we run as root) and a fresh, empty
// --user-data-dir for every launch.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
console.log(`Chromium ${browser.version()} · ${baseUrl} · artefacts in ${artifactsDir}`);

const failed = [];
for (const file of files) {
  const name = file.replace(/\.mjs$/, "");
  const module = await import(pathToFileURL(path.join(scenarioDir, file)).href);
  if (typeof module.default !== "function") {
    failed.push(name);
    console.log(`✘ ${name}: the file exports no default function`);
    continue;
  }
  const started = Date.now();
  const scenario = await openScenario({ browser, name, baseUrl, artifactsDir });
  let error = null;
  try {
    const run = module.default({ ...scenario.api, credentials });
    // A scenario that timed out may still fail later, after its context is closed: that
    // late failure is already reported as the timeout.
    Promise.resolve(run).catch(() => {});
    await withTimeout(run, module.timeoutMs ?? 120_000, name);
    await scenario.checkUncheckedPages();
  } catch (err) {
    error = err;
  }
  const problems = await scenario.close(error);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length === 0) {
    console.log(`✔ ${name}${module.title ? ` — ${module.title}` : ""} (${seconds} s)`);
  } else {
    failed.push(name);
    console.log(`✘ ${name}${module.title ? ` — ${module.title}` : ""} (${seconds} s)`);
    for (const problem of problems) {
      console.log(indent(problem));
    }
  }
}
await browser.close();

if (failed.length > 0) {
  console.log(`\n${failed.length} of ${files.length} scenarios failed: ${failed.join(", ")}`);
  process.exit(1);
}
console.log(`\n${files.length} scenarios passed`);

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function indent(text) {
  return String(text)
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}
