// Environ conformance (issue 4, item 3): one WSGI app (tests/support/environ_app.py) that returns
// its environ as JSON, run (a) directly under gevent.pywsgi and (b) under uWSGI behind gatewayd
// (uwsgi protocol and FastCGI). The same raw requests go to both; the CGI/WSGI keys must match
// except for the differences listed in kAllowed, each explained by the protocol or by what a
// gateway adds.
//
// Parameterised by the downstream protocol toward the gateway: HTTP/1.1, or HTTP/2 with prior
// knowledge (tests/support/h2_request.py turns the same request into HTTP/2 frames); gevent always
// gets the HTTP/1.1 original. SERVER_PROTOCOL then differs by design (checked separately).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <map>
#include <set>
#include <tuple>

#include "harness.h"

namespace gwtest {
namespace {

using namespace std::string_literals;
using Env = std::map<std::string, std::string>;

// Minimal parser for the {"environ": {"K": "V", ...}} object json.dumps wrote (ASCII, escapes).
std::optional<Env> parseEnviron(const std::string& body) {
  size_t at = body.find("\"environ\": {");
  if (at == std::string::npos) return std::nullopt;
  size_t i = at + 12;
  Env env;
  auto str = [&](std::string& out) -> bool {
    while (i < body.size() && body[i] == ' ') ++i;
    if (i >= body.size() || body[i] != '"') return false;
    ++i;
    for (; i < body.size() && body[i] != '"'; ++i) {
      char c = body[i];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = body[++i];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = std::stoul(body.substr(i + 1, 4), nullptr, 16);
          i += 4;
          if (cp < 0x80) {
            out += char(cp);
          } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
          } else {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
          }
          break;
        }
        default: out += e;
      }
    }
    ++i;
    return true;
  };
  while (i < body.size()) {
    while (i < body.size() && (body[i] == ' ' || body[i] == ',')) ++i;
    if (body[i] == '}') break;
    std::string k, v;
    if (!str(k)) return std::nullopt;
    while (i < body.size() && (body[i] == ' ' || body[i] == ':')) ++i;
    if (!str(v)) return std::nullopt;
    env[k] = v;
  }
  return env;
}

// The keys compared: CGI 1.1 meta-variables, the HTTP_* ones, and wsgi.url_scheme.
bool isCompared(const std::string& k) {
  static const std::set<std::string> kCgi = {
      "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
      "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_USER",
      "HTTPS", "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "REQUEST_URI", "wsgi.url_scheme"};
  return kCgi.count(k) || k.rfind("HTTP_", 0) == 0;
}

// Allowed differences between "direct" (gevent.pywsgi) and "gateway" (gatewayd → uWSGI), and why.
enum class Allow { ValueDiffers, OnlyDirect, OnlyGateway, EitherMissing };
struct Allowed {
  const char* key;
  Allow how;
  const char* why;
};
const Allowed kAllowed[] = {
    {"SERVER_PORT", Allow::ValueDiffers, "each server's own listening port (checked separately)"},
    {"REMOTE_PORT", Allow::ValueDiffers, "the client's ephemeral port differs per connection (checked numeric)"},
    {"SERVER_SOFTWARE", Allow::ValueDiffers, "server identity"},
    {"SERVER_NAME", Allow::ValueDiffers, "gevent uses its bound host name; gatewayd the request's Host"},
    {"HTTP_X_REQUEST_ID", Allow::OnlyGateway, "the request id the gateway generates"},
    {"HTTP_PROXY", Allow::OnlyDirect, "httpoxy: gatewayd never passes a Proxy header as HTTP_PROXY"},
    {"HTTP_CONNECTION", Allow::OnlyDirect, "hop-by-hop headers end at the gateway (RFC 9110 §7.6.1)"},
    {"REQUEST_URI", Allow::EitherMissing, "not part of CGI/WSGI; servers differ in setting it"},
};

struct Param {
  std::string protocol;   // downstream protocol toward the gateway: "http1" or "h2c"
  std::string transport;  // gateway → uWSGI: "uwsgi" or "fastcgi"
};
std::string paramName(const ::testing::TestParamInfo<Param>& p) { return p.param.protocol + "_" + p.param.transport; }

class EnvironIT : public ::testing::TestWithParam<Param> {
 public:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    chmod(dir_->path().c_str(), 0755);
    gevent_port_ = deadPort();
    gevent_ = Process::spawn({"/usr/bin/python3", supportDir() + "/environ_app.py", "gevent",
                              std::to_string(gevent_port_)},
                             dir_->file("gevent.out"), dir_->file("gevent.err"))
                  .release();
    fcgi_port_ = deadPort();
    uwsgi_port_ = deadPort();
    while (uwsgi_port_ == fcgi_port_) uwsgi_port_ = deadPort();
    uwsgi_ = Process::spawn({"/usr/bin/uwsgi", "--plugin", "python3", "--master", "--processes", "1", "--die-on-term",
                             "--need-app", "--buffer-size", "65535", "--fastcgi-socket",
                             "127.0.0.1:" + std::to_string(fcgi_port_), "--socket",
                             "127.0.0.1:" + std::to_string(uwsgi_port_), "--chdir", supportDir(), "--wsgi-file",
                             "environ_app.py", "--logto", dir_->file("uwsgi.log")},
                            dir_->file("uwsgi.out"), dir_->file("uwsgi.err"))
                  .release();
    ASSERT_TRUE(waitForPort(gevent_port_, 10000ms)) << readFile(dir_->file("gevent.err"));
    ASSERT_TRUE(waitForPort(fcgi_port_, 10000ms) && waitForPort(uwsgi_port_, 10000ms));
    std::string y = "workers: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1\n    port: 0\nupstreams:\n";
    y += "  - name: uwsgi\n    kind: uwsgi\n    servers: [\"127.0.0.1:" + std::to_string(uwsgi_port_) + "\"]\n";
    y += "  - name: fastcgi\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(fcgi_port_) + "\"]\n";
    y += "routes:\n";
    y += "  - prefix: /fastcgi-mnt\n    upstream: fastcgi\n  - prefix: /uwsgi-mnt\n    upstream: uwsgi\n";
    y += "  - prefix: /\n    hosts: [\"fastcgi.test\"]\n    upstream: fastcgi\n";
    y += "  - prefix: /\n    upstream: uwsgi\n";
    y += "logs:\n  access: off\n";
    gw_ = Gateway::start(dir_->path(), y).release();
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete gevent_;
    delete uwsgi_;
    delete dir_;
    gw_ = nullptr;
    gevent_ = uwsgi_ = nullptr;
    dir_ = nullptr;
  }

 protected:
  // Sends `raw` (an HTTP/1.1 request) over the parameter's protocol; returns the environ.
  Env sendRequest(uint16_t port, const std::string& raw) {
    if (GetParam().protocol == "h2c" && port == gw_->port()) {
      const std::string in = dir_->write("h2-request.txt", raw);
      ToolResult t = runTool({"/bin/sh", "-c", "/usr/bin/python3 " + supportDir() + "/h2_request.py " +
                                                   std::to_string(port) + " < " + in});
      EXPECT_EQ(t.exit_code, 0) << t.err;
      EXPECT_TRUE(t.out.starts_with("200\n")) << t.out;
      auto env = parseEnviron(t.out);
      EXPECT_TRUE(env) << t.out;
      return env.value_or(Env{});
    }
    auto r = rawRequest(port, raw, 10000ms);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    auto env = parseEnviron(r->body);
    EXPECT_TRUE(env) << r->body;
    return env.value_or(Env{});
  }

  // Compares the two environs; `mount`: the gateway route's prefix (SCRIPT_NAME there).
  void compare(const Env& direct, const Env& gateway, const std::string& mount) {
    std::set<std::string> keys;
    for (auto& [k, _] : direct) if (isCompared(k)) keys.insert(k);
    for (auto& [k, _] : gateway) if (isCompared(k)) keys.insert(k);
    for (const std::string& k : keys) {
      auto d = direct.find(k);
      auto g = gateway.find(k);
      const Allowed* allowed = nullptr;
      for (const auto& a : kAllowed) if (k == a.key) allowed = &a;
      if (k == "SCRIPT_NAME" || k == "PATH_INFO") continue;  // checked below
      if (k == "SERVER_PROTOCOL" && GetParam().protocol == "h2c") {  // the protocol the client spoke
        EXPECT_EQ(g == gateway.end() ? "" : g->second, "HTTP/2.0");
        continue;
      }
      if (d != direct.end() && g != gateway.end()) {
        if (d->second == g->second) continue;
        // Repeated fields: gevent joins with ",", gatewayd with ", " (RFC 9110 §5.3): the same list.
        auto norm = [](std::string v) {
          for (size_t p = v.find(", "); p != std::string::npos; p = v.find(", ", p)) v.erase(p + 1, 1);
          return v;
        };
        if (k.rfind("HTTP_", 0) == 0 && norm(d->second) == norm(g->second)) continue;
        EXPECT_TRUE(allowed && allowed->how == Allow::ValueDiffers)
            << k << ": direct '" << d->second << "' vs gateway '" << g->second << "'";
      } else if (d != direct.end()) {
        EXPECT_TRUE(allowed && (allowed->how == Allow::OnlyDirect || allowed->how == Allow::EitherMissing))
            << k << " only direct: '" << d->second << "'";
      } else {
        EXPECT_TRUE(allowed && (allowed->how == Allow::OnlyGateway || allowed->how == Allow::EitherMissing))
            << k << " only through the gateway: '" << g->second << "'";
      }
    }
    // SCRIPT_NAME + PATH_INFO is the same path; the gateway's SCRIPT_NAME is the route's mount.
    auto get = [](const Env& e, const char* k) { auto it = e.find(k); return it == e.end() ? ""s : it->second; };
    EXPECT_EQ(get(direct, "SCRIPT_NAME") + get(direct, "PATH_INFO"), get(gateway, "SCRIPT_NAME") + get(gateway, "PATH_INFO"));
    EXPECT_EQ(get(gateway, "SCRIPT_NAME"), mount);
    EXPECT_EQ(get(gateway, "SERVER_PORT"), std::to_string(gw_->port()));
    EXPECT_EQ(get(direct, "SERVER_PORT"), std::to_string(gevent_port_));
    for (const Env* e : {&direct, &gateway}) {
      std::string rp = get(*e, "REMOTE_PORT");
      EXPECT_TRUE(!rp.empty() && rp.find_first_not_of("0123456789") == std::string::npos) << rp;
    }
  }

  std::string hostFor() const { return GetParam().transport == "fastcgi" ? "fastcgi.test" : "uwsgi.test"; }

  static TempDir* dir_;
  static Process* gevent_;
  static Process* uwsgi_;
  static Gateway* gw_;
  static uint16_t gevent_port_, fcgi_port_, uwsgi_port_;
};
TempDir* EnvironIT::dir_ = nullptr;
Process* EnvironIT::gevent_ = nullptr;
Process* EnvironIT::uwsgi_ = nullptr;
Gateway* EnvironIT::gw_ = nullptr;
uint16_t EnvironIT::gevent_port_ = 0, EnvironIT::fcgi_port_ = 0, EnvironIT::uwsgi_port_ = 0;

TEST_P(EnvironIT, GetWithHeadersAtTheRoot) {
  const std::string req = "GET /env/a%20b/c%3F?x=1&y=%20z HTTP/1.1\r\nHost: " + hostFor() +
                          "\r\nX-Custom: v1\r\nX-Custom: v2\r\nAccept: */*\r\nCookie: a=1\r\n"
                          "Proxy: http://evil.example:3128\r\nUser-Agent: conformance\r\nConnection: keep-alive\r\n\r\n";
  compare(sendRequest(gevent_port_, req), sendRequest(gw_->port(), req), "");
}

TEST_P(EnvironIT, PostWithBodyUnderAMount) {
  const std::string mount = "/" + GetParam().transport + "-mnt";
  const std::string body = "k=v&x=%20";
  const std::string req = "POST " + mount + "/form/%7Euser HTTP/1.1\r\nHost: " + hostFor() +
                          "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nX-Thing: 1\r\n\r\n" + body;
  compare(sendRequest(gevent_port_, req), sendRequest(gw_->port(), req), mount);
}

TEST_P(EnvironIT, HeadLikeGetWithoutBodyAndEmptyQuery) {
  const std::string req = "GET /env/? HTTP/1.1\r\nHost: " + hostFor() + "\r\n\r\n";
  compare(sendRequest(gevent_port_, req), sendRequest(gw_->port(), req), "");
}

INSTANTIATE_TEST_SUITE_P(Protocols, EnvironIT,
                         ::testing::Values(Param{"http1", "uwsgi"}, Param{"http1", "fastcgi"}, Param{"h2c", "uwsgi"},
                                           Param{"h2c", "fastcgi"}),
                         paramName);

}  // namespace
}  // namespace gwtest
