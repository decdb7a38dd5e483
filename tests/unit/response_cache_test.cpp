#include "actors/change_clock.hpp"
#include "http/response_cache.hpp"
#include "http/response_json.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace hitl;
using json = nlohmann::json;

TEST_CASE("a cached read is found only while its generation is current") {
  change_clock clock;
  response_cache<std::string> cache{64};
  auto g = clock.decision("d1");
  cache.store("d1", std::make_shared<const std::string>("v1"), g);
  REQUIRE(cache.find("d1", clock.decision("d1")));
  CHECK(*cache.find("d1", clock.decision("d1")) == "v1");

  clock.decision_changed("d1");
  CHECK_FALSE(cache.find("d1", clock.decision("d1")));
  // Once found stale it is gone, even for a reader with the old generation.
  CHECK_FALSE(cache.find("d1", g));
}

TEST_CASE("a read that began before a commit is never served after it") {
  change_clock clock;
  response_cache<std::string> cache{64};
  auto before = clock.decision("d1"); // the reader notes the generation...
  clock.decision_changed("d1");       // ...a commit lands while it reads...
  cache.store("d1", std::make_shared<const std::string>("old"), before);
  CHECK_FALSE(cache.find("d1", clock.decision("d1"))); // ...and is not kept
}

TEST_CASE("an older read does not replace a newer one") {
  change_clock clock;
  response_cache<std::string> cache{64};
  auto old_gen = clock.decision("d1");
  clock.decision_changed("d1");
  auto new_gen = clock.decision("d1");
  cache.store("d1", std::make_shared<const std::string>("new"), new_gen);
  cache.store("d1", std::make_shared<const std::string>("old"), old_gen);
  REQUIRE(cache.find("d1", new_gen));
  CHECK(*cache.find("d1", new_gen) == "new");
}

TEST_CASE("the queue generation is independent of decisions'") {
  change_clock clock;
  auto q = clock.queue();
  clock.decision_changed("d1");
  CHECK(clock.queue() == q);
  clock.queue_changed();
  CHECK(clock.queue() == q + 1);
}

TEST_CASE("the cache stays within its capacity") {
  change_clock clock;
  response_cache<std::string> cache{128}; // 2 per shard
  for (int i = 0; i < 10000; ++i)
    cache.store("k" + std::to_string(i),
                std::make_shared<const std::string>("v"), 0);
  int found = 0;
  for (int i = 0; i < 10000; ++i)
    found += cache.find("k" + std::to_string(i), 0) ? 1 : 0;
  CHECK(found > 0);
  CHECK(found <= 128);
}

TEST_CASE("the cache is safe under concurrent readers and writers") {
  change_clock clock;
  response_cache<std::string> cache{256};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        auto key = "d" + std::to_string(i % 97);
        auto g = clock.decision(key);
        if (auto v = cache.find(key, g)) {
          // Whatever is served was stored at exactly this generation.
          if (*v != key + "@" + std::to_string(g))
            wrong.fetch_add(1);
        } else {
          cache.store(key,
                      std::make_shared<const std::string>(
                        key + "@" + std::to_string(g)),
                      g);
        }
        if (t == 0 && i % 10 == 0)
          clock.decision_changed(key);
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("a rendered pending page becomes the documented body at each instant") {
  auto created = parse_iso("2026-11-24T10:00:00Z").value();
  pending_item d;
  d.decision_id = "6f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b";
  d.patch_id = "patch-1";
  d.apv_id = "APV-1";
  d.cve_id = "CVE-2024-3094";
  d.package_name = "xz-utils";
  d.severity = urgency::high;
  d.priority = urgency::high;
  d.status = decision_status::pending;
  d.created_at = created;
  d.sla_deadline = created + std::chrono::seconds(600);
  d.approvals_required = 1;
  pending_page page;
  page.items.push_back(d);
  page.total = 7;
  page.next = pending_cursor{2, 5, "x"};
  auto rendered = render_pending(page, pending_sort::priority);

  auto at = [&](int s) {
    return json::parse(pending_body(rendered, created + std::chrono::seconds(s)));
  };
  auto early = at(10);
  REQUIRE(early["items"].size() == 1);
  const auto& item = early["items"][0];
  CHECK(item["decision_id"] == d.decision_id);
  CHECK(item["cve_id"] == "CVE-2024-3094");
  CHECK(item["ml_confidence"].is_null());
  CHECK(item["age_seconds"] == 10);
  CHECK(item["sla_status"] == "ok");
  CHECK(item["sla_deadline"] == "2026-11-24T10:10:00.000000Z");
  CHECK(early["total"] == 7);
  CHECK(decode_cursor(early["next_cursor"].get<std::string>(),
                      pending_sort::priority)
          ->decision_id
        == "x");
  // The same rendering, later: only the time-dependent fields move.
  CHECK(at(500)["items"][0]["sla_status"] == "at_risk");
  CHECK(at(601)["items"][0]["sla_status"] == "breached");
  CHECK(at(601)["items"][0]["age_seconds"] == 601);

  // Predictions and results, when the decision has them.
  page.items.front().ml_confidence = 0.92;
  page.items.front().ml_prediction = true;
  page.items.front().wargaming_passed = false;
  auto with_ml = json::parse(pending_body(
    render_pending(page, pending_sort::priority), created))["items"][0];
  CHECK(with_ml["ml_confidence"] == 0.92);
  CHECK(with_ml["ml_prediction"] == true);
  CHECK(with_ml["wargaming_passed"] == false);
  CHECK(with_ml["severity"] == "high");
  CHECK(with_ml["package_name"] == "xz-utils");

  page.items.clear();
  page.next.reset();
  auto empty = json::parse(
    pending_body(render_pending(page, pending_sort::age), created));
  CHECK(empty["items"].empty());
  CHECK(empty["next_cursor"].is_null());
}
