#pragma once
// TLS termination contexts (OpenSSL 3), one ServerContext per TLS listener.
//
// Built once per config by the control plane (main.cc, before the workers start; also by
// --check-config), then shared read-only by every worker: SSL_new() on a shared SSL_CTX is
// thread-safe, and the only mutable state reached from handshakes (the session cache, the
// ticket keys) is locked.
//
// A listener with N certificates holds N SSL_CTXs configured identically except for the
// certificate, key and chain (nghttpx's model). The first one is the default and the session
// context (session cache, ticket keys); the SNI callback switches the connection to the SSL_CTX
// whose names match: exact names first, then "*.example.com" wildcards one label deep, else the
// default. Names come from the config's `names`, or else from the certificate's DNS
// subjectAltNames (its CN when it has none).
#include <openssl/ssl.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/util.h"

namespace gw::tls {

// Session ticket keys (RFC 5077 style, AES-256-CBC + HMAC-SHA256 as OpenSSL's own): a new key
// every `rotation`; the newest encrypts, older ones still decrypt (and the ticket is renewed)
// until `rotation + lifetime` after their creation, so no ticket dies before its lifetime.
// Rotation is checked on use, under a lock (handshakes only). Shared by every worker.
class TicketKeys {
 public:
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    Clock::time_point created;
  };
  TicketKeys(Millis rotation, Millis lifetime) : rotation_(rotation), lifetime_(lifetime) {}
  // The key to encrypt a new ticket with (rotating first when due); false when there is none
  // that may be used (the random generator failed): then no ticket is issued.
  bool current(Clock::time_point now, Key* out);
  // The key named `name`, if it may still decrypt; `*newest` tells whether it is the current one.
  bool find(const unsigned char name[16], Clock::time_point now, Key* out, bool* newest);
  size_t size();

 private:
  void rotate(Clock::time_point now);
  std::mutex mu_;
  std::deque<Key> keys_;  // front = newest
  Millis rotation_, lifetime_;
};

// The certificate, key and chain of one `certificates` entry, loaded and checked.
struct LoadedCertificate {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  std::vector<X509*> chain;        // intermediates, leaf-first order
  std::vector<std::string> names;  // lower-case SNI names it serves
  LoadedCertificate() = default;
  LoadedCertificate(const LoadedCertificate&) = delete;
  LoadedCertificate& operator=(const LoadedCertificate&) = delete;
  LoadedCertificate(LoadedCertificate&& o) noexcept;
  ~LoadedCertificate();
};

// Loads one entry; on failure appends errors naming the file and the reason (unreadable, not PEM,
// key does not match, expired or not yet valid, broken chain) and returns false.
bool loadCertificate(const config::TlsCertificate& c, const std::string& source, std::vector<config::ConfigError>* errors,
                     LoadedCertificate* out);

class ServerContext;
using ServerContextConstSharedPtr = std::shared_ptr<const ServerContext>;

class ServerContext {
 public:
  // Loads every file and builds the SSL_CTXs. `http2`: whether the listener may speak HTTP/2 (h2 is
  // offered in ALPN only then, and only when `alpn` lists it). Returns null and appends
  // "file:line: /pointer: message" errors on any problem. Never throws.
  static ServerContextConstSharedPtr create(const config::ListenerTls& cfg, const std::string& source, bool http2,
                                            std::vector<config::ConfigError>* errors);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // The SSL_CTX new connections start with (the default certificate).
  SSL_CTX* defaultCtx() const { return ctxs_.front(); }
  // Header carrying the verified client-certificate subject upstream; empty without mTLS.
  const std::string& subjectHeader() const { return subject_header_; }
  bool offersHttp2() const { return offers_h2_; }
  // The SSL_CTX serving `host` (lower-case) by the SNI rules above.
  SSL_CTX* ctxForName(std::string_view host) const;

  // OpenSSL callbacks (public for the C trampolines only).
  int onServerName(SSL* ssl) const;
  int onAlpnSelect(const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen) const;
  int onTicketKey(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx, int enc) const;

 private:
  ServerContext() = default;
  bool configure(SSL_CTX* ctx, const config::ListenerTls& cfg, const std::string& source,
                 std::vector<config::ConfigError>* errors);

  std::vector<SSL_CTX*> ctxs_;
  std::unordered_map<std::string, SSL_CTX*> exact_;
  std::unordered_map<std::string, SSL_CTX*> wildcard_;  // "example.com" for "*.example.com"
  std::vector<std::string> alpn_;                       // server preference order
  bool offers_h2_ = false;
  std::string subject_header_;
  std::unique_ptr<TicketKeys> tickets_;  // null: tickets off
};

// A server-side SSL for a new connection on this listener (SSL_free'd by its bufferevent).
// Sessions stay resumable however the connection ends (see the .cc).
SSL* newServerSsl(const ServerContext& ctx);

// The verified peer certificate's subject in RFC 2253 form ("CN=alice,O=Example"), or empty when
// the client sent none or it did not verify.
std::string peerSubject(SSL* ssl);

// OpenSSL's error queue of this thread as one line ("error:0A000086:...; ..."), cleared.
std::string drainErrors();

}  // namespace gw::tls
