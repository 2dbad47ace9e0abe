// ActiveStream driven through its three interfaces with fakes: no sockets, no threads.
#include <event2/event.h>
#include <gtest/gtest.h>

#include "net/active_stream.h"

namespace gw::net {
namespace {

std::string drain(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  evbuffer_remove(b, s.data(), s.size());
  return s;
}

struct FakeEncoder : http::ResponseEncoder {
  void encode100Continue() override { ++continues; }
  void encodeHeaders(http::ResponseHead& h, bool end) override {
    head = h;
    ended = end;
  }
  void encodeData(evbuffer* data, bool end) override {
    body += drain(data);
    ended = end;
  }
  void readDisable(bool d) override { read_disabled = d; }
  void resetStream() override { reset = true; }
  void closeAfterResponse() override { close_after = true; }
  std::optional<http::ResponseHead> head;
  std::string body;
  bool ended = false, read_disabled = false, reset = false, close_after = false;
  int continues = 0;
};

struct FakeUpstreamRequest : upstream::UpstreamRequest {
  void sendHeaders(const http::RequestHead& h, bool end) override {
    head = h;
    request_end = end;
  }
  void sendData(evbuffer* data, bool end) override {
    body += drain(data);
    request_end = end;
  }
  void readDisable(bool d) override { read_disabled = d; }
  void cancel() override { cancelled = true; }
  std::optional<http::RequestHead> head;
  std::string body;
  bool request_end = false, read_disabled = false, cancelled = false;
};

struct FakeUpstream : upstream::Upstream {
  upstream::UpstreamRequestPtr newRequest(upstream::UpstreamCallbacks& cb) override {
    callbacks = &cb;
    auto r = std::make_unique<FakeUpstreamRequest>();
    last = r.get();
    return r;
  }
  upstream::UpstreamCallbacks* callbacks = nullptr;
  FakeUpstreamRequest* last = nullptr;
};

// Pauses request headers until the test calls callbacks().resume().
struct PausingFilter : http::StreamFilter {
  http::FilterStatus onRequestHeaders(http::RequestHead& h, bool) override {
    h.headers.add("X-Paused", "1");
    ++calls;
    return http::FilterStatus::StopIteration;
  }
  void resumeNow() { callbacks().resume(); }
  int calls = 0;
};

class ActiveStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    dispatcher_ = std::make_unique<Dispatcher>(base_);
    auto r = config::loadConfigText(
        "upstreams: [{name: app, servers: [\"127.0.0.1:1\"]}]\nroutes: [{prefix: /api, upstream: app}]\nlogs: {access: off}\n",
        "t.yaml");
    ASSERT_TRUE(r.errors.empty());
    std::string err;
    ctx_.dispatcher = dispatcher_.get();
    ctx_.config = r.config;
    ctx_.access_log = filters::AccessLog::open("off", config::AccessFormat::Combined, &err);
    ctx_.filter_factories = buildFilterChain(ctx_.config, ctx_.access_log);
    auto up = std::make_unique<FakeUpstream>();
    upstream_ = up.get();
    ctx_.upstreams.push_back(std::move(up));
    conn_.peer = *SocketAddress::parseNumeric("192.0.2.1:4000");
    conn_.peer_ip = conn_.peer.ip();
    conn_.local_port = 8080;
  }
  void TearDown() override {
    stream_.reset();
    dispatcher_.reset();
    event_base_free(base_);
  }
  http::RequestHeadPtr head(const std::string& method, const std::string& path) {
    auto h = std::make_unique<http::RequestHead>();
    h->method = method;
    h->path = path;
    h->authority = "api.example.com";
    h->headers.add("Host", "api.example.com");
    h->headers.add("Connection", "keep-alive, X-Hop");
    h->headers.add("X-Hop", "gone");
    return h;
  }
  void makeStream() { stream_ = std::make_unique<ActiveStream>(ctx_, encoder_, conn_); }

  event_base* base_ = nullptr;
  std::unique_ptr<Dispatcher> dispatcher_;
  WorkerContext ctx_;
  FakeUpstream* upstream_ = nullptr;
  http::ConnectionInfo conn_;
  FakeEncoder encoder_;
  std::unique_ptr<ActiveStream> stream_;
};

TEST_F(ActiveStreamTest, ProxiesHeadAndBodyBothWays) {
  makeStream();
  auto h = head("POST", "/api/x");
  h->content_length = 5;
  stream_->decodeHeaders(std::move(h), false);
  ASSERT_NE(upstream_->last, nullptr);
  const auto& sent = *upstream_->last->head;
  EXPECT_FALSE(sent.headers.get("X-Hop"));  // hop-by-hop removed on the way up
  EXPECT_FALSE(sent.headers.get("Connection"));
  EXPECT_EQ(http::ForwardedValues(stream_->streamInfo(), sent).xff, "192.0.2.1");  // the HTTP upstream writes it
  ASSERT_TRUE(sent.headers.get("X-Request-Id"));
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, "hello", 5);
  stream_->decodeData(b, true);
  EXPECT_EQ(upstream_->last->body, "hello");
  EXPECT_TRUE(upstream_->last->request_end);

  auto resp = std::make_unique<http::ResponseHead>();
  resp->status = 201;
  resp->headers.add("Keep-Alive", "timeout=5");
  resp->headers.add("X-App", "1");
  upstream_->callbacks->onUpstreamHeaders(std::move(resp), false);
  ASSERT_TRUE(encoder_.head);
  EXPECT_EQ(encoder_.head->status, 201);
  EXPECT_FALSE(encoder_.head->headers.get("Keep-Alive"));  // and on the way down
  EXPECT_EQ(*encoder_.head->headers.get("X-Request-Id"), *sent.headers.get("X-Request-Id"));
  evbuffer_add(b, "done", 4);
  upstream_->callbacks->onUpstreamData(b, true);
  EXPECT_EQ(encoder_.body, "done");
  EXPECT_TRUE(encoder_.ended);
  EXPECT_EQ(stream_->streamInfo().status, 201);
  evbuffer_free(b);
}

TEST_F(ActiveStreamTest, PausedFilterHoldsUpstreamUntilResume) {
  PausingFilter* pauser = nullptr;
  ctx_.filter_factories.insert(ctx_.filter_factories.begin() + 1, [&pauser](http::FilterArena&) {
    auto f = std::make_unique<PausingFilter>();
    pauser = f.get();
    return f;
  });
  makeStream();
  stream_->decodeHeaders(head("PUT", "/api/x"), false);
  ASSERT_NE(pauser, nullptr);
  EXPECT_EQ(upstream_->last, nullptr);  // nothing upstream yet
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, "early", 5);
  stream_->decodeData(b, true);  // arrives while paused: buffered
  pauser->resumeNow();
  ASSERT_NE(upstream_->last, nullptr);
  EXPECT_EQ(pauser->calls, 1);  // iteration continued after the pausing filter
  EXPECT_TRUE(upstream_->last->head->headers.get("X-Paused"));
  EXPECT_TRUE(upstream_->last->head->headers.get("X-Request-Id"));  // later filters ran
  EXPECT_EQ(upstream_->last->body, "early");
  EXPECT_TRUE(upstream_->last->request_end);
  pauser->resumeNow();  // a second resume is harmless
  evbuffer_free(b);
}

TEST_F(ActiveStreamTest, NoRouteIsLocal404ProblemJson) {
  makeStream();
  stream_->decodeHeaders(head("GET", "/other"), true);
  EXPECT_EQ(upstream_->last, nullptr);
  ASSERT_TRUE(encoder_.head);
  EXPECT_EQ(encoder_.head->status, 404);
  EXPECT_EQ(*encoder_.head->headers.get("Content-Type"), "application/problem+json");
  EXPECT_NE(encoder_.body.find("\"type\":\"urn:gatewayd:problem:route_not_found\""), std::string::npos);
  EXPECT_NE(encoder_.body.find(stream_->streamInfo().request_id), std::string::npos);
  EXPECT_EQ(stream_->streamInfo().details, "route_not_found");
}

TEST_F(ActiveStreamTest, LocalReplyBeforeBodyClosesConnection) {
  makeStream();
  stream_->decodeHeaders(head("POST", "/other"), false);
  EXPECT_EQ(encoder_.head->status, 404);
  EXPECT_TRUE(encoder_.close_after);  // the unread body must not be parsed as a request
}

TEST_F(ActiveStreamTest, UpstreamFailureBeforeHeadersIs502Or504) {
  makeStream();
  stream_->decodeHeaders(head("GET", "/api/x"), true);
  upstream_->callbacks->onUpstreamFailure(upstream::Failure::ResponseTimeout, "slow");
  ASSERT_TRUE(encoder_.head);
  EXPECT_EQ(encoder_.head->status, 504);
  EXPECT_NE(encoder_.body.find("upstream_response_timeout"), std::string::npos);
  EXPECT_EQ(encoder_.body.find("slow"), std::string::npos);  // internals never reach the client
}

TEST_F(ActiveStreamTest, UpstreamFailureAfterHeadersResetsDownstream) {
  makeStream();
  stream_->decodeHeaders(head("GET", "/api/x"), true);
  auto resp = std::make_unique<http::ResponseHead>();
  resp->content_length = 100;
  upstream_->callbacks->onUpstreamHeaders(std::move(resp), false);
  upstream_->callbacks->onUpstreamFailure(upstream::Failure::Reset, "peer reset");
  EXPECT_TRUE(encoder_.reset);
  EXPECT_EQ(stream_->streamInfo().details, "upstream_reset");
}

TEST_F(ActiveStreamTest, BackpressureBothWays) {
  makeStream();
  stream_->decodeHeaders(head("POST", "/api/x"), false);
  stream_->onAboveWriteHighWatermark();  // slow client
  EXPECT_TRUE(upstream_->last->read_disabled);
  stream_->onBelowWriteLowWatermark();
  EXPECT_FALSE(upstream_->last->read_disabled);
  upstream_->callbacks->onUpstreamAboveWriteHighWatermark();  // slow upstream
  EXPECT_TRUE(encoder_.read_disabled);
  upstream_->callbacks->onUpstreamBelowWriteLowWatermark();
  EXPECT_FALSE(encoder_.read_disabled);
}

TEST_F(ActiveStreamTest, DownstreamResetCancelsUpstream) {
  makeStream();
  stream_->decodeHeaders(head("GET", "/api/x"), true);
  auto* req = upstream_->last;
  stream_->onResetStream();
  EXPECT_TRUE(req->cancelled);
  dispatcher_->clearDeferred();
}

TEST_F(ActiveStreamTest, ExpectContinueSentOnlyWhenForwarding) {
  makeStream();
  auto h = head("PUT", "/api/x");
  h->expect_continue = true;
  stream_->decodeHeaders(std::move(h), false);
  EXPECT_EQ(encoder_.continues, 1);
}

}  // namespace
}  // namespace gw::net
