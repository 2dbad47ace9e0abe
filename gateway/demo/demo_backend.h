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
std::string demoConfigYaml(uint16_t backend_port, uint16_t listen_port);

}  // namespace gw::demo
