#pragma once
// Gives every request an id: kept from a trusted peer when well-formed, generated otherwise.
// Passed upstream and echoed in the response, and recorded for the access log.
#include <memory>
#include <string>

#include "http/filter.h"

namespace gw::filters {

struct RequestIdConfig {
  std::string header = "X-Request-Id";
};

// Accepts ids of 1..128 characters from [A-Za-z0-9._:-].
bool validRequestId(std::string_view id);

class RequestIdFilter : public http::StreamFilter {
 public:
  explicit RequestIdFilter(std::shared_ptr<const RequestIdConfig> cfg) : cfg_(std::move(cfg)) {}
  http::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;
  http::FilterStatus onResponseHeaders(http::ResponseHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const RequestIdConfig> cfg_;
};

}  // namespace gw::filters
