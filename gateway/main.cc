// gatewayd: wiring only. Parses the command line, loads and checks the config (or the built-in
// demo), binds the listeners, starts the workers and waits for SIGTERM/SIGINT.
#include <event2/event.h>
#include <getopt.h>
#include <malloc.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/digest_filter.h"
#include "config/config.h"
#include "core/counters.h"
#include "core/dispatcher.h"
#include "core/log.h"
#include "demo/demo_backend.h"
#include "filters/access_log.h"
#include "net/worker.h"
#include "tls/server_context.h"

#ifndef GW_VERSION
#define GW_VERSION "0.0.0"
#endif

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: gatewayd [options]\n"
               "  -c, --config FILE   YAML or JSON configuration (default: built-in demo stack)\n"
               "  -p, --port PORT     override the port of the first listener\n"
               "  -v, -vv, -vvv       more logging (info, debug, trace)\n"
               "      --workers N     worker threads (default: config, else number of CPUs)\n"
               "      --check-config  load and check everything, print problems, serve nothing\n"
               "      --demo-tls DIR  demo only: also serve https on 127.0.0.1:8443 with DIR/cert.pem, DIR/key.pem\n"
               "      --version       print the version\n"
               "  -h, --help          this help\n"
               "Without -c, gatewayd starts a demo backend on loopback and serves it on 127.0.0.1:8080.\n");
}

struct Options {
  std::string config_path;
  int port = -1;
  int verbosity = 0;
  int workers = -1;
  bool check_only = false;
  std::string demo_tls_dir;
};

bool parseArgs(int argc, char** argv, Options& o) {
  static const option kLong[] = {{"config", required_argument, nullptr, 'c'},
                                 {"port", required_argument, nullptr, 'p'},
                                 {"workers", required_argument, nullptr, 'w'},
                                 {"check-config", no_argument, nullptr, 'C'},
                                 {"demo-tls", required_argument, nullptr, 'T'},
                                 {"version", no_argument, nullptr, 'V'},
                                 {"help", no_argument, nullptr, 'h'},
                                 {"verbose", no_argument, nullptr, 'v'},
                                 {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:p:vh", kLong, nullptr)) != -1) {
    switch (c) {
      case 'c': o.config_path = optarg; break;
      case 'p': {
        auto p = gw::parseUint(optarg);
        if (!p || *p > 65535) {
          std::fprintf(stderr, "gatewayd: --port: '%s' is not a port number\n", optarg);
          return false;
        }
        o.port = static_cast<int>(*p);
        break;
      }
      case 'w': {
        auto n = gw::parseUint(optarg);
        if (!n || *n < 1 || *n > 256) {
          std::fprintf(stderr, "gatewayd: --workers: '%s' must be between 1 and 256\n", optarg);
          return false;
        }
        o.workers = static_cast<int>(*n);
        break;
      }
      case 'C': o.check_only = true; break;
      case 'T': o.demo_tls_dir = optarg; break;
      case 'V': std::printf("gatewayd %s\n", GW_VERSION); std::exit(0);
      case 'h': usage(stdout); std::exit(0);
      case 'v': ++o.verbosity; break;
      default: usage(stderr); return false;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "gatewayd: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return false;
  }
  return true;
}

gw::LogLevel levelFromName(const std::string& n) {
  if (n == "error") return gw::LogLevel::Error;
  if (n == "warn") return gw::LogLevel::Warn;
  if (n == "info") return gw::LogLevel::Info;
  if (n == "debug") return gw::LogLevel::Debug;
  if (n == "trace") return gw::LogLevel::Trace;
  return gw::LogLevel::Notice;
}

struct SignalState {
  std::vector<std::unique_ptr<gw::net::Worker>>* workers;
  int count = 0;  // a second signal during the drain closes everything at once
};

void onSignal(evutil_socket_t sig, short, void* arg) {
  auto* st = static_cast<SignalState*>(arg);
  ++st->count;
  bool force = st->count > 1;
  GW_LOG(Notice, "%s received: %s", strsignal(sig), force ? "closing now" : "draining (send again to close now)");
  for (auto& w : *st->workers) w->stop(force);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parseArgs(argc, argv, opt)) return 2;
  std::signal(SIGPIPE, SIG_IGN);
  // Stream buffers come and go in 256 KiB pieces on every large response; with glibc's defaults
  // each free trims the worker's arena and the next read page-faults it back (tests/load).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);

  std::unique_ptr<gw::demo::DemoBackend> demo;
  gw::config::LoadResult loaded;
  if (opt.config_path.empty()) {
    if (!opt.check_only) {
      std::string err;
      demo = gw::demo::DemoBackend::start(&err);
      if (!demo) {
        std::fprintf(stderr, "gatewayd: %s\n", err.c_str());
        return 1;
      }
    }
    loaded = gw::config::loadConfigText(gw::demo::demoConfigYaml(demo ? demo->port() : 9, 8080, opt.demo_tls_dir),
                                        "<built-in>");
  } else {
    loaded = gw::config::loadConfigFile(opt.config_path);
  }
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
    std::fprintf(stderr, "gatewayd: configuration has %zu error(s)\n", loaded.errors.size());
    return 1;
  }
  auto cfg = std::make_shared<gw::config::Config>(*loaded.config);
  if (opt.port >= 0) cfg->listeners[0].port = static_cast<uint16_t>(opt.port);
  if (opt.workers > 0) cfg->workers = opt.workers;
  if (cfg->workers == 0) cfg->workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  std::string err;
  auto access_log = gw::filters::AccessLog::open(cfg->logs.access, cfg->logs.access_format, &err);
  if (!access_log) {
    std::fprintf(stderr, "%s: /logs/access: %s\n", cfg->source.c_str(), err.c_str());
    return 1;
  }
  if (cfg->logs.error != "stderr" && !gw::setLogFile(cfg->logs.error.c_str())) {
    std::fprintf(stderr, "%s: /logs/error: cannot open '%s': %s\n", cfg->source.c_str(), cfg->logs.error.c_str(),
                 strerror(errno));
    return 1;
  }
  gw::LogLevel level = levelFromName(cfg->logs.level);
  if (opt.verbosity > 0) {
    level = static_cast<gw::LogLevel>(std::min(static_cast<int>(gw::LogLevel::Trace),
                                               static_cast<int>(gw::LogLevel::Notice) + opt.verbosity));
  }
  gw::setLogLevel(level);

  // TLS: every certificate, key, chain and CA file is loaded and checked here (also for
  // --check-config); the SSL_CTXs are built once and shared read-only by the workers.
  std::vector<gw::tls::ServerContextConstSharedPtr> tls_contexts(cfg->listeners.size());
  {
    std::vector<gw::config::ConfigError> tls_errors;
    for (size_t i = 0; i < cfg->listeners.size(); ++i) {
      const auto& l = cfg->listeners[i];
      if (l.tls) tls_contexts[i] = gw::tls::ServerContext::create(*l.tls, cfg->source, cfg->http2.enabled, &tls_errors);
    }
    if (!tls_errors.empty()) {
      for (const auto& e : tls_errors) std::fprintf(stderr, "%s\n", e.str().c_str());
      std::fprintf(stderr, "gatewayd: configuration has %zu error(s)\n", tls_errors.size());
      return 1;
    }
  }

  if (opt.check_only) {
    std::printf("%s: configuration OK (%zu listeners, %zu upstreams, %zu routes)\n", cfg->source.c_str(),
                cfg->listeners.size(), cfg->upstreams.size(), cfg->routes.size());
    return 0;
  }

  auto sockets = gw::net::bindListeners(*cfg, cfg->workers, &err);
  if (sockets.empty()) {
    std::fprintf(stderr, "gatewayd: %s\n", err.c_str());
    return 1;
  }
  gw::config::ConfigConstSharedPtr shared = cfg;
  const gw::http::FilterFactoryList filters = gw::net::buildFilterChain(shared, access_log);  // once, shared
  std::vector<std::unique_ptr<gw::net::Worker>> workers;
  for (int w = 0; w < cfg->workers; ++w) {
    std::vector<gw::net::ListenSocket> mine;
    for (auto& per_listener : sockets) mine.push_back(per_listener[w]);
    workers.push_back(std::make_unique<gw::net::Worker>(w, shared, std::move(mine), access_log, filters));
    workers.back()->setTls(tls_contexts);
  }
  for (auto& w : workers) w->start();
  for (size_t i = 0; i < cfg->listeners.size(); ++i) {
    GW_LOG(Notice, "gatewayd %s listening on %s://%s:%u (listener %s, %d workers)", GW_VERSION,
           tls_contexts[i] ? "https" : "http", cfg->listeners[i].address.c_str(), sockets[i][0].port, cfg->listeners[i].name.c_str(), cfg->workers);
  }
  if (demo) {
    unsigned port = sockets[0][0].port;
    std::string https;
    if (!opt.demo_tls_dir.empty() && sockets.size() > 1) {
      const std::string p = std::to_string(sockets[1][0].port), ca = opt.demo_tls_dir + "/cert.pem";
      https = "  curl -i --cacert " + ca + " https://127.0.0.1:" + p + "/api/hello   # TLS (self-signed demo cert)\n" +
              "  curl -i http://127.0.0.1:" + p + "/api/hello          # plain HTTP to the TLS port: 400\n";
    }
    std::fprintf(stderr,
                 "\nDemo stack: gatewayd on 127.0.0.1:%u in front of the bundled demo backend (127.0.0.1:%u).\n"
                 "Try:\n"
                 "  curl -i http://127.0.0.1:%u/api/hello\n"
                 "  curl -i http://127.0.0.1:%u/api/items\n"
                 "  curl -i -H 'Content-Type: application/json' -d '{\"name\":\"mug\",\"price\":4}' "
                 "http://127.0.0.1:%u/api/items\n"
                 "  curl -i http://127.0.0.1:%u/api/echo\n"
                 "  curl -i http://127.0.0.1:%u/nowhere          # 404 problem+json from the gateway\n"
                 "%s"
                 "Stop with Ctrl-C.\n\n",
                 port, demo->port(), port, port, port, port, port, https.c_str());
  }

  // The main thread only waits for signals; a joiner thread ends its loop when the workers stop.
  event_base* base = event_base_new();
  SignalState st{&workers};
  event* sigterm = evsignal_new(base, SIGTERM, onSignal, &st);
  event* sigint = evsignal_new(base, SIGINT, onSignal, &st);
  event_add(sigterm, nullptr);
  event_add(sigint, nullptr);
  gw::Waker workers_done(base, [base] { event_base_loopbreak(base); });
  std::thread joiner([&] {
    for (auto& w : workers) w->join();
    workers_done.wake();
  });
  event_base_dispatch(base);
  joiner.join();
  GW_LOG(Notice, "stopped");
  GW_LOG(Info, "counters:\n%s%s", gw::countersText().c_str(), gw::auth::digestCountersText().c_str());
  workers.clear();
  event_free(sigterm);
  event_free(sigint);
  event_base_free(base);
  return 0;
}
