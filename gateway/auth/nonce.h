#pragma once
// Stateless Digest nonces and the replay table.
//
// NonceCodec: a nonce is hex(issued_seconds[8] | random[8] | HMAC-SHA256(secret, realm | issued |
// random)[:16]), 64 characters. Any worker verifies it with the shared secret; it is bound to the
// realm (a nonce minted for another realm fails the MAC) and expires after `lifetime`.
//
// ReplayTable: nonce → highest nonce-count accepted, shared by every worker thread. Sixteen shards,
// each a mutex around a small hash map; a critical section is one lookup/insert. Memory is bounded:
// a full shard first drops expired nonces, then evicts its oldest second(s) of nonces and raises a
// floor — nonces issued at or before the floor answer Stale (the client retries with a fresh one),
// so an evicted nonce can never be replayed.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gw::auth {

class NonceCodec {
 public:
  // `secret` empty: 32 random bytes are generated (nonces then die with the process).
  NonceCodec(std::string secret, uint64_t lifetime_seconds);
  std::string mint(std::string_view realm, uint64_t now_seconds) const;

  enum class Status { Ok, Stale, Invalid };
  struct Verified {
    Status status = Status::Invalid;
    uint64_t issued = 0;
  };
  Verified verify(std::string_view realm, std::string_view nonce, uint64_t now_seconds) const;
  uint64_t lifetime() const { return lifetime_; }

 private:
  std::string mac(std::string_view realm, const unsigned char* prefix16) const;  // 16 raw bytes
  std::string secret_;
  uint64_t lifetime_;
};

class ReplayTable {
 public:
  ReplayTable(size_t max_entries, uint64_t lifetime_seconds);
  enum class Verdict { Fresh, Replay, Stale };
  // Records `nc` for `nonce` if it is higher than every count accepted before.
  Verdict check(std::string_view nonce, uint32_t nc, uint64_t issued, uint64_t now_seconds);
  size_t size() const;
  size_t capacity() const { return per_shard_ * kShards; }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    uint32_t nc;
    uint64_t issued;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> map;
    uint64_t floor = 0;  // nonces issued at or before this second may have been evicted
  };
  void makeRoom(Shard& s, uint64_t now);
  size_t per_shard_;
  uint64_t lifetime_;
  std::array<Shard, kShards> shards_;
};

// Seconds since the Unix epoch (nonce timestamps).
uint64_t unixSeconds();

}  // namespace gw::auth
