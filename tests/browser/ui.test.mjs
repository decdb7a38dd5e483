// The review UI end to end: queue, detail, actions, live updates over the
// WebSocket, SLA countdown and escalation, the two-person rule, tokens.
// Run through ./run.sh (a fresh database and server; critical SLA 4 s).

import assert from "node:assert/strict";
import {
  api,
  createDecision,
  env,
  eventually,
  getDecision,
  hitlCli,
  holdTableLock,
  lockWaiters,
  row,
  tid,
  uiTest,
  uniquePatch,
} from "./lib.mjs";

uiTest("1. a patch created through the API appears in an open queue page within 1 s, without a reload", async (h) => {
  const page = await h.openQueue(env.alice);
  await h.markNoReload(page);
  const totalBefore = Number(await page.locator(tid("queue-total-count")).textContent());
  const patch = uniquePatch("live-new");

  const rec = await createDecision({ patch, severity: "medium", pkg: "libxml2" });
  const created = Date.now();
  const r = page.locator(row(patch));
  await r.waitFor({ timeout: 1000 });
  const elapsed = Date.now() - created;
  assert.ok(elapsed <= 1000, `the row took ${elapsed} ms`);

  assert.equal(await r.getAttribute("data-decision-id"), rec.decision_id);
  const text = await r.textContent();
  for (const part of ["libxml2", "CVE-2026-31337", "medium", "81 %", "passed"]) {
    assert.ok(text.includes(part), `row lacks "${part}": ${text}`);
  }
  assert.match(await r.locator(tid("sla")).textContent(), /^\d+:\d\d left$/);
  assert.equal(await r.locator(tid("escalation-level")).getAttribute("data-level"), "0");
  await eventually(
    async () => Number(await page.locator(tid("queue-total-count")).textContent()) === totalBefore + 1,
    3000,
    "the total to count the new decision",
  );
  await h.assertNoReload(page);
});

uiTest("2. approving on the detail page removes the patch from every open queue page, live", async (h) => {
  const patch = uniquePatch("approve");
  const rec = await createDecision({ patch, severity: "medium" });
  const q1 = await h.openQueue(env.alice);
  const q2 = await h.openQueue(env.bob);
  for (const q of [q1, q2]) {
    await q.locator(row(patch)).waitFor();
    await h.markNoReload(q);
  }

  const detail = await h.open(env.alice, "#/queue");
  await detail.locator(`${row(patch)} ${tid("queue-link")}`).click();
  await detail.locator(tid("decision-page")).waitFor();
  assert.equal(await detail.locator(tid("approvals-count")).textContent(), "0 of 1 approval");
  // What a reviewer needs to judge it.
  assert.equal(await detail.locator(tid("ml-confidence")).getAttribute("aria-valuenow"), "81");
  assert.equal(await detail.locator(tid("ml-confidence-value")).textContent(), "81.0 %");
  const shap = await detail.locator(`${tid("shap-row")} th`).allTextContents();
  assert.deepEqual(shap, ["exploit_age", "cvss", "diff_size", "test_coverage"], "SHAP sorted by |value|");
  assert.equal(await detail.locator(tid("phase1")).getAttribute("data-ok"), "true");
  assert.equal(await detail.locator(tid("phase2")).getAttribute("data-ok"), "false");
  assert.equal(await detail.locator(tid("validation")).getAttribute("data-ok"), "true");

  // Read-your-writes (SPEC §8): the approval answers its place in the audit
  // log, and the page's reads after it send that place back.
  const positions = [];
  const readsAfter = [];
  detail.on("response", (r) => {
    if (r.request().method() === "POST" && r.url().endsWith("/approve"))
      positions.push(r.headers()["x-hitl-position"]);
  });
  detail.on("request", (r) => {
    if (positions.length > 0 && r.method() === "GET" && r.url().includes("/hitl/"))
      readsAfter.push(r.headers()["x-hitl-min-position"]);
  });
  await detail.locator(tid("approve-comment")).fill("diff reviewed, tests green");
  await detail.locator(tid("approve")).click();
  await detail.locator(`${tid("decision-status")}[data-status=approved]`).waitFor();
  assert.match(await detail.locator(tid("action-status")).textContent(), /Approved/);
  assert.equal(await detail.locator(tid("approve")).count(), 0, "no approve button on a final decision");
  assert.match(positions[0] ?? "", /^\d+:\d+$/, "the approval's X-HITL-Position");
  await detail.evaluate(() => { location.hash = "#/queue"; });
  await eventually(
    async () => readsAfter.includes(positions[0]),
    3000,
    "a read after the approval to send its position as X-HITL-Min-Position",
  );

  for (const q of [q1, q2]) {
    await q.locator(row(patch)).waitFor({ state: "detached", timeout: 2000 });
    await h.assertNoReload(q);
  }
  const after = await getDecision(rec.decision_id);
  assert.equal(after.decision, "approved");
  assert.equal(after.decided_by, "alice");
  assert.equal(after.approvals[0].comment, "diff reviewed, tests green");
});

uiTest("3. a rejection needs a reason; with one it lands and the history and audit trail show it", async (h) => {
  const patch = uniquePatch("reject");
  const rec = await createDecision({ patch, severity: "medium" });
  const page = await h.openDetail(env.alice, rec.decision_id);

  // Keyboard: Enter on the button opens the dialog with the focus in the
  // reason; Escape closes it and gives the focus back.
  await page.locator(tid("reject-open")).focus();
  await page.keyboard.press("Enter");
  const dialog = page.locator(tid("reject-dialog"));
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "reject-reason");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "reject-open");

  await page.locator(tid("reject-open")).click();
  const reason = page.locator(tid("reject-reason"));
  const submit = page.locator(tid("reject-submit"));
  assert.equal(await reason.getAttribute("required"), "");
  assert.equal(await reason.evaluate((el) => el.validity.valueMissing), true);
  assert.equal(await submit.isDisabled(), true, "submit is disabled without a reason");
  await reason.fill("   ");
  assert.equal(await submit.isDisabled(), true, "a blank reason is no reason");
  await reason.press("Enter");
  await page.waitForTimeout(300);
  assert.equal(await dialog.isVisible(), true, "Enter with a blank reason does not submit");
  assert.equal((await getDecision(rec.decision_id)).decision, "pending");

  const why = "Breaks the TLS handshake with the billing gateway";
  await reason.fill(why);
  assert.equal(await submit.isDisabled(), false);
  await reason.press("Enter");
  await dialog.waitFor({ state: "detached" });
  await page.locator(`${tid("decision-status")}[data-status=rejected]`).waitFor();
  assert.match(await page.locator(tid("action-status")).textContent(), /Rejected/);
  assert.match(await page.locator(tid("final-verdict")).textContent(), /rejected by alice/);

  const entry = page.locator(`${tid("history-entry")}[data-kind=rejected]`);
  await entry.waitFor();
  const entryText = await entry.textContent();
  assert.ok(entryText.includes("alice") && entryText.includes(why), entryText);
  // The reviewer sees the decision's own audit trail, live.
  const mine = page.locator(`${tid("audit-row")}[data-action=rejected]`);
  await mine.waitFor();
  assert.ok((await mine.textContent()).includes("alice"));

  // So does an auditor, with the same entries.
  const audit = await h.openDetail(env.auditor, rec.decision_id);
  const rejected = audit.locator(`${tid("audit-row")}[data-action=rejected]`);
  await rejected.waitFor();
  const auditText = await rejected.textContent();
  assert.ok(auditText.includes("alice") && auditText.includes(why), auditText);
  assert.equal(await audit.locator(`${tid("audit-row")}[data-action=created]`).count(), 1);

  const stored = await getDecision(rec.decision_id);
  assert.equal(stored.decision, "rejected");
  assert.equal(stored.reason, why);
});

uiTest("4. a second reviewer's page shows the first reviewer's verdict live", async (h) => {
  const patch = uniquePatch("two-pages");
  const rec = await createDecision({ patch, severity: "medium" });
  const bob = await h.openDetail(env.bob, rec.decision_id);
  const bobQueue = await h.openQueue(env.bob);
  await bobQueue.locator(row(patch)).waitFor();
  await h.markNoReload(bob);
  await h.markNoReload(bobQueue);
  assert.equal(await bob.locator(tid("decision-status")).getAttribute("data-status"), "pending");

  const alice = await h.openDetail(env.alice, rec.decision_id);
  await alice.locator(tid("approve")).click();
  await alice.locator(`${tid("decision-status")}[data-status=approved]`).waitFor();

  await bob.locator(`${tid("decision-status")}[data-status=approved]`).waitFor({ timeout: 2000 });
  assert.match(await bob.locator(tid("final-verdict")).textContent(), /approved by alice/);
  assert.match(
    await bob.locator(`${tid("history-entry")}[data-kind=approved]`).textContent(),
    /alice approved it/,
  );
  assert.equal(await bob.locator(tid("approve")).count(), 0);
  await bobQueue.locator(row(patch)).waitFor({ state: "detached", timeout: 2000 });
  await h.assertNoReload(bob);
  await h.assertNoReload(bobQueue);
});

uiTest("5. the SLA countdown reaches zero and the escalation level appears live", async (h) => {
  const page = await h.openQueue(env.alice, "?severity=critical");
  await h.markNoReload(page);
  const patch = uniquePatch("sla");
  const rec = await createDecision({ patch, severity: "critical" }); // SLA 4 s
  assert.equal(rec.approvals_required, 2);
  const r = page.locator(row(patch));
  await r.waitFor({ timeout: 1000 });
  const sla = r.locator(tid("sla"));
  const first = await sla.textContent();
  const layout = () =>
    page.evaluate((sel) => {
      const tr = document.querySelector(sel).getBoundingClientRect();
      const cols = [...document.querySelectorAll("table.queue thead th")].map((th) => th.getBoundingClientRect().width);
      return { top: tr.top, height: tr.height, cols };
    }, row(patch));
  const layoutBefore = await layout();
  assert.match(first, /^0:0[1-4] left$/, first);

  // The countdown ticks down every second, to zero, and on into overdue.
  const seen = new Set([first]);
  await eventually(
    async () => {
      seen.add(await sla.textContent());
      return (await sla.getAttribute("data-sla")) === "breached";
    },
    6000,
    "the SLA to be breached",
  );
  assert.ok(seen.size >= 3, `the countdown did not tick: ${[...seen].join(", ")}`);
  assert.match(await sla.textContent(), /^overdue 0:0\d$/);

  const badge = r.locator(tid("escalation-level"));
  await eventually(
    async () => Number(await badge.getAttribute("data-level")) >= 1,
    3000,
    "the escalation level to appear",
  );
  assert.match(await badge.textContent(), /^Level [1-3]$/);
  assert.deepEqual(await layout(), layoutBefore, "the countdown and the badge moved the layout");
  await h.assertNoReload(page);

  const detail = await h.openDetail(env.bob, rec.decision_id);
  assert.equal(await detail.locator(tid("decision-status")).getAttribute("data-status"), "escalated");
  await detail.locator(`${tid("history-entry")}[data-kind=escalated]`).waitFor();
});

uiTest("6. a critical patch needs two reviewers; the same reviewer twice gets a clear message", async (h) => {
  const patch = uniquePatch("two-person");
  const rec = await createDecision({ patch, severity: "critical" });
  const alice = await h.openDetail(env.alice, rec.decision_id);
  assert.equal(await alice.locator(tid("approvals-count")).textContent(), "0 of 2 approvals");

  await alice.locator(tid("approve")).click();
  await alice.locator(tid("action-status")).getByText("a second reviewer must approve it").waitFor();
  await eventually(
    async () => (await alice.locator(tid("approvals-count")).textContent()).startsWith("1 of 2 approvals"),
    3000,
    "1 of 2 approvals",
  );
  assert.notEqual(await alice.locator(tid("decision-status")).getAttribute("data-status"), "approved");

  await alice.locator(tid("approve")).click();
  const error = alice.locator(tid("action-error"));
  await error.getByText("You have already approved this decision; a second reviewer must approve it").waitFor();
  assert.equal(await alice.locator(tid("approve")).isDisabled(), false, "buttons come back after the request");

  const bob = await h.openDetail(env.bob, rec.decision_id);
  await bob.locator(tid("approve")).click();
  await bob.locator(`${tid("decision-status")}[data-status=approved]`).waitFor();
  assert.equal(await bob.locator(tid("approvals-count")).textContent(), "2 of 2 approvals");
  // Alice's page follows live.
  await alice.locator(`${tid("decision-status")}[data-status=approved]`).waitFor({ timeout: 2000 });

  const stored = await getDecision(rec.decision_id);
  assert.deepEqual(stored.approvals.map((a) => a.by), ["alice", "bob"]);
});

uiTest("7. a bad token is sent back to token entry with a message", async (h) => {
  const page = await h.blank("#/analytics");
  await page.locator(tid("token-input")).fill("hitl_this-is-not-a-token");
  await page.locator(tid("token-submit")).click();
  await page.locator(tid("token-message")).getByText("This token is not valid or was revoked").waitFor();
  assert.equal(await page.locator(tid("token-input")).isVisible(), true);
  assert.equal(await page.locator(tid("sign-out")).count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("hitl.token")), null);

  // A token revoked while in use: the next call returns to token entry.
  const name = `dave-${Date.now()}`;
  const token = hitlCli("token", "create", "--name", name, "--role", "reviewer");
  await h.signIn(page, token);
  await page.locator(tid("analytics")).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("hitl.token")), token);
  hitlCli("token", "revoke", "--name", name);
  await eventually(
    async () => {
      if (await page.locator(tid("token-input")).isVisible()) return true;
      // Any API call will do; the range selector refetches the summary.
      const range = page.locator(tid("analytics-range"));
      // The page may leave for token entry meanwhile: never wait long for
      // the selector, or the probe outlives the deadline.
      if (await range.isVisible()) {
        const next = (await range.inputValue({ timeout: 1000 }).catch(() => "all")) === "all" ? "7d" : "all";
        await range.selectOption(next, { timeout: 1000 }).catch(() => {});
      }
      await page.waitForTimeout(400);
      return false;
    },
    60000,
    "the revoked token to be refused",
  );
  await page
    .locator(tid("token-message"))
    .getByText("Your token expired or was revoked; paste a new one.")
    .waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("hitl.token")), null);
});

uiTest("8. the creator of a decision is told that they cannot approve it", async (h) => {
  // One identity, first as a service creating the decision, then as a
  // reviewer: the service refuses self-approval (403).
  const name = `carol-${Date.now()}`;
  const service = hitlCli("token", "create", "--name", name, "--role", "service");
  const rec = await createDecision({ patch: uniquePatch("self"), severity: "medium" }, service);
  hitlCli("token", "revoke", "--name", name);
  const reviewer = hitlCli("token", "create", "--name", name, "--role", "reviewer");

  const page = await h.openDetail(reviewer, rec.decision_id);
  await page.locator(tid("approve")).click();
  await page
    .locator(tid("action-error"))
    .getByText("You created this decision, so you cannot approve it.")
    .waitFor();
  assert.equal((await getDecision(rec.decision_id)).decision, "pending");
});

uiTest("9. a verdict on a decision someone else already decided is explained", async (h) => {
  const rec = await createDecision({ patch: uniquePatch("race"), severity: "medium" });
  const page = await h.openDetail(env.alice, rec.decision_id);
  // Hold the page's refreshes back, so that it still offers Approve after
  // Bob's rejection, as a slower network would.
  const held = [];
  await page.route("**/hitl/decisions/**", (route) => held.push(route));
  const res = await api("POST", `/hitl/patches/${rec.patch_id}/reject`, env.bob, {
    decision_id: rec.decision_id,
    reason: "superseded by a newer patch",
  });
  assert.equal(res.status, 200);
  await eventually(async () => held.length > 0, 2000, "the live event to ask for a refresh");

  await page.locator(tid("approve")).click();
  await page
    .locator(tid("action-error"))
    .getByText("This decision was already rejected by someone else.")
    .waitFor();
  await page.unroute("**/hitl/decisions/**");
  await Promise.all(held.map((r) => r.continue().catch(() => {})));
  await page.locator(`${tid("decision-status")}[data-status=rejected]`).waitFor();
  assert.match(await page.locator(tid("final-verdict")).textContent(), /rejected by bob/);
});

uiTest("10. filters and sort: a filtered queue only takes matching live patches, in server order", async (h) => {
  const page = await h.openQueue(env.alice, "?severity=high&sort=age");
  assert.equal(await page.locator(tid("filter-severity")).inputValue(), "high");
  assert.equal(await page.locator(tid("sort")).inputValue(), "age");
  const high = uniquePatch("filter-high");
  const low = uniquePatch("filter-low");
  await createDecision({ patch: low, severity: "low" });
  await createDecision({ patch: high, severity: "high" });
  await page.locator(row(high)).waitFor({ timeout: 1000 });
  await page.waitForTimeout(300);
  assert.equal(await page.locator(row(low)).count(), 0, "a low patch does not enter a high-only queue");

  // Changing a filter refetches and keeps the server's order.
  await page.locator(tid("filter-severity")).selectOption("");
  await page.locator(row(low)).waitFor();
  const ids = await page.locator(tid("queue-row")).evaluateAll((rows) => rows.map((r) => r.dataset.decisionId));
  const res = await api("GET", "/hitl/patches/pending?sort=age&limit=100", env.alice);
  assert.deepEqual(ids, res.body.items.map((i) => i.decision_id));
  assert.match(page.url(), /#\/queue\?sort=age$/);
});

uiTest("11. analytics show the summary; a role without analytics gets a message", async (h) => {
  // The service answers a summary query again from a result it keeps for a
  // few seconds (scan_result_reuse, SPEC §10). Test 7's all-time summary can
  // still be kept, older than the patches tests 8-10 created since. A
  // `since` no other request uses is computed now; wait until the all-time
  // answer agrees, so that the page, the API and the range below all count
  // the same patches (nothing creates any during this test).
  const truth = (await api("GET", "/hitl/analytics/summary?since=2000-01-01T00%3A00%3A00Z", env.auditor))
    .body.total_patches;
  await eventually(
    async () => (await api("GET", "/hitl/analytics/summary", env.auditor)).body.total_patches === truth,
    30000,
    "the kept all-time summary to expire",
  );
  const page = await h.open(env.auditor, "#/analytics");
  await page.locator(tid("analytics")).waitFor();
  assert.equal(await page.locator(`${tid("stat-total")} .stat-value`).textContent(), String(truth));
  assert.match(await page.locator(`${tid("stat-auto-rate")} .stat-value`).textContent(), /^(\d+\.\d %|—)$/);
  assert.match(await page.locator(`${tid("stat-ml-accuracy")} .stat-value`).textContent(), /^(\d+\.\d %|—)$/);
  assert.notEqual(await page.locator(`${tid("stat-p50")} .stat-value`).textContent(), "");
  // A range asks with `since`; every patch of this run is in the last day.
  const ranged = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === "/hitl/analytics/summary" && u.searchParams.has("since");
  });
  await page.locator(tid("analytics-range")).selectOption("24h");
  const res = await ranged;
  assert.equal(res.status(), 200);
  assert.equal((await res.json()).total_patches, truth);
  await page.locator(`${tid("stat-total")} .stat-value`).getByText(String(truth), { exact: true }).waitFor();
  assert.equal(await page.locator(tid("analytics-error")).textContent(), "");

  const service = await h.open(env.service, "#/analytics");
  await service
    .locator(tid("analytics-error"))
    .getByText("Analytics need the reviewer, auditor or admin role")
    .waitFor();
  await service.locator(tid("sign-out")).click();
  await service.locator(tid("token-input")).waitFor();
  assert.equal(await service.evaluate(() => sessionStorage.getItem("hitl.token")), null);
});

uiTest("12. after the live connection drops, the page reconnects and catches up on what it missed", async (h) => {
  const page = await h.blank("#/queue");
  let down = false;
  const sockets = [];
  await page.routeWebSocket(/\/hitl\/ws$/, (ws) => {
    if (down) {
      ws.close({ code: 1013, reason: "try again later" });
      return;
    }
    ws.connectToServer();
    sockets.push(ws);
  });
  await h.signIn(page, env.alice);
  await page.locator(`${tid("connection")}[data-status=live]`).waitFor();
  await page.locator(tid("queue-total-count")).waitFor();
  await h.markNoReload(page);

  down = true;
  await Promise.all(sockets.map((ws) => ws.close({ code: 1001, reason: "going away" })));
  await page.locator(`${tid("connection")}[data-status=reconnecting]`).waitFor({ timeout: 2000 });
  assert.equal(await page.locator(tid("connection")).textContent(), "reconnecting…");
  const patch = uniquePatch("missed");
  await createDecision({ patch, severity: "medium" });
  await page.waitForTimeout(1500);
  assert.equal(await page.locator(row(patch)).count(), 0, "no event can arrive while down");

  down = false;
  await page.locator(`${tid("connection")}[data-status=live]`).waitFor({ timeout: 12000 });
  await page.locator(row(patch)).waitFor({ timeout: 2000 });
  await h.assertNoReload(page);
});

uiTest("13. live inserts land where the server lists them, for each sort", async (h) => {
  const pages = {};
  for (const sort of ["priority", "age", "deadline"]) {
    pages[sort] = await h.openQueue(env.bob, sort === "priority" ? "" : `?sort=${sort}`);
  }
  // Rows must come from the events, not from refetching the list (the
  // total's recount asks for one item).
  let refetches = 0;
  for (const page of Object.values(pages)) {
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/hitl/patches/pending" && u.searchParams.get("limit") !== "1") refetches++;
    });
  }
  const patches = [];
  for (const severity of ["medium", "critical", "low", "high", "medium"]) {
    const patch = uniquePatch(`order-${severity}`);
    patches.push(patch);
    await createDecision({ patch, severity });
  }
  for (const [sort, page] of Object.entries(pages)) {
    for (const patch of patches) await page.locator(row(patch)).waitFor({ timeout: 2000 });
    const shown = await page.locator(tid("queue-row")).evaluateAll((rows) => rows.map((r) => r.dataset.decisionId));
    const res = await api("GET", `/hitl/patches/pending?sort=${sort}&limit=100`, env.bob);
    assert.equal(res.body.next_cursor, null, "the test expects one page");
    assert.deepEqual(shown, res.body.items.map((i) => i.decision_id), `order by ${sort}`);
    await eventually(
      async () => Number(await page.locator(tid("queue-total-count")).textContent()) === res.body.total,
      3000,
      `the total of the ${sort} page`,
    );
  }
  assert.equal(refetches, 0, "the pages refetched instead of applying the events");
});

uiTest("14. a summary the service is too busy for is asked again when it says, not shown as a failure", async (h) => {
  const page = await h.open(env.auditor, "#/analytics");
  await page.locator(tid("analytics")).waitFor();
  const answers = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/hitl/analytics/summary")
      answers.push({ url: r.url(), status: r.status(), retryAfter: r.headers()["retry-after"], at: Date.now() });
  });
  // Everything the error line says from now on.
  await page.evaluate((sel) => {
    window.shownErrors = [];
    const el = document.querySelector(sel);
    new MutationObserver(() => {
      if (el.textContent) window.shownErrors.push(el.textContent);
    }).observe(el, { childList: true, subtree: true, characterData: true });
  }, tid("analytics-error"));
  // Another auditor's scan waits on a locked table and so holds the one
  // summary place (SPEC §10); the page's next summary is refused with 429.
  const lock = await holdTableLock("hitl_decisions");
  let held;
  let refused;
  try {
    held = api("GET", "/hitl/analytics/summary?since=2001-01-01T00%3A00%3A00Z", env.auditor);
    await eventually(() => lockWaiters() >= 1, 20000, "the other scan to wait on the lock");
    await page.locator(tid("analytics-range")).selectOption("7d");
    refused = await eventually(() => answers.find((a) => a.status === 429), 20000, "a 429 for the page's summary");
  } finally {
    await lock.release();
  }
  assert.equal((await held).status, 200);
  assert.equal(refused.retryAfter, "5", "the default scan_result_reuse");
  // The page asks for the same range again once Retry-After has passed.
  const retried = await eventually(
    () => answers.find((a) => a.url === refused.url && a.status === 200),
    20000,
    "the page to ask again and get the summary",
  );
  assert.ok(retried.at - refused.at >= 4500, `asked again after ${retried.at - refused.at} ms`);
  const summary = (await api("GET", "/hitl/analytics/summary?since=2001-01-02T00%3A00%3A00Z", env.auditor)).body;
  await eventually(
    async () => (await page.locator(`${tid("stat-total")} .stat-value`).textContent()) === String(summary.total_patches),
    5000,
    "the page to show the summary",
  );
  assert.deepEqual(await page.evaluate(() => window.shownErrors), [], "a refusal the page retries is not shown");
});
