#pragma once
// Builds the Upstream for one configured upstream, by kind (config::UpstreamKind). Called once per
// worker per upstream when the worker starts.
#include "config/config.h"
#include "core/dispatcher.h"
#include "upstream/upstream.h"

namespace gw::upstream {

UpstreamPtr createUpstream(Dispatcher& dispatcher, const config::Config& cfg, const config::Upstream& up);

}  // namespace gw::upstream
