#pragma once

// Read results kept in memory and trusted only while the change_clock
// generation they were read at is still current: the auditor advances it
// after each commit and before it answers, so a cached read is never older
// than a write its client was told about. No eviction on write is needed;
// an entry is simply found stale. Sharded locks; bounded in entries.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hitl {

template <class Value>
class response_cache {
public:
  explicit response_cache(size_t capacity)
    : per_shard_(std::max<size_t>(1, capacity / shard_count)) {
  }

  /// The value stored for `key` if it was read at generation `current`.
  std::shared_ptr<const Value> find(const std::string& key, uint64_t current) {
    auto& s = shard_of(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto it = s.map.find(key);
    if (it == s.map.end())
      return nullptr;
    if (it->second.generation != current) {
      s.map.erase(it);
      return nullptr;
    }
    return it->second.value;
  }

  /// Keeps `value`, read at `generation` (taken before the read began).
  void store(const std::string& key, std::shared_ptr<const Value> value,
             uint64_t generation) {
    auto& s = shard_of(key);
    std::lock_guard<std::mutex> guard{s.mutex};
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      if (it->second.generation <= generation)
        it->second = slot{std::move(value), generation};
      return;
    }
    if (s.map.size() >= per_shard_)
      s.map.erase(s.map.begin()); // any victim will do: hits are uniform
    s.map.emplace(key, slot{std::move(value), generation});
  }

private:
  static constexpr size_t shard_count = 64;

  struct slot {
    std::shared_ptr<const Value> value;
    uint64_t generation = 0;
  };
  struct shard {
    std::mutex mutex;
    std::unordered_map<std::string, slot> map;
  };

  shard& shard_of(const std::string& key) {
    return shards_[std::hash<std::string>{}(key) % shard_count];
  }

  size_t per_shard_;
  std::array<shard, shard_count> shards_;
};

} // namespace hitl
