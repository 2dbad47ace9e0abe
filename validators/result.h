#pragma once

// Load-time (control plane) error type of the contract engine.
//
// Everything that can go wrong while reading or compiling a spec is reported as a list of
// SpecError values with a location (file, 1-based line when known, JSON Pointer into that file).
// No exception ever escapes the library: valijson / yaml-cpp / RE2 failures are caught at the
// module boundary and converted (STYLE.md section 4).

#include <expected>
#include <string>
#include <vector>

namespace gw::validators {

struct SpecError {
  std::string file;     // path or URI of the document; empty for in-memory documents
  int line = 0;         // 1-based; 0 when unknown
  std::string pointer;  // JSON Pointer into `file` ("" = document root)
  std::string message;  // one line, no trailing period

  // "file:line: /pointer: message" (parts that are unknown are left out).
  std::string toString() const;
};

struct SpecErrors {
  std::vector<SpecError> errors;
  std::string toString() const;  // one error per line
};

template <typename T>
using Result = std::expected<T, SpecErrors>;

inline std::unexpected<SpecErrors> specError(std::string file, std::string pointer,
                                             std::string message, int line = 0) {
  return std::unexpected(
      SpecErrors{{SpecError{std::move(file), line, std::move(pointer), std::move(message)}}});
}

}  // namespace gw::validators
