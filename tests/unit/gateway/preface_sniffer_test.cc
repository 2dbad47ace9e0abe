#include "net/preface_sniffer.h"

#include <gtest/gtest.h>

#include <string>

using gw::net::PrefaceSniffer;

namespace {
int classify(const std::string& s) { return PrefaceSniffer::classify(s.data(), s.size()); }
}  // namespace

TEST(PrefaceSniffer, FullPrefaceIsHttp2) {
  EXPECT_EQ(classify("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 1);
  EXPECT_EQ(classify(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04", 28)), 1);  // + SETTINGS
}

TEST(PrefaceSniffer, PrefixNeedsMore) {
  EXPECT_EQ(classify("P"), 0);
  EXPECT_EQ(classify("PRI "), 0);
  EXPECT_EQ(classify("PRI * HTTP/2.0\r\n\r\nSM\r\n\r"), 0);
}

TEST(PrefaceSniffer, Http1RequestsDepartEarly) {
  EXPECT_EQ(classify("GET / HTTP/1.1\r\n"), -1);
  EXPECT_EQ(classify("POST"), -1);  // departs at the second byte
  EXPECT_EQ(classify("PUT "), -1);
  EXPECT_EQ(classify("PATCH /x HTTP/1.1"), -1);
  EXPECT_EQ(classify("PRI * HTTP/1.1\r\n"), -1);  // an HTTP/1 request with method PRI: the codec refuses it
  EXPECT_EQ(classify("\r\nGET"), -1);
}
