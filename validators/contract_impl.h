#pragma once

// Internal model of a compiled contract (not part of the public API).

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "validators/contract.h"
#include "validators/json_doc.h"

namespace gw::validators {

enum class ParamIn : std::uint8_t { Path, Query, Header, Cookie };
enum class Style : std::uint8_t { Simple, Label, Matrix, Form, SpaceDelimited, PipeDelimited, DeepObject };

const char* paramInName(ParamIn in);

// Shape of a schema as far as string deserialization needs it (types of the value, of array
// items and of object properties). Built from the source schema at load.
struct TypeHint {
  enum : unsigned { kNull = 1, kBool = 2, kInteger = 4, kNumber = 8, kString = 16, kArray = 32, kObject = 64 };
  unsigned types = 0;  // 0 = unconstrained
  std::shared_ptr<const TypeHint> items;
  std::vector<std::pair<std::string, std::shared_ptr<const TypeHint>>> props;
  std::shared_ptr<const TypeHint> additional;

  const TypeHint* prop(std::string_view name) const;
  bool isArray() const { return (types & kArray) && !(types & (kObject | kString)); }
  bool isObject() const { return (types & kObject) && !(types & (kArray | kString)); }
};
using TypeHintPtr = std::shared_ptr<const TypeHint>;

struct EncodingSpec {
  std::string content_type;  // "" = default
  Style style = Style::Form;
  bool explode = true;
  bool allow_reserved = false;
};

struct MediaSpec {
  std::string key;  // as written in the spec ("application/json; charset=utf-8")
  std::string type, subtype;  // lower case; "*" for wildcards
  std::vector<std::pair<std::string, std::string>> params;  // lower-case names
  int schema = -1;  // root in the contract's SchemaSet; -1: no schema
  TypeHintPtr hint;
  std::unordered_map<std::string, EncodingSpec> encoding;
  std::string spec_pointer;
};

struct ParamSpec {
  std::string name;
  std::string lower_name;  // headers compare case-insensitively
  ParamIn in = ParamIn::Query;
  Style style = Style::Form;
  bool explode = true;
  bool required = false;
  bool allow_empty = false;
  bool allow_reserved = false;
  int schema = -1;
  TypeHintPtr hint;
  bool content = false;       // `content`-described parameter
  bool content_json = false;  // its media type is JSON
  std::string spec_pointer;
};

struct ResponseSpec {
  std::vector<MediaSpec> content;
  bool has_content = false;
  std::vector<ParamSpec> headers;  // in = Header, style simple
  std::string spec_pointer;
};

class OperationImpl final : public Operation {
 public:
  std::string_view method() const override { return method_; }
  std::string_view pathTemplate() const override { return path_; }
  std::string_view operationId() const override { return operation_id_; }
  std::string_view specPointer() const override { return pointer_; }

  std::string method_, path_, operation_id_, pointer_;
  std::vector<ParamSpec> params;
  bool has_body = false;
  bool body_required = false;
  std::vector<MediaSpec> body;
  std::string body_pointer;
  std::unordered_map<int, ResponseSpec> exact;
  std::array<std::optional<ResponseSpec>, 6> ranges;  // index 1..5 for 1XX..5XX
  std::optional<ResponseSpec> fallback;               // "default"
  std::string responses_pointer;
};

// Method index used by the router; -1 for methods OpenAPI cannot describe.
int methodIndex(std::string_view method);
constexpr int kMethodCount = 8;
extern const char* const kMethodNames[kMethodCount];  // upper case

class Router {
 public:
  Router();
  ~Router();
  // Adds a path template (must start with '/'). Returns an error message on bad templates.
  std::optional<std::string> add(const std::string& tmpl, int method, const OperationImpl* op);
  // `path` excludes the base path and the query.
  void match(std::string_view path, int method, bool head_fallback, RouteMatch& out) const;

  struct Node;  // trie node (router.cc)

 private:
  std::unique_ptr<Node> root_;
};

// ---- parameter / body helpers (params.cc, media.cc) -----------------------------------------

using Alloc = rapidjson::Document::AllocatorType;

// Converts one string token to the JSON type the hint expects (number, boolean, null) when it
// parses as such; otherwise a string.
void coerceScalar(std::string_view text, const TypeHint* hint, rapidjson::Value& out, Alloc& a);

struct QueryPair {
  std::string_view raw_key, raw_value;
  std::string key;  // decoded
  bool has_equals = false;
};
std::vector<QueryPair> parseQuery(std::string_view query);

// Deserialization result for one parameter.
enum class ParamResult { Absent, Ok, StyleError, Empty };

ParamResult deserializePathParam(const ParamSpec& p, std::string_view raw, rapidjson::Value& out, Alloc& a);
// `claimed`: query keys used by other declared parameters (for exploded form objects).
ParamResult deserializeQueryParam(const ParamSpec& p, const std::vector<QueryPair>& pairs,
                                  const std::vector<std::string_view>& claimed, rapidjson::Value& out,
                                  Alloc& a, std::string* reserved_char);
ParamResult deserializeHeaderValue(const ParamSpec& p, std::string_view value, rapidjson::Value& out, Alloc& a);
ParamResult deserializeCookieValue(const ParamSpec& p, std::string_view value, rapidjson::Value& out, Alloc& a);

struct MediaTypeView {
  std::string type, subtype;  // lower case
  std::vector<std::pair<std::string, std::string>> params;
};
bool parseMediaType(std::string_view text, MediaTypeView& out);
bool isJsonMedia(std::string_view type, std::string_view subtype);
const MediaSpec* matchMedia(const std::vector<MediaSpec>& specs, const MediaTypeView& mt);

// application/x-www-form-urlencoded body -> object, typed by the schema hint and encoding.
bool parseFormBody(std::string_view body, const MediaSpec& media, rapidjson::Value& out, Alloc& a,
                   std::string* error);
// multipart/form-data body -> object. Part content types are checked against `encoding`.
bool parseMultipartBody(std::string_view body, std::string_view boundary, const MediaSpec& media,
                        const JsonLimits& limits, rapidjson::Value& out, Alloc& a, std::string* error,
                        std::vector<std::pair<std::string, std::string>>* part_type_errors);

}  // namespace gw::validators
