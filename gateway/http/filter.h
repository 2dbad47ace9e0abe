#pragma once
// The filter API (modelled on Envoy's StreamFilter). A filter sees the request head, request body
// chunks, the response head and response body chunks of one stream, in order, and may:
//   - return Continue to pass them on,
//   - return StopIteration after calling callbacks().sendLocalReply(...) (the stream is answered
//     locally and later stages are skipped), or after arranging to call callbacks().resume() later.
// Filters never touch sockets; they run on their worker's thread only. A filter object lives for
// one stream; its configuration is built once at load and shared read-only.
#include <event2/buffer.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <string_view>
#include <utility>
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

// Destroys a filter made in a FilterArena in place, one from the heap with delete.
struct FilterDeleter {
  bool heap = true;
  FilterDeleter() = default;
  explicit FilterDeleter(bool on_heap) : heap(on_heap) {}
  template <class T>
  FilterDeleter(std::default_delete<T>) {}  // from std::make_unique: on the heap
  void operator()(StreamFilter* f) const {
    if (heap) {
      delete f;
    } else {
      f->~StreamFilter();
    }
  }
};
using StreamFilterPtr = std::unique_ptr<StreamFilter, FilterDeleter>;

// Room for a stream's filters inside the stream, so that its chain costs no allocation per
// filter. A filter that does not fit goes on the heap. The room outlives the filters.
class FilterArena {
 public:
  FilterArena() = default;  // no room: every filter on the heap
  FilterArena(void* room, size_t size) : next_(room), left_(size) {}

  template <class F, class... Args>
  StreamFilterPtr make(Args&&... args) {
    if (std::align(alignof(F), sizeof(F), next_, left_)) {
      F* f = new (next_) F(std::forward<Args>(args)...);
      next_ = static_cast<std::byte*>(next_) + sizeof(F);
      left_ -= sizeof(F);
      return StreamFilterPtr(f, FilterDeleter(false));
    }
    return StreamFilterPtr(new F(std::forward<Args>(args)...));
  }

 private:
  void* next_ = nullptr;
  size_t left_ = 0;
};

// Builds one filter for a new stream (cheap; captures shared immutable config), in `arena` when
// it fits (FilterArena::make).
using FilterFactory = std::function<StreamFilterPtr(FilterArena& arena)>;
using FilterFactoryList = std::vector<FilterFactory>;

}  // namespace gw::http
