#include "actors/webhook_sender.hpp"

#include "policy/sha256.hpp"

#include <curl/curl.h>

#include <memory>

namespace hitl {

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

struct transfer {
  const webhook_attempt* attempt = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  webhook_response response;
  ~transfer() {
    curl_slist_free_all(headers);
    if (easy)
      curl_easy_cleanup(easy);
  }
};

} // namespace

std::vector<webhook_response>
send_webhooks(const std::vector<webhook_attempt>& batch, duration timeout) {
  static const bool initialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void) initialized;
  std::vector<webhook_response> out;
  if (batch.empty())
    return out;
  CURLM* multi = curl_multi_init();
  std::vector<std::unique_ptr<transfer>> transfers;
  long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
  for (const auto& a : batch) {
    auto t = std::make_unique<transfer>();
    t->attempt = &a;
    t->response.outbox_id = a.outbox_id;
    t->easy = curl_easy_init();
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "User-Agent: hitl-notifier/1");
    t->headers =
      curl_slist_append(t->headers, ("X-HITL-Event: " + a.event).c_str());
    t->headers = curl_slist_append(
      t->headers, ("X-HITL-Delivery: " + a.delivery_id).c_str());
    t->headers = curl_slist_append(
      t->headers,
      ("X-HITL-Signature: sha256=" + hmac_sha256_hex(a.secret, a.body)).c_str());
    curl_easy_setopt(t->easy, CURLOPT_URL, a.url.c_str());
    curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, a.body.c_str());
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(a.body.size()));
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
    curl_multi_add_handle(multi, t->easy);
    transfers.push_back(std::move(t));
  }
  int running = 0;
  do {
    curl_multi_perform(multi, &running);
    if (running > 0)
      curl_multi_poll(multi, nullptr, 0, 200, nullptr);
  } while (running > 0);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    if (msg->data.result == CURLE_OK) {
      t->response.answered = true;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
                        &t->response.status);
      if (t->response.status >= 300)
        t->response.error = "HTTP " + std::to_string(t->response.status);
    } else {
      t->response.error = curl_easy_strerror(msg->data.result);
    }
  }
  for (auto& t : transfers) {
    curl_multi_remove_handle(multi, t->easy);
    out.push_back(t->response);
  }
  curl_multi_cleanup(multi);
  return out;
}

} // namespace hitl
