#pragma once

// JSON / YAML parsing into RapidJSON with hard limits, JSON Pointer helpers, URI resolution and
// the store of source documents a spec is made of. Internal to gw_validators.
//
// Include order: this header includes valijson's RapidJSON adapter first, which defines
// RAPIDJSON_ASSERT to throw (see the project README); every TU that uses RapidJSON must include
// this header (or the adapter) before any RapidJSON header.

#include <stdexcept>
#include <string>

// valijson (built with exceptions) defines RAPIDJSON_ASSERT(x) as
// rapidjson_assert(x, __FILE__, __LINE__) with a `const std::string& file` parameter, so every
// assertion on RapidJSON's hot paths (each character pushed while parsing, each GetString())
// builds a std::string. This overload is a better match for the `const char*` argument and is
// declared before valijson's, so calls in RapidJSON's headers resolve to it: same behaviour
// (throw std::runtime_error on a failed assertion), no allocation. Measured: ~2x faster body
// parsing and validation.
template <typename T>
inline T rapidjson_assert(T t, const char* file, int line) {
  if (t) return t;
  throw std::runtime_error(std::string("RapidJSON assertion failed at ") + file + ":" + std::to_string(line));
}

#include <valijson/adapters/rapidjson_adapter.hpp>

#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "validators/result.h"

namespace gw::validators {

// Limits applied while parsing untrusted JSON (bodies, parameter values).
struct JsonLimits {
  int max_depth = 64;                        // arrays + objects nesting
  std::size_t max_string_length = 1u << 20;  // bytes, keys included
};

enum class JsonParseStatus { Ok, Syntax, TooDeep, StringTooLong };

struct JsonParseResult {
  JsonParseStatus status = JsonParseStatus::Ok;
  std::size_t offset = 0;  // byte offset of a syntax error
  std::string message;     // empty on success
};

// Parses `text` into `doc` with RapidJSON's iterative parser (no recursion, no
// kParseFullPrecisionFlag) while enforcing `limits`; the depth and string caps are checked
// during parsing, before any validation runs.
JsonParseResult parseJsonCapped(std::string_view text, rapidjson::Document& doc,
                                const JsonLimits& limits);
// A document whose parse stack also lives in the (per-thread, reused) memory pool: parsing a
// request body then allocates nothing from the heap in the common case.
using ScratchDocument =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, rapidjson::MemoryPoolAllocator<>>;
JsonParseResult parseJsonCapped(std::string_view text, ScratchDocument& doc, const JsonLimits& limits);

// JSON Pointer helpers (RFC 6901).
std::string escapePointerToken(std::string_view token);
void appendPointer(std::string& ptr, std::string_view token);
// Resolves `pointer` (already unescaped-able, '/'-separated) inside `root`; nullptr if absent.
const rapidjson::Value* resolvePointer(const rapidjson::Value& root, std::string_view pointer);
std::string percentDecode(std::string_view s, bool plus_is_space = false);
// Writes a compact JSON rendering (for messages); long output is cut.
std::string toJsonString(const rapidjson::Value& v, std::size_t max_len = 200);

// RFC 3986 reference resolution (section 5.2). Both arguments may carry fragments.
std::string resolveUri(std::string_view base, std::string_view ref);
std::string stripFragment(std::string_view uri);

// One parsed source file of a spec (or an in-memory/remote schema document).
struct SourceDoc {
  std::string uri;    // absolute: file:///abs/path or an http(s)/urn URI
  std::string label;  // what errors print: the path for files, else the URI
  std::string text;   // kept for line lookup on errors
  bool yaml = false;
  rapidjson::Document doc;
  int index = 0;  // position in the store
};

// Loads and owns the documents of one spec. Not thread-safe; used only during loading.
class DocumentStore {
 public:
  // Returns the text of a non-file URI, or nullopt when it cannot be fetched.
  using Fetch = std::function<std::optional<std::string>(const std::string& uri)>;

  struct Limits {
    std::size_t max_file_bytes = 64u << 20;
    std::size_t max_documents = 256;
    int max_depth = 512;
    bool allow_files = true;  // false: $refs to other files are refused (in-memory specs, fuzzing)
  };

  DocumentStore(Limits limits, Fetch fetch) : limits_(limits), fetch_(std::move(fetch)) {}

  // Loads a file from disk (relative paths are made absolute).
  Result<const SourceDoc*> loadFile(const std::string& path);
  // Adds an in-memory document under `uri`.
  Result<const SourceDoc*> addText(const std::string& uri, std::string text);
  // Adds an already parsed JSON value under `uri` (copied).
  const SourceDoc* addValue(const std::string& uri, const rapidjson::Value& v);
  // Returns the document for `uri` (without fragment), loading it on first use.
  Result<const SourceDoc*> get(const std::string& uri);

  // resolvePointer() with a memo: specs resolve the same component pointers thousands of
  // times and RapidJSON's member lookup is linear.
  const rapidjson::Value* resolve(const SourceDoc& doc, const std::string& pointer);

  // 1-based line of the node at `pointer` in `doc` (0 if unknown). Re-parses the text, so only
  // call it on error paths.
  int lineOf(const SourceDoc& doc, std::string_view pointer) const;
  SpecError error(const SourceDoc& doc, std::string pointer, std::string message) const;

  const std::vector<std::unique_ptr<SourceDoc>>& docs() const { return docs_; }
  // Frees what only loading needs (texts, memo tables); documents stay readable.
  void releaseLoadState();

  // An already loaded document (no loading, no memo): usable concurrently once loading is over.
  const SourceDoc* find(const std::string& uri) const {
    auto it = by_uri_.find(stripFragment(uri));
    return it == by_uri_.end() ? nullptr : it->second;
  }

 private:
  Result<const SourceDoc*> parse(std::string uri, std::string label, std::string text);

  Limits limits_;
  Fetch fetch_;
  std::vector<std::unique_ptr<SourceDoc>> docs_;
  std::unordered_map<std::string, SourceDoc*> by_uri_;
  mutable std::unordered_map<int, YAML::Node> yaml_cache_;  // error paths only
  std::unordered_map<std::string, const rapidjson::Value*> resolved_;  // "docindex|pointer"
  // Member index of large objects (e.g. `paths`, `components/schemas`).
  std::unordered_map<const rapidjson::Value*, std::unordered_map<std::string_view, const rapidjson::Value*>> index_;
};

}  // namespace gw::validators
