#include "upstream/uwsgi/uwsgi.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "upstream/fastcgi/fastcgi.h"

namespace gw::uwsgi {
namespace {

using test::contents;
using test::makeBuffer;

TEST(Uwsgi, VarsPacketLayout) {
  std::vector<cgi::Var> vars = {{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/d"}};
  auto out = makeBuffer();
  ASSERT_TRUE(encodeVars(out.get(), vars));
  std::string expected_data = std::string("\x0e\x00" "REQUEST_METHOD" "\x03\x00" "GET", 21) +
                              std::string("\x09\x00" "PATH_INFO" "\x02\x00" "/d", 15);
  ASSERT_EQ(varsSize(vars), expected_data.size());
  EXPECT_EQ(contents(out.get()), std::string("\x00\x24\x00\x00", 4) + expected_data);
}

TEST(Uwsgi, ModifiersAndLittleEndianSize) {
  std::vector<cgi::Var> vars = {{"K", std::string(300, 'v')}};
  auto out = makeBuffer();
  ASSERT_TRUE(encodeVars(out.get(), vars, 5, 9));
  std::string s = contents(out.get());
  size_t size = 2 + 1 + 2 + 300;
  EXPECT_EQ(uint8_t(s[0]), 5);
  EXPECT_EQ(uint8_t(s[1]), size & 0xff);
  EXPECT_EQ(uint8_t(s[2]), size >> 8);
  EXPECT_EQ(uint8_t(s[3]), 9);
  EXPECT_EQ(uint8_t(s[7]), 300 & 0xff);  // value length LE
  EXPECT_EQ(uint8_t(s[8]), 300 >> 8);
  EXPECT_EQ(s.size(), 4 + size);
}

TEST(Uwsgi, EmptyVars) {
  auto out = makeBuffer();
  ASSERT_TRUE(encodeVars(out.get(), {}));
  EXPECT_EQ(contents(out.get()), std::string("\0\0\0\0", 4));
}

TEST(Uwsgi, TooLargeRefusedAndNothingWritten) {
  auto out = makeBuffer();
  std::vector<cgi::Var> one_big = {{"K", std::string(65536, 'v')}};
  auto r = encodeVars(out.get(), one_big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::TooLarge);
  // Exactly 65535 bytes of data fits; one more does not.
  std::vector<cgi::Var> exact = {{"K", std::string(65535 - 5, 'v')}};
  ASSERT_EQ(varsSize(exact), 65535u);
  EXPECT_TRUE(encodeVars(out.get(), exact));
  EXPECT_EQ(evbuffer_get_length(out.get()), 4 + 65535u);
  auto out2 = makeBuffer();
  std::vector<cgi::Var> over = {{"K", std::string(65535 - 4, 'v')}};
  EXPECT_FALSE(encodeVars(out2.get(), over));
  std::vector<cgi::Var> many(20000, cgi::Var{"AB", "cd"});
  EXPECT_FALSE(encodeVars(out2.get(), many));
  EXPECT_EQ(evbuffer_get_length(out2.get()), 0u);
  EXPECT_STREQ(errorName(Error::TooLarge), "uwsgi_vars_too_large");
}

TEST(Uwsgi, EnvironFromHeadEncodes) {
  http::RequestHead h;
  h.method = "GET";
  h.path = "/d";
  h.authority = "localhost";
  h.headers.add("X-Test", "uwsgi-proto");
  auto env = cgi::buildEnviron(h, {});
  ASSERT_TRUE(env);
  auto out = makeBuffer();
  ASSERT_TRUE(encodeVars(out.get(), *env));
  std::string s = contents(out.get());
  EXPECT_NE(s.find(std::string("\x0b\x00" "HTTP_X_TEST" "\x0b\x00" "uwsgi-proto", 26)), std::string::npos);
  // The same environ feeds FastCGI PARAMS.
  std::vector<fastcgi::NameValue> nv;
  for (const auto& v : *env) nv.push_back({v.name, v.value});
  auto params = makeBuffer();
  EXPECT_TRUE(fastcgi::encodeParams(params.get(), 1, nv));
}

}  // namespace
}  // namespace gw::uwsgi
