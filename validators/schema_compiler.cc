// Translation of JSON Schema / OpenAPI schemas onto valijson's draft 7, and validation.
//
// Layout of the translated document handed to valijson (one per spec):
//   { "d": [ <def 0>, <def 1>, ... ], "anyOf": [ {"$ref": "#/d/<root 0 def>"}, ... ] }
// Every schema reached through a $ref (or added as a root) becomes one def, translated once
// per (location, direction) so readOnly/writeOnly can differ between requests and responses.
// All refs in the output are local array pointers ("#/d/12"): O(1) lookups in valijson and no
// base-URI handling left to valijson (ids are resolved here).

#include "validators/schema.h"

#include <re2/re2.h>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <cmath>
#include <deque>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "validators/formats.h"

namespace gw::validators {
namespace detail {

using PatternTable = std::unordered_map<std::string, std::shared_ptr<const re2::RE2>>;

// patternProperties regexes of the SchemaSet being validated on this thread (set for the
// duration of SchemaSet::validate; see the ValidationVisitor specialization below).
thread_local const PatternTable* t_property_patterns = nullptr;

std::shared_ptr<const re2::RE2> compileRe2(std::string_view pattern, std::string* error) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);
  auto re = std::make_shared<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
  if (!re->ok()) {
    if (error) *error = re->error();
    return nullptr;
  }
  return re;
}

const re2::RE2* findPropertyPattern(const std::string& pattern) {
  if (t_property_patterns) {
    auto it = t_property_patterns->find(pattern);
    if (it != t_property_patterns->end()) return it->second.get();
  }
  // Not precompiled (should not happen): compile once per thread.
  thread_local PatternTable fallback;
  auto it = fallback.find(pattern);
  if (it == fallback.end()) it = fallback.emplace(pattern, compileRe2(pattern, nullptr)).first;
  return it->second.get();
}

// Custom keyword errors carry keyword and spec location in the description:
// "\x01keyword\x01spec\x01message".
std::string encodeError(std::string_view keyword, std::string_view spec, std::string_view message) {
  std::string s = "\x01";
  s += keyword;
  s += '\x01';
  s += spec;
  s += '\x01';
  s += message;
  return s;
}

}  // namespace detail
}  // namespace gw::validators

// valijson 1.0 matches patternProperties with a std::regex built on every check (and
// std::regex recurses per character). This explicit specialization of the member for the
// RapidJSON adapter (the only adapter the engine validates with) keeps valijson's semantics
// but matches with RE2. It must be seen before ValidationVisitor<RapidJsonAdapter> is
// instantiated, which is why all validation lives in this translation unit.
namespace valijson {
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(
    const constraints::PropertiesConstraint& constraint) {
  if ((m_strictTypes && !m_target.isObject()) || !m_target.maybeObject()) return true;
  bool validated = true;
  std::set<std::string> propertiesMatched;
  const adapters::RapidJsonAdapter::Object object = m_target.asObject();
  if (m_results) {
    constraint.applyToProperties(ValidatePropertySubschemas(
        object, m_context, true, true, true, m_strictTypes, m_results, &propertiesMatched, &validated,
        m_regexesCache));
  } else {
    // Fast path (no error collection): valijson would build "[name]" context strings for every
    // property even though nobody reads them.
    constraint.applyToProperties([&](const auto& name, const Subschema* subschema) {
      const std::string property(name.c_str());
      const auto itr = object.find(property);
      if (itr == object.end()) return true;
      propertiesMatched.insert(property);
      ValidationVisitor validator((*itr).second, m_context, m_strictTypes, nullptr, m_regexesCache);
      if (validator.validateSchema(*subschema)) return true;
      validated = false;
      return false;
    });
    if (!validated) return false;
  }

  constraint.applyToPatternProperties([&](const auto& pattern, const Subschema* subschema) {
    const std::string pattern_str(pattern.c_str());
    const re2::RE2* re = gw::validators::detail::findPropertyPattern(pattern_str);
    if (re == nullptr) return true;
    for (const adapters::RapidJsonAdapter::ObjectMember m : object) {
      if (!RE2::PartialMatch(m.first, *re)) continue;
      propertiesMatched.insert(m.first);
      std::vector<std::string> newContext = m_context;
      newContext.push_back("[" + m.first + "]");
      ValidationVisitor validator(m.second, newContext, m_strictTypes, m_results, m_regexesCache);
      if (!validator.validateSchema(*subschema)) {
        if (m_results) {
          m_results->pushError(m_context, "Failed to validate against schema associated with pattern '" +
                                              pattern_str + "'.");
        }
        validated = false;
        if (!m_results) return false;
      }
    }
    return true;
  });
  if (!validated && !m_results) return false;

  const Subschema* additional = constraint.getAdditionalPropertiesSubschema();
  if (!additional) {
    if (propertiesMatched.size() != m_target.getObjectSize()) {
      if (m_results) {
        std::string unwanted;
        for (const adapters::RapidJsonAdapter::ObjectMember m : object) {
          if (propertiesMatched.find(m.first) == propertiesMatched.end()) {
            unwanted = m.first;
            break;
          }
        }
        m_results->pushError(m_context, "Object contains a property that could not be validated using "
                                        "'properties' or 'additionalProperties' constraints: '" +
                                            unwanted + "'.");
      }
      return false;
    }
    return validated;
  }
  for (const adapters::RapidJsonAdapter::ObjectMember m : object) {
    if (propertiesMatched.find(m.first) != propertiesMatched.end()) continue;
    if (!m_results) {
      // Fast path: no "[name]" context string nobody reads.
      ValidationVisitor validator(m.second, m_context, m_strictTypes, nullptr, m_regexesCache);
      if (!validator.validateSchema(*additional)) return false;
      continue;
    }
    std::vector<std::string> newContext = m_context;
    newContext.push_back("[" + m.first + "]");
    ValidationVisitor validator(m.second, newContext, m_strictTypes, m_results, m_regexesCache);
    if (!validator.validateSchema(*additional)) {
      if (m_results) m_results->pushError(m_context, "Failed to validate against additional properties schema");
      validated = false;
      if (!m_results) return false;
    }
  }
  return validated;
}

// Same as valijson's, minus the "[index]" context string per item on the fast path (no error
// collection), which was a large share of array validation time.
template <>
bool ValidationVisitor<adapters::RapidJsonAdapter>::visit(const constraints::SingularItemsConstraint& constraint) {
  if (!m_target.isArray()) return true;
  const Subschema* itemsSubschema = constraint.getItemsSubschema();
  if (!itemsSubschema) return true;
  bool validated = true;
  unsigned int index = 0;
  for (const adapters::RapidJsonAdapter& item : m_target.getArray()) {
    if (!m_results) {
      ValidationVisitor validator(item, m_context, m_strictTypes, nullptr, m_regexesCache);
      if (!validator.validateSchema(*itemsSubschema)) return false;
      ++index;
      continue;
    }
    std::vector<std::string> newContext = m_context;
    newContext.push_back("[" + std::to_string(index) + "]");
    ValidationVisitor validator(item, newContext, m_strictTypes, m_results, m_regexesCache);
    if (!validator.validateSchema(*itemsSubschema)) {
      m_results->pushError(m_context, "Failed to validate item #" + std::to_string(index) + " in array.");
      validated = false;
    }
    ++index;
  }
  return validated;
}
}  // namespace valijson

namespace gw::validators {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;
namespace vc = valijson::constraints;

// ---- custom keywords -----------------------------------------------------------------------

template <typename Derived>
class PolyBase : public vc::PolyConstraint {
 private:
  vc::Constraint* cloneInto(void* mem) const override {
    return new (mem) Derived(static_cast<const Derived&>(*this));
  }
  size_t sizeOf() const override { return sizeof(Derived); }
};

class Re2PatternConstraint : public PolyBase<Re2PatternConstraint> {
 public:
  Re2PatternConstraint(std::shared_ptr<const re2::RE2> re, std::string spec)
      : re_(std::move(re)), spec_(std::move(spec)) {}
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    const std::string s = target.asString();
    if (RE2::PartialMatch(s, *re_)) return true;
    if (results) {
      results->pushError(context, detail::encodeError("pattern", spec_,
                                                      "string does not match pattern '" + re_->pattern() + "'"));
    }
    return false;
  }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::string spec_;
};

class FormatConstraint : public PolyBase<FormatConstraint> {
 public:
  FormatConstraint(FormatKind kind, std::string name, std::string spec)
      : kind_(kind), name_(std::move(name)), spec_(std::move(spec)) {}
  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    bool ok = true;
    if (isNumericFormat(kind_)) {
      if (!target.isNumber()) return true;
      double d = 0;
      int64_t i = 0;
      bool is_int64 = target.isInteger() && target.getInteger(i);
      target.getNumber(d);
      bool integral = is_int64 || (std::isfinite(d) && std::floor(d) == d);
      ok = checkNumberFormat(kind_, d, integral, is_int64, i);
    } else {
      if (!target.isString()) return true;
      ok = checkStringFormat(kind_, target.asString());
    }
    if (!ok && results) {
      results->pushError(context, detail::encodeError("format", spec_, "value is not a valid '" + name_ + "'"));
    }
    return ok;
  }

 private:
  FormatKind kind_;
  std::string name_;
  std::string spec_;
};

enum TypeBits : unsigned {
  kTNull = 1, kTBool = 2, kTInteger = 4, kTNumber = 8, kTString = 16, kTArray = 32, kTObject = 64,
};

std::string typeNames(unsigned bits) {
  static const char* kNames[] = {"null", "boolean", "integer", "number", "string", "array", "object"};
  std::string s;
  for (int i = 0; i < 7; ++i) {
    if (bits & (1u << i)) {
      if (!s.empty()) s += ", ";
      s += kNames[i];
    }
  }
  return s;
}

// `type`, with JSON Schema's integer rule (1.0 is an integer) that valijson 1.0 lacks.
class TypeConstraint : public PolyBase<TypeConstraint> {
 public:
  TypeConstraint(unsigned bits, std::string spec) : bits_(bits), spec_(std::move(spec)) {}
  bool validate(const valijson::adapters::Adapter& t, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    unsigned actual = 0;
    if (t.isNull()) {
      actual = kTNull;
    } else if (t.isBool()) {
      actual = kTBool;
    } else if (t.isNumber()) {
      actual = kTNumber;
      if (t.isInteger()) {
        actual |= kTInteger;
      } else {
        double d = t.getDouble();
        if (std::isfinite(d) && std::floor(d) == d) actual |= kTInteger;
      }
    } else if (t.isString()) {
      actual = kTString;
    } else if (t.isArray()) {
      actual = kTArray;
    } else if (t.isObject()) {
      actual = kTObject;
    }
    if (actual & bits_) return true;
    if (results) {
      unsigned shown = (actual & kTNumber) ? ((actual & kTInteger) ? kTInteger : kTNumber) : actual;
      results->pushError(context, detail::encodeError("type", spec_,
                                                      "value is " + typeNames(shown) + ", expected " + typeNames(bits_)));
    }
    return false;
  }

 private:
  unsigned bits_;
  std::string spec_;
};

// multipleOf with a relative tolerance: valijson's fmod test rejects e.g. 12391239123 as a
// multiple of 1e-8 because of binary rounding.
class MultipleOfConstraint : public PolyBase<MultipleOfConstraint> {
 public:
  MultipleOfConstraint(double divisor, std::string spec) : divisor_(divisor), spec_(std::move(spec)) {}
  bool validate(const valijson::adapters::Adapter& t, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!t.isNumber()) return true;
    bool ok;
    int64_t iv = 0;
    if (t.isInteger() && t.getInteger(iv) && std::floor(divisor_) == divisor_ && std::fabs(divisor_) < 9.0e18) {
      ok = iv % static_cast<int64_t>(divisor_) == 0;
    } else {
      double v = t.getNumber();
      double q = v / divisor_;
      if (!std::isfinite(q)) {
        ok = std::fmod(v, divisor_) == 0;
      } else {
        ok = std::fabs(q - std::nearbyint(q)) <= 1e-9 * std::max(1.0, std::fabs(q)) ;
      }
    }
    if (!ok && results) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", divisor_);
      results->pushError(context, detail::encodeError("multipleOf", spec_, std::string("value is not a multiple of ") + buf));
    }
    return ok;
  }

 private:
  double divisor_;
  std::string spec_;
};

class FailConstraint : public PolyBase<FailConstraint> {
 public:
  FailConstraint(std::string keyword, std::string spec, std::string message)
      : keyword_(std::move(keyword)), spec_(std::move(spec)), message_(std::move(message)) {}
  bool validate(const valijson::adapters::Adapter&, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (results) results->pushError(context, detail::encodeError(keyword_, spec_, message_));
    return false;
  }

 private:
  std::string keyword_, spec_, message_;
};

struct PatternEntry {
  std::shared_ptr<const re2::RE2> re;
  std::string spec;
};
struct FormatEntry {
  FormatKind kind;
  std::string name, spec;
};
struct TypeEntry {
  unsigned bits;
  std::string spec;
};
struct MultipleOfEntry {
  double divisor;
  std::string spec;
};
struct FailEntry {
  std::string keyword, spec, message;
};

struct KeywordTables {
  std::vector<PatternEntry> patterns;
  std::vector<FormatEntry> formats;
  std::vector<TypeEntry> types;
  std::vector<FailEntry> fails;
  std::vector<MultipleOfEntry> multiples;
};

size_t indexOf(const valijson::adapters::Adapter& v, size_t size) {
  int64_t i = -1;
  if (!v.getInteger(i) || i < 0 || static_cast<size_t>(i) >= size)
    throw std::runtime_error("internal: bad custom keyword index");
  return static_cast<size_t>(i);
}

class PatternBuilder : public valijson::ConstraintBuilder {
 public:
  explicit PatternBuilder(const KeywordTables& t) : t_(t) {}
  vc::Constraint* make(const valijson::adapters::Adapter& v) const override {
    const auto& e = t_.patterns[indexOf(v, t_.patterns.size())];
    return new Re2PatternConstraint(e.re, e.spec);
  }

 private:
  const KeywordTables& t_;
};
class FormatBuilder : public valijson::ConstraintBuilder {
 public:
  explicit FormatBuilder(const KeywordTables& t) : t_(t) {}
  vc::Constraint* make(const valijson::adapters::Adapter& v) const override {
    const auto& e = t_.formats[indexOf(v, t_.formats.size())];
    return new FormatConstraint(e.kind, e.name, e.spec);
  }

 private:
  const KeywordTables& t_;
};
class TypeBuilder : public valijson::ConstraintBuilder {
 public:
  explicit TypeBuilder(const KeywordTables& t) : t_(t) {}
  vc::Constraint* make(const valijson::adapters::Adapter& v) const override {
    const auto& e = t_.types[indexOf(v, t_.types.size())];
    return new TypeConstraint(e.bits, e.spec);
  }

 private:
  const KeywordTables& t_;
};
class MultipleOfBuilder : public valijson::ConstraintBuilder {
 public:
  explicit MultipleOfBuilder(const KeywordTables& t) : t_(t) {}
  vc::Constraint* make(const valijson::adapters::Adapter& v) const override {
    const auto& e = t_.multiples[indexOf(v, t_.multiples.size())];
    return new MultipleOfConstraint(e.divisor, e.spec);
  }

 private:
  const KeywordTables& t_;
};
class FailBuilder : public valijson::ConstraintBuilder {
 public:
  explicit FailBuilder(const KeywordTables& t) : t_(t) {}
  vc::Constraint* make(const valijson::adapters::Adapter& v) const override {
    const auto& e = t_.fails[indexOf(v, t_.fails.size())];
    return new FailConstraint(e.keyword, e.spec, e.message);
  }

 private:
  const KeywordTables& t_;
};

// ---- helpers ---------------------------------------------------------------------------------

const Value* member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

bool isTrue(const Value& obj, const char* name) {
  const Value* v = member(obj, name);
  return v && v->IsBool() && v->GetBool();
}

bool isLegacy(Dialect d) { return d == Dialect::Draft4 || d == Dialect::Draft7 || d == Dialect::OpenApi30; }
bool isOpenApi(Dialect d) { return d == Dialect::OpenApi30 || d == Dialect::OpenApi31; }
bool is2020(Dialect d) { return d == Dialect::Draft2020 || d == Dialect::OpenApi31; }

std::string_view lastToken(std::string_view ptr) {
  size_t s = ptr.rfind('/');
  return s == std::string_view::npos ? ptr : ptr.substr(s + 1);
}

unsigned typeBit(std::string_view t) {
  if (t == "null") return kTNull;
  if (t == "boolean") return kTBool;
  if (t == "integer") return kTInteger;
  if (t == "number") return kTNumber | kTInteger;
  if (t == "string") return kTString;
  if (t == "array") return kTArray;
  if (t == "object") return kTObject;
  return 0;
}

}  // namespace

// ---- ValidationContext ---------------------------------------------------------------------

struct ValidationContext::Impl {
  valijson::Validator validator;
  // First 64 KiB of scratch come from here; larger bodies add chunks, freed by resetScratch().
  alignas(16) char buffer[64 << 10];
  rapidjson::MemoryPoolAllocator<> pool{buffer, sizeof buffer};
};

ValidationContext::ValidationContext() : impl_(std::make_unique<Impl>()) {}
ValidationContext::~ValidationContext() = default;
rapidjson::MemoryPoolAllocator<>& ValidationContext::scratch() { return impl_->pool; }
void ValidationContext::resetScratch() { impl_->pool.Clear(); }

// ---- SchemaSet -------------------------------------------------------------------------------

struct SchemaSet::Impl {
  std::unique_ptr<KeywordTables> tables;
  std::unique_ptr<valijson::Schema> schema;
  std::vector<const valijson::Subschema*> roots;
  std::vector<std::string> root_locations;
  detail::PatternTable property_patterns;
};

SchemaSet::SchemaSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SchemaSet::~SchemaSet() = default;
std::size_t SchemaSet::rootCount() const { return impl_->roots.size(); }
std::string SchemaSet::rootLocation(int root) const { return impl_->root_locations.at(root); }

namespace {

std::string keywordFromMessage(std::string_view m) {
  struct Rule {
    std::string_view prefix, keyword;
  };
  static constexpr Rule kRules[] = {
      {"Missing required property", "required"},
      {"Object contains a property that could not be validated", "additionalProperties"},
      {"String should be no fewer", "minLength"},
      {"String should be no more", "maxLength"},
      {"Expected number greater than or equal", "minimum"},
      {"Expected number greater than", "exclusiveMinimum"},
      {"Expected number less than or equal", "maximum"},
      {"Expected number less than", "exclusiveMaximum"},
      {"Value should be a multiple", "multipleOf"},
      {"Value could not be converted", "multipleOf"},
      {"Failed to match against any enum", "enum"},
      {"Failed to match expected value set by 'const'", "const"},
      {"Array should contain no fewer", "minItems"},
      {"Array should contain no more", "maxItems"},
      {"Elements at indexes", "uniqueItems"},
      {"Array contains more items than allowed", "additionalItems"},
      {"Failed to any values against subschema in 'contains'", "contains"},
      {"Object should have no fewer", "minProperties"},
      {"Object should have no more", "maxProperties"},
      {"Missing dependency", "dependencies"},
      {"Failed to validate against dependent schema", "dependencies"},
      {"Failed to validate against any schemas allowed by anyOf", "anyOf"},
      {"Failed to validate against exactly one child schema", "oneOf"},
      {"Failed to validate against a conditional schema", "if"},
      {"Value type not permitted", "type"},
  };
  for (const auto& r : kRules)
    if (m.substr(0, r.prefix.size()) == r.prefix) return std::string(r.keyword);
  if (m.find("'not'") != std::string_view::npos) return "not";
  if (m.find("property name") != std::string_view::npos) return "propertyNames";
  return "";
}

// Messages that only say "a child failed"; the child's own error is reported instead.
bool isWrapperMessage(std::string_view m) {
  static constexpr std::string_view kWrappers[] = {
      "Failed to validate against schema associated with property name",
      "Failed to validate against schema associated with pattern",
      "Failed to validate item #",
      "Failed to validate against additional properties schema",
      "Failed to validate against child schema",
      "Failed to validate against a conditional schema",
  };
  for (auto w : kWrappers)
    if (m.substr(0, w.size()) == w) return true;
  return false;
}

std::string contextToPointer(const std::vector<std::string>& ctx) {
  std::string p;
  for (size_t i = 0; i < ctx.size(); ++i) {
    std::string_view t = ctx[i];
    if (i == 0 && t == "<root>") continue;
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    appendPointer(p, t);
  }
  return p;
}

}  // namespace

bool SchemaSet::validate(int root, const rapidjson::Value& instance, ValidationContext& ctx,
                         std::vector<SchemaError>* errors, std::size_t max_errors) const {
  if (root < 0 || static_cast<size_t>(root) >= impl_->roots.size()) return true;
  const valijson::Subschema& schema = *impl_->roots[root];
  struct Guard {
    const detail::PatternTable* prev;
    explicit Guard(const detail::PatternTable* t) : prev(detail::t_property_patterns) {
      detail::t_property_patterns = t;
    }
    ~Guard() { detail::t_property_patterns = prev; }
  } guard(&impl_->property_patterns);
  valijson::adapters::RapidJsonAdapter adapter(instance);
  auto& validator = ctx.impl().validator;
  try {
    // Fast path: stop at the first failure, no messages.
    if (validator.validate(schema, adapter, nullptr)) return true;
    if (!errors) return false;
    valijson::ValidationResults results;
    validator.validate(schema, adapter, &results);
    valijson::ValidationResults::Error e;
    std::size_t added = 0;
    while (results.popError(e)) {
      if (isWrapperMessage(e.description)) continue;
      SchemaError se;
      se.pointer = contextToPointer(e.context);
      if (!e.description.empty() && e.description[0] == '\x01') {
        size_t a = e.description.find('\x01', 1);
        size_t b = e.description.find('\x01', a + 1);
        se.keyword = e.description.substr(1, a - 1);
        se.spec_pointer = e.description.substr(a + 1, b - a - 1);
        se.message = e.description.substr(b + 1);
        se.spec_exact = true;
      } else {
        se.keyword = keywordFromMessage(e.description);
        se.spec_pointer = impl_->root_locations[root];
        se.message = e.description;
        if (!se.message.empty() && se.message.back() == '.') se.message.pop_back();
      }
      errors->push_back(std::move(se));
      if (++added >= max_errors) break;
    }
    if (added == 0) {
      errors->push_back(SchemaError{"", "", impl_->root_locations[root], "value does not match the schema"});
    }
    return false;
  } catch (const std::exception& ex) {
    // valijson throws only on internal inconsistencies; never let it escape the data plane.
    if (errors) errors->push_back(SchemaError{"", "", impl_->root_locations[root],
                                              std::string("validator error: ") + ex.what()});
    return false;
  }
}

// ---- builder -----------------------------------------------------------------------------------

struct SchemaSetBuilder::Impl {
  DocumentStore& store;
  Dialect dialect;
  CompileReport& report;
  bool assert_formats = true;
  bool emit_src = false;
  const SourceDoc* components_doc = nullptr;

  struct Def {
    const SourceDoc* doc;
    std::string pointer;
    Direction dir;
    bool no_disc;
    std::vector<int> same_instance_refs;
  };
  std::vector<Def> defs;
  std::unordered_map<std::string, int> def_index;
  std::deque<int> pending;
  std::vector<int> root_defs;
  std::vector<std::string> root_locations;
  std::vector<SpecError> errors;

  struct Loc {
    const SourceDoc* doc;
    std::string pointer;
  };
  std::unordered_map<std::string, Loc> ids;      // absolute URI (no fragment) -> resource
  std::unordered_map<std::string, Loc> anchors;  // URI#anchor -> node
  std::unordered_set<int> scanned;
  std::unordered_set<int> docs_with_ids;  // documents where some $id changes the base URI

  rapidjson::Document out;
  Value out_defs{rapidjson::kArrayType};
  std::unique_ptr<KeywordTables> tables = std::make_unique<KeywordTables>();
  detail::PatternTable property_patterns;
  std::unordered_map<std::string, std::shared_ptr<const re2::RE2>> pattern_cache;
  std::set<std::string> reported;  // dedupe report items

  struct Ctx {
    const SourceDoc* doc;
    std::string base;
    Dialect dialect;
    Direction dir;
    int def;
    bool same_instance;
  };

  Impl(DocumentStore& s, Dialect d, CompileReport& r) : store(s), dialect(d), report(r) {}

  Alloc& alloc() { return out.GetAllocator(); }

  std::string location(const SourceDoc* doc, const std::string& ptr) { return doc->label + "#" + ptr; }

  void error(const SourceDoc* doc, const std::string& ptr, std::string msg) {
    if (errors.size() >= 100) return;
    errors.push_back(store.error(*doc, ptr, std::move(msg)));
  }

  void reportItem(std::vector<ReportItem>& list, const SourceDoc* doc, const std::string& ptr,
                  std::string keyword, std::string detail) {
    std::string key = doc->label + "#" + ptr + "|" + keyword;
    if (!reported.insert(key).second) return;
    list.push_back(ReportItem{doc->label, ptr, std::move(keyword), std::move(detail)});
  }

  // Applies the node's $id (if any) to `base`.
  void applyId(const Value& node, Dialect d, std::string& base) {
    if (!node.IsObject()) return;
    if (isLegacy(d) && member(node, "$ref")) return;  // $ref siblings are ignored before 2019-09
    const Value* id = member(node, d == Dialect::Draft4 ? "id" : "$id");
    if (d == Dialect::OpenApi30) return;
    if (!id || !id->IsString()) return;
    std::string_view s(id->GetString(), id->GetStringLength());
    if (!s.empty() && s[0] == '#') return;  // plain-name fragment: an anchor, not a base change
    base = stripFragment(resolveUri(base, s));
  }

  void scanIds(const SourceDoc* doc) {
    if (!scanned.insert(doc->index).second) return;
    ids.emplace(doc->uri, Loc{doc, ""});
    // Most OpenAPI files have no identifiers at all: skip the walk when the text shows none.
    if (!doc->text.empty() && doc->text.find("$id") == std::string::npos &&
        doc->text.find("$anchor") == std::string::npos && doc->text.find("$dynamicAnchor") == std::string::npos &&
        (dialect != Dialect::Draft4 || doc->text.find("id") == std::string::npos)) {
      return;
    }
    struct Item {
      const Value* v;
      std::string ptr;
      std::string base;
    };
    std::vector<Item> stack{{&doc->doc, "", doc->uri}};
    while (!stack.empty()) {
      Item it = std::move(stack.back());
      stack.pop_back();
      const Value& v = *it.v;
      if (v.IsObject()) {
        std::string base = it.base;
        bool has_ref = member(v, "$ref") != nullptr;
        const Value* id = member(v, dialect == Dialect::Draft4 ? "id" : "$id");
        if (id && id->IsString() && !(isLegacy(dialect) && has_ref) && dialect != Dialect::OpenApi30) {
          std::string_view s(id->GetString(), id->GetStringLength());
          if (!s.empty() && s[0] == '#') {
            anchors.emplace(stripFragment(base) + std::string(s), Loc{doc, it.ptr});
          } else {
            std::string full = resolveUri(base, s);
            base = stripFragment(full);
            ids.emplace(base, Loc{doc, it.ptr});
            docs_with_ids.insert(doc->index);
            size_t hash = full.find('#');
            if (hash != std::string::npos && hash + 1 < full.size())
              anchors.emplace(full, Loc{doc, it.ptr});
          }
        }
        for (const char* kw : {"$anchor", "$dynamicAnchor"}) {
          const Value* a = member(v, kw);
          if (a && a->IsString() && is2020(dialect))
            anchors.emplace(base + "#" + a->GetString(), Loc{doc, it.ptr});
        }
        for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
          std::string_view k(m->name.GetString(), m->name.GetStringLength());
          if (k == "enum" || k == "const" || k == "examples" || k == "example" || k == "default") continue;
          if (!m->value.IsObject() && !m->value.IsArray()) continue;
          std::string p = it.ptr;
          appendPointer(p, k);
          stack.push_back(Item{&m->value, std::move(p), base});
        }
      } else if (v.IsArray()) {
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
          if (!v[i].IsObject() && !v[i].IsArray()) continue;
          stack.push_back(Item{&v[i], it.ptr + "/" + std::to_string(i), it.base});
        }
      }
    }
  }

  // Base URI in effect at `ptr` (ids of the ancestors applied, not the node's own).
  std::string baseAt(const SourceDoc* doc, const std::string& ptr) {
    std::string base = doc->uri;
    if (ptr.empty() || !docs_with_ids.count(doc->index)) return base;
    const Value* cur = &doc->doc;
    size_t pos = 1;
    while (cur) {
      applyId(*cur, dialect, base);
      size_t next = ptr.find('/', pos);
      cur = resolvePointer(*cur, "/" + ptr.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return base;
  }

  int intern(const SourceDoc* doc, const std::string& ptr, Direction dir, bool no_disc) {
    std::string key = std::to_string(doc->index);
    key += '\x1f';
    key += ptr;
    key += '\x1f';
    key += static_cast<char>('0' + static_cast<int>(dir));
    key += no_disc ? '1' : '0';
    auto it = def_index.find(key);
    if (it != def_index.end()) return it->second;
    int idx = static_cast<int>(defs.size());
    defs.push_back(Def{doc, ptr, dir, no_disc, {}});
    def_index.emplace(std::move(key), idx);
    pending.push_back(idx);
    return idx;
  }

  // Resolves a $ref; false (with an error recorded) when it cannot be resolved.
  bool resolveRef(const Ctx& ctx, std::string_view ref, const std::string& at, Loc& target) {
    std::string full = resolveUri(ctx.base, ref);
    std::string uri = stripFragment(full);
    size_t hash = full.find('#');
    std::string frag = hash == std::string::npos ? "" : percentDecode(std::string_view(full).substr(hash + 1));
    Loc base_loc{nullptr, ""};
    if (auto it = ids.find(uri); it != ids.end()) {
      base_loc = it->second;
    } else {
      auto d = store.get(uri);
      if (!d) {
        error(ctx.doc, at, "cannot resolve $ref '" + std::string(ref) + "': " +
                               (d.error().errors.empty() ? "" : d.error().errors[0].message));
        return false;
      }
      scanIds(*d);
      base_loc = Loc{*d, ""};
    }
    if (frag.empty()) {
      target = base_loc;
    } else if (frag[0] == '/') {
      target = Loc{base_loc.doc, base_loc.pointer + frag};
    } else {
      auto it = anchors.find(uri + "#" + frag);
      if (it == anchors.end()) {
        error(ctx.doc, at, "cannot resolve $ref '" + std::string(ref) + "': no anchor '" + frag + "'");
        return false;
      }
      target = it->second;
    }
    if (!store.resolve(*target.doc, target.pointer)) {
      error(ctx.doc, at, "cannot resolve $ref '" + std::string(ref) + "': nothing at " + target.pointer);
      return false;
    }
    return true;
  }

  Value refTo(int def) {
    std::string r = "#/d/" + std::to_string(def);
    Value o(rapidjson::kObjectType);
    o.AddMember("$ref", Value(r.c_str(), static_cast<rapidjson::SizeType>(r.size()), alloc()), alloc());
    return o;
  }

  Value makeRef(const Ctx& ctx, std::string_view ref, const std::string& at, bool no_disc) {
    Loc t;
    if (!resolveRef(ctx, ref, at, t)) return Value(true);
    int d = intern(t.doc, t.pointer, ctx.dir, no_disc);
    if (ctx.same_instance) defs[ctx.def].same_instance_refs.push_back(d);
    return refTo(d);
  }

  // valijson 1.0 builds propertyNames and schema dependencies with their parent's cache key,
  // so reached through a $ref they alias the parent (or each other). Emitting them as refs to
  // their own defs gives each a distinct key.
  Value inlineDef(const Ctx& ctx, const std::string& ptr, bool same_instance) {
    int d = intern(ctx.doc, ptr, ctx.dir, false);
    if (ctx.same_instance && same_instance) defs[ctx.def].same_instance_refs.push_back(d);
    return refTo(d);
  }

  Value failValue(std::string keyword, std::string spec, std::string message) {
    tables->fails.push_back(FailEntry{std::move(keyword), std::move(spec), std::move(message)});
    Value o(rapidjson::kObjectType);
    o.AddMember("x-gw-fail", Value(static_cast<uint64_t>(tables->fails.size() - 1)), alloc());
    return o;
  }

  // Follows $ref chains (a few hops) to the schema a property really uses.
  const Value* followRefs(const Ctx& ctx, const Value* node) {
    Ctx c = ctx;
    for (int hop = 0; hop < 8 && node && node->IsObject(); ++hop) {
      const Value* r = member(*node, "$ref");
      if (!r || !r->IsString()) return node;
      Loc t;
      size_t before = errors.size();
      if (!resolveRef(c, std::string_view(r->GetString(), r->GetStringLength()), "", t)) {
        errors.resize(before);  // reported where the ref is translated
        return nullptr;
      }
      node = store.resolve(*t.doc, t.pointer);
      c.doc = t.doc;
      c.base = baseAt(t.doc, t.pointer);
    }
    return node;
  }

  bool forbiddenInDirection(const Ctx& ctx, const Value& prop_schema, const char** why) {
    if (!isOpenApi(ctx.dialect) || ctx.dir == Direction::Neutral) return false;
    const Value* n = followRefs(ctx, &prop_schema);
    if (!n || !n->IsObject()) return false;
    if (ctx.dir == Direction::Request && isTrue(*n, "readOnly")) {
      *why = "readOnly";
      return true;
    }
    if (ctx.dir == Direction::Response && isTrue(*n, "writeOnly")) {
      *why = "writeOnly";
      return true;
    }
    return false;
  }

  void translateNonNegInt(const Value& v, const char* kw, const Ctx& ctx, const std::string& ptr, Value& out) {
    if (!v.IsNumber() || v.GetDouble() < 0 || std::floor(v.GetDouble()) != v.GetDouble() ||
        v.GetDouble() > 9.0e15) {
      error(ctx.doc, ptr, std::string("'") + kw + "' must be a non-negative integer");
      return;
    }
    out.AddMember(rapidjson::StringRef(kw), Value(static_cast<uint64_t>(v.GetDouble())), alloc());
  }

  Value translateChild(const Value& node, const Ctx& ctx, const std::string& ptr, bool same_instance,
                       bool no_disc = false) {
    Ctx c = ctx;
    c.same_instance = ctx.same_instance && same_instance;
    Value out;
    translate(node, c, ptr, out, no_disc);
    return out;
  }

  Value translateArrayOf(const Value& arr, const Ctx& ctx, const std::string& ptr, bool same_instance,
                         const char* kw, bool allof_refs_no_disc = false) {
    Value out(rapidjson::kArrayType);
    if (!arr.IsArray() || arr.Empty()) {
      error(ctx.doc, ptr, std::string("'") + kw + "' must be a non-empty array of schemas");
      return out;
    }
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
      std::string p = ptr + "/" + std::to_string(i);
      const Value& item = arr[i];
      if (allof_refs_no_disc && item.IsObject() && member(item, "$ref") && item.MemberCount() == 1 &&
          member(item, "$ref")->IsString()) {
        // allOf: [{$ref: Base}] is inheritance: check the base without its discriminator, or
        // Base -> Child -> Base would loop.
        Value r = makeRef(ctx, std::string_view(member(item, "$ref")->GetString()), p + "/$ref", true);
        out.PushBack(r, alloc());
        continue;
      }
      out.PushBack(translateChild(item, ctx, p, same_instance), alloc());
    }
    return out;
  }

  void translate(const Value& node, const Ctx& c, const std::string& ptr, Value& out, bool no_disc) {
    if (node.IsBool()) {
      out.SetBool(node.GetBool());
      return;
    }
    if (!node.IsObject()) {
      error(c.doc, ptr, "schema must be an object or a boolean");
      out.SetBool(true);
      return;
    }
    Ctx ctx = c;
    applyId(node, ctx.dialect, ctx.base);
    Alloc& a = alloc();
    const bool legacy = isLegacy(ctx.dialect);
    const bool oas = isOpenApi(ctx.dialect);
    const bool nullable = ctx.dialect == Dialect::OpenApi30 && isTrue(node, "nullable");
    Value allof(rapidjson::kArrayType);
    out.SetObject();

    if (const Value* ref = member(node, "$ref")) {
      if (!ref->IsString()) {
        error(ctx.doc, ptr + "/$ref", "'$ref' must be a string");
      } else {
        Value r = makeRef(ctx, std::string_view(ref->GetString(), ref->GetStringLength()), ptr + "/$ref", false);
        if (legacy) {
          if (nullable) {
            Value any(rapidjson::kArrayType);
            Value null_type(rapidjson::kObjectType);
            null_type.AddMember("type", "null", a);
            any.PushBack(null_type, a);
            any.PushBack(r, a);
            out.AddMember("anyOf", any, a);
          } else {
            out = r;
          }
          return;  // siblings of $ref are ignored in these dialects
        }
        allof.PushBack(r, a);
      }
    }

    const Value* disc = oas && !no_disc ? member(node, "discriminator") : nullptr;
    bool disc_done = false;
    if (disc) disc_done = translateDiscriminator(node, *disc, ctx, ptr, allof);

    bool has_composite = false;
    for (auto m = node.MemberBegin(); m != node.MemberEnd(); ++m) {
      std::string_view k(m->name.GetString(), m->name.GetStringLength());
      const Value& v = m->value;
      std::string kp = ptr;
      appendPointer(kp, k);
      if (k == "type") {
        unsigned bits = 0;
        if (v.IsString()) {
          bits = typeBit(std::string_view(v.GetString(), v.GetStringLength()));
          if (!bits) error(ctx.doc, kp, "unknown type '" + std::string(v.GetString()) + "'");
        } else if (v.IsArray() && !(ctx.dialect == Dialect::OpenApi30)) {
          for (const auto& t : v.GetArray()) {
            unsigned b = t.IsString() ? typeBit(std::string_view(t.GetString(), t.GetStringLength())) : 0;
            if (!b) error(ctx.doc, kp, "'type' entries must be JSON Schema type names");
            bits |= b;
          }
        } else {
          error(ctx.doc, kp, ctx.dialect == Dialect::OpenApi30 ? "'type' must be a string in OpenAPI 3.0"
                                                                : "'type' must be a string or an array");
        }
        if (bits) {
          if (nullable) bits |= kTNull;
          tables->types.push_back(TypeEntry{bits, location(ctx.doc, kp)});
          out.AddMember("x-gw-type", Value(static_cast<uint64_t>(tables->types.size() - 1)), a);
        }
      } else if (k == "enum") {
        if (!v.IsArray()) {
          error(ctx.doc, kp, "'enum' must be an array");
          continue;
        }
        Value e(v, a);
        if (nullable) {
          bool has_null = false;
          for (const auto& x : v.GetArray()) has_null |= x.IsNull();
          if (!has_null) e.PushBack(Value(), a);
        }
        out.AddMember("enum", e, a);
      } else if (k == "const") {
        out.AddMember("const", Value(v, a), a);
      } else if (k == "multipleOf") {
        if (!v.IsNumber() || v.GetDouble() <= 0) {
          error(ctx.doc, kp, "'multipleOf' must be a number greater than 0");
          continue;
        }
        tables->multiples.push_back(MultipleOfEntry{v.GetDouble(), location(ctx.doc, kp)});
        out.AddMember("x-gw-multipleOf", Value(static_cast<uint64_t>(tables->multiples.size() - 1)), a);
      } else if (k == "maximum" || k == "minimum") {
        if (!v.IsNumber()) {
          error(ctx.doc, kp, "'" + std::string(k) + "' must be a number");
          continue;
        }
        const char* excl = k == "maximum" ? "exclusiveMaximum" : "exclusiveMinimum";
        if (isTrue(node, excl)) {  // draft-4 / OpenAPI 3.0 boolean form
          out.AddMember(rapidjson::StringRef(excl), Value(v, a), a);
        } else {
          out.AddMember(rapidjson::StringRef(k == "maximum" ? "maximum" : "minimum"), Value(v, a), a);
        }
      } else if (k == "exclusiveMaximum" || k == "exclusiveMinimum") {
        if (v.IsBool()) continue;  // handled with maximum/minimum
        if (!v.IsNumber()) {
          error(ctx.doc, kp, "'" + std::string(k) + "' must be a number or a boolean");
          continue;
        }
        out.AddMember(rapidjson::StringRef(k == "exclusiveMaximum" ? "exclusiveMaximum" : "exclusiveMinimum"),
                      Value(v, a), a);
      } else if (k == "maxLength" || k == "minLength" || k == "maxItems" || k == "minItems" ||
                 k == "maxProperties" || k == "minProperties") {
        static const char* kNames[] = {"maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"};
        for (const char* n : kNames)
          if (k == n) translateNonNegInt(v, n, ctx, kp, out);
      } else if (k == "pattern") {
        if (!v.IsString()) {
          error(ctx.doc, kp, "'pattern' must be a string");
          continue;
        }
        std::string p(v.GetString(), v.GetStringLength());
        std::string err;
        auto re = compilePattern(p, &err);
        if (!re) {
          reportItem(report.unenforced, ctx.doc, kp, "pattern", "RE2 cannot compile '" + p + "': " + err);
          continue;
        }
        tables->patterns.push_back(PatternEntry{re, location(ctx.doc, kp)});
        out.AddMember("x-gw-pattern", Value(static_cast<uint64_t>(tables->patterns.size() - 1)), a);
      } else if (k == "format") {
        if (!v.IsString()) {
          error(ctx.doc, kp, "'format' must be a string");
          continue;
        }
        std::string name(v.GetString(), v.GetStringLength());
        FormatKind kind = formatKindFromName(name);
        if (kind == FormatKind::Unknown) {
          reportItem(report.unknown_formats, ctx.doc, kp, name, "format not checked");
          continue;
        }
        if (!assert_formats) continue;
        tables->formats.push_back(FormatEntry{kind, name, location(ctx.doc, kp)});
        out.AddMember("x-gw-format", Value(static_cast<uint64_t>(tables->formats.size() - 1)), a);
      } else if (k == "items") {
        if (is2020(ctx.dialect) && member(node, "prefixItems")) continue;  // with prefixItems
        if (v.IsArray()) {
          out.AddMember("items", translateArrayOf(v, ctx, kp, false, "items"), a);
          if (const Value* add = member(node, "additionalItems"))
            out.AddMember("additionalItems", translateChild(*add, ctx, ptr + "/additionalItems", false), a);
        } else {
          out.AddMember("items", translateChild(v, ctx, kp, false), a);
        }
      } else if (k == "prefixItems" && is2020(ctx.dialect)) {
        out.AddMember("items", translateArrayOf(v, ctx, kp, false, "prefixItems"), a);
        if (const Value* items = member(node, "items"))
          out.AddMember("additionalItems", translateChild(*items, ctx, ptr + "/items", false), a);
      } else if (k == "contains") {
        if (const Value* mc = member(node, "minContains"); mc && is2020(ctx.dialect) && mc->IsNumber() &&
                                                             mc->GetDouble() == 0) {
          continue;  // minContains: 0 makes contains always true
        }
        out.AddMember("contains", translateChild(v, ctx, kp, false), a);
      } else if (k == "uniqueItems") {
        if (!v.IsBool()) {
          error(ctx.doc, kp, "'uniqueItems' must be a boolean");
          continue;
        }
        out.AddMember("uniqueItems", v.GetBool(), a);
      } else if (k == "properties") {
        if (!v.IsObject()) {
          error(ctx.doc, kp, "'properties' must be an object");
          continue;
        }
        Value props(rapidjson::kObjectType);
        for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p) {
          std::string pp = kp;
          appendPointer(pp, std::string_view(p->name.GetString(), p->name.GetStringLength()));
          const char* why = nullptr;
          Value pv;
          if (forbiddenInDirection(ctx, p->value, &why)) {
            pv = failValue(why, location(ctx.doc, pp),
                           std::string("property '") + p->name.GetString() + "' is " + why + " and must not appear in a " +
                               (ctx.dir == Direction::Request ? "request" : "response"));
          } else {
            pv = translateChild(p->value, ctx, pp, false);
          }
          props.AddMember(Value(p->name, a), pv, a);
        }
        out.AddMember("properties", props, a);
      } else if (k == "patternProperties") {
        if (!v.IsObject()) {
          error(ctx.doc, kp, "'patternProperties' must be an object");
          continue;
        }
        Value props(rapidjson::kObjectType);
        for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p) {
          std::string pat(p->name.GetString(), p->name.GetStringLength());
          std::string pp = kp;
          appendPointer(pp, pat);
          std::string err;
          auto re = compilePattern(pat, &err);
          if (!re) {
            reportItem(report.unenforced, ctx.doc, pp, "patternProperties", "RE2 cannot compile '" + pat + "': " + err);
            continue;
          }
          property_patterns.emplace(pat, re);
          props.AddMember(Value(p->name, a), translateChild(p->value, ctx, pp, false), a);
        }
        out.AddMember("patternProperties", props, a);
      } else if (k == "additionalProperties") {
        out.AddMember("additionalProperties", translateChild(v, ctx, kp, false), a);
      } else if (k == "required") {
        if (!v.IsArray()) {
          if (!v.IsBool()) error(ctx.doc, kp, "'required' must be an array of strings");
          continue;
        }
        Value req(rapidjson::kArrayType);
        const Value* props = member(node, "properties");
        for (const auto& r : v.GetArray()) {
          if (!r.IsString()) {
            error(ctx.doc, kp, "'required' must be an array of strings");
            break;
          }
          // readOnly + required applies to responses only (and writeOnly to requests only).
          const Value* ps = props ? member(*props, r.GetString()) : nullptr;
          const char* why = nullptr;
          if (ps && forbiddenInDirection(ctx, *ps, &why)) continue;
          req.PushBack(Value(r, a), a);
        }
        out.AddMember("required", req, a);
      } else if (k == "propertyNames") {
        out.AddMember("propertyNames", inlineDef(ctx, kp, false), a);
      } else if (k == "dependencies" || k == "dependentRequired" || k == "dependentSchemas") {
        if (k == "dependencies" && is2020(ctx.dialect)) continue;
        if (k != "dependencies" && !is2020(ctx.dialect)) continue;
        if (!v.IsObject()) {
          error(ctx.doc, kp, "'" + std::string(k) + "' must be an object");
          continue;
        }
        if (!out.HasMember("dependencies")) out.AddMember("dependencies", Value(rapidjson::kObjectType), a);
        Value& deps = out["dependencies"];
        for (auto d = v.MemberBegin(); d != v.MemberEnd(); ++d) {
          std::string dp = kp;
          appendPointer(dp, std::string_view(d->name.GetString(), d->name.GetStringLength()));
          if (deps.HasMember(d->name)) {
            reportItem(report.unenforced, ctx.doc, dp, std::string(k), "property has both dependentRequired and dependentSchemas");
            continue;
          }
          if (d->value.IsArray()) {
            deps.AddMember(Value(d->name, a), Value(d->value, a), a);
          } else {
            deps.AddMember(Value(d->name, a), inlineDef(ctx, dp, true), a);
          }
        }
      } else if (k == "allOf") {
        Value arr = translateArrayOf(v, ctx, kp, true, "allOf", oas);
        for (auto& x : arr.GetArray()) allof.PushBack(x, a);
        has_composite = true;
      } else if (k == "anyOf" || k == "oneOf") {
        has_composite = true;
        if (disc_done) continue;  // replaced by the discriminator dispatch
        Value arr = translateArrayOf(v, ctx, kp, true, k == "anyOf" ? "anyOf" : "oneOf");
        out.AddMember(rapidjson::StringRef(k == "anyOf" ? "anyOf" : "oneOf"), arr, a);
      } else if (k == "not") {
        has_composite = true;
        out.AddMember("not", translateChild(v, ctx, kp, true), a);
      } else if (k == "if" && ctx.dialect != Dialect::Draft4 && ctx.dialect != Dialect::OpenApi30) {
        out.AddMember("if", translateChild(v, ctx, kp, true), a);
        if (const Value* t = member(node, "then")) out.AddMember("then", translateChild(*t, ctx, ptr + "/then", true), a);
        if (const Value* e = member(node, "else")) out.AddMember("else", translateChild(*e, ctx, ptr + "/else", true), a);
      } else if (!legacy && (k == "unevaluatedProperties" || k == "unevaluatedItems" || k == "$dynamicRef" ||
                             k == "$recursiveRef" || k == "maxContains" ||
                             (k == "minContains" && !(v.IsNumber() && v.GetDouble() <= 1)))) {
        reportItem(report.unenforced, ctx.doc, kp, std::string(k), "keyword is not enforced by the engine");
      }
    }
    if (!allof.Empty()) out.AddMember("allOf", allof, a);
    // Source location, ignored by valijson; only emitted when locating a schema valijson
    // rejected (it costs valijson a member scan per keyword lookup).
    if (emit_src) out.AddMember("x-gw-src", Value(ptr.c_str(), static_cast<rapidjson::SizeType>(ptr.size()), a), a);
    if (nullable && (has_composite || member(node, "$ref"))) {
      // nullable next to allOf/anyOf/oneOf/not: null is valid whatever the subschemas say.
      Value wrapped(rapidjson::kObjectType);
      Value any(rapidjson::kArrayType);
      Value null_type(rapidjson::kObjectType);
      null_type.AddMember("type", "null", a);
      any.PushBack(null_type, a);
      any.PushBack(out, a);
      wrapped.AddMember("anyOf", any, a);
      out = wrapped;
    }
  }

  std::shared_ptr<const re2::RE2> compilePattern(const std::string& p, std::string* err) {
    auto it = pattern_cache.find(p);
    if (it != pattern_cache.end()) return it->second;
    auto re = detail::compileRe2(p, err);
    if (re) pattern_cache.emplace(p, re);
    return re;
  }

  // OpenAPI discriminator: dispatch on the property value so that exactly one branch is
  // checked and its errors are reported (instead of oneOf's "matched none/several").
  bool translateDiscriminator(const Value& node, const Value& disc, const Ctx& ctx, const std::string& ptr,
                              Value& allof) {
    Alloc& a = alloc();
    const std::string dptr = ptr + "/discriminator";
    const Value* prop = member(disc, "propertyName");
    if (!prop || !prop->IsString()) {
      error(ctx.doc, dptr, "discriminator needs a string 'propertyName'");
      return false;
    }
    std::string prop_name(prop->GetString(), prop->GetStringLength());
    struct Case {
      std::string value;
      std::string ref;  // as written (resolved against ctx)
      bool self = false;
    };
    std::vector<Case> cases;
    auto hasValue = [&](const std::string& v) {
      for (auto& c : cases)
        if (c.value == v) return true;
      return false;
    };
    if (const Value* mapping = member(disc, "mapping"); mapping && mapping->IsObject()) {
      for (auto m = mapping->MemberBegin(); m != mapping->MemberEnd(); ++m) {
        if (!m->value.IsString()) continue;
        std::string target(m->value.GetString(), m->value.GetStringLength());
        if (target.find('/') == std::string::npos && target.find('#') == std::string::npos)
          target = "#/components/schemas/" + target;
        cases.push_back(Case{m->name.GetString(), target});
      }
    }
    const Value* branches = member(node, "oneOf");
    if (!branches) branches = member(node, "anyOf");
    if (branches && branches->IsArray()) {
      for (const auto& b : branches->GetArray()) {
        const Value* r = member(b, "$ref");
        if (!r || !r->IsString()) {
          reportItem(report.warnings, ctx.doc, dptr, "discriminator",
                     "a oneOf/anyOf branch is not a $ref; discriminator not used, all branches are checked");
          return false;
        }
        std::string ref(r->GetString(), r->GetStringLength());
        std::string name(lastToken(ref));
        bool mapped = false;
        for (auto& c : cases) mapped |= c.ref == ref;
        if (!mapped && !hasValue(name)) cases.push_back(Case{name, ref});
      }
    } else {
      // Inheritance form: the discriminator sits on a base schema that children extend with
      // allOf. Implicit mapping: component schemas whose allOf refers to this one.
      const std::string prefix = "/components/schemas/";
      const Def& def = defs[ctx.def];
      if (&node != resolvePointer(def.doc->doc, def.pointer) || def.pointer.rfind(prefix, 0) != 0 ||
          def.pointer.find('/', prefix.size()) != std::string::npos) {
        return false;
      }
      std::string self_name = def.pointer.substr(prefix.size());
      if (components_doc == def.doc) {
        const Value* schemas = resolvePointer(def.doc->doc, "/components/schemas");
        for (auto s = schemas && schemas->IsObject() ? schemas->MemberBegin() : Value::ConstMemberIterator();
             schemas && schemas->IsObject() && s != schemas->MemberEnd(); ++s) {
          const Value* all = member(s->value, "allOf");
          if (!all || !all->IsArray()) continue;
          for (const auto& x : all->GetArray()) {
            const Value* r = member(x, "$ref");
            if (r && r->IsString() && std::string_view(r->GetString()) == "#/components/schemas/" + self_name) {
              std::string n = s->name.GetString();
              if (!hasValue(n)) cases.push_back(Case{n, "#/components/schemas/" + n});
            }
          }
        }
      }
      if (!hasValue(self_name)) cases.push_back(Case{self_name, "", true});
    }
    if (cases.empty()) return false;

    std::string allowed;
    for (auto& c : cases) allowed += (allowed.empty() ? "" : ", ") + c.value;
    Value chain(rapidjson::kObjectType);
    {
      Value cond(rapidjson::kObjectType);
      Value req(rapidjson::kArrayType);
      req.PushBack(Value(prop_name.c_str(), a), a);
      cond.AddMember("required", req, a);
      chain.AddMember("if", cond, a);
      chain.AddMember("then", failValue("discriminator", location(ctx.doc, dptr),
                                        "discriminator '" + prop_name + "' must be one of: " + allowed), a);
    }
    for (size_t i = cases.size(); i-- > 0;) {
      Value then;
      if (cases[i].self) {
        const Def& def = defs[ctx.def];
        int d = intern(def.doc, def.pointer, ctx.dir, true);
        defs[ctx.def].same_instance_refs.push_back(d);
        then = refTo(d);
      } else {
        then = makeRef(ctx, cases[i].ref, dptr, false);
      }
      Value cond(rapidjson::kObjectType);
      Value props(rapidjson::kObjectType);
      Value c(rapidjson::kObjectType);
      c.AddMember("const", Value(cases[i].value.c_str(), a), a);
      props.AddMember(Value(prop_name.c_str(), a), c, a);
      cond.AddMember("properties", props, a);
      Value req(rapidjson::kArrayType);
      req.PushBack(Value(prop_name.c_str(), a), a);
      cond.AddMember("required", req, a);
      Value next(rapidjson::kObjectType);
      next.AddMember("if", cond, a);
      next.AddMember("then", then, a);
      next.AddMember("else", chain, a);
      chain = next;
    }
    Value required(rapidjson::kObjectType);
    Value req(rapidjson::kArrayType);
    req.PushBack(Value(prop_name.c_str(), a), a);
    required.AddMember("required", req, a);
    allof.PushBack(required, a);
    allof.PushBack(chain, a);
    return true;
  }

  void translatePending() {
    while (!pending.empty()) {
      int d = pending.front();
      pending.pop_front();
      const SourceDoc* doc = defs[d].doc;
      std::string ptr = defs[d].pointer;
      const Value* node = store.resolve(*doc, ptr);
      Value v;
      if (!node) {
        error(doc, ptr, "schema not found");
        v.SetBool(true);
      } else {
        Ctx ctx{doc, baseAt(doc, ptr), dialect, defs[d].dir, d, true};
        translate(*node, ctx, ptr, v, defs[d].no_disc);
      }
      while (out_defs.Size() <= static_cast<rapidjson::SizeType>(d)) out_defs.PushBack(Value(true), alloc());
      out_defs[d] = v;
    }
  }

  // Schemas that reach themselves without consuming the instance make valijson recurse
  // forever; refuse them at load.
  void checkCycles() {
    std::vector<int> state(defs.size(), 0);  // 0 new, 1 on stack, 2 done
    for (size_t start = 0; start < defs.size(); ++start) {
      if (state[start]) continue;
      std::vector<std::pair<int, size_t>> stack{{static_cast<int>(start), 0}};
      state[start] = 1;
      while (!stack.empty()) {
        auto& [d, i] = stack.back();
        if (i < defs[d].same_instance_refs.size()) {
          int n = defs[d].same_instance_refs[i++];
          if (state[n] == 1) {
            error(defs[n].doc, defs[n].pointer,
                  "schema refers to itself without consuming any input ($ref cycle through " +
                      defs[d].doc->label + "#" + defs[d].pointer + ")");
            return;
          }
          if (state[n] == 0) {
            state[n] = 1;
            stack.push_back({n, 0});
          }
        } else {
          state[d] = 2;
          stack.pop_back();
        }
      }
    }
  }

  void addBuilders(valijson::SchemaParser& parser) {
    parser.addConstraintBuilder("x-gw-pattern", new PatternBuilder(*tables));
    parser.addConstraintBuilder("x-gw-format", new FormatBuilder(*tables));
    parser.addConstraintBuilder("x-gw-type", new TypeBuilder(*tables));
    parser.addConstraintBuilder("x-gw-fail", new FailBuilder(*tables));
    parser.addConstraintBuilder("x-gw-multipleOf", new MultipleOfBuilder(*tables));
  }

  // Object subschemas of a translated tree, children before parents.
  void collectNodes(const Value& v, const std::string& at, std::vector<std::pair<std::string, std::string>>& out) {
    if (v.IsObject()) {
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        std::string p = at;
        appendPointer(p, std::string_view(m->name.GetString(), m->name.GetStringLength()));
        collectNodes(m->value, p, out);
      }
      if (const Value* src = member(v, "x-gw-src"); src && src->IsString()) out.emplace_back(at, src->GetString());
    } else if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) collectNodes(v[i], at + "/" + std::to_string(i), out);
    }
  }

  // valijson rejected the combined document: find the most specific def it rejects.
  void locateParseFailure(const std::string& message) {
    rapidjson::Document probe;
    probe.SetObject();
    probe.AddMember("d", Value(out_defs, probe.GetAllocator()), probe.GetAllocator());
    probe.AddMember("$ref", "", probe.GetAllocator());
    int tries = 0;
    for (size_t i = defs.size(); i-- > 0 && tries < 2000; ++tries) {
      std::string r = "#/d/" + std::to_string(i);
      probe["$ref"].SetString(r.c_str(), static_cast<rapidjson::SizeType>(r.size()), probe.GetAllocator());
      valijson::Schema s;
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      addBuilders(parser);
      try {
        parser.populateSchema(valijson::adapters::RapidJsonAdapter(probe), s);
      } catch (const std::exception& e) {
        // Narrow down to the deepest subschema of this def that is rejected on its own.
        std::vector<std::pair<std::string, std::string>> nodes;  // translated pointer, source pointer
        collectNodes(out_defs[static_cast<rapidjson::SizeType>(i)], "/d/" + std::to_string(i), nodes);
        std::string where = defs[i].pointer, what = e.what();
        for (size_t n = 0; n < nodes.size() && n < 500; ++n) {
          probe["$ref"].SetString(("#" + nodes[n].first).c_str(), probe.GetAllocator());
          valijson::Schema s2;
          valijson::SchemaParser p2(valijson::SchemaParser::kDraft7);
          addBuilders(p2);
          try {
            p2.populateSchema(valijson::adapters::RapidJsonAdapter(probe), s2);
          } catch (const std::exception& e2) {
            where = nodes[n].second;
            what = e2.what();
            break;
          }
        }
        error(defs[i].doc, where, "schema not accepted by the validator: " + what);
        return;
      }
    }
    SpecError e;
    e.message = "schema not accepted by the validator: " + message;
    errors.push_back(e);
  }
};

SchemaSetBuilder::SchemaSetBuilder(DocumentStore& store, Dialect dialect, CompileReport& report)
    : impl_(std::make_unique<Impl>(store, dialect, report)) {}
SchemaSetBuilder::~SchemaSetBuilder() = default;

void SchemaSetBuilder::setComponentsDoc(const SourceDoc* doc) { impl_->components_doc = doc; }
void SchemaSetBuilder::setAssertFormats(bool assert_formats) { impl_->assert_formats = assert_formats; }

int SchemaSetBuilder::addRoot(const SourceDoc& doc, std::string pointer, Direction dir) {
  impl_->scanIds(&doc);
  int d = impl_->intern(&doc, pointer, dir, false);
  impl_->root_defs.push_back(d);
  impl_->root_locations.push_back(doc.label + "#" + pointer);
  return static_cast<int>(impl_->root_defs.size() - 1);
}

Result<SchemaSetPtr> SchemaSetBuilder::build() {
  Impl& m = *impl_;
  try {
    m.translatePending();
    if (m.errors.empty()) m.checkCycles();
    if (!m.errors.empty()) return std::unexpected(SpecErrors{std::move(m.errors)});

    auto set = std::make_unique<SchemaSet::Impl>();
    set->schema = std::make_unique<valijson::Schema>();
    set->root_locations = m.root_locations;
    if (!m.root_defs.empty()) {
      m.out.SetObject();
      Value any(rapidjson::kArrayType);
      for (int d : m.root_defs) any.PushBack(m.refTo(d), m.alloc());
      m.out.AddMember("d", m.out_defs, m.alloc());
      m.out.AddMember("anyOf", any, m.alloc());
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      m.addBuilders(parser);
      try {
        parser.populateSchema(valijson::adapters::RapidJsonAdapter(m.out), *set->schema);
      } catch (const std::exception& e) {
        // Translate again with source locations, then probe.
        m.emit_src = true;
        m.out_defs.SetArray();
        for (size_t i = 0; i < m.defs.size(); ++i) m.pending.push_back(static_cast<int>(i));
        m.translatePending();
        m.locateParseFailure(e.what());
        return std::unexpected(SpecErrors{std::move(m.errors)});
      }
      std::vector<const valijson::Subschema*> roots(m.root_defs.size(), nullptr);
      valijson::Subschema::ApplyFunction fn = [&](const vc::Constraint& c) {
        if (auto* any_of = dynamic_cast<const vc::AnyOfConstraint*>(&c)) {
          any_of->applyToSubschemas([&](unsigned idx, const valijson::Subschema* s) {
            if (idx < roots.size()) roots[idx] = s;
            return true;
          });
        }
        return true;
      };
      set->schema->apply(fn);
      for (auto* r : roots)
        if (!r) return specError("", "", "internal: schema root missing after compilation");
      set->roots = std::move(roots);
    }
    set->tables = std::move(m.tables);
    set->property_patterns = std::move(m.property_patterns);
    // The translated document is not needed after parsing (valijson copies what it keeps).
    m.out.SetNull();
    return std::make_shared<const SchemaSet>(std::move(set));
  } catch (const std::exception& e) {
    return specError("", "", std::string("schema compilation failed: ") + e.what());
  }
}

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const rapidjson::Value& schema,
                                                              const JsonSchemaOptions& options,
                                                              CompileReport* report) {
  DocumentStore store(DocumentStore::Limits{}, options.fetch);
  CompileReport local;
  const SourceDoc* doc = store.addValue(options.base_uri, schema);
  SchemaSetBuilder builder(store, options.dialect, report ? *report : local);
  builder.setAssertFormats(options.assert_formats);
  builder.addRoot(*doc, "", Direction::Neutral);
  auto set = builder.build();
  if (!set) return std::unexpected(std::move(set.error()));
  auto js = std::shared_ptr<JsonSchema>(new JsonSchema());
  js->set_ = std::move(*set);
  return js;
}

}  // namespace gw::validators
