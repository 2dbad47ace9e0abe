#include "net/tls_handshake.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/counters.h"
#include "core/log.h"
#include "http/message.h"
#include "http/problem.h"

namespace gw::net {

namespace {

constexpr unsigned char kTlsHandshakeRecord = 0x16;
constexpr Millis kPlainLinger{2000};  // how long the 400 waits for the client to read and close

void onPeekCb(evutil_socket_t, short, void* arg) { static_cast<TlsHandshake*>(arg)->onPeek(); }
void onPlainEventCb(bufferevent*, short what, void* arg) { static_cast<TlsHandshake*>(arg)->onPlainEvent(what); }
void onPlainWriteCb(bufferevent*, void* arg) { static_cast<TlsHandshake*>(arg)->onPlainWritten(); }
void onPlainReadCb(bufferevent*, void* arg) { static_cast<TlsHandshake*>(arg)->onPlainRead(); }

// "GET /x HTTP/1.1" → method and target for the access log, when they look like HTTP.
void requestLine(std::string_view peeked, http::StreamInfo& si) {
  size_t sp = peeked.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > 16) return;
  std::string_view method = peeked.substr(0, sp);
  for (char c : method) {
    if (c < 'A' || c > 'Z') return;
  }
  si.method = std::string(method);
  std::string_view rest = peeked.substr(sp + 1);
  size_t end = 0;
  while (end < rest.size() && end < 1024 && rest[end] > 0x20 && rest[end] < 0x7f) ++end;
  si.target = std::string(rest.substr(0, end));
}

}  // namespace

std::string TlsHandshake::plainHttpAnswer() {
  std::string body = http::problemJson(
      400, "plain_http_on_tls_port",
      "this port only accepts HTTPS: the request was sent as plain HTTP; use an https:// URL", "");
  return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nDate: " + std::string(httpDate()) + "\r\nConnection: close\r\n\r\n" + body;
}

TlsHandshake::TlsHandshake(Dispatcher& dispatcher, evutil_socket_t fd, const http::ConnectionInfo& info,
                           const tls::ServerContext& ctx, Millis timeout, Done done,
                           http::ServerConnectionCallbacks& callbacks, http::ConnectionOwner& owner)
    : dispatcher_(dispatcher),
      fd_(fd),
      info_(info),
      ctx_(ctx),
      done_(std::move(done)),
      callbacks_(callbacks),
      owner_(owner),
      timer_(dispatcher, [this] { onTimeout(); }) {
  info_.tls = true;
  event_assign(&peek_ev_, dispatcher_.base(), fd_, EV_READ | EV_PERSIST, onPeekCb, this);
  event_add(&peek_ev_, nullptr);
  peek_added_ = true;
  timer_.enable(timeout);  // covers the first byte and the whole handshake
}

TlsHandshake::~TlsHandshake() {
  if (peek_added_) event_del(&peek_ev_);
  if (bev_) bufferevent_free(bev_);  // closes the socket (BEV_OPT_CLOSE_ON_FREE)
  else if (fd_ >= 0) ::close(fd_);  // (tls_ closes its own)
}

void TlsHandshake::onPeek() {
  unsigned char first = 0;
  ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {  // closed or reset before saying anything: a probe, not worth a line
    GW_LOG(Debug, "c%llu: %s closed before the TLS handshake", static_cast<unsigned long long>(info_.id),
           info_.peer.str().c_str());
    close();
    return;
  }
  event_del(&peek_ev_);
  peek_added_ = false;
  if (first == kTlsHandshakeRecord) startHandshake();
  else answerPlainHttp();
}

void TlsHandshake::startHandshake() {
  phase_ = Phase::Handshake;
  SSL* ssl = tls::newServerSsl(ctx_);
  if (!ssl) {
    GW_LOG(Error, "c%llu: SSL_new failed: %s", static_cast<unsigned long long>(info_.id), tls::drainErrors().c_str());
    close();
    return;
  }
  tls_ = std::make_unique<tls::TlsTransport>(dispatcher_, fd_, ssl, info_.id);
  fd_ = -1;  // the transport owns it now
  tls_->startHandshake([this](bool ok) { onHandshakeDone(ok); });
}

void TlsHandshake::onHandshakeDone(bool ok) {
  if (phase_ != Phase::Handshake) return;
  if (ok) {
    timer_.disable();
    handover();
    return;
  }
  const std::string& error = tls_->handshakeError();
  if (error.empty()) {
    GW_LOG(Debug, "c%llu: %s closed during the TLS handshake", static_cast<unsigned long long>(info_.id),
           info_.peer.str().c_str());
  } else {
    GW_INC(tls_handshake_error);
    std::string why = error;
    long verify = SSL_get_verify_result(tls_->ssl());
    if (verify != X509_V_OK) {
      GW_INC(tls_client_cert_rejected);
      why += std::string("; client certificate: ") + X509_verify_cert_error_string(verify);
    }
    GW_LOG(Info, "c%llu: TLS handshake with %s failed: %s", static_cast<unsigned long long>(info_.id),
           info_.peer.str().c_str(), why.c_str());
  }
  close();
}

void TlsHandshake::handover() {
  SSL* ssl = tls_->ssl();
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  const bool h2 = alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0;
  if (!ctx_.subjectHeader().empty()) {
    info_.tls_subject = tls::peerSubject(ssl);
    info_.tls_subject_header = &ctx_.subjectHeader();
  }
  GW_INC(tls_handshake);
  if (SSL_session_reused(ssl)) GW_INC(tls_session_reused);
  if (logEnabled(LogLevel::Debug)) {
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    GW_LOG(Debug, "c%llu: TLS %s %s from %s, sni=%s alpn=%.*s%s%s%s", static_cast<unsigned long long>(info_.id),
           SSL_get_version(ssl), SSL_get_cipher_name(ssl), info_.peer.str().c_str(), sni ? sni : "-",
           static_cast<int>(alpn_len), alpn ? reinterpret_cast<const char*>(alpn) : "", SSL_session_reused(ssl) ? " reused" : "",
           info_.tls_subject.empty() ? "" : " subject=", info_.tls_subject.c_str());
  }
  phase_ = Phase::Closed;
  done_(*this, std::move(tls_), info_, h2 ? AppProtocol::Http2 : AppProtocol::Http1);  // may schedule our deletion
}

void TlsHandshake::answerPlainHttp() {
  phase_ = Phase::PlainReply;
  GW_INC(tls_plain_http);
  char peeked[1100];
  ssize_t n = ::recv(fd_, peeked, sizeof(peeked), MSG_PEEK);
  http::StreamInfo si = http::streamInfoFor(info_, "HTTP/1.1");
  if (n > 0) requestLine(std::string_view(peeked, static_cast<size_t>(n)), si);
  si.status = 400;
  si.details = "plain_http_on_tls_port";
  callbacks_.onProtocolError(si);
  GW_LOG(Info, "c%llu: %s sent plain HTTP to a TLS port (%s %s): 400, use https",
         static_cast<unsigned long long>(info_.id), info_.peer.str().c_str(),
         si.method.empty() ? "-" : si.method.c_str(), si.target.empty() ? "-" : si.target.c_str());
  bev_ = bufferevent_socket_new(dispatcher_.base(), fd_, BEV_OPT_CLOSE_ON_FREE);
  if (!bev_) {
    close();
    return;
  }
  fd_ = -1;
  std::string resp = plainHttpAnswer();
  evbuffer_add(bufferevent_get_output(bev_), resp.data(), resp.size());
  bufferevent_setcb(bev_, onPlainReadCb, onPlainWriteCb, onPlainEventCb, this);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  timer_.enable(kPlainLinger);
}

void TlsHandshake::onPlainRead() {
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_drain(in, evbuffer_get_length(in));  // whatever the client sends is discarded
}

void TlsHandshake::onPlainWritten() {
  if (phase_ != Phase::PlainReply) return;
  // Lingering close: FIN after the answer, then read until the client closes (or the linger
  // timer fires) so that unread request bytes never turn our close into a reset that would
  // destroy the answer in flight.
  phase_ = Phase::Linger;
  bufferevent_disable(bev_, EV_WRITE);
  ::shutdown(bufferevent_getfd(bev_), SHUT_WR);
}

void TlsHandshake::onPlainEvent(short) { close(); }  // EOF, reset or error: done either way

void TlsHandshake::onTimeout() {
  if (phase_ == Phase::Peek || phase_ == Phase::Handshake) {
    GW_INC(tls_handshake_timeout);
    GW_LOG(Info, "c%llu: %s: TLS handshake not complete within the client_header timeout",
           static_cast<unsigned long long>(info_.id), info_.peer.str().c_str());
  }
  close();
}

void TlsHandshake::close() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  timer_.disable();
  if (peek_added_) {
    event_del(&peek_ev_);
    peek_added_ = false;
  }
  if (tls_) {  // possibly inside its own callback: deleted from the loop
    tls_->setCallbacks(nullptr);
    dispatcher_.deferredDelete(std::move(tls_));
  }
  if (bev_) {
    bufferevent_free(bev_);
    bev_ = nullptr;
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  owner_.onConnectionClosed(*this);
}

}  // namespace gw::net
