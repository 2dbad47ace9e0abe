#pragma once
// HeaderMap: an ordered list of header fields as received (order and duplicates kept, names
// in their original case); lookups are ASCII case-insensitive. Owned by a request or response
// head; not thread-safe (one stream, one thread).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

// Views into the map's own storage: valid as long as the map lives (also after later add/set/
// remove calls, which never move stored bytes), moved along with the map.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// Field bytes live in a chain of blocks owned by the map (one allocation for a typical head
// instead of one per long name or value); removed fields' bytes are reclaimed with the map.
class HeaderMap {
 public:
  HeaderMap() = default;
  HeaderMap(std::initializer_list<HeaderField> fields);
  HeaderMap(const HeaderMap& other);
  HeaderMap& operator=(const HeaderMap& other);
  HeaderMap(HeaderMap&& other) noexcept;
  HeaderMap& operator=(HeaderMap&& other) noexcept;
  ~HeaderMap();

  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name by one field with this value (appended if absent).
  void set(std::string_view name, std::string_view value);
  // Removes every field with that name; returns how many were removed.
  size_t remove(std::string_view name);
  // Removes, in one pass, every field whose name satisfies `pred`.
  template <class Pred>
  size_t removeIf(Pred pred) {
    size_t before = fields_.size();
    std::erase_if(fields_, [&](const HeaderField& f) { return pred(f.name); });
    return before - fields_.size();
  }
  // Room for `fields` fields and `bytes` bytes of names and values without further allocation.
  void reserve(size_t fields, size_t bytes = 0);
  // First value with that name.
  std::optional<std::string_view> get(std::string_view name) const;
  size_t count(std::string_view name) const;
  // All values of that name joined with ", " (RFC 9110 §5.3 field combining).
  std::string getCombined(std::string_view name) const;

  const std::vector<HeaderField>& fields() const { return fields_; }
  // Lower-cases every field name in place (HTTP/2 output).
  void lowerCaseNames();
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear();

 private:
  struct Block;
  void newBlock(size_t min);
  char* allocate(size_t n);
  void freeBlocks();

  std::vector<HeaderField> fields_;
  Block* block_ = nullptr;  // the block being filled; older ones chained behind it
};

// RFC 9110 token characters (field names, methods).
bool isTokenChar(unsigned char c);
bool isValidFieldName(std::string_view name);
// Length of the leading run of token characters.
size_t tokenLength(std::string_view s);
// Field values: no CR, LF, NUL or other CTLs except HTAB (header-injection refusal).
bool isValidFieldValue(std::string_view value);
// A Host / :authority value the gateway accepts: 1–255 bytes of ASCII letters, digits and -.:[]_
// (a host name, an IPv4 or bracketed IPv6 literal, and a port).
bool isValidAuthority(std::string_view authority);
// X-Forwarded-For/-Proto/-Host/-Port, X-Real-IP, Forwarded: what a proxy says about the client
// (filters/forwarded decides whom to believe).
bool isForwardingField(std::string_view name);

// Removes hop-by-hop fields (RFC 9110 §7.6.1): Connection and every field it names, Keep-Alive,
// TE, Transfer-Encoding, Upgrade, Proxy-Connection, Trailer. Content-Length is left alone.
void removeHopByHop(HeaderMap& headers);
// Trailer fields a proxy must not pass on (RFC 9110 §6.5.1): hop-by-hop fields, message framing,
// routing, request modifiers, authentication, response control data and forwarding/identity
// fields, plus `also` (identity headers the gateway sets, e.g. the Digest user header), so a
// trailer can never smuggle what the header section was checked for.
void removeForbiddenTrailers(HeaderMap& trailers, const std::vector<std::string>& also = {});

// Calls fn(item) for each element of a comma-separated list, OWS trimmed, empty ones skipped.
// Returns false as soon as fn does (early exit), true otherwise. No allocation.
template <class F>
bool forEachListItem(std::string_view value, F fn) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty() && !fn(item)) return false;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return true;
}
// The same elements as a vector of views into `value`.
std::vector<std::string_view> splitList(std::string_view value);

}  // namespace gw::http
