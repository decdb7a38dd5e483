// Shared pieces of the browser tests: the environment run.sh sets up, the
// API calls that stand in for Wargaming, and a test wrapper that opens
// pages in headless Chromium and keeps screenshots of failures.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run the tests through tests/browser/run.sh`);
  return v;
}

export const env = {
  base: need("HITL_BASE_URL"),
  alice: need("HITL_TOKEN_ALICE"),
  bob: need("HITL_TOKEN_BOB"),
  service: need("HITL_TOKEN_SERVICE"),
  auditor: need("HITL_TOKEN_AUDITOR"),
  binary: need("HITL_BINARY"),
  databaseUrl: need("HITL_DATABASE_URL_FOR_TESTS"),
  chromium: process.env.HITL_CHROMIUM || "/usr/bin/chromium",
  output: process.env.HITL_BROWSER_OUTPUT || path.resolve("../output/browser"),
};

// -- the API, as Wargaming and the CLI use it ------------------------------------

export async function api(method, urlPath, token, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(env.base + urlPath, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export function uniquePatch(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A decision as the original Wargaming client sends it; ML confidence
 *  below the auto-approval threshold so that it waits for a human. */
export function decisionBody({ patch, severity = "medium", confidence = 0.81, pkg = "openssl" }) {
  return {
    patch_id: patch,
    patch_metadata: {
      apv_id: `apv-${patch}`,
      cve_id: "CVE-2026-31337",
      package_name: pkg,
      current_version: "3.0.11",
      target_version: "3.0.12",
      severity,
      cvss_score: 8.1,
      cwe_ids: ["CWE-787"],
      affected_systems: ["edge-gateway", "billing"],
      patch_size_lines: 42,
    },
    ml_prediction: {
      model_version: "xgb-7",
      confidence,
      prediction: true,
      shap_values: { diff_size: -0.12, cvss: 0.31, test_coverage: 0.05, exploit_age: -0.44 },
      execution_time_ms: 37,
    },
    wargaming_result: {
      phase1_success: true,
      phase2_success: false,
      validation_passed: true,
      execution_time_ms: 91000,
      error_message: null,
      exploit_id: "EXP-77",
    },
    decision: "pending",
    decided_by: null,
    decided_at: null,
    priority: "medium",
    comment: null,
    reason: null,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    requires_escalation: false,
    auto_approval_eligible: false,
    ml_wargaming_agreement: false,
  };
}

export async function createDecision(opts, token = env.service) {
  const res = await api("POST", "/hitl/admin/create-decision", token, decisionBody(opts));
  assert.equal(res.status, 201, `create-decision answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getDecision(id, token = env.auditor) {
  const res = await api("GET", `/hitl/decisions/${encodeURIComponent(id)}`, token);
  assert.equal(res.status, 200);
  return res.body;
}

/** `hitl token …` against the test database; returns stdout. */
export function hitlCli(...args) {
  return execFileSync(env.binary, [...args, "--database-url", env.databaseUrl], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Holds an ACCESS EXCLUSIVE lock on `table` in a psql session of its own,
 *  so that a scan of it waits; `release()` commits and ends the session. */
export async function holdTableLock(table) {
  const psql = spawn("psql", [env.databaseUrl, "-qAt", "-v", "ON_ERROR_STOP=1"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => psql.on("exit", resolve));
  await new Promise((resolve, reject) => {
    let out = "";
    psql.stdout.on("data", (d) => {
      out += d;
      if (out.includes("locked")) resolve();
    });
    psql.on("exit", (code) => reject(new Error(`psql ended (${code}) before the lock was held`)));
    psql.stdin.write(`BEGIN;\nLOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n`);
  });
  return {
    async release() {
      psql.stdin.end("COMMIT;\n");
      assert.equal(await exited, 0, "the lock's psql session ended cleanly");
    },
  };
}

/** Sessions of the test database waiting for a lock. */
export function lockWaiters() {
  return Number(
    execFileSync("psql", [env.databaseUrl, "-qAt", "-c", "SELECT count(*) FROM pg_locks WHERE NOT granted"], {
      encoding: "utf8",
    }).trim(),
  );
}

// -- selectors ----------------------------------------------------------------------

export const row = (patch) => `[data-testid=queue-row][data-patch-id="${patch}"]`;
export const tid = (id) => `[data-testid="${id}"]`;

// -- the browser ------------------------------------------------------------------

let browser;

before(async () => {
  mkdirSync(env.output, { recursive: true });
  browser = await chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
});

function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80);
}

/** One browser test: `fn` gets a helper that opens pages (each in its own
 *  browser context, i.e. its own session) and closes them afterwards. On
 *  failure every open page is saved as a screenshot. JavaScript errors and
 *  Content-Security-Policy refusals on any page fail the test. */
export function uiTest(name, fn, { timeout = 60000 } = {}) {
  test(name, { timeout }, async () => {
    const contexts = [];
    const pages = [];
    const pageErrors = [];

    const h = {
      /** A new browser session at the given hash, not yet signed in. */
      async blank(hash = "#/queue") {
        const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
        contexts.push(context);
        const page = await context.newPage();
        page.setDefaultTimeout(10000);
        page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
        // The server's Content-Security-Policy: anything it refuses (an
        // inline script or style, a foreign connection) fails the test too.
        page.on("console", (m) => {
          if (m.type() === "error" && /Content Security Policy/i.test(m.text()))
            pageErrors.push(`${page.url()}: ${m.text()}`);
        });
        pages.push(page);
        await page.goto(`${env.base}/${hash}`);
        return page;
      },

      /** A new session signed in through the token entry page, at `hash`,
       *  with the live connection up. */
      async open(token, hash = "#/queue") {
        const page = await h.blank(hash);
        await h.signIn(page, token);
        await page.locator(`${tid("connection")}[data-status=live]`).waitFor();
        return page;
      },

      async signIn(page, token) {
        await page.locator(tid("token-input")).fill(token);
        await page.locator(tid("token-submit")).click();
        await page.locator(tid("sign-out")).waitFor();
      },

      async openQueue(token, query = "") {
        const page = await h.open(token, `#/queue${query}`);
        await page.locator(tid("queue-total-count")).waitFor();
        return page;
      },

      async openDetail(token, decisionId) {
        const page = await h.open(token, `#/decisions/${encodeURIComponent(decisionId)}`);
        await page.locator(tid("decision-page")).waitFor();
        return page;
      },

      /** Marks the document; `assertNoReload` fails if it was replaced. */
      async markNoReload(page) {
        await page.evaluate(() => {
          window.__hitlNoReload = true;
        });
      },

      async assertNoReload(page) {
        assert.equal(
          await page.evaluate(() => window.__hitlNoReload === true),
          true,
          "the page was reloaded",
        );
      },
    };

    try {
      await fn(h);
      assert.deepEqual(pageErrors, [], "JavaScript errors on the page");
    } catch (err) {
      const base = slug(name);
      await Promise.all(
        pages.map((p, i) =>
          p
            .screenshot({ path: path.join(env.output, `${base}-${i + 1}.png`), fullPage: true })
            .catch(() => {}),
        ),
      );
      throw err;
    } finally {
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    }
  });
}

/** Polls `probe` until it returns a truthy value or `ms` pass. */
export async function eventually(probe, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
