#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "validators/contract_impl.h"

namespace gw::validators {
namespace {

using ::testing::HasSubstr;

class RouterTest : public ::testing::Test {
 protected:
  void add(const std::string& tmpl, const char* method) {
    auto op = std::make_unique<OperationImpl>();
    op->method_ = method;
    op->path_ = tmpl;
    auto e = router_.add(tmpl, methodIndex(method), op.get());
    ASSERT_FALSE(e.has_value()) << tmpl << ": " << *e;
    ops_.push_back(std::move(op));
  }
  RouteMatch match(std::string_view path, const char* method = "GET") {
    RouteMatch m;
    router_.match(path, methodIndex(method), true, m);
    return m;
  }
  Router router_;
  std::vector<std::unique_ptr<OperationImpl>> ops_;
};

TEST_F(RouterTest, LiteralBeatsTemplateAndBacktracks) {
  add("/users/{id}/posts", "GET");
  add("/users/me/settings", "GET");
  add("/users/{id}", "GET");
  add("/users/me", "GET");
  EXPECT_EQ(match("/users/me").operation->pathTemplate(), "/users/me");
  EXPECT_EQ(match("/users/7").operation->pathTemplate(), "/users/{id}");
  // "me" literal branch has no /posts child: backtrack into the template.
  RouteMatch m = match("/users/me/posts");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->pathTemplate(), "/users/{id}/posts");
  ASSERT_EQ(m.param_count, 1);
  EXPECT_EQ(m.params[0].name, "id");
  EXPECT_EQ(m.params[0].raw, "me");
  EXPECT_EQ(match("/users/me/settings").operation->pathTemplate(), "/users/me/settings");
}

TEST_F(RouterTest, NotFoundVersusMethodNotAllowed) {
  add("/a/{x}", "GET");
  add("/a/{x}", "POST");
  EXPECT_EQ(match("/b").status, RouteStatus::NotFound);
  EXPECT_EQ(match("/a").status, RouteStatus::NotFound);
  EXPECT_EQ(match("/a/1/2").status, RouteStatus::NotFound);
  EXPECT_EQ(match("/a/").status, RouteStatus::NotFound);  // empty parameter value
  RouteMatch m = match("/a/1", "DELETE");
  EXPECT_EQ(m.status, RouteStatus::MethodNotAllowed);
  EXPECT_EQ(m.allowed, "GET, POST, HEAD");
  EXPECT_EQ(match("/a/1", "BREW").status, RouteStatus::MethodNotAllowed);
  EXPECT_EQ(match("/a/1", "post").status, RouteStatus::Found);
}

TEST_F(RouterTest, SharedPrefixWithDifferentParameterNames) {
  add("/users/{userId}/address", "GET");
  add("/users/{name}", "GET");
  RouteMatch m = match("/users/bob");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.params[0].name, "name");
  m = match("/users/bob/address");
  EXPECT_EQ(m.params[0].name, "userId");
}

TEST_F(RouterTest, EquivalentTemplatesAreRejected) {
  add("/pets/{a}", "GET");
  auto op = std::make_unique<OperationImpl>();
  auto e = router_.add("/pets/{b}", methodIndex("DELETE"), op.get());
  ASSERT_TRUE(e.has_value());
  EXPECT_THAT(*e, HasSubstr("equivalent"));
  e = router_.add("/pets/{a}", methodIndex("GET"), op.get());
  ASSERT_TRUE(e.has_value());
  EXPECT_THAT(*e, HasSubstr("already defined"));
  EXPECT_TRUE(router_.add("pets", 0, op.get()).has_value());
  EXPECT_TRUE(router_.add("/x/{a}{b}", 0, op.get()).has_value());
  EXPECT_TRUE(router_.add("/x/{a", 0, op.get()).has_value());
}

TEST_F(RouterTest, MixedSegmentsPreferMoreLiteralText) {
  add("/files/{name}", "GET");
  add("/files/{name}.json", "GET");
  add("/v{major}.{minor}/status", "GET");
  EXPECT_EQ(match("/files/a.json").operation->pathTemplate(), "/files/{name}.json");
  EXPECT_EQ(match("/files/a.xml").operation->pathTemplate(), "/files/{name}");
  RouteMatch m = match("/v1.2/status");
  ASSERT_EQ(m.status, RouteStatus::Found);
  ASSERT_EQ(m.param_count, 2);
  EXPECT_EQ(m.params[0].raw, "1");
  EXPECT_EQ(m.params[1].raw, "2");
  EXPECT_EQ(match("/v1/status").status, RouteStatus::NotFound);
}

TEST_F(RouterTest, RootAndTrailingSlash) {
  add("/", "GET");
  add("/x/", "GET");
  EXPECT_EQ(match("/").status, RouteStatus::Found);
  EXPECT_EQ(match("/x/").status, RouteStatus::Found);
  EXPECT_EQ(match("/x").status, RouteStatus::NotFound);
  EXPECT_EQ(match("").status, RouteStatus::NotFound);
}

TEST_F(RouterTest, ManyOperations) {
  for (int i = 0; i < 600; ++i) add("/r" + std::to_string(i) + "/{id}/items/{item}", i % 2 ? "GET" : "POST");
  RouteMatch m = match("/r599/abc/items/9");
  ASSERT_EQ(m.status, RouteStatus::Found);
  EXPECT_EQ(m.operation->pathTemplate(), "/r599/{id}/items/{item}");
  EXPECT_EQ(match("/r598/abc/items/9").status, RouteStatus::MethodNotAllowed);
}

}  // namespace
}  // namespace gw::validators
