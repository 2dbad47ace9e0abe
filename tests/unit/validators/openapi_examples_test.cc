// The official OpenAPI examples (../shared/testdata/openapi-examples) load and compile, and
// hand-written exchanges against petstore / petstore-expanded behave as documented.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/unit/validators/test_util.h"

namespace gw::validators {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using namespace gw::validators::testing;

std::vector<fs::path> specsUnder(const std::string& rel) {
  std::vector<fs::path> out;
  fs::path dir = testdata("openapi-examples/" + rel);
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".json")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(OpenApiExamples, AllOfficialExamplesLoadAndCompile) {
  GW_REQUIRE_TESTDATA();
  int loaded = 0;
  for (const char* dir : {"v3.0", "v3.1", "learn.openapis.org"}) {
    for (const auto& p : specsUnder(dir)) {
      auto c = loadContract(p.string());
      EXPECT_TRUE(c.has_value()) << p << "\n" << (c ? "" : c.error().toString());
      if (c) {
        ++loaded;
        EXPECT_FALSE((*c)->openapiVersion().empty());
      }
    }
  }
  EXPECT_GE(loaded, 30);
}

TEST(OpenApiExamples, SchemaTestSuitePassCasesLoad) {
  GW_REQUIRE_TESTDATA();
  int loaded = 0;
  for (const auto& p : specsUnder("oas-schema-tests/v3.1/pass")) {
    auto c = loadContract(p.string());
    EXPECT_TRUE(c.has_value()) << p << "\n" << (c ? "" : c.error().toString());
    loaded += c.has_value();
  }
  EXPECT_GE(loaded, 30);
}

TEST(OpenApiExamples, JsonAndYamlFormsCompileToTheSameOperations) {
  GW_REQUIRE_TESTDATA();
  for (const char* name : {"petstore", "petstore-expanded", "uspto", "api-with-examples"}) {
    auto y = loadContract(testdata(std::string("openapi-examples/v3.0/") + name + ".yaml"));
    auto j = loadContract(testdata(std::string("openapi-examples/v3.0/") + name + ".json"));
    ASSERT_TRUE(y && j) << name;
    auto oy = (*y)->operations(), oj = (*j)->operations();
    ASSERT_EQ(oy.size(), oj.size()) << name;
    for (size_t i = 0; i < oy.size(); ++i) {
      EXPECT_EQ(oy[i].method, oj[i].method);
      EXPECT_EQ(oy[i].path, oj[i].path);
    }
  }
}

class PetstoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveTestdata()) GTEST_SKIP() << "NOT RUN: " GW_TESTDATA_DIR " is missing";
    petstore_ = mustLoad(testdata("openapi-examples/v3.0/petstore.yaml"));
    expanded_ = mustLoad(testdata("openapi-examples/v3.0/petstore-expanded.yaml"));
    ASSERT_TRUE(petstore_ && expanded_);
  }
  bool req(const ContractPtr& c, Req r) {
    sink_.clear();
    return c->validateRequest(r.view(), ctx_, sink_).valid;
  }
  bool resp(const ContractPtr& c, const char* method, const char* path, Resp r) {
    sink_.clear();
    RouteMatch m = c->matchRoute(method, path);
    EXPECT_EQ(m.status, RouteStatus::Found) << method << " " << path;
    return m.operation && c->validateResponse(*m.operation, r.view(), ctx_, sink_);
  }
  ContractPtr petstore_, expanded_;
  ValidationContext ctx_;
  ViolationSink sink_;
};

TEST_F(PetstoreTest, ListPetsQueryLimit) {
  EXPECT_TRUE(req(petstore_, Req{"GET", "/v1/pets", "limit=100"})) << dump(sink_);
  EXPECT_FALSE(req(petstore_, Req{"GET", "/v1/pets", "limit=101"}));
  EXPECT_EQ(sink_.violations()[0].keyword, "maximum");
  EXPECT_FALSE(req(petstore_, Req{"GET", "/v1/pets", "limit=3000000000"}));
  EXPECT_THAT(codes(sink_), ElementsAre("request.query.schema", "request.query.schema"));  // maximum + int32
  EXPECT_FALSE(req(petstore_, Req{"GET", "/pets", ""}));
  EXPECT_THAT(codes(sink_), ElementsAre("request.route.not_found"));
}

TEST_F(PetstoreTest, CreatePetBody) {
  Req r{"POST", "/v1/pets", "", R"({"id":1,"name":"rex","tag":"dog"})", {{"Content-Type", "application/json"}}, true};
  EXPECT_TRUE(req(petstore_, r)) << dump(sink_);
  r.body = R"({"id":"1","name":"rex"})";
  EXPECT_FALSE(req(petstore_, r));
  EXPECT_EQ(sink_.violations()[0].pointer, "/id");
  r.body = "";
  r.has_body = false;
  EXPECT_FALSE(req(petstore_, r));
  EXPECT_THAT(codes(sink_), ElementsAre("request.body.missing"));
}

TEST_F(PetstoreTest, ResponsesHeadersAndDefault) {
  Resp ok{200, R"([{"id":1,"name":"a"}])", {{"Content-Type", "application/json"}, {"x-next", "/v1/pets?page=2"}}};
  EXPECT_TRUE(resp(petstore_, "GET", "/v1/pets", ok)) << dump(sink_);
  Resp bad{200, R"([{"id":1}])", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(resp(petstore_, "GET", "/v1/pets", bad));
  EXPECT_EQ(sink_.violations()[0].pointer, "/0");
  EXPECT_EQ(sink_.violations()[0].keyword, "required");
  Resp err{503, R"({"code":503,"message":"down"})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(resp(petstore_, "GET", "/v1/pets", err)) << dump(sink_);
  Resp err_bad{503, R"({"code":"x"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(resp(petstore_, "GET", "/v1/pets", err_bad));
  EXPECT_TRUE(resp(petstore_, "POST", "/v1/pets", Resp{201, "", {}}));
}

TEST_F(PetstoreTest, ExpandedFindPetsAndAllOf) {
  EXPECT_TRUE(req(expanded_, Req{"GET", "/v2/pets", "tags=cat&tags=dog&limit=10"})) << dump(sink_);
  EXPECT_FALSE(req(expanded_, Req{"GET", "/v2/pets", "limit=ten"}));
  EXPECT_EQ(sink_.violations()[0].name, "limit");
  Req add{"POST", "/v2/pets", "", R"({"name":"rex"})", {{"Content-Type", "application/json"}}, true};
  EXPECT_TRUE(req(expanded_, add)) << dump(sink_);
  add.body = R"({"tag":"x"})";
  EXPECT_FALSE(req(expanded_, add));
  EXPECT_EQ(sink_.violations()[0].keyword, "required");
  // Pet = allOf [NewPet, {id}] in responses
  Resp pet{200, R"({"id":7,"name":"rex"})", {{"Content-Type", "application/json"}}};
  EXPECT_TRUE(resp(expanded_, "GET", "/v2/pets/7", pet)) << dump(sink_);
  Resp no_id{200, R"({"name":"rex"})", {{"Content-Type", "application/json"}}};
  EXPECT_FALSE(resp(expanded_, "GET", "/v2/pets/7", no_id));
  EXPECT_FALSE(req(expanded_, Req{"GET", "/v2/pets/abc", ""}));
  EXPECT_EQ(sink_.violations()[0].code, "request.path.schema");
  EXPECT_TRUE(resp(expanded_, "DELETE", "/v2/pets/7", Resp{204, "", {}}));
  RouteMatch m = expanded_->matchRoute("PUT", "/v2/pets/7");
  EXPECT_EQ(m.status, RouteStatus::MethodNotAllowed);
  EXPECT_EQ(m.allowed, "GET, DELETE, HEAD");
}

}  // namespace
}  // namespace gw::validators
