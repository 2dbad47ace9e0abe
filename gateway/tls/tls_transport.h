#pragma once
// TLS over a connected socket, driven by us rather than by libevent's OpenSSL bufferevent
// (BENCHMARKS.md, "TLS transport"): that one runs SSL_write once per evbuffer chain (an HTTP/2
// frame header and its payload become two records and two write(2)s), writes on a later loop
// turn with an epoll_ctl pair per flush, and reads 4 KiB at a time.
//
// Here the SSL object reads and writes memory (a small BIO over two evbuffers of ciphertext):
//  - reading: one readv of up to 32 KiB of records, then SSL_read into the plaintext input until
//    the records run out or the input reaches its bound;
//  - writing: flush() cuts the plaintext output into records of up to 16 KiB (the first chain is
//    used in place when it is long enough, else pulled up into one), and writes all the records
//    with one writev, right away; EV_WRITE is armed only when the kernel pushes back.
// The handshake runs the same way (startHandshake), so the codec that takes over finds whatever
// the client sent after its Finished message already buffered.
// See core/transport.h for the contract. Threading: one worker. Never throws, never blocks.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include <functional>
#include <string>

#include "core/dispatcher.h"
#include "core/transport.h"

namespace gw::tls {

class TlsTransport final : public Transport {
 public:
  // Takes ownership of `fd` (connected, non-blocking) and of `ssl` (a fresh server SSL).
  TlsTransport(Dispatcher& dispatcher, evutil_socket_t fd, SSL* ssl, uint64_t conn_id);
  ~TlsTransport() override;

  // Runs the server handshake from socket events; calls `done(true)` once it completed, or
  // `done(false)` when it failed (handshakeError() says why, empty if the peer just closed).
  // `done` may hand this object to a codec (which then sets its callbacks).
  void startHandshake(std::function<void(bool ok)> done);
  const std::string& handshakeError() const { return handshake_error_; }
  SSL* ssl() const { return ssl_; }

  // Transport
  void setCallbacks(Callbacks* cb) override;
  void setLimits(const Limits& limits) override;
  void enableRead(bool enable) override;
  evbuffer* input() override { return in_; }
  evbuffer* output() override { return out_; }
  bool flush() override;
  size_t pending() const override;
  void shutdownWrite() override;

  // The ciphertext buffers the BIO works on (public for the BIO callbacks only).
  struct Records {
    evbuffer* in;    // read from the socket, not yet decrypted
    evbuffer* out;   // encrypted, not yet written
    bool eof = false;  // the socket said EOF: the BIO reports it once `in` is empty
  };

 private:
  void onSocketReadable();
  void onSocketWritable();
  void onSendTimeout();
  void onInputDrained();
  void process();          // handshake or decrypt, from an event callback
  void doHandshake();
  size_t fillRecords();    // one readv; returns the bytes added (0: EAGAIN, EOF or error)
  void decrypt();
  void encrypt();
  bool writeRecords();     // false: the socket refused (EAGAIN) or failed
  void updateReadInterest();
  void setWriteInterest(bool on);
  void fail(int err, const char* what);
  void report(short what);

  static void onReadableCb(evutil_socket_t, short, void* arg);
  static void onWritableCb(evutil_socket_t, short, void* arg);
  static void onProcessCb(evutil_socket_t, short, void* arg);
  static void onInputCb(evbuffer*, const evbuffer_cb_info* info, void* arg);

  Dispatcher& dispatcher_;
  evutil_socket_t fd_;
  SSL* ssl_;
  uint64_t conn_id_;
  Records records_;
  evbuffer* in_;
  evbuffer* out_;
  event read_ev_;
  event write_ev_;
  bool reading_ = false;  // read_ev_ added
  bool writing_ = false;  // write_ev_ added
  Timer send_timer_;
  LoopCallback process_later_;

  Callbacks* cb_ = nullptr;
  Limits limits_;
  bool read_enabled_ = false;
  bool input_full_ = false;   // stopped at read_high: the input drain callback resumes
  evbuffer_cb_entry* input_cb_ = nullptr;  // the drain callback, present only while input_full_
  bool handshaking_ = false;
  bool established_ = false;
  bool more_in_socket_ = false;  // the last readv filled its buffer
  bool eof_seen_ = false;     // decrypt() gave SSL_read the socket's EOF once
  bool peer_closed_ = false;  // close_notify or EOF seen by SSL_read
  bool eof_reported_ = false;
  bool shutdown_pending_ = false;  // half-close once records_.out is written (close_notify)
  bool write_shut_ = false;   // SHUT_WR done: nothing more is written
  bool failed_ = false;       // the socket or the TLS session is unusable
  int failed_errno_ = 0;
  bool error_reported_ = false;
  std::function<void(bool)> handshake_done_;
  std::string handshake_error_;
};

}  // namespace gw::tls
