// Parameter deserialization per style / explode (OpenAPI 3 "Style Examples" table).

#include <gtest/gtest.h>

#include "validators/contract_impl.h"
#include "validators/json_doc.h"

namespace gw::validators {
namespace {

TypeHintPtr hint(unsigned types, TypeHintPtr items = nullptr,
                 std::vector<std::pair<std::string, TypeHintPtr>> props = {}) {
  auto h = std::make_shared<TypeHint>();
  h->types = types;
  h->items = std::move(items);
  h->props = std::move(props);
  return h;
}

const TypeHintPtr kInt = hint(TypeHint::kInteger);
const TypeHintPtr kStr = hint(TypeHint::kString);
const TypeHintPtr kIntArray = hint(TypeHint::kArray, kInt);
const TypeHintPtr kObj = hint(TypeHint::kObject, nullptr, {{"role", kStr}, {"firstName", kStr}, {"n", kInt}});

ParamSpec param(const char* name, ParamIn in, Style style, bool explode, TypeHintPtr h) {
  ParamSpec p;
  p.name = name;
  p.in = in;
  p.style = style;
  p.explode = explode;
  p.hint = std::move(h);
  return p;
}

class ParamsTest : public ::testing::Test {
 protected:
  std::string path(const ParamSpec& p, std::string_view raw) {
    rapidjson::Value v;
    ParamResult r = deserializePathParam(p, raw, v, doc_.GetAllocator());
    return r == ParamResult::Ok ? toJsonString(v) : r == ParamResult::StyleError ? "STYLE" : "OTHER";
  }
  std::string query(const ParamSpec& p, std::string_view q, std::string* reserved = nullptr) {
    rapidjson::Value v;
    auto pairs = parseQuery(q);
    std::vector<std::string_view> claimed{"other"};
    ParamResult r = deserializeQueryParam(p, pairs, claimed, v, doc_.GetAllocator(), reserved);
    switch (r) {
      case ParamResult::Ok: return toJsonString(v);
      case ParamResult::Absent: return "ABSENT";
      case ParamResult::Empty: return "EMPTY";
      case ParamResult::StyleError: return "STYLE";
    }
    return "";
  }
  rapidjson::Document doc_;
};

TEST_F(ParamsTest, SimpleStyle) {
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, false, kInt), "5"), "5");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, false, kStr), "a%2Cb"), "\"a,b\"");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, false, kIntArray), "3,4,5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, true, kIntArray), "3,4,5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, false, kObj), "role,admin,firstName,Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, true, kObj), "role=admin,firstName=Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Simple, false, kObj), "role,admin,firstName"), "STYLE");
}

TEST_F(ParamsTest, LabelStyle) {
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, false, kInt), ".5"), "5");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, false, kIntArray), ".3,4,5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, true, kIntArray), ".3.4.5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, false, kObj), ".role,admin,firstName,Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, true, kObj), ".role=admin.firstName=Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Label, false, kInt), "5"), "STYLE");
}

TEST_F(ParamsTest, MatrixStyle) {
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, false, kInt), ";id=5"), "5");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, false, kIntArray), ";id=3,4,5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, true, kIntArray), ";id=3;id=4;id=5"), "[3,4,5]");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, false, kObj), ";id=role,admin,firstName,Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, true, kObj), ";role=admin;firstName=Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, false, kInt), ";other=5"), "STYLE");
  EXPECT_EQ(path(param("id", ParamIn::Path, Style::Matrix, true, kIntArray), ";id=3;x=4"), "STYLE");
}

TEST_F(ParamsTest, FormStyleQuery) {
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kInt), "id=5&x=1"), "5");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kIntArray), "id=3&id=4&id=5"), "[3,4,5]");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, false, kIntArray), "id=3,4,5"), "[3,4,5]");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, false, kObj), "id=role,admin,firstName,Alex"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kObj), "role=admin&firstName=Alex&other=1"),
            R"({"role":"admin","firstName":"Alex"})");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kStr), "x=1"), "ABSENT");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kStr), "id=a+b%20c"), "\"a b c\"");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kStr), "id="), "EMPTY");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::Form, true, kStr), "id"), "EMPTY");
}

TEST_F(ParamsTest, DelimitedAndDeepObject) {
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::SpaceDelimited, false, kIntArray), "id=3%204%205"), "[3,4,5]");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::PipeDelimited, false, kIntArray), "id=3|4|5"), "[3,4,5]");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::PipeDelimited, false, kIntArray), "id=3%7C4"), "[3,4]");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::DeepObject, true, kObj), "id[role]=admin&id[n]=3"),
            R"({"role":"admin","n":3})");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::DeepObject, true, kObj), "id[role]=a&id[role]=b"), "STYLE");
  EXPECT_EQ(query(param("id", ParamIn::Query, Style::DeepObject, true, kObj), "idx[role]=a"), "ABSENT");
}

TEST_F(ParamsTest, AllowReserved) {
  std::string reserved;
  auto p = param("q", ParamIn::Query, Style::Form, true, kStr);
  EXPECT_EQ(query(p, "q=a:b", &reserved), "\"a:b\"");
  EXPECT_EQ(reserved, ":");
  reserved.clear();
  p.allow_reserved = true;
  query(p, "q=a:b/[c]", &reserved);
  EXPECT_EQ(reserved, "");
  p.allow_reserved = false;
  query(p, "q=a%3Ab", &reserved);
  EXPECT_EQ(reserved, "");
  // the style's own delimiter is not a reserved-character violation
  auto arr = param("q", ParamIn::Query, Style::Form, false, kIntArray);
  query(arr, "q=1,2", &reserved);
  EXPECT_EQ(reserved, "");
}

TEST_F(ParamsTest, HeaderAndCookieValues) {
  rapidjson::Value v;
  auto& a = doc_.GetAllocator();
  ASSERT_EQ(deserializeHeaderValue(param("X", ParamIn::Header, Style::Simple, false, kIntArray), " 1, 2 ,3 ", v, a),
            ParamResult::Ok);
  EXPECT_EQ(toJsonString(v), "[1,2,3]");
  ASSERT_EQ(deserializeHeaderValue(param("X", ParamIn::Header, Style::Simple, true, kObj), "role=admin,n=2", v, a),
            ParamResult::Ok);
  EXPECT_EQ(toJsonString(v), R"({"role":"admin","n":2})");
  ASSERT_EQ(deserializeCookieValue(param("c", ParamIn::Cookie, Style::Form, false, kIntArray), "1,2", v, a),
            ParamResult::Ok);
  EXPECT_EQ(toJsonString(v), "[1,2]");
}

TEST_F(ParamsTest, ScalarCoercionFollowsTheSchemaTypes) {
  rapidjson::Value v;
  auto& a = doc_.GetAllocator();
  coerceScalar("12", hint(TypeHint::kInteger).get(), v, a);
  EXPECT_TRUE(v.IsInt64());
  coerceScalar("1.5", hint(TypeHint::kNumber).get(), v, a);
  EXPECT_TRUE(v.IsDouble());
  coerceScalar("true", hint(TypeHint::kBool).get(), v, a);
  EXPECT_TRUE(v.IsBool());
  coerceScalar("12", hint(TypeHint::kString | TypeHint::kInteger).get(), v, a);
  EXPECT_TRUE(v.IsString());  // a string is allowed: keep the text
  coerceScalar("x", hint(TypeHint::kInteger).get(), v, a);
  EXPECT_TRUE(v.IsString());  // left for the schema to refuse
  coerceScalar("", hint(TypeHint::kNull | TypeHint::kInteger).get(), v, a);
  EXPECT_TRUE(v.IsNull());
  coerceScalar("99999999999999999999", hint(TypeHint::kInteger).get(), v, a);
  EXPECT_TRUE(v.IsDouble());
}

}  // namespace
}  // namespace gw::validators

namespace gw::validators {
namespace {

MediaSpec media(const char* key) {
  MediaSpec m;
  MediaTypeView v;
  EXPECT_TRUE(parseMediaType(key, v)) << key;
  m.key = key;
  m.type = v.type;
  m.subtype = v.subtype;
  m.params = v.params;
  return m;
}

TEST(MediaTypes, ParseAndMatch) {
  MediaTypeView v;
  ASSERT_TRUE(parseMediaType(R"(Multipart/Form-Data; boundary="a;b\"c"; charset=UTF-8)", v));
  EXPECT_EQ(v.type, "multipart");
  EXPECT_EQ(v.subtype, "form-data");
  ASSERT_EQ(v.params.size(), 2u);
  EXPECT_EQ(v.params[0].second, "a;b\"c");
  EXPECT_EQ(v.params[1].first, "charset");
  EXPECT_FALSE(parseMediaType("json", v));
  EXPECT_FALSE(parseMediaType("application/js on", v));

  std::vector<MediaSpec> specs{media("*/*"), media("application/*"), media("application/json"),
                               media("text/plain; charset=utf-8")};
  auto match = [&](const char* ct) -> std::string {
    MediaTypeView mt;
    if (!parseMediaType(ct, mt)) return "invalid";
    const MediaSpec* m = matchMedia(specs, mt);
    return m ? m->key : "none";
  };
  EXPECT_EQ(match("application/json; charset=utf-8"), "application/json");
  EXPECT_EQ(match("application/merge-patch+json"), "application/*");
  EXPECT_EQ(match("text/plain; charset=UTF-8"), "text/plain; charset=utf-8");
  EXPECT_EQ(match("text/plain; charset=latin1"), "*/*");  // parameter mismatch: falls to */*
  EXPECT_EQ(match("image/png"), "*/*");
  specs.erase(specs.begin());
  EXPECT_EQ(match("image/png"), "none");
  EXPECT_TRUE(isJsonMedia("application", "problem+json"));
  EXPECT_TRUE(isJsonMedia("application", "json"));
  EXPECT_FALSE(isJsonMedia("application", "jsonx"));
}

TEST(MediaTypes, FormBodyUsesHintsAndEncoding) {
  rapidjson::Document doc;
  MediaSpec m = media("application/x-www-form-urlencoded");
  auto h = std::make_shared<TypeHint>();
  h->types = TypeHint::kObject;
  auto ints = std::make_shared<TypeHint>();
  ints->types = TypeHint::kArray;
  ints->items = kInt;
  h->props = {{"ids", ints}, {"n", kInt}, {"obj", kObj}};
  m.hint = h;
  EncodingSpec packed;
  packed.explode = false;
  m.encoding["ids"] = packed;
  rapidjson::Value out;
  std::string err;
  ASSERT_TRUE(parseFormBody("ids=1,2,3&n=4&obj[n]=5&obj[role]=x&other=a&other=b", m, out, doc.GetAllocator(), &err))
      << err;
  EXPECT_EQ(toJsonString(out), R"({"ids":[1,2,3],"n":4,"obj":{"n":5,"role":"x"},"other":["a","b"]})");
}

}  // namespace
}  // namespace gw::validators
