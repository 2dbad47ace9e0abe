#include "filters/client_cert.h"

#include <algorithm>

#include "core/util.h"

namespace gw::filters {

std::shared_ptr<const ClientCertConfig> ClientCertConfig::fromConfig(const config::Config& cfg) {
  auto out = std::make_shared<ClientCertConfig>();
  for (const auto& l : cfg.listeners) {
    if (!l.tls || !l.tls->client_certificates) continue;
    const std::string& h = l.tls->client_certificates->subject_header;
    if (std::none_of(out->strip.begin(), out->strip.end(), [&](const std::string& s) { return iequals(s, h); })) {
      out->strip.push_back(h);
    }
  }
  if (out->strip.empty()) return nullptr;
  return out;
}

http::FilterStatus ClientCertFilter::onRequestHeaders(http::RequestHead& head, bool) {
  const http::StreamInfo& si = callbacks().streamInfo();
  head.headers.removeIf([this](std::string_view name) {
    for (const auto& s : cfg_->strip) {
      if (iequals(name, s)) return true;
    }
    return false;
  });
  if (si.tls_subject_header && !si.tls_subject.empty()) head.headers.add(*si.tls_subject_header, si.tls_subject);
  return http::FilterStatus::Continue;
}

}  // namespace gw::filters
