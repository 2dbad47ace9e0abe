#include "upstream/factory.h"

#include "upstream/framed_upstream.h"
#include "upstream/http1_upstream.h"
#include "upstream/static/static_upstream.h"

namespace gw::upstream {

UpstreamPtr createUpstream(Dispatcher& dispatcher, const config::Config& cfg, const config::Upstream& up) {
  switch (up.kind) {
    case config::UpstreamKind::Http:
      return std::make_unique<Http1Upstream>(dispatcher, up, cfg.limits.buffer_bytes);
    case config::UpstreamKind::FastCgi:
      return createFramedUpstream(dispatcher, cfg, up, FramedProtocol::FastCgi);
    case config::UpstreamKind::Uwsgi:
      return createFramedUpstream(dispatcher, cfg, up, FramedProtocol::Uwsgi);
    case config::UpstreamKind::Static:
      return std::make_unique<statics::StaticUpstream>(dispatcher, up, cfg.limits.buffer_bytes);
  }
  return std::make_unique<Http1Upstream>(dispatcher, up, cfg.limits.buffer_bytes);
}

}  // namespace gw::upstream
