#pragma once
// Everything a stream needs from its worker: config snapshot, filter factories, upstream
// instances. Owned by the worker; outlives every stream.
#include <memory>
#include <vector>

#include "config/config.h"
#include "core/dispatcher.h"
#include "filters/access_log.h"
#include "http/filter.h"
#include "upstream/upstream.h"

namespace gw::net {

struct WorkerContext {
  Dispatcher* dispatcher = nullptr;
  config::ConfigConstSharedPtr config;
  http::FilterFactoryList filter_factories;
  std::vector<upstream::UpstreamPtr> upstreams;  // index = config upstream index
  filters::AccessLogSharedPtr access_log;
};

// Builds the default filter chain: forwarded → request_id → router → digest auth → access_log.
// Built once per config and shared by every worker: factories capture only immutable or
// internally synchronised state (the Digest replay table and throttle are process-wide).
http::FilterFactoryList buildFilterChain(const config::ConfigConstSharedPtr& cfg, filters::AccessLogSharedPtr log);

}  // namespace gw::net
