// Fuzzes the upstream HTTP/1.1 response path as the gateway runs it: a real Http1Upstream sends a
// request over a unix socket to this harness, which answers with the fuzz input and closes.
// Covers status/header parsing, header-injection refusal, 1xx handling, framing (Content-Length,
// chunked, close-delimited), HEAD, and the pooling decision.
#include <event2/event.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/log.h"
#include "upstream/http1_upstream.h"

namespace {

struct Sink : gw::upstream::UpstreamCallbacks {
  void onUpstreamHeaders(gw::http::ResponseHeadPtr head, bool end) override {
    if (head->status < 200 || head->status > 599) __builtin_trap();  // 1xx and junk never reach the stream
    for (const auto& f : head->headers.fields()) {
      if (!gw::http::isValidFieldValue(f.value)) __builtin_trap();  // injection never passes
    }
    done = end;
  }
  void onUpstreamData(evbuffer* data, bool end) override {
    evbuffer_drain(data, evbuffer_get_length(data));
    done = end;
  }
  void onUpstreamFailure(gw::upstream::Failure, std::string_view) override { done = true; }
  void onUpstreamAboveWriteHighWatermark() override {}
  void onUpstreamBelowWriteLowWatermark() override {}
  gw::http::StreamInfo& streamInfo() override { return info; }
  gw::http::StreamInfo info;
  bool done = false;
};

const std::string& socketPath() {
  static const std::string path = "/tmp/gw-fuzz-http1-response-" + std::to_string(getpid()) + ".sock";
  return path;
}

int listener() {
  static const int fd = [] {
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, socketPath().c_str(), sizeof(a.sun_path) - 1);
    unlink(a.sun_path);
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 16) != 0) abort();
    atexit([] { unlink(socketPath().c_str()); });
    return l;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    std::signal(SIGPIPE, SIG_IGN);
    gw::setLogLevel(gw::LogLevel::Error);
    return true;
  }();
  (void)init;
  if (size > 60000) size = 60000;
  const int lfd = listener();
  event_base* base = event_base_new();
  {
    gw::Dispatcher d(base);
    gw::config::Upstream cfg;
    cfg.name = "fuzz";
    cfg.servers.push_back(*gw::SocketAddress::parseNumeric("unix:" + socketPath()));
    cfg.retries = 0;
    cfg.connect_timeout = gw::Millis(1000);
    cfg.response_timeout = gw::Millis(1000);
    gw::upstream::Http1Upstream up(d, cfg, 16384);
    Sink sink;
    auto req = up.newRequest(sink);
    gw::http::RequestHead head;
    head.method = (size > 0 && (data[0] & 1)) ? "HEAD" : "GET";  // both framing rules
    head.path = "/";
    head.authority = "fuzz";
    head.content_length = 0;
    req->sendHeaders(head, true);
    for (int i = 0; i < 4; ++i) event_base_loop(base, EVLOOP_NONBLOCK);  // connect + write the request
    int c = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      char buf[4096];
      ssize_t ignored = read(c, buf, sizeof(buf));  // the request (not checked here)
      ignored = write(c, data, size);
      (void)ignored;
      close(c);
    }
    for (int i = 0; i < 16 && !sink.done; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    req->cancel();
    req.reset();
    d.clearDeferred();
  }
  event_base_free(base);
  return 0;
}
