#pragma once

// Schema compilation: JSON Schema (draft 4, draft 7, 2020-12) and the OpenAPI 3.0 / 3.1
// dialects are translated onto the draft-7 subset valijson 1.0 implements, then parsed once by
// valijson into one immutable valijson::Schema per spec.
//
// Hazards of valijson 1.0 / RapidJSON 1.1.0 closed here (each has a test in
// tests/unit/validators/schema_hazards_test.cc):
//  - `pattern` becomes the custom keyword x-gw-pattern backed by RE2, compiled once at load;
//    `patternProperties` is matched with RE2 too (valijson would build std::regex per check),
//    through explicit specializations of ValidationVisitor<RapidJsonAdapter> members in
//    schema_compiler.cc (the only translation unit that instantiates valijson's validator).
//  - `format` becomes x-gw-format, implemented in formats.cc; unknown formats are accepted and
//    listed in the CompileReport.
//  - instances deeper than JsonLimits::max_depth are refused while parsing, before validation;
//  - a schema valijson cannot take is a SpecError with its location, never abort();
//  - schemas that recurse without consuming the instance ({allOf: [{$ref: self}]}) are refused
//    at load (valijson would recurse until the stack overflows).
//
// Thread-safety: a SchemaSet is immutable after build() and may be shared by any number of
// threads; each thread validates with its own ValidationContext.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "validators/json_doc.h"
#include "validators/result.h"

namespace gw::validators {

class ValidationContext;

enum class Dialect { Draft4, Draft7, Draft2020, OpenApi30, OpenApi31 };
// Request: readOnly properties are refused; Response: writeOnly ones are. Neutral: neither.
enum class Direction { Neutral, Request, Response };

struct ReportItem {
  std::string file;
  std::string pointer;  // where in the spec
  std::string keyword;  // e.g. "unevaluatedProperties", or the format name
  std::string detail;
};

// What compilation could not enforce; shown by `gw-openapi check`.
struct CompileReport {
  std::vector<ReportItem> unenforced;       // keywords accepted but not checked
  std::vector<ReportItem> unknown_formats;  // formats accepted without a check
  std::vector<ReportItem> warnings;         // everything else worth telling
};

// One failed assertion found by SchemaSet::validate.
struct SchemaError {
  std::string pointer;       // JSON Pointer into the instance
  std::string keyword;       // failing keyword, "" when it cannot be told
  std::string spec_pointer;  // "file#/pointer" of the schema (keyword location when known)
  std::string message;
  bool spec_exact = false;   // false: spec_pointer is the root of the validated schema
};

class SchemaSet;
using SchemaSetPtr = std::shared_ptr<const SchemaSet>;

// Collects schemas (by location) and compiles them together. Single use, single thread.
class SchemaSetBuilder {
 public:
  SchemaSetBuilder(DocumentStore& store, Dialect dialect, CompileReport& report);
  ~SchemaSetBuilder();

  // Adds the schema at (doc, pointer); returns its root index in the built SchemaSet.
  int addRoot(const SourceDoc& doc, std::string pointer, Direction dir);
  // Adds an inline schema value (copied) located at (doc, pointer) for error messages. `value`
  // may contain $refs, resolved against `doc`.
  int addInlineRoot(const SourceDoc& doc, std::string pointer, const rapidjson::Value& value,
                    Direction dir);
  // The OpenAPI document whose #/components/schemas serves implicit discriminator mappings.
  void setComponentsDoc(const SourceDoc* doc);
  // false: `format` is an annotation only (JSON Schema 2020-12's default). Default true.
  void setAssertFormats(bool assert_formats);

  Result<SchemaSetPtr> build();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class SchemaSet {
 public:
  ~SchemaSet();
  // Validates `instance` against root `root`; appends at most `max_errors` errors. Returns true
  // when valid. `ctx` must not be used by another thread at the same time.
  bool validate(int root, const rapidjson::Value& instance, ValidationContext& ctx,
                std::vector<SchemaError>* errors, std::size_t max_errors = 16) const;
  std::size_t rootCount() const;
  std::string rootLocation(int root) const;  // "file#/pointer"

  struct Impl;
  explicit SchemaSet(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Per-thread scratch state for validation (valijson Validator, JSON allocator). Create one per
// worker thread and reuse it for every request handled on that thread. Not thread-safe.
class ValidationContext {
 public:
  ValidationContext();
  ~ValidationContext();
  ValidationContext(const ValidationContext&) = delete;
  ValidationContext& operator=(const ValidationContext&) = delete;

  // Scratch memory for parsed bodies and deserialized parameters. Contract::validate*()
  // resets it at the start of each call, so nothing built in it outlives that call.
  rapidjson::MemoryPoolAllocator<>& scratch();
  void resetScratch();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Standalone JSON Schema (not part of a spec): used by the conformance runner and available to
// the gateway (e.g. for config validation).
struct JsonSchemaOptions {
  Dialect dialect = Dialect::Draft7;
  std::string base_uri = "urn:gw:schema";  // base for relative $refs
  DocumentStore::Fetch fetch;              // remote documents ($ref to other URIs)
  bool assert_formats = true;              // false: `format` is only an annotation
};

class JsonSchema {
 public:
  static Result<std::shared_ptr<const JsonSchema>> compile(const rapidjson::Value& schema,
                                                           const JsonSchemaOptions& options,
                                                           CompileReport* report = nullptr);
  bool validate(const rapidjson::Value& instance, ValidationContext& ctx,
                std::vector<SchemaError>* errors = nullptr) const {
    return set_->validate(0, instance, ctx, errors);
  }

 private:
  SchemaSetPtr set_;
};

}  // namespace gw::validators
