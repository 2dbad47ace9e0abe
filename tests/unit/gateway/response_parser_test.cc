#include "http1/response_parser.h"

#include <event2/buffer.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace gw::http1 {
namespace {

using namespace std::string_literals;
using Status = ResponseParser::Status;
using Fields = std::vector<std::pair<std::string, std::string>>;

// What a parser handed out, in a comparable form.
struct Result {
  Status status = Status::NeedMore;
  std::string error;
  int heads = 0;
  int code = 0;
  Fields headers;
  std::optional<uint64_t> content_length;
  bool head_end = false;
  std::string body;
  bool body_end = false;
  Fields trailers;
  int trailer_calls = 0;
  bool keep_alive = false;
  std::string rest;  // left in the input

  bool operator==(const Result&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Result& r) {
  os << "{status=" << static_cast<int>(r.status) << " error=" << r.error << " heads=" << r.heads << " code=" << r.code
     << " body=" << r.body.size() << " end=" << r.body_end << " trailers=" << r.trailers.size()
     << " keep_alive=" << r.keep_alive << " rest=" << r.rest.size() << "}";
  return os;
}

Fields fieldsOf(const http::HeaderMap& m) {
  Fields out;
  for (const auto& f : m.fields()) out.emplace_back(std::string(std::string_view(f.name)), std::string(std::string_view(f.value)));
  return out;
}

struct RecordingSink : ResponseParser::Sink {
  Result* r;
  bool pause = false;  // return false from every call (backpressure each time)
  bool onHead(http::ResponseHeadPtr head, bool end_stream) override {
    ++r->heads;
    r->code = head->status;
    r->headers = fieldsOf(head->headers);
    r->content_length = head->content_length;
    r->head_end = end_stream;
    return !pause;
  }
  bool onBody(evbuffer* data, bool end_stream) override {
    EXPECT_FALSE(r->body_end);
    size_t n = evbuffer_get_length(data);
    std::string s(n, '\0');
    evbuffer_remove(data, s.data(), n);
    r->body += s;
    r->body_end = end_stream;
    return !pause;
  }
  void onTrailers(http::HeaderMap&& t) override {
    ++r->trailer_calls;
    r->trailers = fieldsOf(t);
  }
};

enum class Feed { Pieces, Chains };

// Feeds `pieces` one after the other (Pieces: a feed() per piece; Chains: every piece a chain of
// its own, one feed()), then EOF if `eof` and the parser still needs more.
Result run(const std::vector<std::string>& pieces, ResponseParser::Options o = {}, bool eof = true,
           bool pause = false, Feed mode = Feed::Pieces) {
  Result r;
  ResponseParser p(o);
  RecordingSink sink;
  sink.r = &r;
  sink.pause = pause;
  evbuffer* in = evbuffer_new();
  auto feed = [&] {
    Status s;
    int guard = 0;
    do {
      s = p.feed(in, sink);
    } while (s == Status::Paused && ++guard < 1000000);
    return s;
  };
  Status s = Status::NeedMore;
  if (mode == Feed::Chains) {
    for (const auto& piece : pieces) {
      evbuffer* b = evbuffer_new();
      evbuffer_add(b, piece.data(), piece.size());
      evbuffer_add_buffer(in, b);
      evbuffer_free(b);
    }
    s = feed();
  } else {
    for (const auto& piece : pieces) {
      evbuffer_add(in, piece.data(), piece.size());
      if (s == Status::NeedMore) s = feed();
    }
  }
  if (s == Status::NeedMore && eof) s = p.finishAtEof(sink);
  r.status = s;
  r.error = p.error() ? p.error() : "";
  r.keep_alive = s == Status::Complete && p.keepAlive();
  size_t n = evbuffer_get_length(in);
  r.rest.resize(n);
  evbuffer_remove(in, r.rest.data(), n);
  evbuffer_free(in);
  return r;
}

Result run1(const std::string& whole, ResponseParser::Options o = {}, bool eof = true) { return run({whole}, o, eof); }

// Whether the end comes with the head or the body depends on the reads (a chunked body with
// no data ends with the head only when it arrived with it).
Result normalized(Result r) {
  r.head_end = r.body_end = r.head_end || r.body_end;
  return r;
}
// The same response in every 2-way split, byte by byte, as chains, with a pause at every call:
// all give the same result as in one piece.
void expectSplitInvariant(const std::string& resp, ResponseParser::Options o = {}) {
  auto run = [](const std::vector<std::string>& pieces, ResponseParser::Options o, bool eof = true, bool pause = false,
                Feed mode = Feed::Pieces) { return normalized(gw::http1::run(pieces, o, eof, pause, mode)); };
  Result whole = run({resp}, o);
  for (size_t i = 1; i < resp.size(); ++i) {
    EXPECT_EQ(run({resp.substr(0, i), resp.substr(i)}, o), whole) << "split at " << i << " of " << resp;
    EXPECT_EQ(run({resp.substr(0, i), resp.substr(i)}, o, true, false, Feed::Chains), whole) << "chains at " << i;
  }
  std::vector<std::string> bytes;
  for (char c : resp) bytes.emplace_back(1, c);
  EXPECT_EQ(run(bytes, o), whole) << "byte by byte: " << resp;
  EXPECT_EQ(run(bytes, o, true, true), whole) << "byte by byte, paused: " << resp;
  EXPECT_EQ(run(bytes, o, true, false, Feed::Chains), whole) << "one chain per byte: " << resp;
}

// ---------------------------------------------------------------- framing

TEST(ResponseParser, ContentLength) {
  Result r = run1("HTTP/1.1 200 OK\r\nServer: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.headers, (Fields{{"Server", "t"}, {"Content-Length", "5"}}));
  EXPECT_EQ(r.content_length, 5u);
  EXPECT_FALSE(r.head_end);
  EXPECT_EQ(r.body, "hello");
  EXPECT_TRUE(r.body_end);
  EXPECT_TRUE(r.keep_alive);
}

TEST(ResponseParser, ContentLengthZeroEndsWithTheHead) {
  Result r = run1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_TRUE(r.head_end);
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_TRUE(r.keep_alive);
}

TEST(ResponseParser, BytesPastTheResponseStayInTheInput) {
  Result r = run1("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", {}, false);
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.rest, "HTTP/1.1 200 OK\r\n");
}

TEST(ResponseParser, CloseDelimitedEndsAtEof) {
  Result r = run({"HTTP/1.1 200 OK\r\n\r\nab", "cd"});
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "abcd");
  EXPECT_TRUE(r.body_end);
  EXPECT_FALSE(r.content_length);
  EXPECT_FALSE(r.keep_alive);  // never after a close-delimited body
  Result open = run1("HTTP/1.1 200 OK\r\n\r\nab", {}, false);
  EXPECT_EQ(open.status, Status::NeedMore);
  EXPECT_EQ(open.body, "ab");
}

TEST(ResponseParser, ChunkedWithExtensionsAndTrailers) {
  Result r = run1(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6 ; a=\"b;c\"\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_FALSE(r.body_end);  // trailers end it
  EXPECT_EQ(r.trailer_calls, 1);
  EXPECT_EQ(r.trailers, (Fields{{"X-Checksum", "abc"}, {"X-Other", "1"}}));
  EXPECT_FALSE(r.content_length);
  EXPECT_TRUE(r.keep_alive);
}

TEST(ResponseParser, ChunkedWithoutTrailers) {
  Result r = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\nrest", {}, false);
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_TRUE(r.body_end);
  EXPECT_EQ(r.trailer_calls, 0);
  EXPECT_EQ(r.rest, "rest");
}

TEST(ResponseParser, ChunkedCutShortAtEof) {
  Result r = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_EQ(r.body, "hel");
  EXPECT_FALSE(r.body_end);
}

TEST(ResponseParser, ContentLengthCutShortAtEof) {
  Result r = run1("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_FALSE(r.keep_alive);
}

TEST(ResponseParser, EofBeforeTheHead) {
  EXPECT_EQ(run1("").status, Status::Error);
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\n").status, Status::Error);
}

TEST(ResponseParser, TransferEncodingWithContentLengthRefused) {
  // RFC 9112 §6.3 lets a recipient treat it as an error, as http_parser did: a smuggling attempt.
  for (const char* te : {"chunked", "gzip", "gzip, chunked"}) {
    Result r = run1(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: ") + te +
                    "\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    EXPECT_EQ(r.status, Status::Error) << te;
    EXPECT_EQ(r.heads, 0) << te;
    r = run1(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: ") + te + "\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(r.status, Status::Error) << te;
  }
  // Also where no body follows.
  EXPECT_EQ(run1("HTTP/1.1 304 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n").status, Status::Error);
}

TEST(ResponseParser, TransferEncodingNotEndingInChunkedIsUntilClose) {
  Result gz = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcdef");
  EXPECT_EQ(gz.status, Status::Complete);
  EXPECT_EQ(gz.body, "abcdef");
  EXPECT_FALSE(gz.content_length);
  EXPECT_FALSE(gz.keep_alive);
}

TEST(ResponseParser, ErrorInTheFirstReadMeansNoHead) {
  // The head is held back until what came with it is parsed: the owner can still answer 502.
  Result r = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_EQ(r.heads, 0);
  Result later = run({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "zz\r\n"});
  EXPECT_EQ(later.status, Status::Error);
  EXPECT_EQ(later.heads, 1);
}

TEST(ResponseParser, WholeResponseInOneReadEndsWithTheHeadWhenBodyless) {
  Result r = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_TRUE(r.head_end);
  EXPECT_TRUE(r.body.empty());
}

TEST(ResponseParser, FinalTransferCodingDecides) {
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n").body, "x");
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n").body,
            "x");
  Result r = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n1\r\nx\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "1\r\nx\r\n0\r\n\r\n");  // until close
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n").status, Status::Error);
}

TEST(ResponseParser, ContentLengthValues) {
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").body, "abc");
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc").body, "abc");
  EXPECT_EQ(run1("HTTP/1.1 200 OK\r\nContent-Length:  3 \r\n\r\nabc").body, "abc");
  for (const char* bad : {"3\r\nContent-Length: 4", "3, 4", "+3", "-1", "0x3", "3 3", "", ",", "3.0",
                          "18446744073709551616", "99999999999999999999999"}) {
    Result r = run1(std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + bad + "\r\n\r\nabc");
    EXPECT_EQ(r.status, Status::Error) << bad;
    EXPECT_EQ(r.heads, 0) << bad;
  }
  Result max = run1("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc", {}, false);
  EXPECT_EQ(max.status, Status::NeedMore);
  EXPECT_EQ(max.content_length, UINT64_MAX);
}

TEST(ResponseParser, HeadRequestHasNoBody) {
  Result r = run1("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", {.head_request = true}, false);
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_TRUE(r.head_end);
  EXPECT_EQ(r.content_length, 100u);  // relayed as the size a GET would get
  EXPECT_TRUE(r.keep_alive);
  Result chunked = run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", {.head_request = true}, false);
  EXPECT_EQ(chunked.status, Status::Complete);
  EXPECT_TRUE(chunked.head_end);
  Result extra = run1("HTTP/1.1 200 OK\r\n\r\nbody", {.head_request = true}, false);
  EXPECT_EQ(extra.status, Status::Complete);
  EXPECT_EQ(extra.rest, "body");
}

TEST(ResponseParser, NoBodyFor204And304) {
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    Result r = run1(std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 10\r\n\r\n0123456789", {}, false);
    EXPECT_EQ(r.status, Status::Complete) << status;
    EXPECT_TRUE(r.head_end);
    EXPECT_FALSE(r.content_length);
    EXPECT_EQ(r.rest, "0123456789");
    Result te = run1(std::string("HTTP/1.1 ") + status + "\r\nTransfer-Encoding: chunked\r\n\r\n", {}, false);
    EXPECT_EQ(te.status, Status::Complete) << status;
    EXPECT_TRUE(te.head_end);
  }
}

TEST(ResponseParser, InformationalHeadsAreDropped) {
  Result r = run1(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nContent-Length: 9\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.heads, 1);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.headers, (Fields{{"Content-Length", "2"}}));
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(run1("HTTP/1.1 100 Continue\r\n\r\n", {}, true).status, Status::Error);
  EXPECT_EQ(run1("HTTP/1.1 100 Continue\r\nX: \x01\r\n\r\nHTTP/1.1 200 OK\r\n\r\n").status, Status::Error);
}

TEST(ResponseParser, SwitchingProtocolsRefused) {
  Result r = run1("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_EQ(r.heads, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST(ResponseParser, StatusLines) {
  EXPECT_EQ(run1("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").code, 200);   // no SP reason
  EXPECT_EQ(run1("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n").code, 404);  // empty reason
  EXPECT_EQ(run1("HTTP/1.0 599 Odd\tone\r\nContent-Length: 0\r\n\r\n").code, 599);
  EXPECT_EQ(run1("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 \xe2\x9c\x93\r\n\r\n").code, 200);  // obs-text
  for (const char* bad : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 600 X", "HTTP/1.1 099 X", "HTTP/1.1 000 X",
                          "HTTP/1.2 200 OK", "HTTP/2.0 200 OK", "HTTP/0.9 200 OK", "HTTP/1.1  200 OK", "http/1.1 200 OK",
                          "HTTP/1.1 200OK", "HTTP/1.1 2x0 OK", "ICY 200 OK", "HTTP/11 200 OK", "HTTP/1.1 200 O\x01K",
                          "HTTP/1.1 -20 OK", "", " HTTP/1.1 200 OK", "HTTP/1.1\t200 OK"}) {
    Result r = run1(std::string(bad) + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status, Status::Error) << bad;
    EXPECT_EQ(r.heads, 0) << bad;
  }
  EXPECT_EQ(run1("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").status, Status::Error);
}

TEST(ResponseParser, Http2StatusLineOnlyWhenAsked) {
  Result r = run1("HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", {.accept_http2 = true});
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, "ok");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(run1("HTTP/2.1 200 OK\r\n\r\n", {.accept_http2 = true}).status, Status::Error);
  EXPECT_EQ(run1("HTTP/2.0 200 OK\r\n\r\n").status, Status::Error);
}

// ---------------------------------------------------------------- fields

TEST(ResponseParser, FieldSyntax) {
  Result r = run1("HTTP/1.1 200 OK\r\nA:b\r\nB:  \t spaced out \t \r\nEmpty:\r\nC: x\ty\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.headers, (Fields{{"A", "b"}, {"B", "spaced out"}, {"Empty", ""}, {"C", "x\ty"}, {"Content-Length", "0"}}));
  const char* bad[] = {
      "X : y",             // whitespace before the colon
      "X\t: y",
      "no colon",
      ": no name",
      "X(y): z",           // not a token
      "X: a\x01z",         // CTL in the value
      "X: a\x7fz",
  };
  for (const char* line : bad) {
    Result b = run1(std::string("HTTP/1.1 200 OK\r\n") + line + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(b.status, Status::Error) << line;
    EXPECT_EQ(b.heads, 0) << line;
  }
}

TEST(ResponseParser, ByteRulesOfTheHead) {
  const std::string bad[] = {
      "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",             // bare LF
      "HTTP/1.1 200 OK\r\nA: b\nContent-Length: 0\r\n\r\n",     // bare LF
      "HTTP/1.1 200 OK\r\nContent-Length: 0\n\n",               // bare LFs only
      "HTTP/1.1 200 OK\r\nA: b\rC: d\r\nContent-Length: 0\r\n\r\n",  // bare CR
      "HTTP/1.1 200 OK\r\nA: b\0c\r\nContent-Length: 0\r\n\r\n"s,  // NUL
      "HTTP/1.1 200 OK\r\nA: b\r\n c\r\nContent-Length: 0\r\n\r\n",  // obs-fold
      "HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n A: b\r\nContent-Length: 0\r\n\r\n",  // whitespace before the first field
  };
  for (const auto& h : bad) {
    Result r = run1(h);
    EXPECT_EQ(r.status, Status::Error) << h;
    EXPECT_EQ(r.heads, 0) << h;
  }
}

TEST(ResponseParser, HeadSizeLimit) {
  const std::string start = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  auto headOf = [&](size_t total) {
    std::string filler = "X: ";
    filler.append(total - start.size() - filler.size() - 4, 'a');
    return start + filler + "\r\n\r\n";
  };
  std::string fits = headOf(ResponseParser::kMaxHeadBytes);
  ASSERT_EQ(fits.size(), ResponseParser::kMaxHeadBytes);
  EXPECT_EQ(run1(fits).status, Status::Complete);
  EXPECT_EQ(run({fits.substr(0, 1000), fits.substr(1000)}).status, Status::Complete);
  std::string over = headOf(ResponseParser::kMaxHeadBytes + 1);
  for (const Result& r : {run1(over), run({over.substr(0, 1000), over.substr(1000)}),
                          run({over.substr(0, 40000), over.substr(40000, 40000), over.substr(80000)})}) {
    EXPECT_EQ(r.status, Status::Error);
    EXPECT_EQ(r.error, "response head too large");
  }
  // A head that never ends is refused once it passes the limit, not when the peer stops.
  Result endless = run({start, std::string(ResponseParser::kMaxHeadBytes, 'a')}, {}, false);
  EXPECT_EQ(endless.status, Status::Error);
}

TEST(ResponseParser, FieldCountLimit) {
  auto withFields = [](size_t n) {
    std::string h = "HTTP/1.1 200 OK\r\n";
    for (size_t i = 1; i < n; ++i) h += "X-" + std::to_string(i) + ": v\r\n";
    return h + "Content-Length: 0\r\n\r\n";
  };
  Result ok = run1(withFields(ResponseParser::kMaxFields));
  EXPECT_EQ(ok.status, Status::Complete);
  EXPECT_EQ(ok.headers.size(), ResponseParser::kMaxFields);
  EXPECT_EQ(run1(withFields(ResponseParser::kMaxFields + 1)).status, Status::Error);
}

// ---------------------------------------------------------------- keep-alive

TEST(ResponseParser, KeepAliveRules) {
  EXPECT_TRUE(run1("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(run1("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(run1("HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(run1("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(run1("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_FALSE(run1("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n").keep_alive);
  // HTTP/1.0 with Transfer-Encoding: processed, but the framing is suspect (RFC 9112 §6.1).
  Result te10 = run1("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(te10.status, Status::Complete);
  EXPECT_FALSE(te10.keep_alive);
  EXPECT_FALSE(run1("HTTP/1.1 200 OK\r\n\r\nuntil close").keep_alive);
  EXPECT_TRUE(run1("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").keep_alive);
}

// ---------------------------------------------------------------- chunked errors

TEST(ResponseParser, ChunkSizeErrors) {
  const std::string h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* body : {"g\r\nx\r\n0\r\n\r\n", "\r\n", "-5\r\nhello\r\n0\r\n\r\n", "5 5\r\nhello\r\n0\r\n\r\n",
                           "0x5\r\nhello\r\n0\r\n\r\n", "10000000000000000\r\n", "5\nhello\r\n0\r\n\r\n",
                           "5\rhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n",
                           "5\r\nhello\r\r\n0\r\n\r\n", "5;a\x01\r\nhello\r\n0\r\n\r\n", "5;a\nb\r\nhello\r\n0\r\n\r\n",
                           "0\r\n\n", "0\r\n\rX", " 5\r\nhello\r\n0\r\n\r\n"}) {
    Result r = run1(h + body);
    EXPECT_EQ(r.status, Status::Error) << body;
    EXPECT_FALSE(r.body_end) << body;
  }
  // The largest chunk size is accepted (and waited for).
  EXPECT_EQ(run1(h + "ffffffffffffffff\r\nabc", {}, false).status, Status::NeedMore);
  EXPECT_EQ(run1(h + "00000000000000000000005\r\nhello\r\n0\r\n\r\n").body, "hello");
  // Extensions are bounded.
  std::string long_ext = h + "5;" + std::string(ResponseParser::kMaxChunkLine, 'x') + "\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(run1(long_ext).status, Status::Error);
  EXPECT_EQ(run1(h + "5 \t;x=y\r\nhello\r\n0\r\n\r\n").body, "hello");
  EXPECT_EQ(run1(h + "5 \r\nhello\r\n0\r\n\r\n").body, "hello");
}

TEST(ResponseParser, TrailerSection) {
  const std::string h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
  for (const char* bad : {"X : y\r\n\r\n", "X\r\n\r\n", "X: y\nZ: w\r\n\r\n", "X: y\r\n z\r\n\r\n", "X: \x01\r\n\r\n"}) {
    Result r = run1(h + bad);
    EXPECT_EQ(r.status, Status::Error) << bad;
    EXPECT_EQ(r.trailer_calls, 0) << bad;
  }
  std::string many = h;
  for (int i = 0; i < 150; ++i) many += "T-" + std::to_string(i) + ": v\r\n";
  Result r = run1(many + "\r\n");
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.trailers.size(), ResponseParser::kMaxTrailers);
  std::string huge = h + "T: " + std::string(ResponseParser::kMaxHeadBytes, 'v') + "\r\n\r\n";
  EXPECT_EQ(run1(huge).status, Status::Error);
}

// ---------------------------------------------------------------- splits and pauses

TEST(ResponseParser, EverySplitGivesTheSameResult) {
  const std::string responses[] = {
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nextra",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Hints\r\nLink: <a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nclose-delimited body",
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: a\r\n b\r\n\r\nhello",  // an error found late
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\n\r\n",
  };
  for (const auto& resp : responses) expectSplitInvariant(resp);
  expectSplitInvariant("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", {.head_request = true});
}

TEST(ResponseParser, PausedTrailersGoOutOnTheNextFeed) {
  ResponseParser p;
  Result r;
  RecordingSink sink;
  sink.r = &r;
  sink.pause = true;
  evbuffer* in = evbuffer_new();
  std::string s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n";
  evbuffer_add(in, s.data(), s.size());
  EXPECT_EQ(p.feed(in, sink), Status::Paused);  // after the head
  EXPECT_EQ(r.heads, 1);
  EXPECT_EQ(p.feed(in, sink), Status::Paused);  // after the body
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.trailer_calls, 0);
  EXPECT_EQ(evbuffer_get_length(in), 0u);
  EXPECT_EQ(p.feed(in, sink), Status::Complete);
  EXPECT_EQ(r.trailer_calls, 1);
  EXPECT_EQ(p.feed(in, sink), Status::Complete);  // and stays so
  EXPECT_EQ(r.trailer_calls, 1);
  evbuffer_free(in);
}

TEST(ResponseParser, ResetStartsOver) {
  ResponseParser p;
  Result r;
  RecordingSink sink;
  sink.r = &r;
  evbuffer* in = evbuffer_new();
  evbuffer_add(in, "HTTP/1.1 200 OK\r\nContent-Le", 27);
  EXPECT_EQ(p.feed(in, sink), Status::NeedMore);
  p.reset({.head_request = true});
  evbuffer_drain(in, evbuffer_get_length(in));
  std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  evbuffer_add(in, s.data(), s.size());
  EXPECT_EQ(p.feed(in, sink), Status::Complete);
  EXPECT_TRUE(r.head_end);
  evbuffer_free(in);
}

TEST(ResponseParser, LargeBodyIsMovedNotCopied) {
  // Content-Length body chains move into the sink's buffer: the input ends up empty.
  std::string body(100000, 'b');
  Result r = run({"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", body.substr(0, 60000), body.substr(60000)},
                 {}, false, false, Feed::Chains);
  EXPECT_EQ(r.status, Status::Complete);
  EXPECT_EQ(r.body, body);
  EXPECT_TRUE(r.rest.empty());
}

}  // namespace
}  // namespace gw::http1
