#include "tls/server_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace gw::tls {

namespace {

// Mozilla "intermediate" TLS 1.2 list: ECDHE key exchange with AEAD ciphers only (all of them
// acceptable to HTTP/2, RFC 9113 §9.2.2).
constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// TLS 1.3: the same suites as OpenSSL's default in Mozilla's (and nghttpx's) order. OpenSSL's own
// order puts AES-256 first, which with server preference costs ~40% more AES rounds per record for
// no security a 128-bit key lacks.
constexpr const char* kDefaultSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

std::string bioText(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string timeText(const ASN1_TIME* t) {
  BIO* b = BIO_new(BIO_s_mem());
  ASN1_TIME_print(b, t);
  std::string s = bioText(b);
  BIO_free(b);
  return s;
}

std::string nameText(const X509_NAME* n) {
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
  std::string s = bioText(b);
  BIO_free(b);
  return s;
}

// Reads a whole file; on failure `why` says why (strerror).
bool readWhole(const std::string& path, std::string* out, std::string* why) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->append(buf, n);
    if (out->size() > (16u << 20)) break;
  }
  bool bad = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (bad) {
    *why = std::string("cannot read: ") + std::strerror(err);
    return false;
  }
  if (out->empty()) {
    *why = "the file is empty";
    return false;
  }
  return true;
}

// Every PEM certificate in `pem`, in order.
std::vector<X509*> parseCerts(const std::string& pem) {
  std::vector<X509*> out;
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) out.push_back(x);
  BIO_free(b);
  ERR_clear_error();  // the read that ends the loop leaves "no start line"
  return out;
}

// Never prompt for a passphrase (OpenSSL's default reads the terminal).
int noPassphrase(char*, int, int, void*) { return -1; }

// "" when `x` is valid now, else why not.
std::string validityProblem(X509* x, const char* what) {
  if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
    return std::string(what) + " expired on " + timeText(X509_get0_notAfter(x)) + " (subject " +
           nameText(X509_get_subject_name(x)) + ")";
  }
  if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
    return std::string(what) + " is not valid before " + timeText(X509_get0_notBefore(x)) + " (subject " +
           nameText(X509_get_subject_name(x)) + ")";
  }
  return "";
}

// Whether `issuer` issued `subject`: names and key usage (X509_check_issued), then the signature.
bool issued(X509* issuer, X509* subject) {
  if (X509_check_issued(issuer, subject) != X509_V_OK) return false;
  EVP_PKEY* pk = X509_get0_pubkey(issuer);
  bool ok = pk && X509_verify(subject, pk) == 1;
  ERR_clear_error();
  return ok;
}

std::vector<std::string> certNames(X509* x) {
  std::vector<std::string> out;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const auto* d = ASN1_STRING_get0_data(gn->d.dNSName);
      out.push_back(toLower(std::string_view(reinterpret_cast<const char*>(d), ASN1_STRING_length(gn->d.dNSName))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (out.empty()) {
    X509_NAME* n = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
    if (i >= 0) {
      ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
      out.push_back(toLower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s))));
    }
  }
  return out;
}

int onServerNameCb(SSL* ssl, int*, void* arg) { return static_cast<const ServerContext*>(arg)->onServerName(ssl); }

int onAlpnSelectCb(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                   void* arg) {
  return static_cast<const ServerContext*>(arg)->onAlpnSelect(out, outlen, in, inlen);
}

int onTicketKeyCb(SSL* ssl, unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx,
                  int enc) {
  auto* self = static_cast<const ServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  return self ? self->onTicketKey(key_name, iv, cctx, hctx, enc) : -1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ticket keys

void TicketKeys::rotate(Clock::time_point now) {
  if (keys_.empty() || now - keys_.front().created >= rotation_) {
    Key k;
    if (RAND_bytes(k.name, sizeof(k.name)) != 1 || RAND_bytes(k.aes, sizeof(k.aes)) != 1 ||
        RAND_bytes(k.hmac, sizeof(k.hmac)) != 1) {
      ERR_clear_error();
      // No key rather than a weak one: the current key keeps serving while it may; after
      // that no ticket is issued (current() says so).
    } else {
      k.created = now;
      keys_.push_front(k);
    }
  }
  // A key stops encrypting after `rotation` and may still decrypt for `lifetime` after that.
  while (keys_.size() > 1 && now - keys_.back().created >= rotation_ + lifetime_) keys_.pop_back();
}

bool TicketKeys::current(Clock::time_point now, Key* out) {
  std::lock_guard lock(mu_);
  rotate(now);
  if (keys_.empty() || now - keys_.front().created >= rotation_ + lifetime_) return false;
  *out = keys_.front();
  return true;
}

bool TicketKeys::find(const unsigned char name[16], Clock::time_point now, Key* out, bool* newest) {
  std::lock_guard lock(mu_);
  rotate(now);
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name, name, 16) != 0) continue;
    if (now - keys_[i].created >= rotation_ + lifetime_) return false;
    *out = keys_[i];
    *newest = i == 0;
    return true;
  }
  return false;
}

size_t TicketKeys::size() {
  std::lock_guard lock(mu_);
  return keys_.size();
}

// ---------------------------------------------------------------------------------------------
// Certificates

LoadedCertificate::LoadedCertificate(LoadedCertificate&& o) noexcept
    : cert(o.cert), key(o.key), chain(std::move(o.chain)), names(std::move(o.names)) {
  o.cert = nullptr;
  o.key = nullptr;
  o.chain.clear();
}

LoadedCertificate::~LoadedCertificate() {
  X509_free(cert);
  EVP_PKEY_free(key);
  for (X509* x : chain) X509_free(x);
}

bool loadCertificate(const config::TlsCertificate& c, const std::string& source, std::vector<config::ConfigError>* errors,
                     LoadedCertificate* out) {
  size_t before = errors->size();
  auto fail = [&](int line, const std::string& key, const std::string& file, const std::string& why) {
    errors->push_back({source, line, c.pointer + "/" + key, file + ": " + why});
  };
  std::string why, pem;
  if (!readWhole(c.cert, &pem, &why)) {
    fail(c.cert_line, "cert", c.cert, why);
  } else {
    std::vector<X509*> certs = parseCerts(pem);
    if (certs.empty()) {
      fail(c.cert_line, "cert", c.cert, "no PEM certificate in this file (expected -----BEGIN CERTIFICATE-----)");
    } else {
      out->cert = certs.front();
      out->chain.assign(certs.begin() + 1, certs.end());
      if (auto p = validityProblem(out->cert, "certificate"); !p.empty()) fail(c.cert_line, "cert", c.cert, p);
    }
  }
  if (!c.chain.empty()) {
    std::string chain_pem;
    if (!readWhole(c.chain, &chain_pem, &why)) {
      fail(c.chain_line, "chain", c.chain, why);
    } else {
      std::vector<X509*> certs = parseCerts(chain_pem);
      if (certs.empty()) fail(c.chain_line, "chain", c.chain, "no PEM certificate in this file");
      out->chain.insert(out->chain.end(), certs.begin(), certs.end());
    }
  }
  std::string key_pem;
  if (!readWhole(c.key, &key_pem, &why)) {
    fail(c.key_line, "key", c.key, why);
  } else {
    BIO* b = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    out->key = PEM_read_bio_PrivateKey(b, nullptr, noPassphrase, nullptr);
    BIO_free(b);
    if (!out->key) {
      fail(c.key_line, "key", c.key, "no usable PEM private key in this file (encrypted keys are not supported)");
    }
    ERR_clear_error();
  }
  if (out->cert && out->key && X509_check_private_key(out->cert, out->key) != 1) {
    fail(c.key_line, "key", c.key, "private key does not match the certificate in " + c.cert);
  }
  ERR_clear_error();
  // The chain, in the order it is sent: each certificate must be valid and issue the one before.
  if (out->cert) {
    X509* prev = out->cert;
    for (size_t i = 0; i < out->chain.size(); ++i) {
      X509* x = out->chain[i];
      const std::string& file = c.chain.empty() ? c.cert : c.chain;
      const std::string key = c.chain.empty() ? "cert" : "chain";
      const int line = c.chain.empty() ? c.cert_line : c.chain_line;
      if (auto p = validityProblem(x, "chain certificate"); !p.empty()) fail(line, key, file, p);
      if (!issued(x, prev)) {
        fail(line, key, file,
             "chain certificate #" + std::to_string(i + 1) + " (" + nameText(X509_get_subject_name(x)) +
                 ") did not issue the certificate before it (" + nameText(X509_get_subject_name(prev)) +
                 ", issuer " + nameText(X509_get_issuer_name(prev)) + ")");
        break;
      }
      prev = x;
    }
    out->names = c.names.empty() ? certNames(out->cert) : c.names;
    if (out->names.empty() && c.names.empty()) {
      // No SAN and no CN: it can still be the default certificate.
    }
  }
  return errors->size() == before;
}

// ---------------------------------------------------------------------------------------------
// ServerContext

ServerContext::~ServerContext() {
  for (SSL_CTX* c : ctxs_) SSL_CTX_free(c);
}

bool ServerContext::configure(SSL_CTX* ctx, const config::ListenerTls& cfg, const std::string& source,
                              std::vector<config::ConfigError>* errors) {
  bool ok = true;
  auto fail = [&](const std::string& key, const std::string& why) {
    errors->push_back({source, cfg.line, cfg.pointer + (key.empty() ? "" : "/" + key), why});
    ok = false;
  };
  SSL_CTX_set_min_proto_version(ctx, cfg.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // IGNORE_UNEXPECTED_EOF: OpenSSL 3 reports a peer that closes without close_notify as an SSL
  // error, which libevent 2.1 then reports as BEV_EVENT_ERROR; HTTP framing already tells a
  // complete message from a truncated one, so make it the plain EOF it is (as OpenSSL 1.1 did).
  uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                  SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (!cfg.session_tickets) opts |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, opts);
  // No SSL_MODE_RELEASE_BUFFERS: it saves about 34 KiB per idle connection but cost 40% of the
  // small-request throughput in tests/load/tls.sh (a free + malloc of both record buffers per
  // request).
  const std::string ciphers = cfg.ciphers.empty() ? kDefaultCiphers : cfg.ciphers;
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) fail("ciphers", "no usable TLS 1.2 cipher in '" + ciphers + "'");
  const std::string suites = cfg.ciphersuites.empty() ? kDefaultSuites : cfg.ciphersuites;
  if (SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) fail("ciphersuites", "no usable TLS 1.3 cipher suite in '" + suites + "'");
  ERR_clear_error();
  // One session id context per listener: sessions (and client-certificate results) never carry
  // over to another listener.
  unsigned char sid[32];
  const std::string sid_src = "gatewayd:" + source + cfg.pointer;
  unsigned int sid_len = 0;
  EVP_Digest(sid_src.data(), sid_src.size(), sid, &sid_len, EVP_sha256(), nullptr);
  SSL_CTX_set_session_id_context(ctx, sid, std::min<unsigned int>(sid_len, SSL_MAX_SID_CTX_LENGTH));
  if (cfg.session_cache_size > 0) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, static_cast<long>(cfg.session_cache_size));
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  SSL_CTX_set_timeout(ctx, static_cast<long>(std::max<int64_t>(1, cfg.session_timeout.count() / 1000)));
  SSL_CTX_set_app_data(ctx, this);
  SSL_CTX_set_tlsext_servername_callback(ctx, onServerNameCb);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  SSL_CTX_set_alpn_select_cb(ctx, onAlpnSelectCb, this);
  if (cfg.session_tickets) SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, onTicketKeyCb);
  return ok;
}

ServerContextConstSharedPtr ServerContext::create(const config::ListenerTls& cfg, const std::string& source, bool http2,
                                                  std::vector<config::ConfigError>* errors) {
  std::shared_ptr<ServerContext> self(new ServerContext());
  const size_t before = errors->size();
  for (const auto& p : cfg.alpn) {
    if (p == "h2" && !http2) continue;  // the listener does not speak HTTP/2: never offer it
    self->alpn_.push_back(p);
  }
  if (self->alpn_.empty()) self->alpn_.push_back("http/1.1");
  self->offers_h2_ = std::find(self->alpn_.begin(), self->alpn_.end(), "h2") != self->alpn_.end();
  if (cfg.session_tickets) self->tickets_ = std::make_unique<TicketKeys>(cfg.ticket_key_rotation, cfg.session_timeout);

  // Client certificates: one CA bundle, loaded once, trusted by every SSL_CTX of the listener.
  std::vector<X509*> cas;
  if (cfg.client_certificates) {
    const auto& cc = *cfg.client_certificates;
    std::string pem, why;
    const std::string ptr = cfg.pointer + "/client_certificates/ca";
    if (!readWhole(cc.ca, &pem, &why)) {
      errors->push_back({source, cc.line, ptr, cc.ca + ": " + why});
    } else {
      cas = parseCerts(pem);
      if (cas.empty()) errors->push_back({source, cc.line, ptr, cc.ca + ": no PEM certificate in this file"});
      for (X509* x : cas) {
        if (auto p = validityProblem(x, "CA certificate"); !p.empty()) errors->push_back({source, cc.line, ptr, cc.ca + ": " + p});
      }
    }
    self->subject_header_ = cc.subject_header;
  }

  for (const auto& c : cfg.certificates) {
    LoadedCertificate lc;
    if (!loadCertificate(c, source, errors, &lc)) continue;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
      errors->push_back({source, cfg.line, cfg.pointer, "cannot create a TLS context: " + drainErrors()});
      continue;
    }
    self->ctxs_.push_back(ctx);
    if (!self->configure(ctx, cfg, source, errors)) continue;
    if (SSL_CTX_use_certificate(ctx, lc.cert) != 1 || SSL_CTX_use_PrivateKey(ctx, lc.key) != 1) {
      errors->push_back({source, c.cert_line, c.pointer + "/cert", c.cert + ": OpenSSL refused it: " + drainErrors()});
      continue;
    }
    for (X509* x : lc.chain) SSL_CTX_add1_chain_cert(ctx, x);
    if (cfg.client_certificates) {
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      for (X509* x : cas) {
        X509_STORE_add_cert(store, x);
        SSL_CTX_add_client_CA(ctx, x);
      }
      int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
      if (cfg.client_certificates->required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(ctx, mode, nullptr);
      SSL_CTX_set_verify_depth(ctx, cfg.client_certificates->verify_depth);
    }
    ERR_clear_error();
    // First certificate wins a name claimed twice (explicit or from overlapping SANs).
    for (const auto& n : lc.names) {
      std::string name = n;
      while (!name.empty() && name.back() == '.') name.pop_back();
      if (name.starts_with("*.")) self->wildcard_.emplace(name.substr(2), ctx);
      else if (!name.empty()) self->exact_.emplace(name, ctx);
    }
  }
  for (X509* x : cas) X509_free(x);
  if (errors->size() != before || self->ctxs_.empty()) return nullptr;
  return self;
}

SSL_CTX* ServerContext::ctxForName(std::string_view host) const {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string h = toLower(host);
  if (auto it = exact_.find(h); it != exact_.end()) return it->second;
  if (auto dot = h.find('.'); dot != std::string::npos && dot > 0) {
    if (auto it = wildcard_.find(h.substr(dot + 1)); it != wildcard_.end()) return it->second;
  }
  return ctxs_.front();
}

int ServerContext::onServerName(SSL* ssl) const {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name || ctxs_.size() == 1) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* ctx = ctxForName(name);
  if (ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the default certificate, not an alert
}

int ServerContext::onAlpnSelect(const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                                unsigned int inlen) const {
  for (const auto& mine : alpn_) {  // server preference
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;  // malformed list: OpenSSL checks it, be safe anyway
      if (len == mine.size() && std::memcmp(in + i + 1, mine.data(), len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;  // nothing in common: carry on without ALPN (HTTP/1.1)
}

int ServerContext::onTicketKey(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx,
                               int enc) const {
  if (!tickets_) return enc ? -1 : 0;
  char digest[] = "SHA256";
  TicketKeys::Key k;
  bool newest = true;
  if (enc) {
    if (!tickets_->current(Clock::now(), &k)) return -1;  // no valid key: no ticket
    if (RAND_bytes(iv, 16) != 1) return -1;
    std::memcpy(key_name, k.name, 16);
  } else if (!tickets_->find(key_name, Clock::now(), &k, &newest)) {
    return 0;  // unknown or retired key: full handshake
  }
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac)),
                         OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(hctx, params) != 1) return -1;
  if (enc) return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes, iv) == 1 ? 1 : -1;
  if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes, iv) != 1) return -1;
  return newest ? 1 : 2;  // 2: valid, but issue a new ticket under the current key
}

namespace {
// Runs inside SSL_free, before OpenSSL's ssl_clear_bad_session(), which drops from the session
// cache every session whose connection ended without our close_notify. The codecs free their
// bufferevents without an SSL_shutdown (a keep-alive timeout, a client that just closed), and
// that would make the cache useless; like nginx (quiet shutdown on close), keep the session.
void onServerSslFree(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr) {
    auto* ssl = static_cast<SSL*>(parent);
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN);
  }
}

int serverSslIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, onServerSslFree);
  return index;
}
}  // namespace

SSL* newServerSsl(const ServerContext& ctx) {
  SSL* ssl = SSL_new(ctx.defaultCtx());
  if (ssl) SSL_set_ex_data(ssl, serverSslIndex(), const_cast<ServerContext*>(&ctx));
  return ssl;
}

std::string peerSubject(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  std::string s = nameText(X509_get_subject_name(peer));
  // XN_FLAG_RFC2253 escapes control and high bytes; refuse anything odd rather than forward it.
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch >= 0x7f) return "";
  }
  return s;
}

std::string drainErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace gw::tls
