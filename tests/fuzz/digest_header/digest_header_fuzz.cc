// Fuzzes the Digest inputs a client controls: the Authorization header parser (and the response
// computation on what it yields), nonce verification, and the credential-file line parser.
#include <cstdint>
#include <string>

#include "auth/credentials.h"
#include "auth/digest.h"
#include "auth/nonce.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gw::auth::NonceCodec codec("0123456789abcdef0123456789abcdef", 300);
  std::string in(reinterpret_cast<const char*>(data), size);
  auto r = gw::auth::parseAuthorization(in);
  if (r.creds) {
    const auto& c = *r.creds;
    if (c.username.empty() || c.nonce.empty() || c.uri.empty() || c.response.empty()) __builtin_trap();
    if (!c.qop.empty() && c.nc.size() != 8) __builtin_trap();
    auto alg = c.algorithm.empty() ? std::optional<gw::auth::Algorithm>(gw::auth::Algorithm{}) : gw::auth::parseAlgorithm(c.algorithm);
    if (alg) {
      std::string ha1 = gw::auth::computeHa1(alg->hash, c.username, c.realm, "pw");
      std::string resp = gw::auth::computeResponse({*alg, ha1, c.nonce, c.nc, c.cnonce, c.qop, "GET", c.uri});
      if (resp.size() != gw::auth::hashHexLength(alg->hash)) __builtin_trap();
      gw::auth::hexEqualConstantTime(resp, c.response);
    }
    if (codec.verify(c.realm, c.nonce, 1000).status == gw::auth::NonceCodec::Status::Ok) __builtin_trap();  // no forgery
  }
  codec.verify("r", in, 1000);
  std::string why;
  gw::auth::parseCredentialLine(in, &why);
  gw::auth::parseCredentialFile(in, &why);
  gw::auth::parseAlgorithm(in);
  return 0;
}
