#include "auth/nonce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "core/util.h"

namespace gw::auth {
namespace {

constexpr size_t kRawLen = 32;  // 8 issued + 8 random + 16 mac

int hexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // nonces are minted lower-case; anything else is not ours
}

}  // namespace

uint64_t unixSeconds() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

NonceCodec::NonceCodec(std::string secret, uint64_t lifetime_seconds) : secret_(std::move(secret)), lifetime_(lifetime_seconds) {
  if (secret_.empty()) {
    secret_.resize(32);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret_.data()), 32) != 1) abort();  // no CSPRNG: fatal
  }
}

std::string NonceCodec::mac(std::string_view realm, const unsigned char* prefix16) const {
  std::string msg;
  msg.reserve(realm.size() + 17);
  msg.append(realm);
  msg.push_back('\0');
  msg.append(reinterpret_cast<const char*>(prefix16), 16);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), 16);
}

std::string NonceCodec::mint(std::string_view realm, uint64_t now) const {
  unsigned char raw[kRawLen];
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<unsigned char>(now >> (56 - 8 * i));
  if (RAND_bytes(raw + 8, 8) != 1) abort();
  std::string m = mac(realm, raw);
  memcpy(raw + 16, m.data(), 16);
  return hexEncode(raw, kRawLen);
}

NonceCodec::Verified NonceCodec::verify(std::string_view realm, std::string_view nonce, uint64_t now) const {
  Verified v;
  if (nonce.size() != kRawLen * 2) return v;
  unsigned char raw[kRawLen];
  for (size_t i = 0; i < kRawLen; ++i) {
    int hi = hexNibble(nonce[2 * i]), lo = hexNibble(nonce[2 * i + 1]);
    if (hi < 0 || lo < 0) return v;
    raw[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  std::string m = mac(realm, raw);
  if (CRYPTO_memcmp(m.data(), raw + 16, 16) != 0) return v;
  uint64_t issued = 0;
  for (int i = 0; i < 8; ++i) issued = (issued << 8) | raw[i];
  v.issued = issued;
  // A nonce from the future (clock stepped back, or a forged one — impossible without the
  // secret) is treated as expired too.
  v.status = (issued > now + 5 || now - issued > lifetime_) ? Status::Stale : Status::Ok;
  return v;
}

ReplayTable::ReplayTable(size_t max_entries, uint64_t lifetime_seconds)
    : per_shard_(std::max<size_t>(1, max_entries / kShards)), lifetime_(lifetime_seconds) {}

void ReplayTable::makeRoom(Shard& s, uint64_t now) {
  std::erase_if(s.map, [&](const auto& kv) { return kv.second.issued + lifetime_ < now; });
  if (s.map.size() < per_shard_) return;
  uint64_t oldest = UINT64_MAX;
  for (const auto& kv : s.map) oldest = std::min(oldest, kv.second.issued);
  s.floor = std::max(s.floor, oldest);
  std::erase_if(s.map, [&](const auto& kv) { return kv.second.issued <= s.floor; });
}

ReplayTable::Verdict ReplayTable::check(std::string_view nonce, uint32_t nc, uint64_t issued, uint64_t now) {
  Shard& s = shards_[std::hash<std::string_view>{}(nonce) % kShards];
  std::lock_guard lock(s.mu);
  if (issued <= s.floor) return Verdict::Stale;
  auto it = s.map.find(std::string(nonce));
  if (it != s.map.end()) {
    if (nc <= it->second.nc) return Verdict::Replay;
    it->second.nc = nc;
    return Verdict::Fresh;
  }
  if (s.map.size() >= per_shard_) {
    makeRoom(s, now);
    if (issued <= s.floor) return Verdict::Stale;
  }
  s.map.emplace(std::string(nonce), Entry{nc, issued});
  return Verdict::Fresh;
}

size_t ReplayTable::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace gw::auth
