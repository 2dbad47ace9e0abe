#pragma once
// One request/response exchange, independent of the downstream protocol: runs the filter chain
// on the request, opens the route's upstream request, streams the body both ways with
// backpressure (downstream write buffer high → pause upstream reads; upstream write buffer high
// → pause downstream reads), and answers locally (problem+json) when a filter or the upstream
// says so.
//
// Owned by its codec (as RequestDecoderPtr); destroyed from the event loop. The access-log line
// is written when it is destroyed, whatever the outcome.
#include <memory>
#include <optional>
#include <vector>

#include "http/codec.h"
#include "net/body_spool.h"
#include "net/worker_context.h"
#include "upstream/upstream.h"

namespace gw::net {

class ActiveStream : public http::RequestDecoder,
                     public http::StreamFilterCallbacks,
                     public upstream::UpstreamCallbacks {
 public:
  ActiveStream(WorkerContext& ctx, http::ResponseEncoder& encoder, const http::ConnectionInfo& conn);
  ~ActiveStream() override;

  // http::RequestDecoder
  void decodeHeaders(http::RequestHeadPtr head, bool end_stream) override;
  void decodeData(evbuffer* data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&& trailers) override;
  void onResetStream() override;
  void onAboveWriteHighWatermark() override;
  void onBelowWriteLowWatermark() override;
  http::StreamInfo& streamInfo() override { return info_; }

  // http::StreamFilterCallbacks
  void sendLocalReply(int status, std::string_view code, std::string_view detail,
                      const http::HeaderMap* extra_headers) override;
  void resume() override;
  void bufferRequestBody(uint64_t limit) override;
  Dispatcher* dispatcher() override { return ctx_.dispatcher; }

  // upstream::UpstreamCallbacks
  void onUpstreamHeaders(http::ResponseHeadPtr head, bool end_stream) override;
  void onUpstreamData(evbuffer* data, bool end_stream) override;
  void onUpstreamTrailers(http::HeaderMap&& trailers) override;
  void onUpstreamFailure(upstream::Failure failure, std::string_view detail) override;
  void onUpstreamAboveWriteHighWatermark() override;
  void onUpstreamBelowWriteLowWatermark() override;

 private:
  void runRequestHeaderFilters(size_t from);
  void startUpstream();
  bool spoolBody(evbuffer* data);  // false: answered with an error
  void finishSpool();
  void pumpSpool();
  void encodeHeaders(http::ResponseHead& head, bool end_stream);
  void encodeData(evbuffer* data, bool end_stream);

  WorkerContext& ctx_;
  http::ResponseEncoder& encoder_;
  http::StreamInfo info_;
  // The default chain's filters fit here (FilterArena); declared first, so destroyed after
  // them. With it the stream is 992 bytes, inside the allocator's 1 KiB size class.
  alignas(std::max_align_t) std::byte filter_room_[176];
  std::vector<http::StreamFilterPtr> filters_;
  http::RequestHeadPtr request_;
  upstream::UpstreamRequestPtr upstream_request_;
  // Body that arrived while request filters were paused; created on first use (most requests
  // have no body, or none before the upstream request starts).
  evbuffer* pending_body_ = nullptr;
  std::optional<http::HeaderMap> request_trailers_;  // arrived while request filters were paused
  std::unique_ptr<BodySpool> spool_;  // body of unknown length for an upstream that needs the length
  bool upstream_write_high_ = false;  // the upstream's request buffer is above its high watermark
  std::optional<size_t> paused_at_;  // the request-header filter that returned StopIteration
  bool request_end_ = false;
  bool headers_done_ = false;  // request-header filters all continued
  bool response_started_ = false;
  bool response_complete_ = false;
  bool local_reply_ = false;
  bool reset_ = false;
  bool downstream_paused_ = false;
  uint64_t body_buffer_limit_ = 0;  // bufferRequestBody(): read this much before pausing the client
  bool in_body_filters_ = false;    // resume() requested from onRequestBody runs after the chunk is kept
  bool resume_pending_ = false;
};

}  // namespace gw::net
