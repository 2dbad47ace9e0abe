#pragma once
// The pure, socket- and file-free parts of the static-file upstream: request-path decoding and
// checking, HTTP dates, entity tags, RFC 9110 conditional requests (§13) and byte ranges (§14).
// Everything here is a plain function over strings and numbers, so unit tests and the fuzzer
// (tests/fuzz/static_path) drive it directly.
//
// Threading: every function is reentrant. Errors: never throws; refusals are values.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::statics {

// ---------------------------------------------------------------------------------------------
// Paths

enum class PathError {
  None,
  BadEscape,     // 400: '%' not followed by two hex digits
  EncodedSlash,  // 400: %2F (a '/' that is not a segment separator)
  Nul,           // 400: %00 or a raw NUL
  Backslash,     // 400: '\' (raw or %5C); never a separator here, refused to avoid Windows-style traversal
  DotSegment,    // 400: a "." or ".." segment (after decoding)
  Dotfile,       // 404: a segment starting with '.' while dotfiles are not allowed
  NotOrigin,     // 400: does not start with '/'
};
const char* pathErrorCode(PathError e);  // stable details code, e.g. "static_encoded_slash"
int pathErrorStatus(PathError e);

struct ResolvedPath {
  PathError error = PathError::None;
  // Decoded segments, none empty ("//" collapses, as nginx merge_slashes), none "." or "..".
  std::vector<std::string> segments;
  bool trailing_slash = false;  // the request names a directory ("/", "/docs/")
  // "a/b/c" (relative to the root; empty for the root itself).
  std::string relative() const;
};

// Decodes and checks the percent-encoded origin-form path (query already removed).
ResolvedPath resolvePath(std::string_view raw_path, bool allow_dotfiles);

// True if `name` is acceptable as a directory index file name (one segment, no '/', not "."/"..",
// no NUL, not empty). Inline: the config loader checks `index` with it too.
inline bool isPlainFileName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dates and entity tags

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") from Unix seconds.
std::string formatHttpDate(int64_t unix_seconds);
// Parses IMF-fixdate, RFC 850 and asctime dates (RFC 9110 §5.6.7). nullopt if invalid.
std::optional<int64_t> parseHttpDate(std::string_view s);

// Strong validator from size and modification time (ns resolution), nginx-like: "<mtime>-<size>".
std::string makeEtag(uint64_t size, int64_t mtime_sec, long mtime_nsec);

// ---------------------------------------------------------------------------------------------
// Conditional requests (RFC 9110 §13.2.2 order of evaluation)

struct Validators {
  std::string etag;       // strong, quoted
  int64_t last_modified;  // Unix seconds
};

enum class Precondition { Proceed, NotModified /*304*/, Failed /*412*/ };

struct ConditionalHeaders {
  std::optional<std::string_view> if_match{};
  std::optional<std::string_view> if_none_match{};
  std::optional<std::string_view> if_modified_since{};
  std::optional<std::string_view> if_unmodified_since{};
};

// `get_or_head`: If-None-Match / If-Modified-Since give 304 only for GET and HEAD.
Precondition evaluatePreconditions(const ConditionalHeaders& h, const Validators& v, bool get_or_head);

// Does an entity-tag list match `etag`? `weak` chooses the comparison function (If-None-Match
// uses weak, If-Match strong). "*" matches anything. A malformed list matches nothing.
bool etagListMatches(std::string_view list, std::string_view etag, bool weak);

// If-Range (RFC 9110 §13.1.5): true if the Range header should be honoured. An entity tag is
// compared strongly (a weak tag never matches); a date must equal Last-Modified exactly.
bool ifRangeMatches(std::string_view if_range, const Validators& v);

// ---------------------------------------------------------------------------------------------
// Ranges (RFC 9110 §14)

struct RangeResult {
  enum Kind {
    Ignore,         // no/invalid/unsupported Range: answer 200 with the whole representation
    Single,         // 206 with [first, last]
    Multiple,       // several satisfiable ranges: this gateway answers 200 with the whole file
    Unsatisfiable,  // 416 with "Content-Range: bytes */size"
  } kind = Ignore;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// At most this many ranges are looked at; more makes the header ignored (a cheap-DoS guard).
inline constexpr size_t kMaxRanges = 64;

RangeResult parseRange(std::string_view header, uint64_t size);

}  // namespace gw::statics
