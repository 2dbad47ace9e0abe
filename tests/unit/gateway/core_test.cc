#include <gtest/gtest.h>

#include "core/address.h"
#include "core/util.h"

namespace gw {
namespace {

TEST(ParseDuration, UnitsAndBareSeconds) {
  EXPECT_EQ(parseDuration("250ms"), Millis(250));
  EXPECT_EQ(parseDuration("10s"), Millis(10000));
  EXPECT_EQ(parseDuration("2m"), Millis(120000));
  EXPECT_EQ(parseDuration("1h"), Millis(3600000));
  EXPECT_EQ(parseDuration("7"), Millis(7000));
  EXPECT_FALSE(parseDuration("").has_value());
  EXPECT_FALSE(parseDuration("-1s").has_value());
  EXPECT_FALSE(parseDuration("5 s").has_value());
  EXPECT_FALSE(parseDuration("5d").has_value());
}

TEST(ParseUint, RejectsJunkAndOverflow) {
  EXPECT_EQ(parseUint("0"), 0u);
  EXPECT_EQ(parseUint("18446744073709551"), 18446744073709551ULL);
  EXPECT_FALSE(parseUint("99999999999999999999").has_value());
  EXPECT_FALSE(parseUint("12a").has_value());
  EXPECT_FALSE(parseUint("+1").has_value());
  EXPECT_FALSE(parseUint("").has_value());
}

TEST(RequestId, Is32HexAndUnique) {
  std::string a = randomRequestId(), b = randomRequestId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

// The coarse clock is Clock's own time as of the last tick (host health windows use it for both
// ends): read between two fine readings, it is never after the second and only a few
// ms before the first. The bound is loose (a second) so that no scheduling delay can matter; a
// wrong clock id or unit is off by far more.
TEST(CoarseNow, IsTheSteadyClockAtTickResolution) {
  for (int i = 0; i < 1000; ++i) {
    const auto before = Clock::now();
    const auto coarse = coarseNow();
    const auto after = Clock::now();
    EXPECT_LE(coarse, after);
    EXPECT_GT(coarse, before - std::chrono::seconds(1));
  }
}

TEST(Escape, JsonAndLog) {
  std::string j;
  jsonEscape(j, "a\"b\\c\n\x01");
  EXPECT_EQ(j, "a\\\"b\\\\c\\n\\u0001");
  std::string l;
  logEscape(l, "x\"y\r\n\xff");
  EXPECT_EQ(l, "x\\\"y\\x0D\\x0A\\xFF");
}

TEST(SocketAddress, ParsesNumericForms) {
  auto v4 = SocketAddress::parseNumeric("10.1.2.3:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->str(), "10.1.2.3:8080");
  auto v6 = SocketAddress::parseNumeric("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->str(), "[::1]:443");
  EXPECT_EQ(v6->ip(), "::1");
  auto un = SocketAddress::parseNumeric("unix:/run/app.sock");
  ASSERT_TRUE(un);
  EXPECT_EQ(un->str(), "unix:/run/app.sock");
  EXPECT_FALSE(SocketAddress::parseNumeric("::1:443"));  // IPv6 needs brackets before a port
  EXPECT_FALSE(SocketAddress::parseNumeric("1.2.3.4:70000"));
  EXPECT_FALSE(SocketAddress::parseNumeric("1.2.3.4"));
}

TEST(Cidr, MatchesV4V6AndMapped) {
  auto net = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*SocketAddress::parseIp("10.200.1.1")));
  EXPECT_FALSE(net->contains(*SocketAddress::parseIp("11.0.0.1")));
  EXPECT_TRUE(net->contains(*SocketAddress::parseIp("::ffff:10.1.1.1")));  // IPv4-mapped peer
  auto odd = Cidr::parse("192.168.1.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*SocketAddress::parseIp("192.168.1.200")));
  EXPECT_FALSE(odd->contains(*SocketAddress::parseIp("192.168.1.100")));
  auto v6 = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*SocketAddress::parseIp("2001:db8:1::5")));
  EXPECT_FALSE(v6->contains(*SocketAddress::parseIp("2001:db9::5")));
  EXPECT_FALSE(v6->contains(*SocketAddress::parseIp("10.0.0.1")));
  auto host = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(*SocketAddress::parseIp("127.0.0.1")));
  EXPECT_FALSE(host->contains(*SocketAddress::parseIp("127.0.0.2")));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("not-an-ip"));
}

}  // namespace
}  // namespace gw

namespace gw {
namespace {

TEST(Iequals, OnlyLettersFoldCase) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("@", "`"));  // 0x40 / 0x60 differ in the case bit but are not letters
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("x-a", "x-b"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_TRUE(iequals("", ""));
}

}  // namespace
}  // namespace gw
