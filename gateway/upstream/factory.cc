#include "upstream/factory.h"

#include "upstream/http1_upstream.h"

namespace gw::upstream {

UpstreamPtr createUpstream(Dispatcher& dispatcher, const config::Config& cfg, const config::Upstream& up) {
  switch (up.kind) {
    case config::UpstreamKind::Http:
      return std::make_unique<Http1Upstream>(dispatcher, up, cfg.limits.buffer_bytes);
    case config::UpstreamKind::FastCgi:  // issue 4: FastCGI and uwsgi upstreams
    case config::UpstreamKind::Uwsgi:
    case config::UpstreamKind::Static:
      break;
  }
  return std::make_unique<Http1Upstream>(dispatcher, up, cfg.limits.buffer_bytes);
}

}  // namespace gw::upstream
