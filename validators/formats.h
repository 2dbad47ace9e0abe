#pragma once

// Format assertions ("format" keyword), implemented without std::regex.
// Pure functions; thread-safe.

#include <string_view>

namespace gw::validators {

enum class FormatKind {
  Unknown,
  // string formats
  Date, DateTime, Time, Duration, Email, Uuid, Uri, UriReference, Hostname, Ipv4, Ipv6, Byte,
  JsonPointer, RelativeJsonPointer,
  Binary, Password,  // OpenAPI annotations: known, never fail
  // number formats
  Int32, Int64, Float, Double,
};

FormatKind formatKindFromName(std::string_view name);
bool isNumericFormat(FormatKind kind);

// True when `s` satisfies the string format (always true for numeric/annotation formats).
bool checkStringFormat(FormatKind kind, std::string_view s);
// `is_integer`: the JSON number was written without fraction/exponent (or is integral).
bool checkNumberFormat(FormatKind kind, double value, bool is_integer, bool is_int64,
                       long long int_value);

}  // namespace gw::validators
