#include "auth/throttle.h"

#include <algorithm>
#include <functional>

namespace gw::auth {

Throttle::Throttle(uint32_t max_failures, uint64_t window_s, uint64_t block_s, size_t max_entries)
    : max_failures_(std::max<uint32_t>(1, max_failures)), window_(window_s), block_(block_s),
      per_shard_(std::max<size_t>(1, max_entries / kShards)) {}

Throttle::Shard& Throttle::shardFor(std::string_view addr) { return shards_[std::hash<std::string_view>{}(addr) % kShards]; }

uint64_t Throttle::blockedFor(std::string_view addr, uint64_t now) {
  Shard& s = shardFor(addr);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(addr));
  if (it == s.map.end() || it->second.blocked_until <= now) return 0;
  return it->second.blocked_until - now;
}

bool Throttle::recordFailure(std::string_view addr, uint64_t now, uint32_t* failures) {
  Shard& s = shardFor(addr);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(addr));
  if (it == s.map.end()) {
    if (s.map.size() >= per_shard_) {
      std::erase_if(s.map, [&](const auto& kv) { return kv.second.blocked_until <= now && kv.second.window_start + window_ <= now; });
      if (s.map.size() >= per_shard_) {
        auto oldest = std::min_element(s.map.begin(), s.map.end(), [](const auto& a, const auto& b) {
          return a.second.window_start < b.second.window_start;
        });
        s.map.erase(oldest);
      }
    }
    it = s.map.emplace(std::string(addr), Entry{now, 0, 0}).first;
  }
  Entry& e = it->second;
  if (e.window_start + window_ <= now) {
    e.window_start = now;
    e.failures = 0;
  }
  ++e.failures;
  if (failures) *failures = e.failures;
  if (e.failures >= max_failures_ && e.blocked_until <= now) {
    e.blocked_until = now + block_;
    e.failures = 0;
    e.window_start = now + block_;
    return true;
  }
  return false;
}

void Throttle::recordSuccess(std::string_view addr) {
  Shard& s = shardFor(addr);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(addr));
  if (it != s.map.end() && it->second.blocked_until == 0) s.map.erase(it);
}

size_t Throttle::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace gw::auth
