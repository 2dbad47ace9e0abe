#include "net/active_stream.h"

#include "auth/digest_filter.h"
#include "core/counters.h"
#include "core/log.h"
#include "filters/client_cert.h"
#include "filters/forwarded.h"
#include "filters/request_id.h"
#include "filters/router.h"
#include "http/problem.h"

using namespace std::string_view_literals;  // "..."sv: compared by size first, then inline

namespace gw::net {

http::FilterFactoryList buildFilterChain(const config::ConfigConstSharedPtr& cfg, filters::AccessLogSharedPtr log) {
  auto fwd = std::make_shared<filters::ForwardedConfig>();
  fwd->trusted = cfg->trusted_proxies;
  fwd->rfc7239 = cfg->forwarded_rfc7239;
  auto rid = std::make_shared<filters::RequestIdConfig>();
  rid->header = cfg->request_id_header;
  auto routes = std::make_shared<const filters::RouteTable>(cfg);
  http::FilterFactoryList list;
  list.push_back([fwd](http::FilterArena& a) { return a.make<filters::ForwardedFilter>(fwd); });
  if (auto cc = filters::ClientCertConfig::fromConfig(*cfg)) {  // mTLS subject header: strip, then set
    list.push_back([cc](http::FilterArena& a) { return a.make<filters::ClientCertFilter>(cc); });
  }
  list.push_back([rid](http::FilterArena& a) { return a.make<filters::RequestIdFilter>(rid); });
  list.push_back([routes](http::FilterArena& a) { return a.make<filters::RouterFilter>(routes); });
  auto digest = std::make_shared<auth::DigestRuntime>(cfg);  // after the router: needs streamInfo().route
  list.push_back([digest](http::FilterArena& a) { return a.make<auth::DigestAuthFilter>(digest); });
  if (log && log->enabled()) {
    list.push_back([log](http::FilterArena& a) { return a.make<filters::AccessLogFilter>(log); });
  }
  return list;
}

ActiveStream::ActiveStream(WorkerContext& ctx, http::ResponseEncoder& encoder, const http::ConnectionInfo& conn)
    : ctx_(ctx), encoder_(encoder), info_(http::streamInfoFor(conn, "HTTP/1.1")) {
  filters_.reserve(ctx.filter_factories.size());
  http::FilterArena arena(filter_room_, sizeof(filter_room_));
  for (const auto& make : ctx.filter_factories) {
    filters_.push_back(make(arena));
    filters_.back()->setCallbacks(*this);
  }
}

ActiveStream::~ActiveStream() {
  if (upstream_request_) upstream_request_->cancel();
  upstream_request_.reset();
  if (pending_body_) evbuffer_free(pending_body_);
  if (info_.status == 0 && info_.details.empty()) info_.details = "downstream_reset";
  int cls = info_.status / 100;
  if (cls == 2) GW_INC(downstream_rq_2xx);
  else if (cls == 3) GW_INC(downstream_rq_3xx);
  else if (cls == 4) GW_INC(downstream_rq_4xx);
  else if (cls == 5) GW_INC(downstream_rq_5xx);
  for (auto& f : filters_) f->onStreamComplete(info_);
}

void ActiveStream::decodeHeaders(http::RequestHeadPtr head, bool end_stream) {
  request_ = std::move(head);
  request_end_ = end_stream;
  if (info_.tls && request_->version_major < 2) request_->scheme = "https";  // HTTP/1.x: the connection tells
  info_.protocol = request_->version_major == 2 ? "HTTP/2.0" : (request_->version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
  info_.method = request_->method;
  info_.target = request_->target();
  info_.host = request_->authority;
  if (ctx_.access_log && ctx_.access_log->enabled()) {  // only the access log reads them
    if (auto v = request_->headers.get("referer")) info_.referer = *v;
    if (auto v = request_->headers.get("user-agent")) info_.user_agent = *v;
  }
  http::removeHopByHop(request_->headers);
  runRequestHeaderFilters(0);
}

void ActiveStream::runRequestHeaderFilters(size_t from) {
  for (size_t i = from; i < filters_.size(); ++i) {
    if (filters_[i]->onRequestHeaders(*request_, request_end_) == http::FilterStatus::StopIteration) {
      paused_at_ = i;  // answered locally, or the filter will call resume()
      return;
    }
    if (local_reply_ || reset_) return;
  }
  headers_done_ = true;
  startUpstream();
}

void ActiveStream::resume() {
  if (local_reply_ || reset_ || headers_done_ || !paused_at_) return;
  if (in_body_filters_) {  // the chunk being filtered is not in pending_body_ yet
    resume_pending_ = true;
    return;
  }
  size_t next = *paused_at_ + 1;
  paused_at_.reset();
  runRequestHeaderFilters(next);
}

void ActiveStream::bufferRequestBody(uint64_t limit) {
  body_buffer_limit_ = limit;
  if (request_->expect_continue && !request_end_) encoder_.encode100Continue();  // the filter wants the body
}

void ActiveStream::startUpstream() {
  const config::Route* route = info_.route;
  if (!route) {
    sendLocalReply(404, "route_not_found", "no route matches this host and path", nullptr);
    return;
  }
  upstream::Upstream& up = *ctx_.upstreams[route->upstream];
  if (up.needsContentLength() && !request_->content_length && !request_end_) {
    // FastCGI / uwsgi announce the length first: hold the body until its end (nginx does the same).
    spool_ = std::make_unique<BodySpool>(ctx_.config->limits.buffer_bytes, ctx_.config->limits.body_temp_dir);
    if (pending_body_ && !spoolBody(pending_body_)) return;
    if (request_->expect_continue) encoder_.encode100Continue();
    if (downstream_paused_) {
      downstream_paused_ = false;
      encoder_.readDisable(false);
    }
    return;
  }
  upstream_request_ = up.newRequest(*this);
  if (request_->expect_continue && !request_end_) encoder_.encode100Continue();
  const bool has_pending = pending_body_ && evbuffer_get_length(pending_body_) > 0;
  const bool end = request_end_ && !request_trailers_;
  upstream_request_->sendHeaders(*request_, end && !has_pending);  // the end goes with the last byte
  if (upstream_request_ && has_pending) upstream_request_->sendData(pending_body_, end);
  if (upstream_request_ && request_trailers_) upstream_request_->sendTrailers(*request_trailers_);
  if (downstream_paused_ && upstream_request_) {
    downstream_paused_ = false;
    encoder_.readDisable(false);
  }
}

bool ActiveStream::spoolBody(evbuffer* data) {
  std::string error;
  if (!spool_->append(data, &error)) {
    GW_LOG(Error, "%s %s: %s", info_.method.c_str(), info_.target.c_str(), error.c_str());
    sendLocalReply(500, "request_body_spool_failed", "the request body could not be buffered", nullptr);
    return false;
  }
  return true;
}

void ActiveStream::finishSpool() {
  request_->content_length = spool_->size();
  upstream_request_ = ctx_.upstreams[info_.route->upstream]->newRequest(*this);
  upstream_request_->sendHeaders(*request_, spool_->size() == 0);
  pumpSpool();
}

void ActiveStream::pumpSpool() {
  // One buffer's worth at a time, continued by onUpstreamBelowWriteLowWatermark.
  evbuffer* chunk = evbuffer_new();
  while (upstream_request_ && !upstream_write_high_ && !spool_->drained()) {
    std::string error;
    if (!spool_->read(chunk, ctx_.config->limits.buffer_bytes, &error)) {
      GW_LOG(Error, "%s %s: %s", info_.method.c_str(), info_.target.c_str(), error.c_str());
      sendLocalReply(500, "request_body_spool_failed", "the request body could not be buffered", nullptr);
      break;
    }
    upstream_request_->sendData(chunk, spool_->drained());
  }
  evbuffer_free(chunk);
}

void ActiveStream::decodeData(evbuffer* data, bool end_stream) {
  request_end_ = end_stream;
  if (local_reply_ || reset_ || response_complete_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  in_body_filters_ = true;
  for (auto& f : filters_) f->onRequestBody(data, end_stream);
  in_body_filters_ = false;
  if (local_reply_ || reset_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  if (spool_ && !upstream_request_) {
    if (spoolBody(data) && end_stream) finishSpool();
    return;
  }
  if (!upstream_request_) {
    if (!pending_body_) pending_body_ = evbuffer_new();
    evbuffer_add_buffer(pending_body_, data);
    if (resume_pending_) {
      resume_pending_ = false;
      resume();
      return;
    }
    const uint64_t pause_at = std::max<uint64_t>(ctx_.config->limits.buffer_bytes, body_buffer_limit_);
    if (!downstream_paused_ && evbuffer_get_length(pending_body_) > pause_at) {
      downstream_paused_ = true;
      encoder_.readDisable(true);
    }
    return;
  }
  upstream_request_->sendData(data, end_stream);
}

namespace {
// Headers whose value the gateway vouches for upstream: never taken from request trailers.
std::vector<std::string> identityHeaders(const config::Config& cfg) {
  std::vector<std::string> out{cfg.request_id_header, cfg.digest.user_header};
  for (const auto& l : cfg.listeners) {
    if (l.tls && l.tls->client_certificates) out.push_back(l.tls->client_certificates->subject_header);
  }
  return out;
}
}  // namespace

void ActiveStream::decodeTrailers(http::HeaderMap&& trailers) {
  http::removeForbiddenTrailers(trailers, identityHeaders(*ctx_.config));
  request_end_ = true;
  if (local_reply_ || reset_ || response_complete_) return;
  if (spool_ && !upstream_request_) {  // FastCGI / uwsgi carry no trailers
    finishSpool();
    return;
  }
  if (!upstream_request_) request_trailers_ = std::move(trailers);  // before a filter resumes the stream
  evbuffer* empty = evbuffer_new();
  in_body_filters_ = true;
  for (auto& f : filters_) f->onRequestBody(empty, true);
  in_body_filters_ = false;
  evbuffer_free(empty);
  if (local_reply_ || reset_) return;
  if (resume_pending_) {
    resume_pending_ = false;
    resume();
    return;
  }
  if (upstream_request_ && !request_trailers_) upstream_request_->sendTrailers(trailers);
}

void ActiveStream::onResetStream() {
  reset_ = true;
  if (info_.details.empty()) info_.details = "downstream_reset";
  if (upstream_request_) {
    upstream_request_->cancel();
    ctx_.dispatcher->deferredDelete(std::move(upstream_request_));
  }
}

void ActiveStream::onAboveWriteHighWatermark() {
  if (upstream_request_) upstream_request_->readDisable(true);
}

void ActiveStream::onBelowWriteLowWatermark() {
  if (upstream_request_) upstream_request_->readDisable(false);
}

void ActiveStream::sendLocalReply(int status, std::string_view code, std::string_view detail,
                                  const http::HeaderMap* extra_headers) {
  if (reset_ || response_complete_) return;
  if (response_started_) {  // too late for an answer: truncate
    info_.details = std::string(code);
    encoder_.resetStream();
    return;
  }
  local_reply_ = true;
  GW_INC(downstream_rq_local_reply);
  info_.details = std::string(code);
  if (upstream_request_) {
    upstream_request_->cancel();
    ctx_.dispatcher->deferredDelete(std::move(upstream_request_));
  }
  const std::string body = http::problemJson(status, code, detail, info_.request_id);
  http::ResponseHead head;
  head.status = status;
  if (extra_headers) head.headers = *extra_headers;
  head.headers.set("Content-Type", http::kProblemContentType);
  head.headers.set("Cache-Control", "no-store");
  head.content_length = body.size();
  if (!request_end_) encoder_.closeAfterResponse();  // the rest of the body is not read
  encodeHeaders(head, false);
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, body.data(), body.size());
  encodeData(buf, true);
  evbuffer_free(buf);
}

void ActiveStream::encodeHeaders(http::ResponseHead& head, bool end_stream) {
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) (*it)->onResponseHeaders(head, end_stream);
  response_started_ = true;
  info_.status = head.status;
  if (end_stream) response_complete_ = true;
  encoder_.encodeHeaders(head, end_stream);
}

void ActiveStream::encodeData(evbuffer* data, bool end_stream) {
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) (*it)->onResponseBody(data, end_stream);
  if (!request_->method.empty() && request_->method != "HEAD"sv) info_.response_body_bytes += evbuffer_get_length(data);
  if (end_stream) response_complete_ = true;
  encoder_.encodeData(data, end_stream);
}

void ActiveStream::onUpstreamHeaders(http::ResponseHeadPtr head, bool end_stream) {
  if (reset_) return;
  http::removeHopByHop(head->headers);
  encodeHeaders(*head, end_stream);
}

void ActiveStream::onUpstreamData(evbuffer* data, bool end_stream) {
  if (reset_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  encodeData(data, end_stream);
}

void ActiveStream::onUpstreamTrailers(http::HeaderMap&& trailers) {
  if (reset_) return;
  http::removeForbiddenTrailers(trailers);
  evbuffer* empty = evbuffer_new();
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) (*it)->onResponseBody(empty, true);
  evbuffer_free(empty);
  response_complete_ = true;
  encoder_.encodeTrailers(trailers);
}

void ActiveStream::onUpstreamFailure(upstream::Failure failure, std::string_view detail) {
  if (reset_) return;
  GW_LOG(Warn, "%s %s -> %s: %s (%.*s)", info_.method.c_str(), info_.target.c_str(), info_.upstream_address.c_str(),
         upstream::failureCode(failure), static_cast<int>(detail.size()), detail.data());
  if (response_started_) {
    info_.details = upstream::failureCode(failure);
    encoder_.resetStream();
    return;
  }
  const char* msg = "the upstream could not be reached or broke the exchange";
  http::HeaderMap extra;
  switch (failure) {
    case upstream::Failure::ConnectTimeout:
    case upstream::Failure::ResponseTimeout:
    case upstream::Failure::IdleTimeout:
      msg = "the upstream did not answer in time";
      break;
    case upstream::Failure::Overloaded:
      msg = "every upstream worker is busy; retry later";
      extra.set("Retry-After", "1");
      break;
    case upstream::Failure::BadRequest:
      msg = "this request cannot be passed to the application";
      break;
    case upstream::Failure::HeadersTooLarge:
      msg = "the request's header section is too large for the application protocol";
      break;
    case upstream::Failure::LengthRequired:
      msg = "this route needs a request body with Content-Length";
      break;
    default:
      break;
  }
  sendLocalReply(upstream::failureStatus(failure), upstream::failureCode(failure), msg, extra.empty() ? nullptr : &extra);
}

void ActiveStream::onUpstreamAboveWriteHighWatermark() {
  upstream_write_high_ = true;
  if (spool_) return;  // the body is already here: only the spool pump waits
  downstream_paused_ = true;
  encoder_.readDisable(true);
}

void ActiveStream::onUpstreamBelowWriteLowWatermark() {
  upstream_write_high_ = false;
  if (spool_) {
    pumpSpool();
    return;
  }
  if (!downstream_paused_) return;
  downstream_paused_ = false;
  encoder_.readDisable(false);
}

}  // namespace gw::net
