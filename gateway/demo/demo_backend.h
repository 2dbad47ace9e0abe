#pragma once
// The bundled demo backend of the quick start: a small JSON API (libevent evhttp) on loopback,
// run in its own thread by gatewayd when no config file is given. Its contract is
// specs/demo/openapi.yaml.
#include <cstdint>
#include <memory>
#include <string>

namespace gw::demo {

class DemoBackend {
 public:
  // Binds 127.0.0.1 on an OS-chosen port and starts serving. Null on failure (*error says why).
  static std::unique_ptr<DemoBackend> start(std::string* error);
  ~DemoBackend();
  uint16_t port() const { return port_; }

  struct Impl;  // public only for the C callbacks in the .cc

 private:
  DemoBackend() = default;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

// The built-in configuration (YAML) that puts the gateway in front of the demo backend.
// With `tls_dir`, a second listener: TLS on 127.0.0.1:`tls_port` with `tls_dir`/cert.pem and
// `tls_dir`/key.pem (deploy/quickstart.sh generates a self-signed pair).
std::string demoConfigYaml(uint16_t backend_port, uint16_t listen_port, const std::string& tls_dir = "",
                           uint16_t tls_port = 8443);

}  // namespace gw::demo
