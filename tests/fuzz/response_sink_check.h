#pragma once
// A ResponseSink for the upstream response-reader fuzzers (fastcgi_stdout, uwsgi_response): aborts
// on anything a reader must never deliver (a second head, an out-of-range status, an invalid
// field, body before the head, more body than the announced Content-Length).
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "http/headers.h"
#include "upstream/framed/response_sink.h"

namespace gwfuzz {

struct CheckingSink : gw::upstream::ResponseSink {
  std::optional<uint64_t> cl;
  uint64_t body = 0;
  bool head = false;
  bool onResponseHead(gw::http::ResponseHeadPtr h) override {
    if (head || h->status < 200 || h->status > 599) abort();
    for (const auto& f : h->headers.fields()) {
      if (!gw::http::isValidFieldName(f.name) || !gw::http::isValidFieldValue(f.value)) abort();
    }
    head = true;
    cl = h->content_length;
    return true;
  }
  bool onResponseBody(evbuffer* d) override {
    if (!head) abort();
    body += evbuffer_get_length(d);
    evbuffer_drain(d, evbuffer_get_length(d));
    if (cl && body > *cl) abort();  // the reader must refuse before delivering an overrun
    return true;
  }
};

}  // namespace gwfuzz
