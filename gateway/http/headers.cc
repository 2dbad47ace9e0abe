#include "http/headers.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "core/util.h"

namespace gw::http {

struct HeaderMap::Block {
  Block* prev;
  size_t size;
  size_t used;
  char data[];
};

namespace {
constexpr size_t kFirstBlock = 512;
constexpr size_t kMaxBlock = 16384;
}  // namespace

HeaderMap::HeaderMap(std::initializer_list<HeaderField> fields) {
  reserve(fields.size());
  for (const auto& f : fields) add(f.name, f.value);
}

HeaderMap::HeaderMap(const HeaderMap& other) { *this = other; }

HeaderMap& HeaderMap::operator=(const HeaderMap& other) {
  if (this == &other) return *this;
  clear();
  size_t bytes = 0;
  for (const auto& f : other.fields_) bytes += f.name.size() + f.value.size();
  reserve(other.fields_.size(), bytes);
  for (const auto& f : other.fields_) add(f.name, f.value);
  return *this;
}

HeaderMap::HeaderMap(HeaderMap&& other) noexcept
    : fields_(std::move(other.fields_)), block_(std::exchange(other.block_, nullptr)) {
  other.fields_.clear();
}

HeaderMap& HeaderMap::operator=(HeaderMap&& other) noexcept {
  if (this != &other) {
    freeBlocks();
    fields_ = std::move(other.fields_);
    other.fields_.clear();
    block_ = std::exchange(other.block_, nullptr);
  }
  return *this;
}

HeaderMap::~HeaderMap() { freeBlocks(); }

void HeaderMap::freeBlocks() {
  while (block_) {
    Block* prev = block_->prev;
    ::operator delete(block_);
    block_ = prev;
  }
}

void HeaderMap::clear() {
  fields_.clear();
  freeBlocks();
}

void HeaderMap::newBlock(size_t min) {
  size_t size = block_ ? std::min(block_->size * 2, kMaxBlock) : kFirstBlock;
  size = std::max(size, min);
  auto* b = static_cast<Block*>(::operator new(sizeof(Block) + size));
  b->prev = block_;
  b->size = size;
  b->used = 0;
  block_ = b;
}

char* HeaderMap::allocate(size_t n) {
  if (!block_ || block_->size - block_->used < n) newBlock(n);
  char* p = block_->data + block_->used;
  block_->used += n;
  return p;
}

void HeaderMap::add(std::string_view name, std::string_view value) {
  char* p = allocate(name.size() + value.size());
  copyBytes(p, name.data(), name.size());
  copyBytes(p + name.size(), value.data(), value.size());
  fields_.push_back({{p, name.size()}, {p + name.size(), value.size()}});
}

void HeaderMap::reserve(size_t fields, size_t bytes) {
  fields_.reserve(fields);
  if (bytes > 0 && (!block_ || block_->size - block_->used < bytes)) newBlock(bytes);
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

size_t HeaderMap::remove(std::string_view name) {
  return removeIf([&](std::string_view n) { return iequals(n, name); });
}

void HeaderMap::lowerCaseNames() {
  for (const auto& f : fields_) {
    // The map's own bytes (add() copies every field into its blocks).
    toLowerInPlace(const_cast<char*>(f.name.data()), f.name.size());
  }
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) return f.value;
  }
  return std::nullopt;
}

size_t HeaderMap::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& f : fields_) n += iequals(f.name, name) ? 1 : 0;
  return n;
}

std::string HeaderMap::getCombined(std::string_view name) const {
  std::string out;
  for (const auto& f : fields_) {
    if (!iequals(f.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += f.value;
  }
  return out;
}

namespace {
// Bit 1: RFC 9110 tchar. Bit 2: allowed in a field value (VCHAR, obs-text, SP, HTAB).
constexpr std::array<uint8_t, 256> kCharClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    for (char x : std::string_view("!#$%&'*+-.^_`|~")) tchar = tchar || c == x;
    bool value = (c >= 0x20 && c != 0x7f) || c == '\t';
    t[c] = static_cast<uint8_t>((tchar ? 1 : 0) | (value ? 2 : 0));
  }
  return t;
}();
}  // namespace

bool isTokenChar(unsigned char c) { return kCharClass[c] & 1; }

size_t tokenLength(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i + 4 <= n && (kCharClass[p[i]] & kCharClass[p[i + 1]] & kCharClass[p[i + 2]] & kCharClass[p[i + 3]] & 1)) {
    i += 4;
  }
  while (i < n && (kCharClass[p[i]] & 1)) ++i;
  return i;
}

bool isValidFieldName(std::string_view name) { return !name.empty() && tokenLength(name) == name.size(); }

bool isValidAuthority(std::string_view authority) {
  if (authority.empty() || authority.size() > 255) return false;
  static constexpr auto kAllowed = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) {
      t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("-.:[]_").find(static_cast<char>(c)) != std::string_view::npos;
    }
    return t;
  }();
  for (unsigned char c : authority) {
    if (!kAllowed[c]) return false;
  }
  return true;
}

bool isForwardingField(std::string_view name) {
  switch (name.size()) {  // cheap dispatch on length before comparing
    case 9: return iequals(name, "forwarded") || iequals(name, "x-real-ip");
    case 15: return iequals(name, "x-forwarded-for");
    case 16: return iequals(name, "x-forwarded-host") || iequals(name, "x-forwarded-port");
    case 17: return iequals(name, "x-forwarded-proto");
    default: return false;
  }
}

bool isValidFieldValue(std::string_view value) {
  // Eight bytes at a time: a word with a byte below 0x20 or equal to 0x7f (SWAR "has less" and
  // "has zero" tests) is checked byte by byte, since HTAB is allowed.
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  const char* p = value.data();
  const size_t n = value.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    std::memcpy(&x, p + i, 8);
    const uint64_t del = x ^ (0x7f * k01);
    if ((((x - 0x20 * k01) & ~x) | ((del - k01) & ~del)) & k80) break;
  }
  for (; i < n; ++i) {
    if (!(kCharClass[static_cast<unsigned char>(p[i])] & 2)) return false;
  }
  return true;
}

std::vector<std::string_view> splitList(std::string_view value) {
  std::vector<std::string_view> out;
  forEachListItem(value, [&](std::string_view item) {
    out.push_back(item);
    return true;
  });
  return out;
}

namespace {
bool isHopByHopName(std::string_view name) {
  switch (name.size()) {  // cheap dispatch on length before comparing
    case 2: return iequals(name, "te");
    case 7: return iequals(name, "upgrade") || iequals(name, "trailer");
    case 10: return iequals(name, "connection") || iequals(name, "keep-alive");
    case 16: return iequals(name, "proxy-connection");
    case 17: return iequals(name, "transfer-encoding");
    default: return false;
  }
}

// Out of line: HTTP/2 requests have no hop-by-hop field, so their path stays short (HTTP/1
// messages with Connection or Transfer-Encoding come here).
[[gnu::noinline]] void removeHopByHopFields(HeaderMap& headers) {
  std::vector<std::string> named;  // fields listed in Connection
  for (const auto& f : headers.fields()) {
    if (!iequals(f.name, "connection")) continue;
    forEachListItem(f.value, [&](std::string_view token) {
      // Never let a client strip framing or identity headers by naming them in Connection.
      if (!(iequals(token, "content-length") || iequals(token, "host") || iequals(token, "keep-alive") ||
            iequals(token, "close"))) {
        named.emplace_back(token);
      }
      return true;
    });
  }
  headers.removeIf([&](std::string_view name) {
    if (isHopByHopName(name)) return true;
    for (const auto& n : named) {
      if (iequals(name, n)) return true;
    }
    return false;
  });
}
}  // namespace

void removeHopByHop(HeaderMap& headers) {
  // Fields named in Connection are removed too, and a Connection field is itself hop-by-hop: with
  // no hop-by-hop name present there is nothing to do.
  for (const auto& f : headers.fields()) {
    if (isHopByHopName(f.name)) return removeHopByHopFields(headers);
  }
}

void removeForbiddenTrailers(HeaderMap& trailers, const std::vector<std::string>& also) {
  removeHopByHop(trailers);
  static const char* const kForbidden[] = {
      "content-length", "content-encoding", "content-type", "content-range", "trailer", "host",
      "cache-control", "expect", "max-forwards", "pragma", "range", "authorization", "proxy-authorization",
      "www-authenticate", "proxy-authenticate", "authentication-info", "cookie", "set-cookie", "age", "date",
      "expires", "location", "retry-after", "vary", "forwarded", "x-real-ip"};
  trailers.removeIf([&](std::string_view name) {
    auto prefixed = [&](std::string_view p) { return name.size() >= p.size() && iequals(name.substr(0, p.size()), p); };
    if (name.empty() || name[0] == ':' || prefixed("if-") || prefixed("x-forwarded-")) return true;
    for (const char* f : kForbidden) {
      if (iequals(name, f)) return true;
    }
    for (const auto& n : also) {
      if (iequals(name, n)) return true;
    }
    return false;
  });
}

}  // namespace gw::http
