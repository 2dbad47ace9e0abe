// Contract engine behaviour on hand-written specs (specs/openapi/*.yaml).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/validators/test_util.h"

namespace gw::validators {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace gw::validators::testing;

class Contract30Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { contract_ = mustLoad(specPath("contract30.yaml")); }
  static void TearDownTestSuite() { contract_.reset(); }

  void SetUp() override { ASSERT_NE(contract_, nullptr); }

  RequestOutcome check(const Req& r) {
    sink_.clear();
    return contract_->validateRequest(r.view(), ctx_, sink_);
  }
  static Req get(std::string path, std::string query = "") {
    Req r;
    r.path = "/api/v2" + path;
    r.query = std::move(query);
    return r;
  }
  static Req post(std::string path, std::string content_type, std::string body) {
    Req r;
    r.method = "POST";
    r.path = "/api/v2" + path;
    r.headers = {{"Content-Type", content_type}};
    r.body = std::move(body);
    r.has_body = true;
    return r;
  }
  bool checkResponse(const std::string& method, const std::string& path, const Resp& resp) {
    sink_.clear();
    RouteMatch m = contract_->matchRoute(method, "/api/v2" + path);
    EXPECT_EQ(m.status, RouteStatus::Found);
    if (!m.operation) return false;
    return contract_->validateResponse(*m.operation, resp.view(), ctx_, sink_);
  }
  const Violation& first() { return sink_.violations().at(0); }

  static ContractPtr contract_;
  ValidationContext ctx_;
  ViolationSink sink_{32};
};
ContractPtr Contract30Test::contract_;

// ---- routing ---------------------------------------------------------------------------------

TEST_F(Contract30Test, ServerBasePathWithVariableIsStripped) {
  EXPECT_EQ(contract_->basePaths(), std::vector<std::string>{"/api/v2"});
  EXPECT_EQ(contract_->matchRoute("GET", "/api/v2/pets").status, RouteStatus::Found);
  EXPECT_EQ(contract_->matchRoute("GET", "/pets").status, RouteStatus::NotFound);
  EXPECT_EQ(contract_->matchRoute("GET", "/api/v2x/pets").status, RouteStatus::NotFound);
}

TEST_F(Contract30Test, ConcretePathBeatsTemplate) {
  RouteMatch m = contract_->matchRoute("GET", "/api/v2/pets/mine");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->operationId(), "myPets");
  m = contract_->matchRoute("GET", "/api/v2/pets/12");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->operationId(), "getPet");
  ASSERT_EQ(m.param_count, 1);
  EXPECT_EQ(m.params[0].name, "petId");
  EXPECT_EQ(m.params[0].raw, "12");
}

TEST_F(Contract30Test, ConcretePathWithoutTheMethodFallsBackToTemplate) {
  // DELETE exists only on /pets/{petId}; "mine" is a valid petId string for the router.
  RouteMatch m = contract_->matchRoute("DELETE", "/api/v2/pets/mine");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->operationId(), "deletePet");
}

TEST_F(Contract30Test, MethodNotAllowedListsAllowedMethods) {
  RouteMatch m = contract_->matchRoute("PUT", "/api/v2/pets/3");
  EXPECT_EQ(m.status, RouteStatus::MethodNotAllowed);
  EXPECT_EQ(m.allowed, "GET, DELETE, HEAD");
  check([] { Req r = get("/pets/3"); r.method = "PATCH"; return r; }());
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().code, "request.route.method");
  check(get("/nope"));
  EXPECT_EQ(first().code, "request.route.not_found");
}

TEST_F(Contract30Test, HeadFallsBackToGet) {
  RouteMatch m = contract_->matchRoute("HEAD", "/api/v2/pets");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->operationId(), "listPets");
}

TEST_F(Contract30Test, TemplateWithSeveralExpressionsInOneSegment) {
  RouteMatch m = contract_->matchRoute("GET", "/api/v2/files/report.v2.json");
  ASSERT_EQ(m.status, RouteStatus::Found);
  ASSERT_EQ(m.param_count, 2);
  EXPECT_EQ(m.params[0].raw, "report");
  EXPECT_EQ(m.params[1].raw, "v2.json");  // first '.' splits; ext enum then fails
  EXPECT_FALSE(check(get("/files/report.v2.json")).valid);
  EXPECT_TRUE(check(get("/files/report.json")).valid) << dump(sink_);
}

// ---- parameters ----------------------------------------------------------------------------

TEST_F(Contract30Test, PathParameterIsTypedThenChecked) {
  Req r = get("/pets/5");
  r.headers = {{"x-request-id", "123e4567-e89b-12d3-a456-426614174000"}};
  EXPECT_TRUE(check(r).valid) << dump(sink_);
  r.path = "/api/v2/pets/0";
  check(r);
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().code, "request.path.schema");
  EXPECT_EQ(first().name, "petId");
  EXPECT_EQ(first().keyword, "minimum");
  r.path = "/api/v2/pets/abc";
  check(r);
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().keyword, "type");
}

TEST_F(Contract30Test, HeaderNamesAreCaseInsensitive) {
  Req r = get("/pets/5");
  check(r);
  EXPECT_THAT(codes(sink_), ElementsAre("request.header.missing"));
  r.headers = {{"X-REQUEST-ID", "not-a-uuid"}};
  check(r);
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().code, "request.header.schema");
  EXPECT_EQ(first().keyword, "format");
  EXPECT_THAT(first().spec_pointer, HasSubstr("contract30.yaml#/paths/~1pets~1{petId}/get/parameters/0/schema/format"));
}

TEST_F(Contract30Test, CookieParameter) {
  Req r = get("/pets/5");
  r.headers = {{"X-Request-Id", "123e4567-e89b-12d3-a456-426614174000"}, {"Cookie", "a=1; session=abc"}};
  check(r);
  EXPECT_THAT(codes(sink_), ElementsAre("request.cookie.schema"));
  r.headers[1].second = "a=1; session=abcd";
  EXPECT_TRUE(check(r).valid) << dump(sink_);
}

TEST_F(Contract30Test, QueryFormStyles) {
  EXPECT_TRUE(check(get("/pets", "limit=99&tags=a&tags=b&ids=1,2,3")).valid) << dump(sink_);
  check(get("/pets", "ids=1,2,x"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().code, "request.query.schema");
  EXPECT_EQ(first().pointer, "/2");
}

TEST_F(Contract30Test, BooleanExclusiveMaximumOfOpenApi30) {
  check(get("/pets", "limit=100"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "exclusiveMaximum");
  EXPECT_TRUE(check(get("/pets", "limit=99")).valid);
}

TEST_F(Contract30Test, SpaceAndPipeDelimited) {
  EXPECT_TRUE(check(get("/pets", "sp=1%202%203&pp=a|b|c")).valid) << dump(sink_);
  check(get("/pets", "pp=a|b|d"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().pointer, "/2");
  EXPECT_EQ(first().keyword, "enum");
  check(get("/pets", "sp=1+x"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().pointer, "/1");
}

TEST_F(Contract30Test, DeepObject) {
  EXPECT_TRUE(check(get("/pets", "filter%5Bcolor%5D=red&filter[age]=3")).valid) << dump(sink_);
  check(get("/pets", "filter[age]=-1"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().pointer, "/age");
  EXPECT_EQ(first().keyword, "minimum");
  check(get("/pets", "filter[bogus]=1"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().keyword, "additionalProperties");
}

TEST_F(Contract30Test, PatternAndReservedCharacters) {
  EXPECT_TRUE(check(get("/pets", "name=abc&q=a/b?c:d")).valid) << dump(sink_);
  check(get("/pets", "name=ABC"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().keyword, "pattern");
  check(get("/pets", "name=a:b"));
  EXPECT_THAT(codes(sink_), Contains("request.query.reserved"));
  EXPECT_TRUE(check(get("/pets", "name=ab%3A")).valid == false);  // decoded ':' fails the pattern only
  EXPECT_THAT(codes(sink_), ElementsAre("request.query.schema"));
}

TEST_F(Contract30Test, EmptyValues) {
  EXPECT_TRUE(check(get("/pets", "flag=")).valid) << dump(sink_);
  EXPECT_TRUE(check(get("/pets", "flag")).valid) << dump(sink_);
  check(get("/pets", "nonempty="));
  EXPECT_THAT(codes(sink_), ElementsAre("request.query.empty"));
}

TEST_F(Contract30Test, ContentDescribedParameter) {
  EXPECT_TRUE(check(get("/pets", "coords=%7B%22lat%22%3A1.5%2C%22lng%22%3A2%7D")).valid) << dump(sink_);
  check(get("/pets", "coords=%7B%22lat%22%3A1%7D"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().keyword, "required");
  check(get("/pets", "coords=nope"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.query.content"));
}

TEST_F(Contract30Test, LabelMatrixAndSimpleObjectPathStyles) {
  EXPECT_TRUE(check(get("/styles/label/.1.2.3")).valid) << dump(sink_);
  check(get("/styles/label/.1.x"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.path.schema"));
  check(get("/styles/label/1.2"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.path.style"));

  EXPECT_TRUE(check(get("/styles/matrix/;x=1;y=2")).valid) << dump(sink_);
  check(get("/styles/matrix/;x=1"));
  EXPECT_EQ(first().keyword, "required");

  EXPECT_TRUE(check(get("/styles/simple/role,admin,level,5")).valid) << dump(sink_);
  check(get("/styles/simple/role,admin,level,6"));
  EXPECT_EQ(first().pointer, "/level");
  check(get("/styles/simple/role,admin,level"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.path.style"));
}

// ---- request bodies --------------------------------------------------------------------------

TEST_F(Contract30Test, JsonBody) {
  EXPECT_TRUE(check(post("/pets", "application/json", R"({"name":"rex","birthday":"2020-02-29"})")).valid) << dump(sink_);
  EXPECT_TRUE(check(post("/pets", "Application/JSON; charset=UTF-8", R"({"name":"rex"})")).valid) << dump(sink_);
  check(post("/pets", "application/json", R"({"tag":{}})"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.schema", "request.body.schema")) << dump(sink_);
  for (const auto& v : sink_.violations()) {
    EXPECT_EQ(v.keyword, "required");
    EXPECT_THAT(v.spec_pointer, v.pointer == "/tag" ? HasSubstr("#/components/schemas/Tag/required")
                                                     : HasSubstr("#/components/schemas/Pet/required"));
  }
  check(post("/pets", "application/json", R"({"name":"rex","birthday":"2021-02-29"})"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().pointer, "/birthday");
  EXPECT_EQ(first().keyword, "format");
  check(post("/pets", "application/json", R"({"name":"rex","weight":0})"));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().keyword, "exclusiveMinimum");
  check(post("/pets", "application/json", R"({"name":)"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.parse"));
}

TEST_F(Contract30Test, ReadOnlyRefusedInRequestsWriteOnlyInResponses) {
  check(post("/pets", "application/json", R"({"id":1,"name":"rex"})"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "readOnly");
  EXPECT_EQ(first().pointer, "/id");
  // `id` is required, but only in responses.
  Resp ok{201, R"({"id":1,"name":"rex"})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(checkResponse("POST", "/pets", ok)) << dump(sink_);
  Resp leak{201, R"({"id":1,"name":"rex","secret":"s3"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(checkResponse("POST", "/pets", leak));
  ASSERT_EQ(sink_.size(), 1u);
  EXPECT_EQ(first().code, "response.body.schema");
  EXPECT_EQ(first().keyword, "writeOnly");
  Resp missing_id{201, R"({"name":"rex"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(checkResponse("POST", "/pets", missing_id));
  EXPECT_EQ(first().keyword, "required");
  EXPECT_TRUE(check(post("/pets", "application/json", R"({"name":"rex","secret":"s3"})")).valid);
}

TEST_F(Contract30Test, BodyPresenceAndMediaTypes) {
  Req r = post("/pets", "application/json", "");
  r.has_body = false;
  check(r);
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.missing"));
  check(post("/pets", "application/xml", "<pet/>"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.content_type"));
  EXPECT_THAT(first().message, HasSubstr("application/json"));
  // text/* wildcard with a string schema
  EXPECT_TRUE(check(post("/pets", "text/plain; charset=utf-8", "hello")).valid) << dump(sink_);
  check(post("/pets", "text/csv", "hello world!"));
  EXPECT_EQ(first().keyword, "maxLength");
  // documented without schema: accepted by type only
  EXPECT_TRUE(check(post("/pets", "application/octet-stream", std::string("\0\1\2", 3))).valid);
  // GET documents no body
  Req g = get("/pets");
  g.body = "x";
  g.has_body = true;
  check(g);
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.unexpected"));
}

TEST_F(Contract30Test, FormUrlEncodedBody) {
  EXPECT_TRUE(check(post("/pets", "application/x-www-form-urlencoded", "name=rex+the+dog&age=3&tags=a&tags=b")).valid)
      << dump(sink_);
  check(post("/pets", "application/x-www-form-urlencoded", "age=x"));
  EXPECT_EQ(sink_.size(), 2u) << dump(sink_);  // name missing, age not an integer
}

TEST_F(Contract30Test, MultipartBodyWithEncoding) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nrex\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n"
      "{\"source\":\"camera\"}\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
      "\x89PNG\r\n--XyZ--\r\n";
  EXPECT_TRUE(check(post("/pets", "multipart/form-data; boundary=XyZ", body)).valid) << dump(sink_);
  std::string bad = body;
  bad.replace(bad.find("image/png"), 9, "text/plain");
  bad.replace(bad.find("camera\"}"), 8, "camera\",\"x\":1}");
  bad.replace(bad.find("\"source\""), 8, "\"sorce\"");
  check(post("/pets", "multipart/form-data; boundary=XyZ", bad));
  EXPECT_THAT(codes(sink_), Contains("request.body.content_type")) << dump(sink_);
  EXPECT_THAT(codes(sink_), Contains("request.body.schema")) << dump(sink_);
  check(post("/pets", "multipart/form-data; boundary=XyZ", "garbage"));
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.parse"));
}

// ---- responses -------------------------------------------------------------------------------

TEST_F(Contract30Test, ResponseStatusLookup) {
  Resp ok{200, R"({"id":1,"name":"rex"})", {{"Content-Type", "application/json"}, {"X-Rate-Limit", "10"}}};
  EXPECT_TRUE(checkResponse("GET", "/pets/1", ok)) << dump(sink_);
  Resp no_header{200, R"({"id":1,"name":"rex"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(checkResponse("GET", "/pets/1", no_header));
  EXPECT_THAT(codes(sink_), ElementsAre("response.header.missing"));
  Resp bad_header{200, R"({"id":1,"name":"rex"})", {{"Content-Type", "application/json"}, {"x-rate-limit", "-1"}}};
  EXPECT_FALSE(checkResponse("GET", "/pets/1", bad_header));
  EXPECT_THAT(codes(sink_), ElementsAre("response.header.schema"));
  // 404 -> 4XX range, problem+json
  Resp nf{404, R"({"title":"not found","status":404})", {{"Content-Type", "application/problem+json"}}};
  EXPECT_TRUE(checkResponse("GET", "/pets/1", nf)) << dump(sink_);
  Resp nf_bad{404, R"({"status":"404"})", {{"Content-Type", "application/problem+json"}}};
  EXPECT_FALSE(checkResponse("GET", "/pets/1", nf_bad));
  EXPECT_EQ(sink_.size(), 2u) << dump(sink_);
  Resp nf_type{404, R"({"title":"x"})", {{"Content-Type", "text/html"}}};
  EXPECT_FALSE(checkResponse("GET", "/pets/1", nf_type));
  EXPECT_THAT(codes(sink_), ElementsAre("response.body.content_type"));
  // 500 -> default (no content)
  EXPECT_TRUE(checkResponse("GET", "/pets/1", Resp{500, "", {}}));
  EXPECT_FALSE(checkResponse("GET", "/pets/1", Resp{500, "oops", {{"Content-Type", "text/plain"}}}));
  EXPECT_THAT(codes(sink_), ElementsAre("response.body.unexpected"));
  // undocumented status, no default
  EXPECT_FALSE(checkResponse("DELETE", "/pets/1", Resp{200, "", {}}));
  EXPECT_THAT(codes(sink_), ElementsAre("response.status"));
  EXPECT_TRUE(checkResponse("DELETE", "/pets/1", Resp{204, "", {}}));
}

// ---- OpenAPI 3.0 dialect -----------------------------------------------------------------------

TEST_F(Contract30Test, DiscriminatorPicksOneBranch) {
  EXPECT_TRUE(check(post("/shapes", "application/json", R"({"kind":"round","radius":1})")).valid) << dump(sink_);
  EXPECT_TRUE(check(post("/shapes", "application/json", R"({"kind":"Square","side":2})")).valid) << dump(sink_);
  check(post("/shapes", "application/json", R"({"kind":"round","radius":-1})"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "minimum");
  EXPECT_EQ(first().pointer, "/radius");
  // The spec pointer follows the instance path through the chosen branch's $ref.
  EXPECT_THAT(first().spec_pointer, HasSubstr("contract30.yaml#/components/schemas/Circle/properties/radius/minimum"));
  check(post("/shapes", "application/json", R"({"kind":"hexagon"})"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "discriminator");
  EXPECT_THAT(first().message, HasSubstr("round, Square"));
  check(post("/shapes", "application/json", R"({"radius":1})"));
  EXPECT_EQ(first().keyword, "required");
}

TEST_F(Contract30Test, DiscriminatorInheritanceForm) {
  Resp cat{200, R"({"animalType":"Cat","lives":9})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(checkResponse("POST", "/shapes", cat)) << dump(sink_);
  Resp bad_cat{200, R"({"animalType":"Cat","lives":10})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(checkResponse("POST", "/shapes", bad_cat));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "maximum");
  EXPECT_THAT(first().spec_pointer, HasSubstr("#/components/schemas/Cat/allOf/1/properties/lives/maximum"));
  Resp dog{200, R"({"animalType":"Dog","bark":true})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(checkResponse("POST", "/shapes", dog)) << dump(sink_);
  Resp plain{200, R"({"animalType":"Animal"})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(checkResponse("POST", "/shapes", plain)) << dump(sink_);
  Resp unknown{200, R"({"animalType":"Cow"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(checkResponse("POST", "/shapes", unknown));
  EXPECT_EQ(first().keyword, "discriminator");
}

TEST_F(Contract30Test, Nullable) {
  EXPECT_TRUE(check(post("/nullable", "application/json",
                         R"({"plain":null,"viaRef":null,"refSibling":null,"choice":null})")).valid)
      << dump(sink_);
  EXPECT_TRUE(check(post("/nullable", "application/json", R"({"viaRef":{"label":"x"},"choice":"x"})")).valid)
      << dump(sink_);
  check(post("/nullable", "application/json", R"({"notNullable":null})"));
  ASSERT_EQ(sink_.size(), 1u) << dump(sink_);
  EXPECT_EQ(first().keyword, "type");
  check(post("/nullable", "application/json", R"({"viaRef":{}})"));
  EXPECT_FALSE(sink_.empty());
  check(post("/nullable", "application/json", R"({"choice":"z"})"));
  EXPECT_EQ(first().keyword, "enum");
}

TEST_F(Contract30Test, ViolationCap) {
  ViolationSink small(2);
  Req r = get("/pets", "limit=1000&ids=x,y,z&name=ABC&nonempty=");
  contract_->validateRequest(r.view(), ctx_, small);
  EXPECT_EQ(small.size(), 2u);
  EXPECT_GT(small.dropped(), 0u);
  EXPECT_TRUE(small.full());
}

// ---- OpenAPI 3.1 ---------------------------------------------------------------------------

TEST(Contract31Test, TranslatedKeywordsAndReport) {
  ContractPtr c = mustLoad(specPath("dialect31.yaml"));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->openapiVersion(), "3.1.0");
  bool reported = false;
  for (const auto& u : c->report().unenforced) reported |= u.keyword == "unevaluatedProperties";
  EXPECT_TRUE(reported);
  ValidationContext ctx;
  auto run = [&](std::string body) {
    Req r;
    r.method = "POST";
    r.path = "/items";
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    r.has_body = true;
    ViolationSink sink;
    c->validateRequest(r.view(), ctx, sink);
    return sink;
  };
  EXPECT_TRUE(run(R"({"pair":["a",1],"note":null,"kind":"item","shipping":{"city":"X"}})").empty());
  EXPECT_EQ(run(R"({"pair":["a",1,2]})").violations().at(0).keyword, "additionalItems");  // items: false
  EXPECT_EQ(run(R"({"pair":[1,1]})").violations().at(0).pointer, "/pair/0");
  EXPECT_EQ(run(R"({"pair":["a",1],"note":3})").violations().at(0).keyword, "type");
  EXPECT_EQ(run(R"({"pair":["a",1],"kind":"other"})").violations().at(0).keyword, "const");
  EXPECT_EQ(run(R"({"pair":["a",1],"card":"x"})").violations().at(0).keyword, "dependencies");
  EXPECT_EQ(run(R"({"pair":["a",1],"billing":"x"})").violations().at(0).keyword, "required");
  EXPECT_EQ(run(R"({"pair":["a",1],"shipping":{}})").violations().at(0).keyword, "required");  // $ref + siblings
}

// ---- multi-file specs and load errors -------------------------------------------------------

TEST(ContractLoadTest, MultiFileWithRecursiveSchema) {
  ContractPtr c = mustLoad(specPath("multi/main.yaml"));
  ASSERT_NE(c, nullptr);
  ValidationContext ctx;
  Req r;
  r.method = "POST";
  r.path = "/trees";
  r.query = "depth=3";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"value":1,"children":[{"value":2,"children":[{"value":3}]}]})";
  r.has_body = true;
  ViolationSink sink;
  EXPECT_TRUE(c->validateRequest(r.view(), ctx, sink).valid) << dump(sink);
  r.body = R"({"value":1,"children":[{"value":2,"children":[{"value":"x"}]}]})";
  r.query = "depth=11";
  c->validateRequest(r.view(), ctx, sink);
  ASSERT_EQ(sink.size(), 2u) << dump(sink);
  EXPECT_EQ(sink.violations()[0].code, "request.query.schema");
  EXPECT_EQ(sink.violations()[1].pointer, "/children/0/children/0/value");
  EXPECT_THAT(sink.violations()[1].spec_pointer, HasSubstr("tree.yaml#/Node/properties/value"));
}

TEST(ContractLoadTest, CycleWithoutConsumingInputIsALoadError) {
  auto c = loadContract(specPath("bad_cycle.yaml"));
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().toString(), HasSubstr("refers to itself"));
  EXPECT_THAT(c.error().toString(), HasSubstr("bad_cycle.yaml:"));
}

TEST(ContractLoadTest, ErrorsCarryFileLineAndPointer) {
  const char* spec = R"(openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a/{id}:
    get:
      parameters:
        - name: q
          in: query
          style: matrix
      responses:
        "200": {description: ok}
)";
  auto c = loadContractFromString(spec, "inline.yaml");
  ASSERT_FALSE(c.has_value());
  std::string s = c.error().toString();
  EXPECT_THAT(s, HasSubstr("inline.yaml:9: /paths/~1a~1{id}/get/parameters/0/style: style 'matrix' is not valid"));
}

TEST(ContractLoadTest, UndeclaredPathParameterIsAWarning) {
  const char* spec = R"(openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a/{id}:
    get: {}
)";
  auto c = loadContractFromString(spec, "inline.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  ASSERT_EQ((*c)->report().warnings.size(), 1u);
  EXPECT_THAT((*c)->report().warnings[0].detail, HasSubstr("path parameter 'id' of '/a/{id}' is not declared"));
  // 3.1 without responses: every status is undocumented.
  RouteMatch m = (*c)->matchRoute("GET", "/a/1");
  ASSERT_EQ(m.status, RouteStatus::Found);
  ValidationContext ctx;
  ViolationSink sink;
  EXPECT_FALSE((*c)->validateResponse(*m.operation, HttpResponseView{200, {}, "", false}, ctx, sink));
  EXPECT_EQ(sink.violations().at(0).code, "response.status");
}

TEST(ContractLoadTest, MalformedInputsNeverCrash) {
  for (const char* text : {"", "[]", "{", "openapi: 3.0.0\npaths: 3", "swagger: '2.0'", "openapi: 4.0.0\npaths: {}",
                           "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses: {}\n      requestBody: {$ref: '#/nope'}",
                           "openapi: 3.0.0\npaths:\n  /a:\n    $ref: '#/paths/~1a'",
                           "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: x\n"
                           "          content:\n            application/json:\n              schema: {type: wat}",
                           "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: x\n"
                           "          content:\n            application/json:\n              schema: {minLength: -1}",
                           "a: &a [*a]", "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"get\": 1}}}",
                           // billion laughs: 10^9 nodes once aliases are expanded
                           "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                           "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                           "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                           "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
                           "openapi: 3.0.0\npaths:\n  /a:\n    post:\n      requestBody: {$ref: '/dev/zero'}\n"
                           "      responses: {}"}) {
    auto c = loadContractFromString(text, "fuzz.yaml");
    EXPECT_FALSE(c.has_value()) << text;
    if (!c) {
      EXPECT_FALSE(c.error().errors.empty()) << text;
    }
  }
}

}  // namespace
}  // namespace gw::validators
