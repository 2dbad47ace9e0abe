#pragma once
// Credential store read from an htdigest-format file.
//
// Format, one credential per line:  user:realm:HA1[:algorithm]
//   HA1        lower- or upper-case hex of H(user ":" realm ":" password)
//   algorithm  MD5 (the default when the column is absent, as Apache's htdigest writes it),
//              SHA-256 or SHA-512-256 (the -sess names are accepted and mean the same hash).
// Blank lines and lines starting with '#' are ignored. A user may have one line per realm and
// hash. ':' cannot appear in user or realm. Any malformed line makes the whole file invalid.
//
// The store is shared by every worker. lookups take a shared_ptr snapshot of the table (one short
// mutex section); maybeReload() stats the file at most once per second and swaps in a new table
// when it changed, keeping the old one (and logging why) if the new file is broken.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/digest.h"

namespace gw::auth {

struct CredentialTable {
  // key: user + '\0' + realm + '\0' + hash name → lower-case hex HA1
  std::unordered_map<std::string, std::string> ha1;
  // key: hash name + '\0' + realm + '\0' + H(user ":" realm) → user (for userhash=true)
  std::unordered_map<std::string, std::string> by_userhash;
  size_t lines = 0;

  const std::string* find(std::string_view user, std::string_view realm, Hash h) const;
  const std::string* userForHash(Hash h, std::string_view realm, std::string_view userhash) const;
};

struct CredentialLine {
  std::string user, realm, ha1;
  Hash hash = Hash::MD5;
  bool has_alg_column = false;
};
// Parses one non-comment line; error text in *why on failure.
std::optional<CredentialLine> parseCredentialLine(std::string_view line, std::string* why);
// Parses a whole file's text; on failure, *why is "line N: reason".
std::shared_ptr<const CredentialTable> parseCredentialFile(std::string_view text, std::string* why);

class CredentialStore {
 public:
  // Loads `path` now; fails (nullptr, *why) if unreadable or broken.
  static std::shared_ptr<CredentialStore> open(const std::string& path, std::string* why);
  std::shared_ptr<const CredentialTable> table() const;
  // Checks the file's mtime/size/inode at most once per second (`now_ms` is a steady clock value)
  // and reloads it when it changed. Returns true if a new table was installed.
  bool maybeReload(int64_t now_ms);
  // Forces a check now (tests).
  bool reloadIfChanged();
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    uint64_t ino = 0;
    bool operator==(const Stamp&) const = default;
  };
  static std::optional<Stamp> stat(const std::string& path);
  std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const CredentialTable> table_;
  Stamp stamp_;          // guarded by mu_
  Stamp failed_stamp_;   // last broken version seen (logged once)
  std::atomic<int64_t> next_check_ms_{0};
};

}  // namespace gw::auth
