#include "filters/request_id.h"

#include "core/util.h"

namespace gw::filters {

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (!(isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  }
  return true;
}

http::FilterStatus RequestIdFilter::onRequestHeaders(http::RequestHead& head, bool) {
  http::StreamInfo& si = callbacks().streamInfo();
  auto incoming = head.headers.get(cfg_->header);
  if (si.peer_trusted && incoming && validRequestId(*incoming) && head.headers.count(cfg_->header) == 1) {
    si.request_id = *incoming;
  } else {
    si.request_id = randomRequestId();
    if (incoming) {
      head.headers.set(cfg_->header, si.request_id);
    } else {
      head.headers.add(cfg_->header, si.request_id);  // none to replace
    }
  }
  return http::FilterStatus::Continue;
}

http::FilterStatus RequestIdFilter::onResponseHeaders(http::ResponseHead& head, bool) {
  const std::string& id = callbacks().streamInfo().request_id;
  if (!id.empty()) head.headers.set(cfg_->header, id);
  return http::FilterStatus::Continue;
}

}  // namespace gw::filters
