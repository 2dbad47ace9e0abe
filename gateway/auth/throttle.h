#pragma once
// Brute-force throttling of Digest failures per client address, shared by every worker.
// After `max_failures` failures within `window` seconds, the address is refused (429 with
// Retry-After) for `block` seconds. Eight mutex-protected shards; memory is bounded by
// `max_entries` (a full shard drops idle entries first, then its oldest window).
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gw::auth {

class Throttle {
 public:
  Throttle(uint32_t max_failures, uint64_t window_s, uint64_t block_s, size_t max_entries);
  // Seconds the address must still wait (0 = allowed).
  uint64_t blockedFor(std::string_view addr, uint64_t now_s);
  // Counts one failure; returns true if this failure started a block. `failures`, when given,
  // receives the failures counted in the current window, this one included.
  bool recordFailure(std::string_view addr, uint64_t now_s, uint32_t* failures = nullptr);
  void recordSuccess(std::string_view addr);
  size_t size() const;

 private:
  static constexpr size_t kShards = 8;
  struct Entry {
    uint64_t window_start = 0;
    uint32_t failures = 0;
    uint64_t blocked_until = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> map;
  };
  Shard& shardFor(std::string_view addr);
  uint32_t max_failures_;
  uint64_t window_, block_;
  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace gw::auth
