#pragma once
// HTTP Digest access authentication (RFC 7616): the Authorization header parser, the algorithms
// (MD5, SHA-256, SHA-512-256 and their -sess variants, via OpenSSL EVP) and the response
// computation. Pure functions, thread-safe, no I/O: the filter, the gw-digest tool, the unit tests
// and the fuzzer all share them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::auth {

// The hash behind an algorithm; a credential (HA1) belongs to one hash.
enum class Hash : uint8_t { MD5, SHA256, SHA512_256 };

struct Algorithm {
  Hash hash = Hash::MD5;
  bool sess = false;
  bool operator==(const Algorithm&) const = default;
};

// "MD5", "MD5-sess", "SHA-256", ... (ASCII case-insensitive). nullopt for anything else.
std::optional<Algorithm> parseAlgorithm(std::string_view name);
std::string algorithmName(Algorithm a);  // canonical RFC 7616 spelling
const char* hashName(Hash h);            // "MD5", "SHA-256", "SHA-512-256"
std::optional<Hash> parseHashName(std::string_view name);  // also accepts the -sess names
size_t hashHexLength(Hash h);            // 32 or 64
// Strength rank for ordering challenges, strongest first (SHA-512-256 ... MD5-sess).
int algorithmRank(Algorithm a);

// Lower-case hex of the digest of `data` (empty string if OpenSSL refuses, e.g. FIPS without MD5).
std::string hashHex(Hash h, std::string_view data);
// H(user ":" realm ":" password)
std::string computeHa1(Hash h, std::string_view user, std::string_view realm, std::string_view password);

// Parsed "Authorization: Digest ..." credentials. Values are unquoted (quoted-pairs resolved).
struct DigestCredentials {
  std::string username;   // from username, or decoded from username* (RFC 8187, UTF-8 only)
  bool username_ext = false;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string algorithm;  // as sent; empty = absent (RFC: MD5)
  std::string cnonce;
  std::string opaque;
  std::string qop;
  std::string nc;
  bool userhash = false;
};

enum class ParseError { NotDigest, Syntax, Duplicate, TooLong, Missing, BadValue };
const char* parseErrorText(ParseError e);

struct ParseResult {
  std::optional<DigestCredentials> creds;
  ParseError error = ParseError::Syntax;  // meaningful when !creds
};

inline constexpr size_t kMaxAuthorizationBytes = 4096;

// Parses one Authorization field value. Checks syntax (RFC 9110 auth-param list), refuses
// duplicate parameters, requires username/realm/nonce/uri/response, and when qop is present also
// nc (8 hex digits) and cnonce. Unknown parameters are ignored. Never throws; bounded work.
ParseResult parseAuthorization(std::string_view value);

// Everything needed to compute or check a response.
struct ResponseInput {
  Algorithm alg;
  std::string_view ha1;  // hex H(user:realm:password) for alg.hash
  std::string_view nonce;
  std::string_view nc;
  std::string_view cnonce;
  std::string_view qop;  // "auth" or "auth-int"
  std::string_view method;
  std::string_view uri;
  std::string_view body_hash = {};  // auth-int: hex H(entity-body)
};
// The expected request-digest (RFC 7616 §3.4.1), lower-case hex.
std::string computeResponse(const ResponseInput& in);
// Incremental H(entity-body) for qop=auth-int.
class BodyHasher {
 public:
  explicit BodyHasher(Hash h);
  ~BodyHasher();
  BodyHasher(const BodyHasher&) = delete;
  BodyHasher& operator=(const BodyHasher&) = delete;
  void update(const void* data, size_t len);
  std::string finishHex();  // lower-case hex; the hasher is spent afterwards

 private:
  void* ctx_;  // EVP_MD_CTX
};
// The rspauth of Authentication-Info (§3.5): same as above with an empty method.
std::string computeRspauth(ResponseInput in);
// Constant-time equality of two hex strings (ASCII case-insensitive); false on length mismatch.
bool hexEqualConstantTime(std::string_view a, std::string_view b);

// Quotes a value for a header parameter (backslash-escapes '"' and '\').
std::string quote(std::string_view v);

}  // namespace gw::auth
