// Integration tests for the FastCGI and uwsgi upstreams (issue 4, items 1-4): gatewayd in front of
// real application servers on loopback, started here: uWSGI from Debian (python3 plugin) serving
// tests/support/environ_app.py over --fastcgi-socket and --socket (uwsgi protocol) on TCP and unix
// sockets, php-fpm 8.2 on TCP and a unix socket, and tests/support/fcgi_peer.py (a FastCGI server
// that logs the records it receives and multiplexes) where a record must be seen.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "it_common.h"

namespace gwtest {
namespace {

using namespace std::string_literals;

std::string uwsgiBin() { return "/usr/bin/uwsgi"; }
std::string phpFpmBin() {
  for (const char* p : {"/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "/usr/sbin/php-fpm8.2";
}

bool waitForFile(const std::string& path, Millis timeout) {
  return waitUntil([&] { return access(path.c_str(), F_OK) == 0; }, timeout);
}

// uWSGI with environ_app.py on four sockets: FastCGI TCP/unix, uwsgi TCP/unix.
struct Uwsgi {
  std::unique_ptr<Process> proc;
  uint16_t fcgi_port = 0, uwsgi_port = 0;
  std::string fcgi_sock, uwsgi_sock, log;

  static std::unique_ptr<Uwsgi> start(const std::string& dir, int processes, const std::string& tag) {
    auto u = std::make_unique<Uwsgi>();
    u->fcgi_port = deadPort();
    u->uwsgi_port = deadPort();
    while (u->uwsgi_port == u->fcgi_port) u->uwsgi_port = deadPort();
    u->fcgi_sock = dir + "/" + tag + "-fcgi.sock";
    u->uwsgi_sock = dir + "/" + tag + "-uwsgi.sock";
    u->log = dir + "/" + tag + "-uwsgi.log";
    u->proc = Process::spawn(
        {uwsgiBin(), "--plugin", "python3", "--master", "--processes", std::to_string(processes), "--die-on-term",
         "--need-app", "--vacuum", "--buffer-size", "65535", "--fastcgi-socket",
         "127.0.0.1:" + std::to_string(u->fcgi_port), "--socket", "127.0.0.1:" + std::to_string(u->uwsgi_port),
         "--fastcgi-socket", u->fcgi_sock, "--socket", u->uwsgi_sock, "--chmod-socket=666", "--chdir", supportDir(),
         "--wsgi-file", "environ_app.py", "--logto", u->log},
        dir + "/" + tag + "-uwsgi.out", dir + "/" + tag + "-uwsgi.err");
    bool up = waitForPort(u->fcgi_port, 10000ms) && waitForPort(u->uwsgi_port, 10000ms) &&
              waitForFile(u->fcgi_sock, 10000ms) && waitForFile(u->uwsgi_sock, 10000ms);
    if (!up) ADD_FAILURE() << "uWSGI did not start: " << readFile(u->log);
    return u;
  }
  std::string server(const std::string& which) const {
    if (which == "fcgi-tcp") return "127.0.0.1:" + std::to_string(fcgi_port);
    if (which == "uwsgi-tcp") return "127.0.0.1:" + std::to_string(uwsgi_port);
    if (which == "fcgi-unix") return "unix:" + fcgi_sock;
    return "unix:" + uwsgi_sock;
  }
};

// php-fpm with two pools: TCP (2 children) and a unix socket (1 child).
struct PhpFpm {
  std::unique_ptr<Process> proc;
  uint16_t port = 0;
  std::string sock, docroot, log;

  static std::unique_ptr<PhpFpm> start(const std::string& dir) {
    auto p = std::make_unique<PhpFpm>();
    p->port = deadPort();
    p->sock = dir + "/php-fpm.sock";
    p->docroot = dir + "/www";
    p->log = dir + "/php-fpm.log";
    std::filesystem::create_directories(p->docroot);
    chmod(dir.c_str(), 0755);
    chmod(p->docroot.c_str(), 0755);
    std::ofstream(p->docroot + "/index.php")
        << "<?php\n"
           "if (($_GET['stderr'] ?? '') !== '') { error_log('php-stderr-' . $_GET['stderr']); }\n"
           "header('Content-Type: application/json');\n"
           "$keys = ['REQUEST_METHOD','SCRIPT_NAME','PATH_INFO','QUERY_STRING','SCRIPT_FILENAME','DOCUMENT_ROOT',\n"
           "  'REMOTE_ADDR','REMOTE_PORT','SERVER_PORT','SERVER_PROTOCOL','REQUEST_URI','CONTENT_LENGTH','EXTRA_PARAM',\n"
           "  'HTTP_X_TEST','HTTP_PROXY'];\n"
           "$out = [];\n"
           "foreach ($keys as $k) { if (isset($_SERVER[$k])) $out[$k] = $_SERVER[$k]; }\n"
           "$out['body'] = file_get_contents('php://input');\n"
           "echo json_encode($out), \"\\n\";\n";
    chmod((p->docroot + "/index.php").c_str(), 0644);
    std::ofstream(dir + "/php-fpm.conf") << "[global]\npid = " << dir << "/php-fpm.pid\nerror_log = " << p->log
                                         << "\ndaemonize = no\n"
                                            "[tcp]\nuser = www-data\ngroup = www-data\nlisten = 127.0.0.1:"
                                         << p->port
                                         << "\npm = static\npm.max_children = 2\ncatch_workers_output = no\n"
                                            "[unix]\nuser = www-data\ngroup = www-data\nlisten = "
                                         << p->sock << "\nlisten.mode = 0666\npm = static\npm.max_children = 1\n";
    p->proc = Process::spawn({phpFpmBin(), "-F", "-y", dir + "/php-fpm.conf"}, dir + "/php-fpm.out",
                             dir + "/php-fpm.err");
    if (!waitForPort(p->port, 10000ms) || !waitForFile(p->sock, 10000ms)) {
      ADD_FAILURE() << "php-fpm did not start: " << readFile(dir + "/php-fpm.err") << readFile(p->log);
    }
    return p;
  }
};

struct FcgiPeer {
  std::unique_ptr<Process> proc;
  uint16_t port = 0;
  std::string log;
  static std::unique_ptr<FcgiPeer> start(const std::string& dir) {
    auto f = std::make_unique<FcgiPeer>();
    f->port = deadPort();
    f->log = dir + "/fcgi_peer.log";
    f->proc = Process::spawn({"/usr/bin/python3", supportDir() + "/fcgi_peer.py", std::to_string(f->port), f->log},
                             dir + "/fcgi_peer.out", dir + "/fcgi_peer.err");
    if (!waitForPort(f->port, 10000ms)) ADD_FAILURE() << "fcgi_peer.py did not start";
    return f;
  }
  std::vector<std::string> lines() const { return readLines(log); }
  bool hasLine(std::string_view line) const {
    auto all = lines();
    return std::find(all.begin(), all.end(), line) != all.end();
  }
  size_t count(std::string_view prefix) const {
    size_t n = 0;
    for (const auto& l : lines()) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
};

class FramedIT : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    chmod(dir_->path().c_str(), 0755);
    uwsgi_ = Uwsgi::start(dir_->path(), 2, "main").release();
    php_ = PhpFpm::start(dir_->path()).release();
    peer_ = FcgiPeer::start(dir_->path()).release();
  }
  static void TearDownTestSuite() {
    delete uwsgi_;
    delete php_;
    delete peer_;
    delete dir_;
    uwsgi_ = nullptr;
    php_ = nullptr;
    peer_ = nullptr;
    dir_ = nullptr;
  }

 protected:
  void SetUp() override { tmp_ = std::make_unique<TempDir>(); }
  void TearDown() override {
    stopChecked(gw_);
    tmp_.reset();
  }

  // One gatewayd worker: per-worker pools make counts and queues deterministic.
  Gateway& start(const std::string& upstreams, const std::string& routes, int workers = 1,
                 const std::vector<std::string>& args = {}) {
    std::string y = "workers: " + std::to_string(workers) + "\n";
    y += "listeners:\n  - name: main\n    address: 127.0.0.1\n    port: 0\n";
    y += "upstreams:\n" + upstreams;
    y += "routes:\n" + routes;
    y += "logs:\n  access: " + tmp_->file("access.log") + "\n  access_format: json\n";
    gw_ = Gateway::start(tmp_->path(), y, args);
    return *gw_;
  }
  // The usual four uWSGI upstreams, a php-fpm one per transport and the recording peer.
  Gateway& startAll(const std::string& extra_upstream_keys = "", int workers = 1) {
    std::string u;
    for (const char* t : {"fcgi-tcp", "fcgi-unix", "uwsgi-tcp", "uwsgi-unix"}) {
      // uWSGI closes every FastCGI connection after its request: keeping them would only race
      // with its close (README: keepalive: 0 for uWSGI).
      const bool fcgi = std::string(t).starts_with("fcgi");
      u += "  - name: "s + t + "\n    kind: " + (fcgi ? "fastcgi" : "uwsgi") + "\n    servers: [\"" +
           uwsgi_->server(t) + "\"]\n" + (fcgi ? "    keepalive: 0\n" : "") + extra_upstream_keys;
    }
    u += "  - name: php-tcp\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(php_->port) + "\"]\n";
    u += "  - name: php-unix\n    kind: fastcgi\n    servers: [\"unix:" + php_->sock + "\"]\n";
    u += "  - name: peer\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(peer_->port) +
         "\"]\n    response_timeout: 3s\n    retries: 0\n";
    std::string r;
    for (const char* t : {"fcgi-tcp", "fcgi-unix", "uwsgi-tcp", "uwsgi-unix"}) {
      r += "  - prefix: /"s + t + "\n    upstream: " + t + "\n";
    }
    for (const char* t : {"php-tcp", "php-unix"}) {
      r += "  - prefix: /"s + t + "\n    upstream: " + t + "\n    cgi:\n      document_root: " + php_->docroot +
           "\n      script_filename: \"{document_root}/index.php\"\n      params: {EXTRA_PARAM: extra-value}\n";
    }
    r += "  - prefix: /peer\n    upstream: peer\n";
    return start(u, r, workers);
  }
  // uWSGI over FastCGI and uwsgi on TCP, each with `extra` upstream keys and a route of its name,
  // behind one gatewayd worker; `top` adds top-level YAML.
  Gateway& startTcpPair(const std::string& top, const std::string& extra = "") {
    std::string u, r;
    for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
      const bool fcgi = std::string(t).starts_with("fcgi");
      u += "  - name: "s + t + "\n    kind: " + (fcgi ? "fastcgi" : "uwsgi") + "\n    servers: [\"" +
           uwsgi_->server(t) + "\"]\n" + extra + (fcgi ? "    keepalive: 0\n" : "");
      r += "  - prefix: /"s + t + "\n    upstream: " + t + "\n";
    }
    stopChecked(gw_);
    gw_ = Gateway::start(tmp_->path(), "workers: 1\n" + top + "listeners:\n  - name: main\n    address: 127.0.0.1\n"
                                       "    port: 0\nupstreams:\n" + u + "routes:\n" + r + "logs:\n  access: off\n");
    return *gw_;
  }

  static TempDir* dir_;
  static Uwsgi* uwsgi_;
  static PhpFpm* php_;
  static FcgiPeer* peer_;
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<Gateway> gw_;
};
TempDir* FramedIT::dir_ = nullptr;
Uwsgi* FramedIT::uwsgi_ = nullptr;
PhpFpm* FramedIT::php_ = nullptr;
FcgiPeer* FramedIT::peer_ = nullptr;

const char* kTransports[] = {"fcgi-tcp", "fcgi-unix", "uwsgi-tcp", "uwsgi-unix"};

// ---------------------------------------------------------------------------------------------
// uWSGI over FastCGI and uwsgi, TCP and unix sockets

TEST_F(FramedIT, UwsgiGetAndPostOverEveryTransport) {
  startAll();
  for (const char* t : kTransports) {
    SCOPED_TRACE(t);
    auto r = curl({"-H", "X-Test: one", "-H", "Proxy: http://evil.example:3128", "-H", "X-Forwarded-For: 6.6.6.6",
                   "-H", "X-Forwarded-Proto: https", gw_->url("/"s + t + "/a/b%20c?x=1&y=2")});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(jsonString(r.body, "REQUEST_METHOD").value_or(""), "GET");
    EXPECT_EQ(jsonString(r.body, "SCRIPT_NAME").value_or(""), "/"s + t);
    EXPECT_EQ(jsonString(r.body, "PATH_INFO").value_or(""), "/a/b c");
    EXPECT_EQ(jsonString(r.body, "QUERY_STRING").value_or(""), "x=1&y=2");
    EXPECT_EQ(jsonString(r.body, "REQUEST_URI").value_or(""), "/"s + t + "/a/b%20c?x=1&y=2");
    EXPECT_EQ(jsonString(r.body, "HTTP_X_TEST").value_or(""), "one");
    EXPECT_EQ(jsonString(r.body, "REMOTE_ADDR").value_or(""), "127.0.0.1");
    EXPECT_EQ(jsonString(r.body, "SERVER_PORT").value_or(""), std::to_string(gw_->port()));
    EXPECT_FALSE(jsonString(r.body, "HTTP_PROXY").has_value()) << "httpoxy: " << r.body;
    EXPECT_FALSE(jsonString(r.body, "HTTPS").has_value());
    // The gateway is the app's front server: the facts are in REMOTE_ADDR and HTTPS, no forwarding
    // header is added, and an untrusted client's are removed.
    for (const char* k : {"HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                          "HTTP_X_FORWARDED_PORT", "HTTP_FORWARDED"}) {
      EXPECT_FALSE(jsonString(r.body, k).has_value()) << k << ": " << r.body;
    }

    r = curl({"--data-binary", "hello body", "-H", "Content-Type: text/x-test", gw_->url("/"s + t + "/post")});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(jsonString(r.body, "body").value_or(""), "hello body");
    EXPECT_EQ(jsonString(r.body, "CONTENT_LENGTH").value_or(""), "10");
    EXPECT_EQ(jsonString(r.body, "CONTENT_TYPE").value_or(""), "text/x-test");
  }
}

// Behind a trusted proxy the app sees the client it names as REMOTE_ADDR (no REMOTE_PORT: the TCP
// peer's is not the client's), HTTPS=on and SERVER_PORT as that proxy says the client used them,
// and the proxy's forwarding fields as it sent them (nothing appended: the gateway's hop is
// REMOTE_ADDR's business).
TEST_F(FramedIT, TrustedProxyFactsReachTheEnviron) {
  startTcpPair("trusted_proxies: [127.0.0.1/32]\n");
  for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
    SCOPED_TRACE(t);
    auto res = curl({"-H", "X-Forwarded-For: 203.0.113.7", "-H", "X-Forwarded-Proto: https", "-H",
                     "X-Forwarded-Host: public.test", "-H", "X-Forwarded-Port: 443", gw_->url("/"s + t + "/who")});
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(jsonString(res.body, "REMOTE_ADDR").value_or(""), "203.0.113.7") << res.body;
    EXPECT_FALSE(jsonString(res.body, "REMOTE_PORT").has_value()) << res.body;
    EXPECT_EQ(jsonString(res.body, "HTTPS").value_or(""), "on") << res.body;
    EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_FOR").value_or(""), "203.0.113.7") << res.body;
    EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_HOST").value_or(""), "public.test") << res.body;
    EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_PORT").value_or(""), "443") << res.body;
    EXPECT_EQ(jsonString(res.body, "SERVER_PORT").value_or(""), "443") << res.body;
    // Without the proxy's word, the listener's facts.
    res = curl({gw_->url("/"s + t + "/who")});
    EXPECT_EQ(jsonString(res.body, "REMOTE_ADDR").value_or(""), "127.0.0.1") << res.body;
    EXPECT_FALSE(jsonString(res.body, "HTTPS").has_value()) << res.body;
    EXPECT_EQ(jsonString(res.body, "SERVER_PORT").value_or(""), std::to_string(gw_->port())) << res.body;
    EXPECT_FALSE(jsonString(res.body, "HTTP_X_FORWARDED_FOR").has_value()) << res.body;
  }
}

// forwarded_headers: true on a FastCGI / uwsgi upstream: the app also gets HTTP_X_FORWARDED_* as an
// HTTP upstream would get the headers (a trusted proxy's replaced by the combined values).
TEST_F(FramedIT, ForwardedHeadersOnRequest) {
  for (bool trusted : {false, true}) {
    startTcpPair(trusted ? "trusted_proxies: [127.0.0.1/32]\n" : "", "    forwarded_headers: true\n");
    for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
      SCOPED_TRACE(std::string(t) + (trusted ? " trusted" : " untrusted"));
      auto res = curl({"-H", "X-Forwarded-For: 203.0.113.7", "-H", "X-Real-IP: 203.0.113.7",
                       gw_->url("/"s + t + "/who")});
      ASSERT_EQ(res.status, 200) << res.body;
      EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_FOR").value_or(""),
                trusted ? "203.0.113.7, 127.0.0.1" : "127.0.0.1") << res.body;
      EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_PROTO").value_or(""), "http") << res.body;
      EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_HOST").value_or(""), "127.0.0.1:" + std::to_string(gw_->port()));
      EXPECT_EQ(jsonString(res.body, "HTTP_X_FORWARDED_PORT").value_or(""), std::to_string(gw_->port()));
      EXPECT_FALSE(jsonString(res.body, "HTTP_X_REAL_IP").has_value()) << res.body;
      EXPECT_EQ(jsonString(res.body, "REMOTE_ADDR").value_or(""), trusted ? "203.0.113.7" : "127.0.0.1");
    }
  }
}

// The Digest-authenticated user reaches the app as REMOTE_USER (a client cannot forge it), and
// HTTPS=on over TLS; over HTTP/1.1 and HTTP/2.
TEST_F(FramedIT, DigestUserIsRemoteUserAndTlsIsHttps) {
  ToolResult md5 = runTool({"/bin/sh", "-c", "printf 'alice:gw:wonderland' | md5sum"});
  ASSERT_EQ(md5.exit_code, 0);
  const std::string creds = tmp_->write("users.htdigest", "alice:gw:" + md5.out.substr(0, 32) + "\n");
  std::string u, r;
  for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
    u += "  - name: "s + t + "\n    kind: " + (std::string(t).starts_with("fcgi") ? "fastcgi" : "uwsgi") +
         "\n    servers: [\"" + uwsgi_->server(t) + "\"]\n";
    r += "  - prefix: /"s + t + "\n    upstream: " + t + "\n    auth: {realm: gw, credentials: " + creds +
         ", algorithms: [MD5]}\n";
  }
  gw_ = Gateway::start(tmp_->path(), "workers: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1\n    port: 0\n" +
                                         selfSignedTlsBlock() + "upstreams:\n" + u + "routes:\n" + r +
                                         "logs:\n  access: off\n");
  for (const char* proto : {"--http1.1", "--http2"}) {
    for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
      SCOPED_TRACE(std::string(proto) + " " + t);
      const std::string url = gw_->httpsUrl("/"s + t + "/who", "127.0.0.1");
      auto res = curl({proto, "--cacert", selfSignedCert(), "--digest", "-u", "alice:wonderland", "-H",
                       "X-Remote-User: mallory", "-H", "Remote-User: mallory", url});
      ASSERT_EQ(res.exit_code, 0) << res.stderr_text;
      EXPECT_EQ(res.status, 200) << res.body;
      EXPECT_EQ(jsonString(res.body, "REMOTE_USER").value_or(""), "alice") << res.body;
      EXPECT_EQ(jsonString(res.body, "HTTP_X_REMOTE_USER").value_or(""), "alice") << res.body;  // the gateway's
      EXPECT_EQ(jsonString(res.body, "HTTPS").value_or(""), "on") << res.body;
      EXPECT_EQ(jsonString(res.body, "SERVER_PROTOCOL").value_or(""),
                std::string(proto) == "--http2" ? "HTTP/2.0" : "HTTP/1.1");
      auto anon = curl({proto, "--cacert", selfSignedCert(), "-H", "Remote-User: mallory", url});
      EXPECT_EQ(anon.status, 401) << anon.body;
    }
  }
}

TEST_F(FramedIT, FastCgiConnectionsAreKeptAndReused) {
  startAll();
  for (int i = 0; i < 5; ++i) {
    auto r = curl({gw_->url("/peer/ping")});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-conn"), curl({gw_->url("/peer/ping")}).header("x-conn")) << "a new connection per request";
  }
  // BEGIN_REQUEST carried FCGI_KEEP_CONN (flags=1).
  auto lines = peer_->lines();
  bool keep = false;
  for (const auto& l : lines) keep = keep || (l.rfind("BEGIN", 0) == 0 && l.find("flags=1") != std::string::npos);
  EXPECT_TRUE(keep);
}

// A worker that closes a kept connection just as the gateway reuses it (uWSGI closes FastCGI
// connections after every request) has not answered: an idempotent request goes again on a new
// connection, its body too (kept while written, up to 64 KiB), and the server is then known not to
// keep connections. A POST is not sent twice (the worker may have run it before dying), nor a
// body too large to have been kept: those get 502.
struct KeptConnectionCase {
  const char* method;
  size_t body;
  int status;
};
class KeptConnectionClosed : public FramedIT, public ::testing::WithParamInterface<KeptConnectionCase> {};

TEST_P(KeptConnectionClosed, ReplayedOnlyWhenSafe) {
  const KeptConnectionCase c = GetParam();
  startAll();
  const size_t drops = peer_->count("DROP");
  auto first = curl({gw_->url("/peer/ping")});
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string body = tmp_->write("body.bin", std::string(c.body, 'x'));
  auto r = curl({"-X", c.method, "--data-binary", "@" + body, gw_->url("/peer/drop-if-kept")});
  EXPECT_EQ(peer_->count("DROP"), drops + 1) << "the request did not land on the kept connection";
  ASSERT_EQ(r.status, c.status) << r.body << gw_->errorLog();
  if (c.status == 200) {
    EXPECT_NE(r.body.find("stdin=" + std::to_string(c.body) + "\n"), std::string::npos) << r.body;
    EXPECT_NE(r.header("x-conn"), first.header("x-conn")) << "answered on the connection that was closed";
  } else {
    EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  }
  // Learnt: connections to this server are no longer kept (for PUT10, the retry's connection would
  // otherwise be reused and dropped again), so the next request cannot race.
  auto next = curl({"-X", c.method, "--data-binary", "@" + body, gw_->url("/peer/drop-if-kept")});
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(peer_->count("DROP"), drops + 1);
}

INSTANTIATE_TEST_SUITE_P(FramedIT, KeptConnectionClosed,
                         ::testing::Values(KeptConnectionCase{"PUT", 10, 200}, KeptConnectionCase{"PUT", 100 * 1024, 502},
                                           KeptConnectionCase{"POST", 10, 502}),
                         [](const auto& info) {
                           return std::string(info.param.method) + std::to_string(info.param.body);
                         });

TEST_F(FramedIT, FastCgiMultiplexesWhenTheWorkerSaysItCan) {
  startAll();
  ASSERT_EQ(curl({gw_->url("/peer/warm")}).status, 200);  // GET_VALUES answered: MPXS_CONNS=1
  std::vector<std::thread> ts;
  std::vector<CurlResult> rs(4);
  for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { rs[i] = curl({gw_->url("/peer/delay")}); });
  for (auto& t : ts) t.join();
  std::set<std::string> conns, ids;
  for (auto& r : rs) {
    ASSERT_EQ(r.status, 200) << r.body;
    conns.insert(r.header("x-conn").value_or("?"));
    ids.insert(r.body.substr(0, r.body.find(' ')));
  }
  EXPECT_EQ(conns.size(), 1u) << "the four requests did not share the connection";
  EXPECT_GE(ids.size(), 2u) << "several request ids on one connection";
}

TEST_F(FramedIT, PhpFpmOverTcpAndUnixSocket) {
  startAll();
  for (const char* t : {"php-tcp", "php-unix"}) {
    SCOPED_TRACE(t);
    auto r = curl({"-H", "X-Test: php", "-H", "Proxy: evil", "--data-binary", "php body",
                   gw_->url("/"s + t + "/some/path?k=v&stderr=" + t)});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(jsonString(r.body, "SCRIPT_FILENAME").value_or(""), php_->docroot + "/index.php");
    EXPECT_EQ(jsonString(r.body, "DOCUMENT_ROOT").value_or(""), php_->docroot);
    EXPECT_EQ(jsonString(r.body, "EXTRA_PARAM").value_or(""), "extra-value");
    EXPECT_EQ(jsonString(r.body, "PATH_INFO").value_or(""), "/some/path");
    EXPECT_EQ(jsonString(r.body, "SCRIPT_NAME").value_or(""), "/"s + t);
    EXPECT_EQ(jsonString(r.body, "HTTP_X_TEST").value_or(""), "php");
    EXPECT_EQ(jsonString(r.body, "body").value_or(""), "php body");
    EXPECT_FALSE(jsonString(r.body, "HTTP_PROXY").has_value());
    // PHP's error_log() arrives as FCGI_STDERR and lands in the error log with the request id.
    std::string rid = r.header("x-request-id").value_or("?");
    EXPECT_TRUE(waitUntil(
        [&] {
          std::string log = gw_->errorLog();
          size_t at = log.find("php-stderr-"s + t);
          return at != std::string::npos && log.rfind("rid=" + rid, at) != std::string::npos;
        },
        3000ms))
        << gw_->errorLog();
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming with bounded memory

TEST_F(FramedIT, HundredMegabyteUploadAndDownloadWithBoundedMemory) {
  startAll();
  const uint64_t n = 100ull << 20;
  std::string file = tmp_->file("upload.bin");
  std::string sha = writePatternFile(file, n);
  long base = readMem(gw_->pid()).hwm_kb;
  for (const char* t : {"fcgi-tcp", "uwsgi-unix"}) {
    SCOPED_TRACE(t);
    auto up = curl({"--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
                    gw_->url("/"s + t + "/upload")},
                   120000ms);
    ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
    EXPECT_EQ(up.status, 200) << up.body;
    EXPECT_EQ(jsonNumber(up.body, "bytes").value_or(-1), static_cast<long long>(n));
    EXPECT_EQ(jsonString(up.body, "sha256").value_or(""), sha);

    std::string out = tmp_->file("download.bin");
    auto down = curl({"-o", out, gw_->url("/"s + t + "/download?n=" + std::to_string(n))}, 120000ms);
    ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
    EXPECT_EQ(down.status, 200);
    EXPECT_EQ(sha256File(out), sha);
    std::filesystem::remove(out);
  }
  long peak = readMem(gw_->pid()).hwm_kb;
  // Buffers are 256 KiB per side: a whole-body copy would add 100 MB.
  EXPECT_LT(peak - base, 32 * 1024) << "VmHWM grew from " << base << " kB to " << peak << " kB";
}

// A body of unknown length (chunked here; HTTP/2 without content-length alike) is spooled until its
// end (memory, then an unlinked temporary file) so CONTENT_LENGTH can go first, as nginx does.
TEST_F(FramedIT, ChunkedUploadIsSpooledWithItsLength) {
  startAll();
  const uint64_t n = 40ull << 20;
  std::string file = tmp_->file("chunked.bin");
  std::string sha = writePatternFile(file, n);
  long base = readMem(gw_->pid()).hwm_kb;
  for (const char* t : {"fcgi-tcp", "uwsgi-unix"}) {
    SCOPED_TRACE(t);
    auto up = curl({"--data-binary", "@" + file, "-H", "Transfer-Encoding: chunked", "-H",
                    "Content-Type: application/octet-stream", gw_->url("/"s + t + "/upload")},
                   120000ms);
    ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
    EXPECT_EQ(up.status, 200) << up.body;
    EXPECT_EQ(jsonNumber(up.body, "bytes").value_or(-1), static_cast<long long>(n));
    EXPECT_EQ(jsonString(up.body, "sha256").value_or(""), sha);
  }
  auto small = rawRequest(gw_->port(), "POST /fcgi-tcp/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "3\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200) << small->body;
  EXPECT_EQ(jsonNumber(small->body, "bytes").value_or(-1), 3);
  long peak = readMem(gw_->pid()).hwm_kb;
  EXPECT_LT(peak - base, 32 * 1024) << "VmHWM grew from " << base << " kB to " << peak << " kB";
}

// ---------------------------------------------------------------------------------------------
// Client abort, dying workers, bad workers

TEST_F(FramedIT, ClientAbortMidUploadSendsAbortRequest) {
  startAll();
  RawClient c(gw_->port());
  const size_t holds = peer_->count("PATH"), aborts = peer_->count("ABORT");
  ASSERT_TRUE(c.send("POST /peer/hold HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + std::string(100000, 'a')));
  // The request reached the worker (the peer's log is shared by the suite's tests: count anew).
  ASSERT_TRUE(waitUntil([&] { return peer_->count("PATH") > holds; }, 5000ms));
  ::shutdown(c.fd(), SHUT_RDWR);  // the client goes away mid-upload
  EXPECT_TRUE(waitUntil([&] { return peer_->count("ABORT") > aborts; }, 5000ms)) << readFile(peer_->log);
  // The connection got its END_REQUEST back and stays usable.
  EXPECT_EQ(curl({gw_->url("/peer/after-abort")}).status, 200);
}

TEST_F(FramedIT, ClientAbortMidUploadFreesTheWorker) {
  // One uWSGI process and one php-fpm child: a stuck worker would block the next request.
  auto single = Uwsgi::start(tmp_->path(), 1, "single");
  std::string u = "  - name: one-fcgi\n    kind: fastcgi\n    servers: [\"" + single->server("fcgi-tcp") +
                  "\"]\n    response_timeout: 20s\n";
  u += "  - name: one-uwsgi\n    kind: uwsgi\n    servers: [\"" + single->server("uwsgi-unix") + "\"]\n";
  u += "  - name: php-one\n    kind: fastcgi\n    servers: [\"unix:" + php_->sock + "\"]\n";
  std::string r = "  - prefix: /f\n    upstream: one-fcgi\n  - prefix: /u\n    upstream: one-uwsgi\n";
  r += "  - prefix: /p\n    upstream: php-one\n    cgi: {script_filename: " + php_->docroot + "/index.php}\n";
  start(u, r);
  for (const char* p : {"/f", "/u", "/p"}) {
    SCOPED_TRACE(p);
    {
      RawClient c(gw_->port());
      ASSERT_TRUE(c.send("POST "s + p + "/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" +
                         std::string(200000, 'b')));
      std::this_thread::sleep_for(200ms);  // let the worker start reading the body
      ::shutdown(c.fd(), SHUT_RDWR);
    }
    auto next = curl({"--max-time", "15", gw_->url(std::string(p) + "/pid")});
    EXPECT_EQ(next.status, 200) << next.body << gw_->errorLog();
  }
}

TEST_F(FramedIT, WorkerKilledMidResponseIsACleanErrorAndTheNextRequestWorks) {
  startAll();
  for (const char* t : {"fcgi-tcp", "uwsgi-tcp"}) {
    SCOPED_TRACE(t);
    RawClient c(gw_->port());
    ASSERT_TRUE(c.send("GET /"s + t + "/slow HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got = c.readSome(8192, 5000ms);
    size_t at = got.find("X-Pid: ");
    if (at == std::string::npos) at = got.find("x-pid: ");
    ASSERT_NE(at, std::string::npos) << got;
    pid_t pid = std::stoi(got.substr(at + 7));
    ASSERT_GT(pid, 1);
    kill(pid, SIGKILL);
    std::string rest = got + c.readUntilClose(10000ms);
    auto resp = takeResponse(rest, true);
    ASSERT_TRUE(resp);
    EXPECT_EQ(resp->status, 200);
    EXPECT_FALSE(resp->complete) << "a cut response must not look complete";
    EXPECT_TRUE(c.peerClosed());
    // uWSGI respawns the worker; meanwhile the other one answers.
    auto next = curl({gw_->url("/"s + t + "/pid")});
    EXPECT_EQ(next.status, 200) << next.body;
  }
}

TEST_F(FramedIT, BrokenFastCgiIs502ProblemJson) {
  startAll();
  auto r = rawRequest(gw_->port(), "GET /peer/garbage HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  expectProblem(*r, 502);
  // Content-Length 10 with 3 bytes then END_REQUEST: the client sees a truncated message.
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("GET /peer/short HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string all = c.readUntilClose(5000ms);
  auto resp = takeResponse(all, true);
  // The head may or may not have left the gateway before the reset; never a complete message.
  if (resp) {
    EXPECT_FALSE(resp->complete) << resp->body;
  }
  EXPECT_TRUE(c.peerClosed());
  EXPECT_EQ(curl({gw_->url("/peer/ok")}).status, 200);
  EXPECT_NE(gw_->errorLog().find("fastcgi_body_shorter_than_content_length"), std::string::npos) << gw_->errorLog();
}

// ---------------------------------------------------------------------------------------------
// Pools: queue, timeouts, health

TEST_F(FramedIT, FullQueueIs503WithRetryAfter) {
  std::string u = "  - name: capped\n    kind: uwsgi\n    servers: [\"" + uwsgi_->server("uwsgi-tcp") +
                  "\"]\n    max_requests_per_server: 1\n    queue_size: 1\n    queue_timeout: 20s\n";
  start(u, "  - prefix: /c\n    upstream: capped\n");
  std::thread slow([&] { EXPECT_EQ(curl({gw_->url("/c/sleep?s=1.5")}).status, 200); });
  ASSERT_TRUE(waitUntil([&] { return readFile(uwsgi_->log).find("/c/sleep") != std::string::npos || true; }, 100ms));
  std::this_thread::sleep_for(300ms);
  std::thread queued([&] { EXPECT_EQ(curl({gw_->url("/c/pid")}).status, 200); });  // waits its turn
  std::this_thread::sleep_for(300ms);
  auto r = rawRequest(gw_->port(), "GET /c/pid HTTP/1.1\r\nHost: x\r\n\r\n");  // one too many
  ASSERT_TRUE(r);
  expectProblem(*r, 503);
  EXPECT_TRUE(r->header("retry-after").has_value());
  slow.join();
  queued.join();
}

TEST_F(FramedIT, TimeoutsAndRefusalsAreProblemJson) {
  uint16_t dead = deadPort();
  std::string u = "  - name: dead\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(dead) + "\"]\n";
  u += "  - name: nosock\n    kind: uwsgi\n    servers: [\"unix:" + tmp_->file("missing.sock") + "\"]\n";
  u += "  - name: slow\n    kind: fastcgi\n    servers: [\"" + uwsgi_->server("fcgi-tcp") +
       "\"]\n    response_timeout: 500ms\n    retries: 0\n";
  start(u, "  - prefix: /dead\n    upstream: dead\n  - prefix: /nosock\n    upstream: nosock\n"
           "  - prefix: /slow\n    upstream: slow\n");
  for (const char* p : {"/dead/x", "/nosock/x"}) {
    auto r = rawRequest(gw_->port(), "GET "s + p + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r) << p;
    expectProblem(*r, 502);
  }
  auto r = rawRequest(gw_->port(), "GET /slow/sleep?s=2 HTTP/1.1\r\nHost: x\r\n\r\n", 10000ms);
  ASSERT_TRUE(r);
  expectProblem(*r, 504);
}

TEST_F(FramedIT, ActiveHealthCheckTakesADeadWorkerOut) {
  uint16_t dead = deadPort();
  std::string u = "  - name: pool\n    kind: uwsgi\n    balance: round_robin\n    retries: 0\n"
                  "    servers: [\"127.0.0.1:" + std::to_string(dead) + "\", \"" + uwsgi_->server("uwsgi-tcp") +
                  "\"]\n    health_check: {path: /pool/pid, interval: 200ms, timeout: 1s}\n";
  start(u, "  - prefix: /pool\n    upstream: pool\n");
  ASSERT_TRUE(waitUntil([&] { return gw_->errorLog().find("failed its health check") != std::string::npos; }, 5000ms))
      << gw_->errorLog();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(curl({gw_->url("/pool/pid")}).status, 200) << i;
}

// The peer's log line "PATH conn=C id=I path=P" of the last request to `suffix`: C. The log is
// shared by the suite's tests: only lines from `from_line` on count (a test passes the log's
// length before its own requests).
std::string connOfPath(const FcgiPeer& peer, std::string_view suffix, size_t from_line) {
  std::string conn;
  auto lines = peer.lines();
  for (size_t i = from_line; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("PATH ", 0) == 0 && l.ends_with(suffix)) conn = l.substr(5, l.find(' ', 5) - 5);
  }
  return conn;  // "conn=C"
}

TEST_F(FramedIT, BodilessStatusesAndHeadKeepTheWorkerHealthy) {
  startAll();
  // Status: 304 with Content-Length and no body is complete, not a short body.
  auto r = rawRequest(gw_->port(), "GET /peer/not-modified HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->header("etag").value_or(""), "\"v1\"");
  // HEAD keeps the application's Content-Length (the peer sends the body anyway: dropped).
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("HEAD /peer/ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto h = c.readResponse(5000ms, true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto get = curl({gw_->url("/peer/ok")});
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(h->header("content-length").value_or("none"), std::to_string(get.body.size()));
  std::string log = gw_->errorLog();
  EXPECT_EQ(log.find("fastcgi_body_shorter_than_content_length"), std::string::npos) << log;
  EXPECT_EQ(log.find("bad response"), std::string::npos) << log;
}

TEST_F(FramedIT, LocalRedirectOutsideTheRouteOrWithDotSegmentsIs502) {
  startAll();
  for (const char* p : {"/peer/redir-dots", "/peer/redir-out"}) {
    SCOPED_TRACE(p);
    auto r = rawRequest(gw_->port(), "GET "s + p + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    expectProblem(*r, 502);
  }
  EXPECT_TRUE(waitUntil([&] { return gw_->errorLog().find("(outside the route's prefix)") != std::string::npos; }, 3000ms));
  std::string log = gw_->errorLog();
  EXPECT_NE(log.find("local redirect to \"/peer/a/%2e%2e/b\" refused (dot segment)"), std::string::npos) << log;
  EXPECT_NE(log.find("local redirect to \"/fcgi-tcp/x\" refused (outside the route's prefix)"), std::string::npos) << log;
  // A redirect inside the route is followed.
  auto ok = curl({gw_->url("/peer/redir-ok")});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("id="), std::string::npos) << ok.body;
}

// The worker answers (a local redirect) before it read the body: the rest of the body goes
// nowhere (no STDIN record after an empty one), and that connection is closed, not pooled.
TEST_F(FramedIT, BodyAfterALocalRedirectIsDroppedAndTheConnectionClosed) {
  startAll();
  ASSERT_EQ(curl({gw_->url("/peer/warm")}).status, 200);
  size_t before = peer_->count("STDIN_AFTER_END");
  const size_t mark = peer_->lines().size();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /peer/redir-early HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n" + std::string(10000, 'a')));
  // The redirect went out as GET /peer/delay (answered after 300 ms); more body meanwhile.
  ASSERT_TRUE(waitUntil([&] { return !connOfPath(*peer_, "path=/delay", mark).empty(); }, 5000ms))
      << readFile(peer_->log);
  ASSERT_TRUE(c.send(std::string(10000, 'b')));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(c.send(std::string(10000, 'c')));
  auto r = c.readResponse(5000ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(peer_->count("STDIN_AFTER_END"), before) << readFile(peer_->log);
  std::string conn = connOfPath(*peer_, "path=/redir-early", mark);
  ASSERT_FALSE(conn.empty());
  EXPECT_TRUE(waitUntil([&] { return peer_->hasLine("CLOSE " + conn); }, 3000ms))
      << "the connection with an unfinished STDIN went back to the pool\n" << readFile(peer_->log);
}

// On a multiplexed connection a request aborted while another one runs: once the other one is
// done, the abort grace still applies and closes the connection when END_REQUEST never comes.
TEST_F(FramedIT, AbortGraceAppliesAfterTheLastMultiplexedStream) {
  startAll();
  ASSERT_EQ(curl({gw_->url("/peer/warm")}).status, 200);  // MPXS_CONNS=1 learnt
  const size_t mark = peer_->lines().size();
  auto client = std::make_unique<RawClient>(gw_->port());
  ASSERT_TRUE(client->send("GET /peer/hold-deaf HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(waitUntil([&] { return !connOfPath(*peer_, "path=/hold-deaf", mark).empty(); }, 5000ms));
  std::string conn = connOfPath(*peer_, "path=/hold-deaf", mark);
  std::thread other([&] { EXPECT_EQ(curl({gw_->url("/peer/delay")}).status, 200); });
  ASSERT_TRUE(waitUntil([&] { return !connOfPath(*peer_, "path=/delay", mark).empty(); }, 5000ms));
  EXPECT_EQ(connOfPath(*peer_, "path=/delay", mark), conn) << "not multiplexed";
  size_t aborts = peer_->count("ABORT " + conn);
  ::shutdown(client->fd(), SHUT_RDWR);  // the first client goes away: FCGI_ABORT_REQUEST, never answered
  ASSERT_TRUE(waitUntil([&] { return peer_->count("ABORT " + conn) > aborts; }, 5000ms));
  other.join();
  EXPECT_TRUE(waitUntil([&] { return peer_->hasLine("CLOSE " + conn); }, 6000ms))
      << "the connection waiting for END_REQUEST was leaked\n" << readFile(peer_->log);
}

TEST_F(FramedIT, UwsgiVarsOver64KiBAre431) {
  std::string y = "workers: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1\n    port: 0\n"
                  "limits: {max_header_bytes: 200000}\n"
                  "upstreams:\n  - name: u\n    kind: uwsgi\n    servers: [\"" + uwsgi_->server("uwsgi-tcp") + "\"]\n"
                  "routes:\n  - prefix: /u\n    upstream: u\n";
  gw_ = Gateway::start(tmp_->path(), y);
  std::string req = "GET /u/pid HTTP/1.1\r\nHost: x\r\n";
  // 66 KB of fields: over the 64 KiB vars packet, under http_parser's own 80 KiB head limit.
  for (int i = 0; i < 2; ++i) req += "X-Big-" + std::to_string(i) + ": " + std::string(33000, 'v') + "\r\n";
  auto r = rawRequest(gw_->port(), req + "\r\n");
  ASSERT_TRUE(r);
  expectProblem(*r, 431);
  EXPECT_TRUE(waitUntil([&] { return gw_->errorLog().find("uwsgi vars packet of") != std::string::npos; }, 3000ms))
      << gw_->errorLog();
  EXPECT_EQ(curl({gw_->url("/u/pid")}).status, 200);
}

// php-fpm answers 404 without a real SCRIPT_FILENAME: the probe carries one.
TEST_F(FramedIT, HealthCheckWithScriptFilenameKeepsPhpFpmInService) {
  std::string u = "  - name: php\n    kind: fastcgi\n    servers: [\"127.0.0.1:" + std::to_string(php_->port) +
                  "\"]\n    max_requests_per_server: 4\n"
                  "    health_check: {path: /health, interval: 200ms, timeout: 1s, document_root: " + php_->docroot +
                  ", script_filename: \"{document_root}/index.php\"}\n";
  start(u, "  - prefix: /php\n    upstream: php\n    cgi: {script_filename: " + php_->docroot + "/index.php}\n");
  std::this_thread::sleep_for(1200ms);
  std::string log = gw_->errorLog();
  EXPECT_EQ(log.find("failed its health check"), std::string::npos) << log;
  EXPECT_EQ(curl({gw_->url("/php/x")}).status, 200);
}

TEST_F(FramedIT, CgiParamsOnAnHttpRouteAreAConfigError) {
  std::string y =
      "upstreams:\n  - name: web\n    servers: [\"127.0.0.1:1\"]\n    queue_size: 3\n"
      "routes:\n  - prefix: /\n    upstream: web\n    cgi: {document_root: /srv}\n";
  std::string path = tmp_->write("bad.yaml", y);
  auto p = Process::spawn({gatewaydPath(), "-c", path, "--check-config"}, tmp_->file("o"), tmp_->file("e"));
  EXPECT_EQ(p->waitExit(10000ms).value_or(-1), 1);
  std::string err = readFile(tmp_->file("e")) + readFile(tmp_->file("o"));
  EXPECT_NE(err.find("/routes/0/cgi: CGI params need an upstream of kind fastcgi or uwsgi"), std::string::npos) << err;
  EXPECT_NE(err.find("/upstreams/0/queue_size: only for upstreams of kind fastcgi or uwsgi"), std::string::npos) << err;
}

}  // namespace
}  // namespace gwtest
