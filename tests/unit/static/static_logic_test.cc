#include <gtest/gtest.h>

#include "upstream/static/mime.h"
#include "upstream/static/static_logic.h"

namespace gw::statics {
namespace {

TEST(StaticPath, DecodesAndSplits) {
  auto r = resolvePath("/a/b%20c/d.txt", false);
  ASSERT_EQ(r.error, PathError::None);
  EXPECT_EQ(r.relative(), "a/b c/d.txt");
  EXPECT_FALSE(r.trailing_slash);
  r = resolvePath("/", false);
  ASSERT_EQ(r.error, PathError::None);
  EXPECT_TRUE(r.segments.empty());
  EXPECT_TRUE(r.trailing_slash);
  r = resolvePath("//docs///x/", false);  // merged slashes, like nginx
  ASSERT_EQ(r.error, PathError::None);
  EXPECT_EQ(r.relative(), "docs/x");
  EXPECT_TRUE(r.trailing_slash);
  EXPECT_EQ(resolvePath("/%C3%A9t%c3%a9", false).relative(), "\xC3\xA9t\xC3\xA9");
}

TEST(StaticPath, RefusesTraversalAndOddBytes) {
  EXPECT_EQ(resolvePath("/../etc/passwd", false).error, PathError::DotSegment);
  EXPECT_EQ(resolvePath("/a/..", false).error, PathError::DotSegment);
  EXPECT_EQ(resolvePath("/a/./b", false).error, PathError::DotSegment);
  EXPECT_EQ(resolvePath("/%2e%2e/x", false).error, PathError::DotSegment);
  EXPECT_EQ(resolvePath("/.%2E/x", false).error, PathError::DotSegment);
  EXPECT_EQ(resolvePath("/a%2f..%2fb", false).error, PathError::EncodedSlash);
  EXPECT_EQ(resolvePath("/a%2Fb", false).error, PathError::EncodedSlash);
  EXPECT_EQ(resolvePath("/a%00b", false).error, PathError::Nul);
  EXPECT_EQ(resolvePath(std::string_view("/a\0b", 4), false).error, PathError::Nul);
  EXPECT_EQ(resolvePath("/..\\x", false).error, PathError::Backslash);
  EXPECT_EQ(resolvePath("/a%5c..%5cb", false).error, PathError::Backslash);
  EXPECT_EQ(resolvePath("/a%", false).error, PathError::BadEscape);
  EXPECT_EQ(resolvePath("/a%2", false).error, PathError::BadEscape);
  EXPECT_EQ(resolvePath("/a%zz", false).error, PathError::BadEscape);
  EXPECT_EQ(resolvePath("a/b", false).error, PathError::NotOrigin);
  EXPECT_EQ(resolvePath("", false).error, PathError::NotOrigin);
}

TEST(StaticPath, Dotfiles) {
  EXPECT_EQ(resolvePath("/.env", false).error, PathError::Dotfile);
  EXPECT_EQ(resolvePath("/a/.git/config", false).error, PathError::Dotfile);
  EXPECT_EQ(resolvePath("/%2egit/config", false).error, PathError::Dotfile);
  EXPECT_EQ(pathErrorStatus(PathError::Dotfile), 404);
  EXPECT_EQ(resolvePath("/.env", true).error, PathError::None);
  EXPECT_EQ(resolvePath("/a/..b", true).relative(), "a/..b");
  EXPECT_EQ(resolvePath("/a/..", true).error, PathError::DotSegment);  // never allowed
  EXPECT_EQ(resolvePath("/a.b/c.d.", false).error, PathError::None);
}

TEST(StaticPath, PlainFileName) {
  EXPECT_TRUE(isPlainFileName("index.html"));
  EXPECT_FALSE(isPlainFileName(""));
  EXPECT_FALSE(isPlainFileName(".."));
  EXPECT_FALSE(isPlainFileName("a/b"));
}

TEST(StaticDates, FormatAndParseAllThreeForms) {
  EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parseHttpDate("Sat, 29 Feb 2020 23:59:59 GMT"), 1583020799);
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parseHttpDate("Sun, 32 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(parseHttpDate("yesterday"));
  EXPECT_FALSE(parseHttpDate(""));
  for (int64_t t : {0LL, 1LL, 951782400LL, 1700000000LL, 4102444800LL}) EXPECT_EQ(parseHttpDate(formatHttpDate(t)), t);
}

TEST(StaticEtag, ListMatching) {
  const std::string tag = makeEtag(6, 100, 5);
  EXPECT_EQ(tag.front(), '"');
  EXPECT_NE(tag, makeEtag(6, 100, 6));  // ns resolution
  EXPECT_NE(tag, makeEtag(7, 100, 5));
  EXPECT_TRUE(etagListMatches(tag, tag, false));
  EXPECT_TRUE(etagListMatches("*", tag, false));
  EXPECT_TRUE(etagListMatches("\"x\", " + tag, tag, true));
  EXPECT_TRUE(etagListMatches("\"x\",," + tag + " ,", tag, true));
  EXPECT_TRUE(etagListMatches("W/" + tag, tag, true));    // weak comparison: W/ ignored
  EXPECT_FALSE(etagListMatches("W/" + tag, tag, false));  // strong comparison: a weak tag never matches
  EXPECT_FALSE(etagListMatches("\"other\"", tag, true));
  EXPECT_FALSE(etagListMatches("", tag, true));
  EXPECT_FALSE(etagListMatches(tag.substr(1), tag, true));            // unquoted
  EXPECT_FALSE(etagListMatches(tag + " junk", tag, true));            // malformed list: no match
}

TEST(StaticConditional, Rfc9110Order) {
  Validators v{makeEtag(10, 1000, 0), 1000};
  const std::string same = v.etag, other = "\"nope\"", star = "*";
  const std::string before = formatHttpDate(999), at = formatHttpDate(1000), after = formatHttpDate(1001);
  const std::string bad_date = "not a date";
  auto eval = [&](ConditionalHeaders h) { return evaluatePreconditions(h, v, true); };
  EXPECT_EQ(eval({}), Precondition::Proceed);
  EXPECT_EQ(eval({.if_none_match = same}), Precondition::NotModified);
  EXPECT_EQ(eval({.if_none_match = star}), Precondition::NotModified);
  EXPECT_EQ(eval({.if_none_match = other}), Precondition::Proceed);
  EXPECT_EQ(eval({.if_modified_since = at}), Precondition::NotModified);
  EXPECT_EQ(eval({.if_modified_since = after}), Precondition::NotModified);
  EXPECT_EQ(eval({.if_modified_since = before}), Precondition::Proceed);
  EXPECT_EQ(eval({.if_modified_since = bad_date}), Precondition::Proceed);
  // If-None-Match wins over If-Modified-Since (which is then ignored).
  EXPECT_EQ(eval({.if_none_match = other, .if_modified_since = after}), Precondition::Proceed);
  EXPECT_EQ(eval({.if_match = other}), Precondition::Failed);
  EXPECT_EQ(eval({.if_match = same}), Precondition::Proceed);
  EXPECT_EQ(eval({.if_unmodified_since = before}), Precondition::Failed);
  EXPECT_EQ(eval({.if_unmodified_since = at}), Precondition::Proceed);
  // If-Match present: If-Unmodified-Since is ignored.
  EXPECT_EQ(eval({.if_match = same, .if_unmodified_since = before}), Precondition::Proceed);
  EXPECT_EQ(evaluatePreconditions({.if_none_match = same}, v, false), Precondition::Failed);
  EXPECT_EQ(evaluatePreconditions({.if_modified_since = at}, v, false), Precondition::Proceed);
}

TEST(StaticConditional, IfRange) {
  Validators v{makeEtag(10, 1000, 0), 1000};
  EXPECT_TRUE(ifRangeMatches(v.etag, v));
  EXPECT_FALSE(ifRangeMatches("W/" + v.etag, v));  // weak tags never match If-Range
  EXPECT_FALSE(ifRangeMatches("\"other\"", v));
  EXPECT_TRUE(ifRangeMatches(formatHttpDate(1000), v));
  EXPECT_FALSE(ifRangeMatches(formatHttpDate(1001), v));  // exact match only
  EXPECT_FALSE(ifRangeMatches("garbage", v));
  EXPECT_FALSE(ifRangeMatches("", v));
}

TEST(StaticRange, Single) {
  auto r = parseRange("bytes=0-9", 100);
  EXPECT_EQ(r.kind, RangeResult::Single);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 9u);
  r = parseRange("bytes=90-", 100);
  EXPECT_EQ(r.kind, RangeResult::Single);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = parseRange("bytes=-10", 100);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = parseRange("bytes=-1000", 100);  // suffix longer than the file: the whole file
  EXPECT_EQ(r.kind, RangeResult::Single);
  EXPECT_EQ(r.first, 0u);
  r = parseRange("bytes=50-5000", 100);  // last clamped
  EXPECT_EQ(r.last, 99u);
  r = parseRange(" BYTES = 1-1 ", 100);
  EXPECT_EQ(r.kind, RangeResult::Single);
  EXPECT_EQ(r.first, 1u);
  r = parseRange("bytes=0-99999999999999999999999", 100);  // saturates, no overflow
  EXPECT_EQ(r.kind, RangeResult::Single);
  EXPECT_EQ(r.last, 99u);
}

TEST(StaticRange, UnsatisfiableAndIgnored) {
  EXPECT_EQ(parseRange("bytes=100-", 100).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=100-200", 100).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=-0", 100).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-", 0).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=99999999999999999999999-", 100).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=5-1", 100).kind, RangeResult::Ignore);  // invalid: ignored
  EXPECT_EQ(parseRange("bytes=a-b", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("bytes=1", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("bytes=-", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("bytes=+1-2", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("bytes=", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("items=0-1", 100).kind, RangeResult::Ignore);
  EXPECT_EQ(parseRange("0-1", 100).kind, RangeResult::Ignore);
}

TEST(StaticRange, Multiple) {
  EXPECT_EQ(parseRange("bytes=0-1,5-6", 100).kind, RangeResult::Multiple);
  EXPECT_EQ(parseRange("bytes=0-1, 500-600", 100).kind, RangeResult::Multiple);
  EXPECT_EQ(parseRange("bytes=200-300,500-600", 100).kind, RangeResult::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-1,,", 100).kind, RangeResult::Single);  // empty elements allowed
  std::string many = "bytes=0-0";
  for (size_t i = 0; i < kMaxRanges; ++i) many += ",1-1";
  EXPECT_EQ(parseRange(many, 100).kind, RangeResult::Ignore);
}

TEST(StaticMime, BuiltinAndFile) {
  MimeTable m;
  EXPECT_EQ(m.lookup("index.html"), "text/html");
  EXPECT_EQ(m.lookup("A.PNG"), "image/png");
  EXPECT_EQ(m.lookup("x.tar.gz"), "application/gzip");
  EXPECT_EQ(m.lookup("app.wasm"), "application/wasm");
  EXPECT_EQ(m.lookup("README"), "application/octet-stream");
  EXPECT_EQ(m.lookup("weird."), "application/octet-stream");
  EXPECT_EQ(m.lookup("x.unknownext"), "application/octet-stream");
  char path[] = "/tmp/gw-mime-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "# comment\ntext/x-custom  foo bar\napplication/x-override html\nbroken-line\n"
                     "types { image/x-ng ngx; }\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::string why;
  ASSERT_TRUE(m.loadFile(path, &why)) << why;
  EXPECT_EQ(m.lookup("a.foo"), "text/x-custom");
  EXPECT_EQ(m.lookup("a.BAR"), "text/x-custom");
  EXPECT_EQ(m.lookup("a.html"), "application/x-override");
  EXPECT_EQ(m.lookup("a.ngx"), "image/x-ng");
  unlink(path);
  EXPECT_FALSE(m.loadFile("/nonexistent/mime.types", &why));
  EXPECT_NE(why.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace gw::statics
