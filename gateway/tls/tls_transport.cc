#include "tls/tls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/io.h"
#include "core/log.h"
#include "tls/server_context.h"

namespace gw::tls {

namespace {

constexpr size_t kReadRecords = 32 * 1024;  // ciphertext per readv (two full records and then some)
constexpr size_t kRecord = 16 * 1024;       // plaintext per SSL_write/SSL_read: the TLS maximum
constexpr size_t kRecordsHigh = 64 * 1024;  // encrypted but unwritten: stop encrypting above this
constexpr int kReadRounds = 4;              // readv calls per event when the socket keeps data

// The BIO between the SSL object and our ciphertext buffers: reads take from Records::in (retry
// when empty, EOF once the socket said so), writes append to Records::out (always accepted:
// encrypt() bounds what it produces).
int bioWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  auto* r = static_cast<TlsTransport::Records*>(BIO_get_data(b));
  return evbuffer_add(r->out, data, static_cast<size_t>(len)) == 0 ? len : -1;
}

int bioRead(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  auto* r = static_cast<TlsTransport::Records*>(BIO_get_data(b));
  int n = evbuffer_remove(r->in, out, static_cast<size_t>(len));
  if (n > 0) return n;
  if (r->eof) return 0;
  BIO_set_retry_read(b);
  return -1;
}

long bioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

int bioDestroy(BIO*) { return 1; }

BIO_METHOD* recordsMethod() {
  static BIO_METHOD* method = [] {  // C++ guarantees one initialisation across worker threads
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gw records");
    if (!m) return m;
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    BIO_meth_set_create(m, bioCreate);
    BIO_meth_set_destroy(m, bioDestroy);
    return m;
  }();
  return method;
}

}  // namespace

TlsTransport::TlsTransport(Dispatcher& dispatcher, evutil_socket_t fd, SSL* ssl, uint64_t conn_id)
    : dispatcher_(dispatcher),
      fd_(fd),
      ssl_(ssl),
      conn_id_(conn_id),
      in_(evbuffer_new()),
      out_(evbuffer_new()),
      send_timer_(dispatcher, [this] { onSendTimeout(); }),
      process_later_(dispatcher, onProcessCb, this) {
  records_.in = evbuffer_new();
  records_.out = evbuffer_new();
  BIO_METHOD* method = recordsMethod();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (bio) {
    BIO_set_data(bio, &records_);
    SSL_set_bio(ssl_, bio, bio);  // one reference, owned by the SSL object
  } else {
    failed_ = true;  // startHandshake reports it
    failed_errno_ = ENOMEM;
  }
  SSL_set_read_ahead(ssl_, 1);  // ask the BIO for whole buffers, not header then body
  event_assign(&read_ev_, dispatcher_.base(), fd_, EV_READ | EV_PERSIST, onReadableCb, this);
  event_assign(&write_ev_, dispatcher_.base(), fd_, EV_WRITE | EV_PERSIST, onWritableCb, this);
}

TlsTransport::~TlsTransport() {
  if (reading_) event_del(&read_ev_);
  if (writing_) event_del(&write_ev_);
  // A session closed without SSL_shutdown is dropped from the session cache by SSL_free; a
  // connection that simply ended (EOF, our lingering close) keeps it resumable.
  if (established_ && !failed_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl_);
  ::close(fd_);
  evbuffer_free(in_);
  evbuffer_free(out_);
  evbuffer_free(records_.in);
  evbuffer_free(records_.out);
}

void TlsTransport::onReadableCb(evutil_socket_t, short, void* arg) {
  static_cast<TlsTransport*>(arg)->onSocketReadable();
}
void TlsTransport::onWritableCb(evutil_socket_t, short, void* arg) {
  static_cast<TlsTransport*>(arg)->onSocketWritable();
}
void TlsTransport::onProcessCb(evutil_socket_t, short, void* arg) { static_cast<TlsTransport*>(arg)->process(); }
void TlsTransport::onInputCb(evbuffer*, const evbuffer_cb_info* info, void* arg) {
  if (info->n_deleted) static_cast<TlsTransport*>(arg)->onInputDrained();
}

// ---------------------------------------------------------------------------------------------
// Reading

void TlsTransport::startHandshake(std::function<void(bool ok)> done) {
  handshake_done_ = std::move(done);
  handshaking_ = true;
  if (failed_) {  // no BIO: doHandshake reports the failure from the loop
    process_later_.activate();
    return;
  }
  SSL_set_accept_state(ssl_);
  updateReadInterest();
}

void TlsTransport::onSocketReadable() {
  fillRecords();
  process();
}

size_t TlsTransport::fillRecords() {
  more_in_socket_ = false;
  const size_t have = evbuffer_get_length(records_.in);
  if (have >= kReadRecords || records_.eof || failed_) return 0;
  const size_t want = kReadRecords - have;
  ssize_t r = readInto(records_.in, fd_, want);
  if (r > 0) {
    more_in_socket_ = static_cast<size_t>(r) == want;
    return static_cast<size_t>(r);
  }
  if (r == 0) {
    records_.eof = true;
  } else if (!wouldBlock(errno)) {
    fail(errno, nullptr);
  }
  return 0;
}

void TlsTransport::process() {
  if (handshaking_) {
    doHandshake();
    return;
  }
  if (!established_) return;
  const size_t before = evbuffer_get_length(in_);
  decrypt();
  // SSL_read may have produced records of its own (session tickets, a KeyUpdate answer).
  if (!failed_ && evbuffer_get_length(records_.out) > 0 && !writeRecords() && !failed_) setWriteInterest(true);
  updateReadInterest();
  if (cb_ && evbuffer_get_length(in_) > before) cb_->onTransportRead();
  if (!cb_) return;
  if (failed_) {
    if (!error_reported_) {
      error_reported_ = true;
      errno = failed_errno_;
      cb_->onTransportEvent(BEV_EVENT_ERROR);
    }
  } else if (peer_closed_ && !eof_reported_) {
    eof_reported_ = true;
    cb_->onTransportEvent(BEV_EVENT_EOF | BEV_EVENT_READING);
  }
}

void TlsTransport::doHandshake() {
  int r = -1;
  int err = SSL_ERROR_SYSCALL;
  for (int round = 0; !failed_; ++round) {
    ERR_clear_error();
    r = SSL_do_handshake(ssl_);
    err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    // Each flight (and an alert on failure) goes out now.
    if (evbuffer_get_length(records_.out) > 0 && !writeRecords() && !failed_) setWriteInterest(true);
    if (err != SSL_ERROR_WANT_READ || round >= kReadRounds || !more_in_socket_ || fillRecords() == 0) break;
  }
  if (err == SSL_ERROR_NONE && !failed_) {
    handshaking_ = false;
    established_ = true;
    updateReadInterest();  // no reading until a codec enables it
    auto done = std::move(handshake_done_);
    done(true);  // may hand us to a codec: nothing after this
    return;
  }
  if (err == SSL_ERROR_WANT_READ && !records_.eof && !failed_) {
    updateReadInterest();
    return;
  }
  // Failed. An EOF before the handshake completed is a client that left, not an error to report.
  std::string errors = drainErrors();
  if (failed_) {
    if (errors.empty()) errors = std::strerror(failed_errno_);
  } else if (records_.eof && (errors.empty() || errors.find("unexpected eof") != std::string::npos)) {
    errors.clear();
  } else if (errors.empty()) {
    errors = "handshake failed (SSL error " + std::to_string(err) + ")";
  }
  handshake_error_ = std::move(errors);
  handshaking_ = false;
  failed_ = true;
  updateReadInterest();
  setWriteInterest(false);
  auto done = std::move(handshake_done_);
  done(false);  // the owner closes us
}

void TlsTransport::decrypt() {
  int rounds = 0;
  while (!failed_ && !peer_closed_ && cb_ && read_enabled_) {
    if (limits_.read_high && evbuffer_get_length(in_) >= limits_.read_high) {
      input_full_ = true;  // onInputDrained resumes
      // Only while full: an evbuffer with callbacks pays for them on every add and drain.
      if (!input_cb_) input_cb_ = evbuffer_add_cb(in_, onInputCb, this);
      return;
    }
    evbuffer_iovec v;
    if (evbuffer_reserve_space(in_, kRecord, &v, 1) < 1) {
      fail(ENOMEM, nullptr);
      return;
    }
    ERR_clear_error();
    int n = SSL_read(ssl_, v.iov_base, static_cast<int>(std::min(v.iov_len, kRecord)));
    if (n > 0) {
      v.iov_len = static_cast<size_t>(n);
      evbuffer_commit_space(in_, &v, 1);
      continue;
    }
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        // More records only if the last read filled its buffer (else it would be an EAGAIN).
        if (more_in_socket_ && ++rounds <= kReadRounds && fillRecords() > 0) continue;
        if (records_.eof && !eof_seen_) {  // let SSL_read meet the EOF the socket reported
          eof_seen_ = true;
          continue;
        }
        return;
      case SSL_ERROR_ZERO_RETURN:  // close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
        peer_closed_ = true;
        // A real close_notify is answered with ours (RFC 8446 §6.1); process() writes it.
        if (!records_.eof && !write_shut_) SSL_shutdown(ssl_);
        return;
      case SSL_ERROR_SYSCALL:
        if (records_.eof) {
          peer_closed_ = true;
          return;
        }
        [[fallthrough]];
      default:
        fail(EPROTO, "reading");
        return;
    }
  }
}

void TlsTransport::onInputDrained() {
  if (input_full_ && (!limits_.read_high || evbuffer_get_length(in_) < limits_.read_high)) {
    input_full_ = false;
    if (input_cb_) evbuffer_remove_cb_entry(in_, std::exchange(input_cb_, nullptr));
    process_later_.activate();
  }
}

void TlsTransport::updateReadInterest() {
  const bool want = !failed_ && !peer_closed_ && !records_.eof &&
                    evbuffer_get_length(records_.in) < kReadRecords &&
                    (handshaking_ || (cb_ && read_enabled_ && !input_full_));
  if (want == reading_) return;
  reading_ = want;
  if (want) event_add(&read_ev_, nullptr);
  else event_del(&read_ev_);
}

void TlsTransport::enableRead(bool enable) {
  if (read_enabled_ == enable) return;
  read_enabled_ = enable;
  updateReadInterest();
  // Records or plaintext may already be here (read with the handshake, or before a pause):
  // the socket will not signal them again.
  if (enable && established_ && (evbuffer_get_length(records_.in) > 0 || SSL_has_pending(ssl_) || records_.eof)) {
    process_later_.activate();
  }
}

void TlsTransport::setLimits(const Limits& limits) {
  limits_ = limits;
  // Output may already be waiting on EV_WRITE (e.g. the handshake's last flight).
  if (writing_ && limits_.send_timeout.count() > 0 && !send_timer_.enabled()) send_timer_.enable(limits_.send_timeout);
  onInputDrained();
}

void TlsTransport::setCallbacks(Callbacks* cb) {
  cb_ = cb;
  if (!cb) {  // detached, about to be deleted: no more events, no handshake callback
    handshaking_ = false;
    handshake_done_ = nullptr;
    read_enabled_ = false;
    updateReadInterest();
    setWriteInterest(false);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

size_t TlsTransport::pending() const { return evbuffer_get_length(out_) + evbuffer_get_length(records_.out); }

bool TlsTransport::flush() {
  if (!established_ || failed_) return false;  // a failure is reported from the loop
  encrypt();
  if (!failed_) writeRecords();
  if (pending() == 0) {
    setWriteInterest(false);
    return true;
  }
  if (!failed_) setWriteInterest(true);
  return false;
}

void TlsTransport::encrypt() {
  while (!failed_ && evbuffer_get_length(out_) > 0 && evbuffer_get_length(records_.out) < kRecordsHigh) {
    const size_t n = std::min(evbuffer_get_length(out_), kRecord);
    // One record per SSL_write: in place when the first chain holds it, else gathered into one.
    evbuffer_iovec v;
    const void* data = nullptr;
    if (evbuffer_peek(out_, -1, nullptr, &v, 1) >= 1 && v.iov_len >= n) data = v.iov_base;
    else data = evbuffer_pullup(out_, static_cast<ev_ssize_t>(n));
    if (!data) {
      fail(ENOMEM, nullptr);
      return;
    }
    ERR_clear_error();
    int r = SSL_write(ssl_, data, static_cast<int>(n));
    if (r <= 0) {
      fail(EPROTO, "writing");
      return;
    }
    evbuffer_drain(out_, static_cast<size_t>(r));
  }
}

bool TlsTransport::writeRecords() {
  if (write_shut_) {  // after the half-close nothing more can go out
    evbuffer_drain(records_.out, evbuffer_get_length(records_.out));
    return true;
  }
  bool wrote = false;
  bool all = true;
  while (evbuffer_get_length(records_.out) > 0) {
    int r = evbuffer_write(records_.out, fd_);
    if (r > 0) {
      wrote = true;
      continue;
    }
    if (r < 0 && wouldBlock(errno)) {
      all = false;
      break;
    }
    fail(r < 0 ? errno : EPIPE, nullptr);
    return false;
  }
  // Progress, wherever it was made (flush, process, the write event), restarts the send timeout.
  if (wrote && writing_ && limits_.send_timeout.count() > 0) send_timer_.enable(limits_.send_timeout);
  if (all && shutdown_pending_) {
    shutdown_pending_ = false;
    write_shut_ = true;
    ::shutdown(fd_, SHUT_WR);
  }
  return all;
}

void TlsTransport::setWriteInterest(bool on) {
  if (on == writing_) return;
  writing_ = on;
  if (on) {
    event_add(&write_ev_, nullptr);
    if (limits_.send_timeout.count() > 0) send_timer_.enable(limits_.send_timeout);
  } else {
    event_del(&write_ev_);
    send_timer_.disable();
  }
}

void TlsTransport::onSocketWritable() {
  if (handshaking_) {
    if (writeRecords() || failed_) setWriteInterest(false);
    if (failed_) doHandshake();  // reports the failure
    return;
  }
  encrypt();
  if (!failed_) writeRecords();
  const size_t after = pending();
  if (failed_ || (after == 0 && !shutdown_pending_)) setWriteInterest(false);
  if (failed_) {
    process();  // reports the error
    return;
  }
  if (cb_ && after <= limits_.write_low) cb_->onTransportWritten();
}

void TlsTransport::onSendTimeout() {
  setWriteInterest(false);
  if (cb_) cb_->onTransportEvent(BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
}

void TlsTransport::shutdownWrite() {
  // close_notify, then the half-close once it is out (from the write event if the socket is full).
  if (write_shut_ || shutdown_pending_) return;
  if (!established_ || failed_) {
    write_shut_ = true;
    ::shutdown(fd_, SHUT_WR);
    return;
  }
  ERR_clear_error();
  if (!(SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN)) SSL_shutdown(ssl_);
  ERR_clear_error();
  shutdown_pending_ = true;
  if (!writeRecords() && !failed_) setWriteInterest(true);
}

void TlsTransport::fail(int err, const char* what) {
  if (failed_) return;
  failed_ = true;
  failed_errno_ = err;
  if (what) {
    GW_LOG(Info, "c%llu: TLS error while %s: %s", static_cast<unsigned long long>(conn_id_), what,
           drainErrors().c_str());
    writeRecords();  // the alert SSL_read/SSL_write just queued, if the socket takes it
  }
  evbuffer_drain(records_.out, evbuffer_get_length(records_.out));
  updateReadInterest();
  setWriteInterest(false);
  if (!handshaking_) process_later_.activate();  // reports it from the loop
}

}  // namespace gw::tls
