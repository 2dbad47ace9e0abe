#include <gtest/gtest.h>

#include "validators/formats.h"

namespace gw::validators {
namespace {

struct Case {
  const char* format;
  const char* value;
  bool ok;
};

class StringFormats : public ::testing::TestWithParam<Case> {};

TEST_P(StringFormats, Check) {
  const Case& c = GetParam();
  FormatKind k = formatKindFromName(c.format);
  ASSERT_NE(k, FormatKind::Unknown) << c.format;
  EXPECT_EQ(checkStringFormat(k, c.value), c.ok) << c.format << " '" << c.value << "'";
}

INSTANTIATE_TEST_SUITE_P(
    All, StringFormats,
    ::testing::Values(
        Case{"date", "2024-02-29", true}, Case{"date", "2023-02-29", false}, Case{"date", "2024-13-01", false},
        Case{"date", "2024-1-01", false}, Case{"date", "1900-02-29", false}, Case{"date", "2000-02-29", true},
        Case{"date-time", "2024-01-01T10:00:00Z", true}, Case{"date-time", "2024-01-01t10:00:00.123+02:00", true},
        Case{"date-time", "2024-01-01 10:00:00Z", false}, Case{"date-time", "2024-01-01T10:00:00", false},
        Case{"date-time", "1998-12-31T23:59:60Z", true}, Case{"date-time", "1998-12-31T22:59:60Z", false},
        Case{"time", "23:59:60+00:00", true}, Case{"time", "08:30:06Z", true}, Case{"time", "24:00:00Z", false},
        Case{"time", "12:00:00+24:00", false}, Case{"email", "joe.bloggs@example.com", true},
        Case{"email", "joe..bloggs@example.com", false}, Case{"email", "@example.com", false},
        Case{"email", "a@[127.0.0.1]", true}, Case{"uuid", "2EB8AA08-AA98-11EA-B4AA-73B441D16380", true},
        Case{"uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d1638", false}, Case{"uri", "http://example.com/a?b=c#d", true},
        Case{"uri", "urn:isbn:0451450523", true}, Case{"uri", "/relative", false}, Case{"uri", "http://exa mple", false},
        Case{"uri", "http://[::1]:80/", true}, Case{"uri-reference", "../a/b?c", true},
        Case{"uri-reference", "a b", false}, Case{"hostname", "www.example.com", true},
        Case{"hostname", "-bad.example", false}, Case{"hostname", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", false},
        Case{"ipv4", "192.168.0.1", true}, Case{"ipv4", "256.0.0.1", false}, Case{"ipv4", "01.2.3.4", false},
        Case{"ipv6", "::1", true}, Case{"ipv6", "2001:db8::ff00:42:8329", true}, Case{"ipv6", "12345::", false},
        Case{"byte", "U3dhZ2dlciByb2Nrcw==", true}, Case{"byte", "U3dhZ2dlciByb2Nrcw=", false},
        Case{"duration", "P1Y2M3DT4H5M6S", true}, Case{"duration", "PT", false}, Case{"duration", "P2W", true},
        Case{"json-pointer", "/a/~1b", true}, Case{"json-pointer", "a", false},
        Case{"relative-json-pointer", "1/a", true}, Case{"relative-json-pointer", "01", false}));

TEST(NumberFormats, Ranges) {
  EXPECT_TRUE(checkNumberFormat(FormatKind::Int32, 2147483647, true, true, 2147483647));
  EXPECT_FALSE(checkNumberFormat(FormatKind::Int32, 2147483648.0, true, true, 2147483648LL));
  EXPECT_FALSE(checkNumberFormat(FormatKind::Int32, 1.5, false, false, 0));
  EXPECT_TRUE(checkNumberFormat(FormatKind::Int64, 9.2e18, true, true, 9200000000000000000LL));
  EXPECT_FALSE(checkNumberFormat(FormatKind::Int64, 1e19, true, false, 0));
  EXPECT_TRUE(checkNumberFormat(FormatKind::Float, 3.4e38, false, false, 0));
  EXPECT_FALSE(checkNumberFormat(FormatKind::Float, 3.5e38, false, false, 0));
  EXPECT_TRUE(checkNumberFormat(FormatKind::Double, 1e308, false, false, 0));
}

TEST(Formats, UnknownNamesAreUnknown) {
  EXPECT_EQ(formatKindFromName("x-custom"), FormatKind::Unknown);
  EXPECT_EQ(formatKindFromName("binary"), FormatKind::Binary);
  EXPECT_TRUE(checkStringFormat(FormatKind::Binary, std::string("\0\xff", 2)));
}

}  // namespace
}  // namespace gw::validators
