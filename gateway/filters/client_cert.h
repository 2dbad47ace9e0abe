#pragma once
// Mutual TLS toward the upstream: the verified client-certificate subject (RFC 2253, from the
// TLS handshake, see gateway/tls) travels in the listener's configured header
// (client_certificates.subject_header). Every configured subject header name is removed from
// client input on every request, whatever the listener, so a client can never forge one.
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "http/filter.h"

namespace gw::filters {

struct ClientCertConfig {
  std::vector<std::string> strip;  // every subject_header of every TLS listener (deduplicated)
  // Null when no listener asks for client certificates (the filter is then not installed).
  static std::shared_ptr<const ClientCertConfig> fromConfig(const config::Config& cfg);
};

class ClientCertFilter : public http::StreamFilter {
 public:
  explicit ClientCertFilter(std::shared_ptr<const ClientCertConfig> cfg) : cfg_(std::move(cfg)) {}
  http::FilterStatus onRequestHeaders(http::RequestHead& head, bool end_stream) override;

 private:
  std::shared_ptr<const ClientCertConfig> cfg_;
};

}  // namespace gw::filters
