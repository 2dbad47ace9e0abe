#include "auth/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/log.h"

namespace gw::auth {
namespace {

std::string key3(std::string_view a, std::string_view b, std::string_view c) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back('\0');
  k.append(b).push_back('\0');
  k.append(c);
  return k;
}

bool readAll(const std::string& path, std::string& out, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = "cannot read " + path + ": " + strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

const std::string* CredentialTable::find(std::string_view user, std::string_view realm, Hash h) const {
  auto it = ha1.find(key3(user, realm, hashName(h)));
  return it == ha1.end() ? nullptr : &it->second;
}

const std::string* CredentialTable::userForHash(Hash h, std::string_view realm, std::string_view userhash) const {
  std::string k(hashName(h));
  k.push_back('\0');
  k.append(realm).push_back('\0');
  for (char c : userhash) k.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  auto it = by_userhash.find(k);
  return it == by_userhash.end() ? nullptr : &it->second;
}

std::optional<CredentialLine> parseCredentialLine(std::string_view line, std::string* why) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> cols;
  size_t start = 0;
  while (true) {
    size_t c = line.find(':', start);
    cols.push_back(line.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start));
    if (c == std::string_view::npos) break;
    start = c + 1;
  }
  if (cols.size() != 3 && cols.size() != 4) {
    *why = "expected user:realm:HA1[:algorithm]";
    return std::nullopt;
  }
  CredentialLine out;
  out.user = cols[0];
  out.realm = cols[1];
  if (out.user.empty()) {
    *why = "empty user name";
    return std::nullopt;
  }
  for (char ch : line) {
    if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') {
      *why = "control character";
      return std::nullopt;
    }
  }
  if (cols.size() == 4) {
    auto h = parseHashName(cols[3]);
    if (!h) {
      *why = "unknown algorithm '" + std::string(cols[3]) + "'";
      return std::nullopt;
    }
    out.hash = *h;
    out.has_alg_column = true;
  }
  std::string_view ha1 = cols[2];
  if (ha1.size() != hashHexLength(out.hash)) {
    *why = std::string("HA1 must be ") + std::to_string(hashHexLength(out.hash)) + " hex digits for " + hashName(out.hash);
    return std::nullopt;
  }
  for (char ch : ha1) {
    char l = (ch >= 'A' && ch <= 'F') ? static_cast<char>(ch + 32) : ch;
    if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) {
      *why = "HA1 is not hex";
      return std::nullopt;
    }
    out.ha1.push_back(l);
  }
  return out;
}

std::shared_ptr<const CredentialTable> parseCredentialFile(std::string_view text, std::string* why) {
  auto t = std::make_shared<CredentialTable>();
  size_t lineno = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.back() == '\r' || trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    std::string err;
    auto cl = parseCredentialLine(trimmed, &err);
    if (!cl) {
      *why = "line " + std::to_string(lineno) + ": " + err;
      return nullptr;
    }
    const char* hn = hashName(cl->hash);
    if (!t->ha1.emplace(key3(cl->user, cl->realm, hn), cl->ha1).second) {
      *why = "line " + std::to_string(lineno) + ": duplicate entry for user '" + cl->user + "' in realm '" + cl->realm + "' (" + hn + ")";
      return nullptr;
    }
    std::string uh(hn);
    uh.push_back('\0');
    uh.append(cl->realm).push_back('\0');
    uh += hashHex(cl->hash, cl->user + ":" + cl->realm);
    t->by_userhash.emplace(std::move(uh), cl->user);
    ++t->lines;
  }
  return t;
}

std::optional<CredentialStore::Stamp> CredentialStore::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  Stamp s;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = st.st_size;
  s.ino = st.st_ino;
  return s;
}

std::shared_ptr<CredentialStore> CredentialStore::open(const std::string& path, std::string* why) {
  auto store = std::make_shared<CredentialStore>();
  store->path_ = path;
  auto st = stat(path);
  std::string text;
  if (!st || !readAll(path, text, why)) {
    if (!st) *why = "cannot read " + path + ": " + strerror(errno);
    return nullptr;
  }
  std::string err;
  auto t = parseCredentialFile(text, &err);
  if (!t) {
    *why = path + ": " + err;
    return nullptr;
  }
  store->table_ = std::move(t);
  store->stamp_ = *st;
  return store;
}

std::shared_ptr<const CredentialTable> CredentialStore::table() const {
  std::lock_guard lock(mu_);
  return table_;
}

bool CredentialStore::maybeReload(int64_t now_ms) {
  int64_t next = next_check_ms_.load(std::memory_order_relaxed);
  if (now_ms < next) return false;
  if (!next_check_ms_.compare_exchange_strong(next, now_ms + 1000, std::memory_order_relaxed)) return false;
  return reloadIfChanged();  // one thread per second gets here
}

bool CredentialStore::reloadIfChanged() {
  auto st = stat(path_);
  {
    std::lock_guard lock(mu_);
    if (!st) {
      if (failed_stamp_ == Stamp{0, -2, 0}) return false;
      failed_stamp_ = Stamp{0, -2, 0};
      GW_LOG(Error, "digest credentials %s: cannot stat (%s); keeping the previous %zu entries", path_.c_str(),
             strerror(errno), table_->lines);
      return false;
    }
    if (*st == stamp_ || *st == failed_stamp_) return false;
  }
  std::string text, why;
  std::shared_ptr<const CredentialTable> t;
  if (readAll(path_, text, &why)) t = parseCredentialFile(text, &why);
  std::lock_guard lock(mu_);
  if (!t) {
    failed_stamp_ = *st;
    GW_LOG(Error, "digest credentials %s: reload refused (%s); keeping the previous %zu entries", path_.c_str(),
           why.c_str(), table_->lines);
    return false;
  }
  table_ = std::move(t);
  stamp_ = *st;
  failed_stamp_ = Stamp{};
  GW_LOG(Notice, "digest credentials %s: reloaded, %zu entries", path_.c_str(), table_->lines);
  return true;
}

}  // namespace gw::auth
