#pragma once

// Contract violations found while checking one request or response (data plane).
//
// A Violation is a plain value. Codes are stable strings meant for machines (dashboards,
// problem+json `type` suffixes); messages are one line for humans. Codes in use:
//   request.route.not_found         no path template matches
//   request.route.method            path exists, method not documented (allowed list in message)
//   request.{path,query,header,cookie}.missing    required parameter absent
//   request.{path,query,header,cookie}.empty      empty value without allowEmptyValue
//   request.{path,query,header,cookie}.style      value does not fit the parameter's style
//   request.{path,query,header,cookie}.reserved   raw reserved character without allowReserved
//   request.{path,query,header,cookie}.schema     deserialized value fails the schema
//   request.{...}.content           content-described parameter is not valid for its media type
//   request.body.missing            required body absent
//   request.body.content_type       Content-Type not documented for the operation
//   request.body.too_large          body above ValidationOptions::max_body_bytes
//   request.body.parse              body does not parse (JSON, form, multipart)
//   request.body.limits             depth or string-length cap exceeded (refused before validation)
//   request.body.schema             parsed body fails the schema
//   request.body.unexpected         body sent to an operation without requestBody
//   request.internal                the engine failed unexpectedly (never expected; reported, not thrown)
//   response.status                 status code not documented (and no `default`)
//   response.header.{missing,style,content,schema}
//   response.body.{content_type,too_large,parse,limits,schema,unexpected}
//   response.internal
//
// Thread-safety: a ViolationSink is single-threaded; use one per request.

#include <cstddef>
#include <string>
#include <vector>

namespace gw::validators {

struct Violation {
  std::string code;          // stable, see above
  std::string in;            // "path" | "query" | "header" | "cookie" | "body" | "route" | "status"
  std::string name;          // parameter / header name (empty for bodies)
  std::string pointer;       // JSON Pointer into the body or into the parameter value
  std::string keyword;       // schema keyword that failed ("maxLength", "required", ...) or ""
  std::string spec_pointer;  // JSON Pointer into the spec (schema or parameter object)
  std::string message;       // one line

  std::string toString() const;  // "code in name pointer: message"
};

// Collects violations up to a cap; later ones are only counted.
class ViolationSink {
 public:
  explicit ViolationSink(std::size_t max_violations = 32) : max_(max_violations) {}

  // Returns false once the cap is reached (callers may stop early).
  bool add(Violation&& v);
  bool full() const { return items_.size() >= max_; }
  bool empty() const { return items_.empty() && dropped_ == 0; }
  std::size_t size() const { return items_.size(); }
  std::size_t dropped() const { return dropped_; }  // violations beyond the cap
  const std::vector<Violation>& violations() const { return items_; }
  void clear() {
    items_.clear();
    dropped_ = 0;
  }

 private:
  std::size_t max_;
  std::size_t dropped_ = 0;
  std::vector<Violation> items_;
};

}  // namespace gw::validators
