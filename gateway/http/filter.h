#pragma once
// The filter API (modelled on Envoy's StreamFilter). A filter sees the request head, request body
// chunks, the response head and response body chunks of one stream, in order, and may:
//   - return Continue to pass them on,
//   - return StopIteration after calling callbacks().sendLocalReply(...) (the stream is answered
//     locally and later stages are skipped), or after arranging to call callbacks().resume() later.
// Filters never touch sockets; they run on their worker's thread only. A filter object lives for
// one stream; its configuration is built once at load and shared read-only.
#include <event2/buffer.h>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/dispatcher.h"
#include "http/message.h"
#include "http/stream_info.h"

namespace gw::http {

enum class FilterStatus { Continue, StopIteration };

class StreamFilterCallbacks {
 public:
  virtual ~StreamFilterCallbacks() = default;
  // Answers the stream with a problem+json body. `code` is the stable problem type
  // (e.g. "route_not_found"), also recorded in StreamInfo::details for the access log.
  virtual void sendLocalReply(int status, std::string_view code, std::string_view detail,
                              const HeaderMap* extra_headers = nullptr) = 0;
  // Continues iteration after a filter returned StopIteration (request side only).
  virtual void resume() = 0;
  virtual StreamInfo& streamInfo() = 0;
  // While a filter holds iteration, keep reading the request body (up to `limit` bytes, which the
  // filter enforces) instead of pausing the client at the stream's buffer size; the filter sees
  // each chunk in onRequestBody. For filters that need the whole body before deciding.
  virtual void bufferRequestBody(uint64_t limit) {}
  // The worker's dispatcher, for timers (null where there is no event loop, in unit tests).
  virtual Dispatcher* dispatcher() { return nullptr; }
};

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  void setCallbacks(StreamFilterCallbacks& cb) { callbacks_ = &cb; }

  virtual FilterStatus onRequestHeaders(RequestHead& head, bool end_stream) { return FilterStatus::Continue; }
  virtual FilterStatus onRequestBody(evbuffer* chunk, bool end_stream) { return FilterStatus::Continue; }
  virtual FilterStatus onResponseHeaders(ResponseHead& head, bool end_stream) { return FilterStatus::Continue; }
  virtual FilterStatus onResponseBody(evbuffer* chunk, bool end_stream) { return FilterStatus::Continue; }
  // Called once when the stream ends, whatever the outcome (access logging).
  virtual void onStreamComplete(const StreamInfo& info) {}

 protected:
  StreamFilterCallbacks& callbacks() { return *callbacks_; }

 private:
  StreamFilterCallbacks* callbacks_ = nullptr;  // not owned; outlives the filter
};
using StreamFilterPtr = std::unique_ptr<StreamFilter>;

// Builds one filter for a new stream (cheap; captures shared immutable config).
using FilterFactory = std::function<StreamFilterPtr()>;
using FilterFactoryList = std::vector<FilterFactory>;

}  // namespace gw::http
