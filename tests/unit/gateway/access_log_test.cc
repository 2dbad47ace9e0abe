#include <gtest/gtest.h>

#include "filters/access_log.h"

namespace gw::filters {
namespace {

http::StreamInfo sampleInfo() {
  http::StreamInfo si;
  si.peer = *SocketAddress::parseNumeric("127.0.0.1:5000");
  si.client_address = "203.0.113.9";
  si.method = "GET";
  si.target = "/a?b=1";
  si.host = "api.example.com";
  si.status = 200;
  si.response_body_bytes = 12;
  si.request_id = "rid1";
  si.upstream_address = "127.0.0.1:9000";
  si.upstream_time_us = 1500;
  si.user_agent = "ua \"quoted\"\r\nInjected: x";
  return si;
}

TEST(AccessLog, CombinedFormatEscapesAndCarriesFields) {
  std::string err;
  auto log = AccessLog::open("off", config::AccessFormat::Combined, &err);
  std::string line = log->format(sampleInfo());
  EXPECT_EQ(line.rfind("203.0.113.9 - - [", 0), 0u) << line;
  EXPECT_NE(line.find("\"GET /a?b=1 HTTP/1.1\" 200 12 \"-\" \"ua \\\"quoted\\\"\\x0D\\x0AInjected: x\""), std::string::npos)
      << line;
  EXPECT_NE(line.find("ua=\"127.0.0.1:9000\" urt=0.002 rid=rid1"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, always
}

TEST(AccessLog, JsonFormat) {
  std::string err;
  auto log = AccessLog::open("off", config::AccessFormat::Json, &err);
  std::string line = log->format(sampleInfo());
  EXPECT_NE(line.find("\"client\":\"203.0.113.9\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"status\":200"), std::string::npos);
  EXPECT_NE(line.find("\"upstream\":\"127.0.0.1:9000\""), std::string::npos);
  EXPECT_NE(line.find("\"upstream_time_ms\":1.500"), std::string::npos);
  EXPECT_NE(line.find("\"request_id\":\"rid1\""), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(AccessLog, UnwritablePathIsAnError) {
  std::string err;
  EXPECT_EQ(AccessLog::open("/nonexistent-dir/access.log", config::AccessFormat::Combined, &err), nullptr);
  EXPECT_NE(err.find("cannot open access log"), std::string::npos);
}

}  // namespace
}  // namespace gw::filters
