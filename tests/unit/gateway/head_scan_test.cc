#include <gtest/gtest.h>

#include <random>
#include <string>

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

// The byte rules as first written (one byte at a time), to compare the word-at-a-time scan with.
HeadScan referenceScan(std::string_view head, size_t from, bool complete) {
  for (size_t i = from; i < head.size(); ++i) {
    char c = head[i];
    if (c == '\0') return HeadScan::Nul;
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) return HeadScan::BareLf;
    if (c == '\r') {
      if (i + 1 < head.size()) {
        if (head[i + 1] != '\n') return HeadScan::BareCr;
      } else if (complete) {
        return HeadScan::BareCr;
      }
    }
    if ((c == ' ' || c == '\t') && i > 0 && head[i - 1] == '\n') return HeadScan::ObsFold;
  }
  return HeadScan::Ok;
}

// Random heads over the bytes that matter (and a few that do not), whole and split at every
// point as reads would split them: the same verdict as the byte-at-a-time rules.
TEST(HeadScan, SameVerdictsAsTheByteAtATimeRules) {
  std::mt19937 rng(20261122);
  const char kAlphabet[] = {'a', ':', ' ', '\t', '\r', '\n', '\0', '\x0d', '\x0e', '\x7f', '\x80', '\xff'};
  for (int round = 0; round < 20000; ++round) {
    std::string head;
    const size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) {
      // Mostly ordinary bytes, so that runs longer than a word occur.
      head += rng() % 4 ? 'x' : kAlphabet[rng() % sizeof(kAlphabet)];
    }
    if (rng() % 2) head += "\r\n\r\n";
    EXPECT_EQ(scanHead(head, 0), referenceScan(head, 0, true)) << testing::PrintToString(head);
    for (size_t from = 0; from <= head.size(); ++from) {
      ASSERT_EQ(scanHeadBytes(head, from), referenceScan(head, from, false))
          << testing::PrintToString(head) << " from " << from;
    }
  }
}

}  // namespace
}  // namespace gw::http1
