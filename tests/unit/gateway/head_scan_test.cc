#include <gtest/gtest.h>

#include "http1/head_scan.h"

namespace gw::http1 {
namespace {

TEST(HeadScan, AcceptsWellFormed) {
  EXPECT_EQ(scanHead("GET / HTTP/1.1\r\nHost: a\r\nX: b\tc\r\n\r\n", 100), HeadScan::Ok);
}

TEST(HeadScan, RefusesBareLfCrNul) {
  EXPECT_EQ(scanHead("GET / HTTP/1.1\nHost: a\r\n\r\n", 100), HeadScan::BareLf);
  EXPECT_EQ(scanHead("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 100), HeadScan::BareCr);
  EXPECT_EQ(scanHead(std::string_view("GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", 27), 100), HeadScan::Nul);
}

TEST(HeadScan, RefusesObsFoldAndLeadingWhitespace) {
  EXPECT_EQ(scanHead("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 100), HeadScan::ObsFold);
  EXPECT_EQ(scanHead("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 100), HeadScan::ObsFold);
  EXPECT_EQ(scanHead("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 100), HeadScan::ObsFold);
}

TEST(HeadScan, UriLimit) {
  std::string long_uri = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(scanHead(long_uri, 100), HeadScan::UriTooLong);
  EXPECT_EQ(scanHead(long_uri, 300), HeadScan::Ok);
  // Already certain on a partial head.
  EXPECT_EQ(scanPartialHead("GET /" + std::string(200, 'a'), 100), HeadScan::UriTooLong);
}

TEST(HeadScan, PartialHeadWaitsOnTrailingCr) {
  EXPECT_EQ(scanPartialHead("GET / HTTP/1.1\r", 100), HeadScan::Ok);
  EXPECT_EQ(scanPartialHead("GET / HTTP/1.1\nHo", 100), HeadScan::BareLf);
}

}  // namespace
}  // namespace gw::http1

namespace gw::http1 {
namespace {

TEST(HeadScan, IncrementalScanMatchesWholeScan) {
  // Feeding a head in pieces (with one byte of context) finds exactly what a whole scan finds,
  // including a CR/LF pair split across reads.
  const std::string heads[] = {"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
                               "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"};
  for (const auto& h : heads) {
    for (size_t split = 1; split < h.size(); ++split) {
      HeadScan whole = scanHeadBytes(h, 0);
      HeadScan first = scanHeadBytes(h.substr(0, split), 0);
      size_t scanned = h[split - 1] == '\r' ? split - 1 : split;
      HeadScan second = scanHeadBytes(h, scanned > 0 ? scanned : 0);
      HeadScan pieces = first != HeadScan::Ok ? first : second;
      EXPECT_EQ(pieces, whole) << "split at " << split << " of " << h;
    }
  }
}

TEST(HeadScan, UriTooLongLooksAtTheTargetOnly) {
  EXPECT_FALSE(uriTooLong("GET /abc HTTP/1.1", 4));
  EXPECT_TRUE(uriTooLong("GET /abcd HTTP/1.1", 4));
  EXPECT_TRUE(uriTooLong("GET /abcd", 4));  // version not arrived yet
  EXPECT_FALSE(uriTooLong("VERYLONGMETHODNAME / HTTP/1.1", 4));
}

}  // namespace
}  // namespace gw::http1
