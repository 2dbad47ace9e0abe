#include "auth/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "core/util.h"

namespace gw::auth {
namespace {

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool isHex(char c) { return (c >= '0' && c <= '9') || (lowerAscii(c) >= 'a' && lowerAscii(c) <= 'f'); }
int hexVal(char c) { return c <= '9' ? c - '0' : lowerAscii(c) - 'a' + 10; }

const EVP_MD* evpFor(Hash h) {
  switch (h) {
    case Hash::MD5: return EVP_md5();
    case Hash::SHA256: return EVP_sha256();
    case Hash::SHA512_256: return EVP_sha512_256();
  }
  return nullptr;
}

// RFC 8187 ext-value: charset "'" [language] "'" value-chars; only UTF-8 is accepted.
std::optional<std::string> decodeExtValue(std::string_view v) {
  size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  if (!ieq(v.substr(0, q1), "UTF-8")) return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%') {
      if (i + 2 >= v.size() || !isHex(v[i + 1]) || !isHex(v[i + 2])) return std::nullopt;
      out += static_cast<char>(hexVal(v[i + 1]) * 16 + hexVal(v[i + 2]));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

}  // namespace

std::optional<Algorithm> parseAlgorithm(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, Algorithm>, 6> kNames{{
      {"MD5", {Hash::MD5, false}},
      {"MD5-sess", {Hash::MD5, true}},
      {"SHA-256", {Hash::SHA256, false}},
      {"SHA-256-sess", {Hash::SHA256, true}},
      {"SHA-512-256", {Hash::SHA512_256, false}},
      {"SHA-512-256-sess", {Hash::SHA512_256, true}},
  }};
  for (const auto& [n, a] : kNames) {
    if (ieq(n, name)) return a;
  }
  return std::nullopt;
}

const char* hashName(Hash h) {
  switch (h) {
    case Hash::MD5: return "MD5";
    case Hash::SHA256: return "SHA-256";
    case Hash::SHA512_256: return "SHA-512-256";
  }
  return "?";
}

std::string algorithmName(Algorithm a) { return std::string(hashName(a.hash)) + (a.sess ? "-sess" : ""); }

std::optional<Hash> parseHashName(std::string_view name) {
  auto a = parseAlgorithm(name);
  if (!a) return std::nullopt;
  return a->hash;
}

size_t hashHexLength(Hash h) { return h == Hash::MD5 ? 32 : 64; }

int algorithmRank(Algorithm a) {
  int base = a.hash == Hash::SHA512_256 ? 0 : a.hash == Hash::SHA256 ? 2 : 4;
  return base + (a.sess ? 1 : 0);
}

std::string hashHex(Hash h, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, evpFor(h), nullptr) != 1) return {};
  return hexEncode(md, len);
}

std::string computeHa1(Hash h, std::string_view user, std::string_view realm, std::string_view password) {
  std::string s;
  s.reserve(user.size() + realm.size() + password.size() + 2);
  s.append(user).append(":").append(realm).append(":").append(password);
  std::string out = hashHex(h, s);
  OPENSSL_cleanse(s.data(), s.size());
  return out;
}

const char* parseErrorText(ParseError e) {
  switch (e) {
    case ParseError::NotDigest: return "not a Digest authorization";
    case ParseError::Syntax: return "malformed Digest parameters";
    case ParseError::Duplicate: return "duplicate Digest parameter";
    case ParseError::TooLong: return "Authorization header too long";
    case ParseError::Missing: return "a required Digest parameter is missing";
    case ParseError::BadValue: return "invalid Digest parameter value";
  }
  return "?";
}

ParseResult parseAuthorization(std::string_view v) {
  ParseResult r;
  auto fail = [&](ParseError e) {
    r.creds.reset();
    r.error = e;
    return r;
  };
  if (v.size() > kMaxAuthorizationBytes) return fail(ParseError::TooLong);
  size_t i = 0;
  auto skipOws = [&] {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
  };
  skipOws();
  size_t s = i;
  while (i < v.size() && isTchar(static_cast<unsigned char>(v[i]))) ++i;
  if (!ieq(v.substr(s, i - s), "Digest")) return fail(ParseError::NotDigest);
  if (i >= v.size() || (v[i] != ' ' && v[i] != '\t')) return fail(ParseError::Syntax);

  DigestCredentials c;
  std::string username_ext_raw;
  uint32_t seen = 0;
  enum Bit : uint32_t {
    kUser = 1, kUserExt = 2, kRealm = 4, kNonce = 8, kUri = 16, kResponse = 32, kAlg = 64, kCnonce = 128,
    kOpaque = 256, kQop = 512, kNc = 1024, kUserhash = 2048
  };
  int params = 0;
  while (true) {
    skipOws();
    while (i < v.size() && (v[i] == ',' || v[i] == ' ' || v[i] == '\t')) ++i;  // empty list elements
    if (i >= v.size()) break;
    if (++params > 32) return fail(ParseError::Syntax);
    size_t ns = i;
    while (i < v.size() && isTchar(static_cast<unsigned char>(v[i]))) ++i;
    std::string_view name = v.substr(ns, i - ns);
    if (name.empty()) return fail(ParseError::Syntax);
    skipOws();
    if (i >= v.size() || v[i] != '=') return fail(ParseError::Syntax);
    ++i;
    skipOws();
    std::string value;
    bool quoted = false;
    if (i < v.size() && v[i] == '"') {
      quoted = true;
      ++i;
      bool closed = false;
      while (i < v.size()) {
        char ch = v[i];
        if (ch == '"') {
          closed = true;
          ++i;
          break;
        }
        if (ch == '\\') {
          if (i + 1 >= v.size()) return fail(ParseError::Syntax);
          ch = v[i + 1];
          i += 2;
        } else {
          ++i;
        }
        unsigned char u = static_cast<unsigned char>(ch);
        if ((u < 0x20 && u != '\t') || u == 0x7f) return fail(ParseError::Syntax);
        value += ch;
      }
      if (!closed) return fail(ParseError::Syntax);
    } else {
      size_t vs = i;
      while (i < v.size() && isTchar(static_cast<unsigned char>(v[i]))) ++i;
      if (i == vs) return fail(ParseError::Syntax);
      value.assign(v.substr(vs, i - vs));
    }
    skipOws();
    if (i < v.size() && v[i] != ',') return fail(ParseError::Syntax);

    auto take = [&](uint32_t bit, std::string& field) -> bool {
      if (seen & bit) return false;
      seen |= bit;
      field = std::move(value);
      return true;
    };
    bool ok = true;
    if (ieq(name, "username")) ok = take(kUser, c.username);
    else if (ieq(name, "username*")) {
      if (quoted) return fail(ParseError::BadValue);
      ok = take(kUserExt, username_ext_raw);
    }
    else if (ieq(name, "realm")) ok = take(kRealm, c.realm);
    else if (ieq(name, "nonce")) ok = take(kNonce, c.nonce);
    else if (ieq(name, "uri")) ok = take(kUri, c.uri);
    else if (ieq(name, "response")) ok = take(kResponse, c.response);
    else if (ieq(name, "algorithm")) ok = take(kAlg, c.algorithm);
    else if (ieq(name, "cnonce")) ok = take(kCnonce, c.cnonce);
    else if (ieq(name, "opaque")) ok = take(kOpaque, c.opaque);
    else if (ieq(name, "qop")) ok = take(kQop, c.qop);
    else if (ieq(name, "nc")) ok = take(kNc, c.nc);
    else if (ieq(name, "userhash")) {
      std::string uh;
      ok = take(kUserhash, uh);
      if (ok) {
        if (ieq(uh, "true")) c.userhash = true;
        else if (ieq(uh, "false")) c.userhash = false;
        else return fail(ParseError::BadValue);
      }
    }
    if (!ok) return fail(ParseError::Duplicate);
  }

  if ((seen & kUser) && (seen & kUserExt)) return fail(ParseError::BadValue);
  if (seen & kUserExt) {
    auto decoded = decodeExtValue(username_ext_raw);
    if (!decoded) return fail(ParseError::BadValue);
    c.username = std::move(*decoded);
    c.username_ext = true;
  }
  constexpr uint32_t kRequired = kRealm | kNonce | kUri | kResponse;
  if ((seen & kRequired) != kRequired || !(seen & (kUser | kUserExt))) return fail(ParseError::Missing);
  if (seen & kQop) {
    if (!(seen & kNc) || !(seen & kCnonce)) return fail(ParseError::Missing);
    if (c.nc.size() != 8) return fail(ParseError::BadValue);
    for (char ch : c.nc) {
      if (!isHex(ch)) return fail(ParseError::BadValue);
    }
    if (c.cnonce.empty()) return fail(ParseError::BadValue);
  }
  if (c.username.empty() || c.response.empty() || c.nonce.empty() || c.uri.empty()) return fail(ParseError::BadValue);
  r.creds = std::move(c);
  return r;
}

std::string computeResponse(const ResponseInput& in) {
  std::string ha1(in.ha1);
  if (in.alg.sess) {
    std::string s;
    s.append(in.ha1).append(":").append(in.nonce).append(":").append(in.cnonce);
    ha1 = hashHex(in.alg.hash, s);
  }
  std::string a2;
  a2.append(in.method).append(":").append(in.uri);
  if (in.qop == "auth-int") a2.append(":").append(in.body_hash);
  const std::string ha2 = hashHex(in.alg.hash, a2);
  std::string kd;
  kd.append(ha1).append(":").append(in.nonce).append(":").append(in.nc).append(":").append(in.cnonce);
  kd.append(":").append(in.qop).append(":").append(ha2);
  return hashHex(in.alg.hash, kd);
}

BodyHasher::BodyHasher(Hash h) : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), evpFor(h), nullptr);
}

BodyHasher::~BodyHasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void BodyHasher::update(const void* data, size_t len) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len); }

std::string BodyHasher::finishHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len) != 1) return {};
  return hexEncode(md, len);
}

std::string computeRspauth(ResponseInput in) {
  in.method = "";
  return computeResponse(in);
}

bool hexEqualConstantTime(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  std::string la(a), lb(b);
  for (auto& ch : la) ch = lowerAscii(ch);
  for (auto& ch : lb) ch = lowerAscii(ch);
  return CRYPTO_memcmp(la.data(), lb.data(), la.size()) == 0;
}

std::string quote(std::string_view v) {
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

}  // namespace gw::auth
