// One test per valijson 1.0 / RapidJSON 1.1.0 hazard the engine closes (see validators/schema.h).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/unit/validators/test_util.h"
#include "validators/json_doc.h"
#include "validators/schema.h"

namespace gw::validators {
namespace {

using ::testing::HasSubstr;
using namespace gw::validators::testing;

std::shared_ptr<const JsonSchema> compile(const char* schema_json, CompileReport* report = nullptr,
                                          Dialect dialect = Dialect::Draft7) {
  rapidjson::Document d;
  d.Parse(schema_json);
  EXPECT_FALSE(d.HasParseError()) << schema_json;
  JsonSchemaOptions o;
  o.dialect = dialect;
  auto s = JsonSchema::compile(d, o, report);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().toString());
  return s ? *s : nullptr;
}

bool valid(const JsonSchema& s, const rapidjson::Value& v, std::vector<SchemaError>* errors = nullptr) {
  ValidationContext ctx;
  return s.validate(v, ctx, errors);
}

TEST(SchemaHazards, PatternUsesRe2OnLongInput) {
  // std::regex recurses per character on this pattern and overflows the stack on ~100 KB.
  auto s = compile(R"({"type":"string","pattern":"^(a|b)*$"})");
  ASSERT_NE(s, nullptr);
  rapidjson::Document v;
  std::string big(2u << 20, 'a');
  v.SetString(big.c_str(), static_cast<rapidjson::SizeType>(big.size()), v.GetAllocator());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(valid(*s, v));
  big.back() = 'c';
  v.SetString(big.c_str(), static_cast<rapidjson::SizeType>(big.size()), v.GetAllocator());
  std::vector<SchemaError> errors;
  EXPECT_FALSE(valid(*s, v, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "pattern");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(SchemaHazards, PatternPropertiesUseRe2) {
  auto s = compile(R"({"patternProperties":{"^(a|b)*$":{"type":"integer"}},"additionalProperties":false})");
  ASSERT_NE(s, nullptr);
  rapidjson::Document v;
  v.SetObject();
  std::string key(1u << 20, 'b');
  v.AddMember(rapidjson::Value(key.c_str(), v.GetAllocator()), rapidjson::Value(1), v.GetAllocator());
  EXPECT_TRUE(valid(*s, v));
  v.AddMember("c", rapidjson::Value(1), v.GetAllocator());
  EXPECT_FALSE(valid(*s, v));
}

TEST(SchemaHazards, PatternRe2CannotCompileIsReportedNotIgnored) {
  CompileReport report;
  auto s = compile(R"j({"properties":{"a":{"pattern":"^(?=x)"}}})j", &report);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(report.unenforced.size(), 1u);
  EXPECT_EQ(report.unenforced[0].keyword, "pattern");
  EXPECT_EQ(report.unenforced[0].pointer, "/properties/a/pattern");
}

TEST(SchemaHazards, FormatsAreOurOwnAndUnknownOnesListed) {
  CompileReport report;
  auto s = compile(R"({"properties":{"d":{"format":"date"},"u":{"format":"uuid"},"i":{"format":"int32"},
                       "x":{"format":"x-custom"}}})",
                   &report);
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(report.unknown_formats.size(), 1u);
  EXPECT_EQ(report.unknown_formats[0].keyword, "x-custom");
  rapidjson::Document v;
  v.Parse(R"({"d":"2024-02-29","u":"123e4567-e89b-12d3-a456-426614174000","i":2147483647,"x":"anything"})");
  EXPECT_TRUE(valid(*s, v));
  for (const char* bad : {R"({"d":"2023-02-29"})", R"({"u":"123e4567"})", R"({"i":2147483648})"}) {
    v.Parse(bad);
    std::vector<SchemaError> errors;
    EXPECT_FALSE(valid(*s, v, &errors)) << bad;
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].keyword, "format");
  }
}

TEST(SchemaHazards, DeepDocumentsRefusedBeforeValidation) {
  JsonLimits limits;  // default depth 64
  rapidjson::Document d;
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(parseJsonCapped(ok, d, limits).status, JsonParseStatus::Ok);
  std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_EQ(parseJsonCapped(deep, d, limits).status, JsonParseStatus::TooDeep);
  // 1M levels: the iterative parser does not recurse, the cap stops it early.
  std::string huge = std::string(1u << 20, '[') + std::string(1u << 20, ']');
  EXPECT_EQ(parseJsonCapped(huge, d, limits).status, JsonParseStatus::TooDeep);

  ContractPtr c = mustLoad(specPath("contract30.yaml"));
  ASSERT_NE(c, nullptr);
  ValidationContext ctx;
  ViolationSink sink;
  Req r;
  r.method = "POST";
  r.path = "/api/v2/pets";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"name":"x","tag":)" + std::string(100000, '[');
  r.has_body = true;
  c->validateRequest(r.view(), ctx, sink);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.violations()[0].code, "request.body.limits");
}

TEST(SchemaHazards, LongNumbersDoNotCrashTheParser) {
  // kParseFullPrecisionFlag crashes RapidJSON 1.1.0 on long numbers; we never set it.
  JsonLimits limits;
  rapidjson::Document d;
  std::string long_frac = "[0." + std::string(100000, '1') + "]";
  EXPECT_EQ(parseJsonCapped(long_frac, d, limits).status, JsonParseStatus::Ok);
  std::string long_int = "[" + std::string(100000, '9') + "]";
  auto r = parseJsonCapped(long_int, d, limits);
  EXPECT_TRUE(r.status == JsonParseStatus::Ok || r.status == JsonParseStatus::Syntax);
  std::string long_exp = "[1e" + std::string(10000, '9') + "]";
  r = parseJsonCapped(long_exp, d, limits);
  EXPECT_TRUE(r.status == JsonParseStatus::Ok || r.status == JsonParseStatus::Syntax);
}

TEST(SchemaHazards, NulInsideABodyIsAParseError) {
  // Bodies are parsed in situ from a NUL-terminated copy; a NUL must not end the document early.
  ContractPtr c = mustLoad(specPath("contract30.yaml"));
  ASSERT_NE(c, nullptr);
  ValidationContext ctx;
  ViolationSink sink;
  static const char kBody[] = "{\"name\":\"x\"}\0{garbage";
  Req r("POST", "/api/v2/pets", "", std::string(kBody, sizeof kBody - 1),
        {{"Content-Type", "application/json"}}, true);
  c->validateRequest(r.view(), ctx, sink);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.violations()[0].code, "request.body.parse");
  rapidjson::Document d;
  EXPECT_EQ(parseJsonCapped(std::string_view("[1]\0]", 5), d, JsonLimits{}).status, JsonParseStatus::Syntax);
}

TEST(SchemaHazards, BodySizeAndStringLengthCaps) {
  LoadOptions opts;
  opts.limits.max_body_bytes = 1000;
  opts.limits.max_string_length = 100;
  auto c = loadContract(specPath("contract30.yaml"), opts);
  ASSERT_TRUE(c.has_value());
  ValidationContext ctx;
  Req r;
  r.method = "POST";
  r.path = "/api/v2/pets";
  r.headers = {{"Content-Type", "application/json"}};
  r.has_body = true;
  r.body = R"({"name":")" + std::string(2000, 'x') + R"("})";
  ViolationSink sink;
  (*c)->validateRequest(r.view(), ctx, sink);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.violations()[0].code, "request.body.too_large");
  r.body = R"({"name":")" + std::string(200, 'x') + R"("})";
  sink.clear();
  (*c)->validateRequest(r.view(), ctx, sink);
  ASSERT_EQ(sink.size(), 1u);
  EXPECT_EQ(sink.violations()[0].code, "request.body.limits");
  EXPECT_THAT(sink.violations()[0].message, HasSubstr("longer than 100"));
}

TEST(SchemaHazards, SchemaValijsonRejectsIsALocatedLoadError) {
  // Our translator passes dependency arrays through; valijson throws on the number in it.
  rapidjson::Document d;
  d.Parse(R"({"properties":{"a":{"dependencies":{"x":[3]}}}})");
  auto s = JsonSchema::compile(d, JsonSchemaOptions{});
  ASSERT_FALSE(s.has_value());
  ASSERT_EQ(s.error().errors.size(), 1u);
  EXPECT_EQ(s.error().errors[0].pointer, "/properties/a");
  EXPECT_THAT(s.error().errors[0].message, HasSubstr("not accepted by the validator"));

  const char* spec = R"(openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema:
              properties:
                a: {dependencies: {x: [3]}}
      responses:
        "200": {description: ok}
)";
  auto c = loadContractFromString(spec, "rejected.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().toString(),
              HasSubstr("rejected.yaml:11: /paths/~1a/post/requestBody/content/application~1json/schema/properties/a"));
}

TEST(SchemaHazards, SelfRecursionWithoutInputIsRefused) {
  rapidjson::Document d;
  d.Parse(R"({"$ref":"#/definitions/a","definitions":{"a":{"allOf":[{"$ref":"#/definitions/a"}]}}})");
  auto s = JsonSchema::compile(d, JsonSchemaOptions{});
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().toString(), HasSubstr("refers to itself"));
  // Recursion through properties consumes input and is fine.
  auto ok = compile(R"({"properties":{"next":{"$ref":"#"}}})");
  ASSERT_NE(ok, nullptr);
  rapidjson::Document v;
  v.Parse(R"({"next":{"next":{"next":{}}}})");
  EXPECT_TRUE(valid(*ok, v));
}

TEST(SchemaHazards, PropertyNamesAndDependenciesBehindARef) {
  // valijson 1.0 gives these subschemas their parent's cache key; reached through a $ref they
  // used to alias the parent (propertyNames accepted everything).
  auto s = compile(R"({"$ref":"#/definitions/a","definitions":{"a":{"propertyNames":{"maxLength":3},
                       "dependencies":{"x":{"required":["y"]},"z":{"required":["w"]}}}}})");
  ASSERT_NE(s, nullptr);
  rapidjson::Document v;
  v.Parse(R"({"foo":1})");
  EXPECT_TRUE(valid(*s, v));
  v.Parse(R"({"foobar":1})");
  EXPECT_FALSE(valid(*s, v));
  v.Parse(R"({"x":1,"y":2,"z":3})");
  EXPECT_FALSE(valid(*s, v));  // second dependency must not reuse the first one's subschema
  v.Parse(R"({"x":1,"y":2,"z":3,"w":4})");
  EXPECT_TRUE(valid(*s, v));
}

TEST(SchemaHazards, IntegerTypeAcceptsIntegralFloats) {
  auto s = compile(R"({"type":"integer"})");
  rapidjson::Document v;
  v.Parse("1.0");
  EXPECT_TRUE(valid(*s, v));
  v.Parse("1.5");
  EXPECT_FALSE(valid(*s, v));
}

}  // namespace
}  // namespace gw::validators
