// Request-smuggling suite: each case sends, over one raw connection, a request whose framing is
// ambiguous or invalid, followed by a smuggled second request to a distinctive path. The gateway
// must refuse (4xx/5xx), answer exactly once, and the smuggled path must never reach the backend
// (checked against the paths gunicorn recorded, after a marker request proves the record is current).
#include <atomic>

#include "it_common.h"

namespace gwtest {
namespace {

struct SmuggleCase {
  const char* name;
  // The attack; "{S}" is replaced by the smuggled request (GET /smuggled-<name> ...).
  std::string attack;
};

std::string smuggled(const std::string& name) {
  return "GET /api/smuggled-" + name + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

std::string expand(const SmuggleCase& c) {
  std::string s = smuggled(c.name);
  std::string out = c.attack;
  for (size_t p; (p = out.find("{S}")) != std::string::npos;) out.replace(p, 3, s);
  // "{N}": the decimal length of the smuggled request; "{X}": its length in hex.
  char hex[32];
  snprintf(hex, sizeof(hex), "%zx", s.size());
  for (size_t p; (p = out.find("{N}")) != std::string::npos;) out.replace(p, 3, std::to_string(s.size()));
  for (size_t p; (p = out.find("{X}")) != std::string::npos;) out.replace(p, 3, hex);
  return out;
}

using namespace std::string_literals;
const std::string kPost = "POST /api/first HTTP/1.1\r\nHost: x\r\n";

std::vector<SmuggleCase> cases() {
  return {
      // CL.TE: a front end using Content-Length forwards all; a back end using chunked stops at 0.
      {"CL_TE", kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{S}"},
      // TE.CL: the front end uses chunked, the back end Content-Length.
      {"TE_CL", kPost + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{X}\r\n{S}\r\n0\r\n\r\n"},
      // TE.TE: obfuscated Transfer-Encoding that one side may not recognise.
      {"TE_TrailingSpace_CL", kPost + "Content-Length: 4\r\nTransfer-Encoding: chunked \r\n\r\n{X}\r\n{S}\r\n0\r\n\r\n"},
      {"TE_xchunked", kPost + "Transfer-Encoding: xchunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_xchunked_alone", kPost + "Transfer-Encoding: xchunked\r\n\r\n{S}"},
      {"TE_Duplicated", kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{S}"},
      {"TE_DuplicatedIdentity",
       kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n{S}"},
      {"TE_ChunkedIdentity", kPost + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{S}"},
      {"TE_IdentityChunked_CL", kPost + "Transfer-Encoding: identity, chunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_ChunkedChunked", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n{S}"},
      {"TE_SpaceBeforeColon", kPost + "Transfer-Encoding : chunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_TabPrefix_CL", kPost + "Transfer-Encoding:\tchunked\r\nContent-Length: 4\r\n\r\n{X}\r\n{S}\r\n0\r\n\r\n"},
      {"TE_VerticalTab", kPost + "Transfer-Encoding: \x0b" "chunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_UpperCase_CL", kPost + "Transfer-Encoding: CHUNKED\r\nContent-Length: 4\r\n\r\n{X}\r\n{S}\r\n0\r\n\r\n"},
      {"TE_Quoted", kPost + "Transfer-Encoding: \"chunked\"\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_ObsFold", kPost + "Transfer-Encoding:\r\n chunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_ObsFoldContinuation", kPost + "Content-Length: {N}\r\nX-Foo: bar\r\n Transfer-Encoding: chunked\r\n\r\n{S}"},
      {"TE_BareLfBeforeTE", kPost + "X-Foo: bar\nTransfer-Encoding: chunked\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"TE_HeaderNameWithNul", kPost + "Transfer-Encoding\0: chunked\r\nContent-Length: {N}\r\n\r\n{S}"s},
      // Content-Length games.
      {"CL_Duplicate", kPost + "Content-Length: 0\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"CL_DuplicateSame", kPost + "Content-Length: {N}\r\nContent-Length: {N}\r\n\r\n{S}"},
      {"CL_CommaList", kPost + "Content-Length: 0, {N}\r\n\r\n{S}"},
      {"CL_Plus", kPost + "Content-Length: +{N}\r\n\r\n{S}"},
      {"CL_Negative", kPost + "Content-Length: -1\r\n\r\n{S}"},
      {"CL_Hex", kPost + "Content-Length: 0x10\r\n\r\n{S}"},
      {"CL_Overflow", kPost + "Content-Length: 18446744073709551617\r\n\r\n{S}"},
      {"CL_SpaceBeforeColon", kPost + "Content-Length : {N}\r\n\r\n{S}"},
      // Chunked body games.
      {"ChunkSizeOverflow", kPost + "Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nA\r\n0\r\n\r\n{S}"},
      {"ChunkSizeHuge", kPost + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{S}\r\n0\r\n\r\n"},
      {"ChunkSizeNegative", kPost + "Transfer-Encoding: chunked\r\n\r\n-1\r\n{S}\r\n0\r\n\r\n"},
      {"ChunkSizeBareLf", kPost + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n{S}"},
      {"ChunkDataLongerThanSize", kPost + "Transfer-Encoding: chunked\r\n\r\n1\r\nAB\r\n0\r\n\r\n{S}"},
      {"ChunkSizeSpace", kPost + "Transfer-Encoding: chunked\r\n\r\n1 0\r\n{S}\r\n0\r\n\r\n"},
      // Head line endings.
      {"BareLfHead", "POST /api/first HTTP/1.1\nHost: x\nContent-Length: {N}\n\n{S}"},
      {"BareCrHead", kPost + "X-A: 1\rContent-Length: {N}\r\n\r\n{S}"},
      // Request line carrying a second request.
      {"RequestLineInjection", "GET /api/first HTTP/1.1\rGET /api/smuggled-RequestLineInjection HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HeaderValueInjection",
       "GET /api/first HTTP/1.1\r\nHost: x\r\nX-A: a\rGET /api/smuggled-HeaderValueInjection HTTP/1.1\r\n\r\n"},
  };
}

class SmugglingIT : public IntegrationTest, public ::testing::WithParamInterface<SmuggleCase> {};

TEST_P(SmugglingIT, RefusedAndNeverReachesTheBackend) {
  const SmuggleCase& tc = GetParam();
  GatewayOptions o;
  o.timeouts = "  client_header: 1s\n  client_body: 1s\n";
  startGateway(o);
  const std::string marker_path = std::string("/api/smuggled-") + tc.name;

  RawClient c(gw_->port());
  ASSERT_TRUE(c.connected());
  c.send(expand(tc));  // may fail part-way when the gateway answers early
  c.shutdownWrite();
  std::string raw = c.readUntilClose(5000ms);
  auto responses = parseAllResponses(raw);
  ASSERT_FALSE(responses.empty()) << "no answer; stderr:\n" << gw_->errorLog();
  RecordProperty("first_status", responses[0].status);
  RecordProperty("problem", jsonString(responses[0].body, "type").value_or("-"));
  EXPECT_GE(responses[0].status, 400) << raw;
  EXPECT_LT(responses[0].status, 600) << raw;
  EXPECT_EQ(responses[0].header("content-type").value_or(""), "application/problem+json") << raw;
  EXPECT_EQ(responses.size(), 1u) << "more than one response on a refused connection:\n" << raw;
  for (const auto& r : responses) EXPECT_FALSE(r.status >= 200 && r.status < 300) << raw;

  // A marker request through the gateway proves the backend's record is up to date, then the
  // smuggled path must be absent from it.
  static std::atomic<int> seq{0};
  std::string marker = "/api/marker-" + std::string(tc.name) + "-" + std::to_string(seq++);
  auto m = rawRequest(gw_->port(), "GET " + marker + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  ASSERT_TRUE(gunicorn_->waitForRecord(marker, 3000ms));
  for (const auto& line : gunicorn_->recorded()) {
    EXPECT_EQ(line.find("smuggled"), std::string::npos) << "reached the backend: " << line;
  }
  EXPECT_TRUE(gw_->process().running());
}

INSTANTIATE_TEST_SUITE_P(Cases, SmugglingIT, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// Legitimate pipelining on the same connection still works: the second request is served as its
// own request, proving the suite's "smuggled" request would be visible if the framing let it through.
using SmugglingControlIT = IntegrationTest;

TEST_F(SmugglingControlIT, ValidPipelinedSecondRequestIsServedAsItsOwnRequest) {
  startGateway();
  RawClient c(gw_->port());
  std::string s = "GET /api/pipelined-control HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(c.send(kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + s));
  auto rs = parseAllResponses(c.readUntilClose(5000ms));
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].status, 200);
  EXPECT_EQ(jsonNumber(rs[0].body, "body_len").value_or(-1), 3);
  EXPECT_EQ(jsonString(rs[1].body, "path").value_or(""), "/api/pipelined-control");
  EXPECT_TRUE(gunicorn_->waitForRecord("/api/pipelined-control", 2000ms));
}

}  // namespace
}  // namespace gwtest
