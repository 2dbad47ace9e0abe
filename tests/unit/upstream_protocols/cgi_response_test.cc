#include "upstream/cgi/response.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace gw::cgi {
namespace {

using test::contents;
using test::makeBuffer;

struct Parsed {
  proto::Expected<ResponseParser::State, ParseError> state;
  ResponseParser parser;
  std::string rest;
};

// Feeds `s` whole; returns the parser and what stayed in the buffer.
std::unique_ptr<Parsed> parse(std::string_view s, Limits limits = {}) {
  auto p = std::make_unique<Parsed>(Parsed{ResponseParser::State::NeedMore, ResponseParser(limits), {}});
  auto in = makeBuffer(s);
  p->state = p->parser.feed(in.get());
  p->rest = contents(in.get());
  return p;
}

ParseError parseError(std::string_view s, Limits limits = {}) {
  auto p = parse(s, limits);
  EXPECT_FALSE(p->state) << s;
  return p->state ? ParseError::Incomplete : p->state.error();
}

TEST(CgiResponse, DefaultStatus200CrLf) {
  auto p = parse("Content-Type: text/html\r\nX-A: 1\r\n\r\n<html>");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(*p->state, ResponseParser::State::Done);
  EXPECT_EQ(p->rest, "<html>");
  auto head = p->parser.takeHead();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->reason, "OK");
  ASSERT_EQ(head->headers.size(), 2u);
  EXPECT_EQ(*head->headers.get("content-type"), "text/html");
  EXPECT_EQ(p->parser.kind(), ResponseKind::Document);
}

TEST(CgiResponse, LfOnlyLines) {
  auto p = parse("Status: 404 Not Found\nContent-Type: text/plain\n\nnope\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(*p->state, ResponseParser::State::Done);
  EXPECT_EQ(p->rest, "nope\n");
  EXPECT_EQ(p->parser.head()->status, 404);
  EXPECT_EQ(p->parser.head()->reason, "Not Found");
  EXPECT_EQ(p->parser.head()->headers.size(), 1u);  // Status is not passed on as a header
  EXPECT_FALSE(p->parser.head()->headers.get("Status"));
}

TEST(CgiResponse, MixedLineEndsAndOws) {
  auto p = parse("Status:201\r\nX-Y:   spaced  \n\r\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.head()->status, 201);
  EXPECT_EQ(p->parser.head()->reason, "Created");
  EXPECT_EQ(*p->parser.head()->headers.get("X-Y"), "spaced");
}

TEST(CgiResponse, StatusRules) {
  EXPECT_EQ(parseError("Status: 20\n\n"), ParseError::BadStatus);
  EXPECT_EQ(parseError("Status: abc\n\n"), ParseError::BadStatus);
  EXPECT_EQ(parseError("Status: 2000 OK\n\n"), ParseError::BadStatus);
  EXPECT_EQ(parseError("Status: 100 Continue\n\n"), ParseError::BadStatus);
  EXPECT_EQ(parseError("Status: 600 Huh\n\n"), ParseError::BadStatus);
  EXPECT_EQ(parseError("Status: 200 OK\nStatus: 500 No\n\n"), ParseError::BadStatus);
  auto p = parse("status: 503\n\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.head()->status, 503);
  EXPECT_EQ(p->parser.head()->reason, "Service Unavailable");
}

TEST(CgiResponse, LocationAbsoluteWithoutStatusIs302) {
  auto p = parse("Location: https://example.com/x\n\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.kind(), ResponseKind::ClientRedirect);
  EXPECT_EQ(p->parser.head()->status, 302);
  EXPECT_EQ(*p->parser.head()->headers.get("Location"), "https://example.com/x");
  auto q = parse("Location: //other.example/x\n\n");
  ASSERT_TRUE(q->state);
  EXPECT_EQ(q->parser.kind(), ResponseKind::ClientRedirect);
  EXPECT_EQ(q->parser.head()->status, 302);
}

TEST(CgiResponse, LocationWithStatusKeepsStatus) {
  auto p = parse("Status: 301 Moved Permanently\r\nLocation: http://a/b\r\n\r\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.kind(), ResponseKind::Document);
  EXPECT_EQ(p->parser.head()->status, 301);
  auto q = parse("Status: 303 See Other\nLocation: /local\n\n");
  ASSERT_TRUE(q->state);
  EXPECT_EQ(q->parser.kind(), ResponseKind::Document);
  EXPECT_EQ(q->parser.head()->status, 303);
}

TEST(CgiResponse, LocalRedirectReported) {
  auto p = parse("Location: /other/path?q=1\n\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.kind(), ResponseKind::LocalRedirect);
  EXPECT_EQ(p->parser.location(), "/other/path?q=1");
}

TEST(CgiResponse, ContentLength) {
  auto p = parse("Content-Length: 12\nContent-Type: a/b\n\n");
  ASSERT_TRUE(p->state);
  EXPECT_EQ(p->parser.head()->content_length, 12u);
  EXPECT_EQ(parseError("Content-Length: 1x\n\n"), ParseError::BadContentLength);
  EXPECT_EQ(parseError("Content-Length: -1\n\n"), ParseError::BadContentLength);
  EXPECT_EQ(parseError("Content-Length: 1\nContent-Length: 2\n\n"), ParseError::BadContentLength);
}

TEST(CgiResponse, InjectionRefused) {
  EXPECT_EQ(parseError(std::string("X-A: a\0b\n\n", 10)), ParseError::BadHeaderValue);
  EXPECT_EQ(parseError("X-A: a\rb\n\n"), ParseError::BadHeaderValue);
  EXPECT_EQ(parseError(std::string("X\0A: a\n\n", 8)), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError("X\rA: a\n\n"), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError("X A: a\n\n"), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError("NoColon\n\n"), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError(": empty\n\n"), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError("X-A: a\n continued\n\n"), ParseError::BadHeaderLine);
  EXPECT_EQ(parseError("\n"), ParseError::NoHeaders);
  EXPECT_EQ(parseError("\r\nbody"), ParseError::NoHeaders);
}

TEST(CgiResponse, Limits) {
  Limits small{.max_header_bytes = 64, .max_headers = 3};
  EXPECT_EQ(parseError("X-A: " + std::string(100, 'a') + "\n\n", small), ParseError::HeaderTooLarge);
  EXPECT_EQ(parseError(std::string(100, 'a'), small), ParseError::HeaderTooLarge);  // no newline at all
  EXPECT_EQ(parseError("A: 1\nB: 2\nC: 3\nD: 4\n\n", small), ParseError::TooManyHeaders);
  auto ok = parse("A: 1\nB: 2\nC: 3\n\n", small);
  EXPECT_TRUE(ok->state);
}

TEST(CgiResponse, SplitAtEveryByte) {
  const std::string s = "Status: 302 Found\r\nLocation: http://x/\nX-Multi: a\r\nX-Multi: b\r\n\r\nBODY bytes";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    ResponseParser p;
    auto in = makeBuffer(s.substr(0, cut));
    auto r1 = p.feed(in.get());
    ASSERT_TRUE(r1);
    evbuffer_add(in.get(), s.data() + cut, s.size() - cut);
    auto r2 = p.feed(in.get());
    ASSERT_TRUE(r2) << cut;
    EXPECT_EQ(*r2, ResponseParser::State::Done);
    EXPECT_EQ(contents(in.get()), "BODY bytes") << cut;
    EXPECT_EQ(p.head()->status, 302);
    EXPECT_EQ(p.head()->headers.count("X-Multi"), 2u);
    EXPECT_TRUE(p.finish());
  }
}

TEST(CgiResponse, AnyChainLayout) {
  // Lines are parsed in place, chain by chain; a line split across chains is gathered.
  const std::string s = "Status: 302 Found\r\nLocation: http://x/\nX-Multi: a\r\nX-Multi: b\r\n\r\nBODY bytes";
  for (size_t piece = 1; piece <= s.size(); ++piece) {
    ResponseParser p;
    auto in = test::makeChainedBuffer(s, piece);
    auto r = p.feed(in.get());
    ASSERT_TRUE(r) << piece;
    EXPECT_EQ(*r, ResponseParser::State::Done);
    EXPECT_EQ(contents(in.get()), "BODY bytes") << piece;
    EXPECT_EQ(p.head()->status, 302);
    EXPECT_EQ(p.head()->headers.count("X-Multi"), 2u);
    EXPECT_EQ(*p.head()->headers.get("X-Multi"), "a");
    EXPECT_EQ(p.location(), "http://x/");
  }
  // The size limit counts a line split across chains as a whole.
  Limits small;
  small.max_header_bytes = 20;
  ResponseParser p(small);
  auto in = test::makeChainedBuffer("X-Long: 0123456789abcdef\n\n", 4);
  auto r = p.feed(in.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ParseError::HeaderTooLarge);
}

TEST(CgiResponse, ByteByByteThenBodyUntouched) {
  const std::string s = "Content-Type: text/plain\n\nabc";
  ResponseParser p;
  auto in = makeBuffer();
  for (char c : s) {
    evbuffer_add(in.get(), &c, 1);
    ASSERT_TRUE(p.feed(in.get()));
  }
  EXPECT_TRUE(p.done());
  EXPECT_EQ(contents(in.get()), "abc");  // after Done, nothing more is consumed
  auto again = p.feed(in.get());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, ResponseParser::State::Done);
  EXPECT_EQ(contents(in.get()), "abc");
}

TEST(CgiResponse, FinishIncomplete) {
  ResponseParser p;
  auto in = makeBuffer("Content-Type: a/b\n");
  ASSERT_TRUE(p.feed(in.get()));
  EXPECT_EQ(p.finish().error(), ParseError::Incomplete);
  EXPECT_STREQ(parseErrorName(ParseError::Incomplete), "cgi_incomplete_headers");
}

TEST(CgiResponse, ErrorIsSticky) {
  ResponseParser p;
  auto in = makeBuffer("Bad Line\n");
  EXPECT_FALSE(p.feed(in.get()));
  auto in2 = makeBuffer("A: b\n\n");
  auto r = p.feed(in2.get());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ParseError::BadHeaderLine);
  EXPECT_FALSE(p.finish());
}

}  // namespace
}  // namespace gw::cgi
