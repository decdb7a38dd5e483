#include "actors/webhook_sender.hpp"

#include "policy/sha256.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace hitl {

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

} // namespace

// Not in the anonymous namespace: impl, a member of a named class, holds
// them (GCC's -Wsubobject-linkage, once the unity build includes this file).
struct webhook_transfer {
  webhook_attempt attempt;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  ~webhook_transfer() {
    curl_slist_free_all(headers);
    if (easy)
      curl_easy_cleanup(easy);
  }
};

struct webhook_sender::impl {
  CURLM* multi = nullptr;
  long timeout_ms = 0;
  std::unordered_map<CURL*, std::unique_ptr<webhook_transfer>> transfers;
  std::map<std::string, size_t> per_url;
};

webhook_sender::webhook_sender(duration timeout) : impl_(new impl) {
  static const bool initialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void) initialized;
  impl_->multi = curl_multi_init();
  impl_->timeout_ms =
    std::max<long>(1, static_cast<long>(timeout.count() / 1000));
}

webhook_sender::~webhook_sender() {
  for (auto& [easy, t] : impl_->transfers)
    curl_multi_remove_handle(impl_->multi, easy);
  impl_->transfers.clear();
  curl_multi_cleanup(impl_->multi);
}

void webhook_sender::add(webhook_attempt a) {
  auto t = std::make_unique<webhook_transfer>();
  t->attempt = std::move(a);
  const auto& at = t->attempt;
  t->easy = curl_easy_init();
  t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
  t->headers = curl_slist_append(t->headers, "User-Agent: hitl-notifier/1");
  t->headers =
    curl_slist_append(t->headers, ("X-HITL-Event: " + at.event).c_str());
  t->headers = curl_slist_append(
    t->headers, ("X-HITL-Delivery: " + at.delivery_id).c_str());
  t->headers = curl_slist_append(
    t->headers,
    ("X-HITL-Signature: sha256=" + hmac_sha256_hex(at.secret, at.body))
      .c_str());
  curl_easy_setopt(t->easy, CURLOPT_URL, at.url.c_str());
  curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, at.body.c_str());
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE,
                   static_cast<long>(at.body.size()));
  curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
  curl_multi_add_handle(impl_->multi, t->easy);
  ++impl_->per_url[at.url];
  impl_->transfers.emplace(t->easy, std::move(t));
}

std::vector<webhook_response>
webhook_sender::poll(std::chrono::milliseconds wait) {
  std::vector<webhook_response> out;
  if (impl_->transfers.empty())
    return out;
  int running = 0;
  auto drain = [&] {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(impl_->multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      auto it = impl_->transfers.find(msg->easy_handle);
      if (it == impl_->transfers.end())
        continue;
      auto& t = *it->second;
      webhook_response r;
      r.outbox_id = t.attempt.outbox_id;
      if (msg->data.result == CURLE_OK) {
        r.answered = true;
        curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
        if (r.status >= 300)
          r.error = "HTTP " + std::to_string(r.status);
      } else {
        r.error = curl_easy_strerror(msg->data.result);
      }
      out.push_back(std::move(r));
      curl_multi_remove_handle(impl_->multi, t.easy);
      if (--impl_->per_url[t.attempt.url] == 0)
        impl_->per_url.erase(t.attempt.url);
      impl_->transfers.erase(it);
    }
  };
  curl_multi_perform(impl_->multi, &running);
  drain();
  if (out.empty() && running > 0 && wait.count() > 0) {
    curl_multi_poll(impl_->multi, nullptr, 0, static_cast<int>(wait.count()),
                    nullptr);
    curl_multi_perform(impl_->multi, &running);
    drain();
  }
  return out;
}

size_t webhook_sender::in_flight() const {
  return impl_->transfers.size();
}

size_t webhook_sender::in_flight(const std::string& url) const {
  auto it = impl_->per_url.find(url);
  return it == impl_->per_url.end() ? 0 : it->second;
}

} // namespace hitl
