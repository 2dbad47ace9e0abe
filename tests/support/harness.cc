#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

#ifndef GW_GATEWAYD_PATH
#error "GW_GATEWAYD_PATH must be defined by CMake"
#endif
#ifndef GW_SOURCE_DIR
#error "GW_SOURCE_DIR must be defined by CMake"
#endif

namespace gwtest {

namespace {
using Clock = std::chrono::steady_clock;

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (tolower(static_cast<unsigned char>(a[i])) != tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view trimWs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> findHeader(const std::vector<std::pair<std::string, std::string>>& hs,
                                      std::string_view name) {
  for (const auto& [k, v] : hs) {
    if (ieq(k, name)) return v;
  }
  return std::nullopt;
}

// Parses "HTTP/1.1 200 OK\r\nA: b\r\n..." (no final empty line).
bool parseHead(std::string_view head, HttpResponse& r) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  r.version = std::string(line.substr(0, sp1));
  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  std::string code(rest.substr(0, sp2));
  r.status = std::atoi(code.c_str());
  r.reason = sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1));
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view l = head.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
    if (l.empty()) continue;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    r.headers.emplace_back(std::string(l.substr(0, colon)), std::string(trimWs(l.substr(colon + 1))));
  }
  return true;
}

}  // namespace

std::string gatewaydPath() { return GW_GATEWAYD_PATH; }
std::string sourceDir() { return GW_SOURCE_DIR; }
std::string supportDir() { return sourceDir() + "/tests/support"; }

// ---------------------------------------------------------------------------------------------

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "gwit.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed: " + std::string(strerror(errno)));
  path_ = tmpl;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  if (getenv("GW_KEEP_TMP")) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + p);
  return p;
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

bool waitUntil(const std::function<bool()>& pred, Millis timeout, Millis step) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Process> Process::spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                                        const std::string& stderr_path,
                                        const std::vector<std::pair<std::string, std::string>>& env) {
  // Everything the child needs is prepared before fork: the child only calls async-signal-safe functions.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    bool overridden = false;
    for (const auto& [k, v] : env) overridden = overridden || (kv.starts_with(k) && kv.size() > k.size() && kv[k.size()] == '=');
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || devnull < 0) throw std::runtime_error("cannot open output files for " + argv[0]);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    execve(args[0], args.data(), envp.data());
    static const char msg[] = "exec failed\n";
    ssize_t ignored = ::write(2, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent: no race with an early signalGroup
  ::close(out);
  ::close(err);
  ::close(devnull);
  auto p = std::unique_ptr<Process>(new Process());
  p->pid_ = pid;
  p->out_ = stdout_path;
  p->err_ = stderr_path;
  return p;
}

Process::~Process() { stop(SIGTERM, 3000ms); }

bool Process::running() {
  if (status_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::waitExit(Millis timeout) {
  waitUntil([&] { return !running(); }, timeout, 5ms);
  return status_;
}

void Process::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

void Process::signalGroup(int sig) const {
  if (pid_ > 0) kill(-pid_, sig);
}

void Process::stop(int sig, Millis grace) {
  if (pid_ <= 0) return;
  if (running()) {
    signal(sig);
    waitExit(grace);
  }
  signalGroup(SIGKILL);  // whatever is left of the group (e.g. gunicorn workers)
  if (!status_) waitExit(2000ms);
}

std::string Process::stdoutText() const { return readFile(out_); }
std::string Process::stderrText() const { return readFile(err_); }

// ---------------------------------------------------------------------------------------------

namespace {
int connectLoopback(uint16_t port, int rcvbuf = 0) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}
}  // namespace

bool canConnect(uint16_t port) {
  int fd = connectLoopback(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

bool waitForPort(uint16_t port, Millis timeout) {
  return waitUntil([&] { return canConnect(port); }, timeout, 20ms);
}

uint16_t deadPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

MemInfo readMem(pid_t pid) {
  MemInfo m;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("VmRSS:")) m.rss_kb = std::atol(line.c_str() + 6);
    if (line.starts_with("VmHWM:")) m.hwm_kb = std::atol(line.c_str() + 6);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------

std::optional<std::string> HttpResponse::header(std::string_view name) const { return findHeader(headers, name); }

size_t HttpResponse::headerCount(std::string_view name) const {
  size_t n = 0;
  for (const auto& [k, v] : headers) n += ieq(k, name) ? 1 : 0;
  return n;
}

std::optional<HttpResponse> takeResponse(std::string& buf, bool at_eof, bool head_request) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (at_eof && !buf.empty()) {  // a torn head: report it as such
      HttpResponse r;
      parseHead(buf, r);
      buf.clear();
      return r;
    }
    return std::nullopt;
  }
  HttpResponse r;
  if (!parseHead(std::string_view(buf).substr(0, end), r)) {
    HttpResponse bad;
    bad.body = buf;
    buf.clear();
    return bad;
  }
  size_t pos = end + 4;
  const bool no_body = head_request || r.status < 200 || r.status == 204 || r.status == 304;
  auto te = r.header("transfer-encoding");
  auto cl = r.header("content-length");
  if (no_body) {
    r.complete = true;
    buf.erase(0, pos);
    return r;
  }
  if (te && ieq(trimWs(*te), "chunked")) {
    size_t p = pos;
    std::string body;
    while (true) {
      size_t eol = buf.find("\r\n", p);
      if (eol == std::string::npos) break;
      std::string size_line = buf.substr(p, eol - p);
      unsigned long long n = std::strtoull(size_line.c_str(), nullptr, 16);
      if (n == 0) {
        // trailers until an empty line
        size_t q = eol + 2;
        while (true) {
          size_t e2 = buf.find("\r\n", q);
          if (e2 == std::string::npos) goto incomplete;
          if (e2 == q) {
            r.body = std::move(body);
            r.complete = true;
            buf.erase(0, e2 + 2);
            return r;
          }
          q = e2 + 2;
        }
      }
      if (buf.size() < eol + 2 + n + 2) break;
      body.append(buf, eol + 2, n);
      p = eol + 2 + n + 2;
    }
  incomplete:
    if (!at_eof) return std::nullopt;
    // Truncated chunked body: return what was decoded so far.
    {
      size_t p2 = pos;
      std::string partial;
      while (true) {
        size_t eol = buf.find("\r\n", p2);
        if (eol == std::string::npos) break;
        unsigned long long n = std::strtoull(buf.substr(p2, eol - p2).c_str(), nullptr, 16);
        if (n == 0) break;
        size_t avail = std::min<size_t>(n, buf.size() - (eol + 2));
        partial.append(buf, eol + 2, avail);
        if (avail < n) break;
        p2 = eol + 2 + n + 2;
        if (p2 > buf.size()) break;
      }
      r.body = std::move(partial);
    }
    r.complete = false;
    buf.clear();
    return r;
  }
  if (cl) {
    size_t n = std::strtoull(cl->c_str(), nullptr, 10);
    if (buf.size() - pos >= n) {
      r.body = buf.substr(pos, n);
      r.complete = true;
      buf.erase(0, pos + n);
      return r;
    }
    if (!at_eof) return std::nullopt;
    r.body = buf.substr(pos);
    r.complete = false;
    buf.clear();
    return r;
  }
  if (!at_eof) return std::nullopt;
  r.body = buf.substr(pos);
  r.complete = true;  // close-delimited
  buf.clear();
  return r;
}

std::vector<HttpResponse> parseAllResponses(std::string buf) {
  std::vector<HttpResponse> out;
  while (!buf.empty()) {
    auto r = takeResponse(buf, true);
    if (!r) break;
    out.push_back(std::move(*r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

RawClient::RawClient(uint16_t port, int rcvbuf) { fd_ = connectLoopback(port, rcvbuf); }

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawClient::shutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawClient::fill(Millis timeout) {
  if (fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(std::max<long long>(0, timeout.count())));
  if (r <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) {
    eof_ = true;  // orderly close or reset: either way no more bytes
    return false;
  }
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

std::string RawClient::readUntilClose(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) break;
    fill(left);
  }
  return std::exchange(buf_, std::string());
}

std::optional<HttpResponse> RawClient::readResponse(Millis timeout, bool head_request) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (auto r = takeResponse(buf_, false, head_request)) return r;
    if (eof_) return takeResponse(buf_, true, head_request);
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    fill(left);
  }
}

std::string RawClient::readSome(size_t n, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (buf_.size() < n && !eof_) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) break;
    fill(left);
  }
  std::string out = buf_.substr(0, std::min(n, buf_.size()));
  buf_.erase(0, out.size());
  return out;
}

std::optional<HttpResponse> rawRequest(uint16_t port, std::string_view bytes, Millis timeout) {
  RawClient c(port);
  if (!c.connected() || !c.send(bytes)) return std::nullopt;
  return c.readResponse(timeout);
}

// ---------------------------------------------------------------------------------------------

std::optional<std::string> CurlResult::header(std::string_view name) const { return findHeader(headers, name); }

CurlResult curl(const std::vector<std::string>& args, Millis timeout) {
  TempDir tmp;
  std::string hdr = tmp.file("headers"), body = tmp.file("body");
  std::vector<std::string> argv{"/usr/bin/curl", "-sS", "-D", hdr, "-w", "%{http_code}"};
  bool has_output = false;
  for (const auto& a : args) has_output = has_output || a == "-o" || a == "--output" || a == "--remote-name-all";
  if (!has_output) {
    argv.push_back("-o");
    argv.push_back(body);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = Process::spawn(argv, tmp.file("stdout"), tmp.file("stderr"));
  CurlResult r;
  auto code = p->waitExit(timeout);
  if (!code) {
    p->stop(SIGKILL, 1000ms);
    r.exit_code = -1;
    r.stderr_text = "curl timed out";
    return r;
  }
  r.exit_code = *code;
  r.status = std::atoi(p->stdoutText().c_str());
  r.stderr_text = p->stderrText();
  if (!has_output) r.body = readFile(body);
  std::string h = readFile(hdr);
  // The last response head in the file (100 Continue and earlier URLs come first).
  std::string_view last;
  for (size_t pos = 0; pos < h.size();) {
    size_t end = h.find("\r\n\r\n", pos);
    std::string_view block = std::string_view(h).substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (block.starts_with("HTTP/")) last = block;
    if (end == std::string::npos) break;
    pos = end + 4;
  }
  HttpResponse tmp_resp;
  parseHead(last, tmp_resp);
  r.headers = std::move(tmp_resp.headers);
  return r;
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<Gunicorn> Gunicorn::start(const std::string& dir) {
  auto g = std::unique_ptr<Gunicorn>(new Gunicorn());
  static std::atomic<int> n{0};
  std::string tag = "gunicorn" + std::to_string(n++);
  g->record_ = dir + "/" + tag + "-requests.log";
  std::string errlog = dir + "/" + tag + ".err";
  g->proc_ = Process::spawn({"/usr/bin/gunicorn", "--bind", "127.0.0.1:0", "--workers", "1", "--worker-class",
                             "gthread", "--threads", "4", "--keep-alive", "30", "--timeout", "120",
                             "--graceful-timeout", "1", "--chdir", supportDir(), "wsgi_app:application"},
                            dir + "/" + tag + ".out", errlog, {{"GW_RECORD_FILE", g->record_}});
  // gunicorn logs "Listening at: http://127.0.0.1:PORT (pid)" with the port the OS chose.
  bool ok = waitUntil([&] {
    std::string t = readFile(errlog);
    size_t p = t.find("Listening at: http://127.0.0.1:");
    if (p == std::string::npos) return false;
    g->port_ = static_cast<uint16_t>(std::atoi(t.c_str() + p + std::strlen("Listening at: http://127.0.0.1:")));
    return g->port_ != 0 && t.find("Booting worker", p) != std::string::npos;
  }, 10000ms);
  if (!ok || !waitForPort(g->port_, 5000ms)) {
    throw std::runtime_error("gunicorn did not start: " + readFile(errlog));
  }
  return g;
}

Gunicorn::~Gunicorn() {
  if (proc_) proc_->stop(SIGKILL, 2000ms);
}

bool Gunicorn::sawPathContaining(std::string_view needle) const {
  for (const auto& l : recorded()) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool Gunicorn::waitForRecord(std::string_view needle, Millis timeout) const {
  return waitUntil([&] { return sawPathContaining(needle); }, timeout);
}

std::unique_ptr<BadBackend> BadBackend::start(const std::string& dir) {
  auto b = std::unique_ptr<BadBackend>(new BadBackend());
  static std::atomic<int> n{0};
  std::string tag = "bad" + std::to_string(n++);
  b->record_ = dir + "/" + tag + "-requests.log";
  std::string out = dir + "/" + tag + ".out";
  b->proc_ = Process::spawn({"/usr/bin/python3", supportDir() + "/bad_backend.py"}, out, dir + "/" + tag + ".err",
                            {{"GW_RECORD_FILE", b->record_}});
  bool ok = waitUntil([&] {
    std::string t = readFile(out);
    size_t p = t.find("PORT ");
    if (p == std::string::npos || t.find('\n', p) == std::string::npos) return false;
    b->port_ = static_cast<uint16_t>(std::atoi(t.c_str() + p + 5));
    return b->port_ != 0;
  }, 10000ms);
  if (!ok) throw std::runtime_error("bad_backend.py did not start: " + b->proc_->stderrText());
  return b;
}

BadBackend::~BadBackend() {
  if (proc_) proc_->stop(SIGKILL, 2000ms);
}

std::unique_ptr<Gateway> Gateway::start(const std::string& dir, const std::string& yaml,
                                        const std::vector<std::string>& extra_args) {
  static std::atomic<int> n{0};
  std::string tag = "gatewayd-" + std::to_string(n++);
  auto g = std::unique_ptr<Gateway>(new Gateway());
  g->config_ = dir + "/" + tag + ".yaml";
  {
    std::ofstream f(g->config_);
    f << yaml;
  }
  std::vector<std::string> argv{gatewaydPath(), "-c", g->config_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  // Under ASan (GW_SANITIZE builds) freed memory sits in a 256 MB quarantine, which would read as
  // buffering in the memory-bound tests; a small quarantine keeps use-after-free detection.
  std::vector<std::pair<std::string, std::string>> env;
  if (!getenv("ASAN_OPTIONS")) env.emplace_back("ASAN_OPTIONS", "quarantine_size_mb=8");
  g->proc_ = Process::spawn(argv, dir + "/" + tag + ".out", dir + "/" + tag + ".err", env);
  // "listening on http://ADDRESS:PORT (listener ..." (https:// on a TLS listener): the port
  // follows the last ':' of the first listener's URL.
  const std::string needle = "listening on ";
  bool ok = waitUntil([&] {
    std::string t = g->proc_->stderrText();
    size_t p = t.find(needle);
    size_t end = p == std::string::npos ? p : t.find(' ', p + needle.size());
    if (end != std::string::npos) {
      size_t colon = t.rfind(':', end);
      g->port_ = static_cast<uint16_t>(std::atoi(t.c_str() + colon + 1));
      return g->port_ != 0;
    }
    return !g->proc_->running();
  }, 10000ms);
  if (!ok || g->port_ == 0) {
    throw std::runtime_error("gatewayd did not start:\n" + g->proc_->stderrText() + "\nconfig:\n" + yaml);
  }
  // The log line comes after the listeners are bound; the probe covers IPv4 loopback listeners.
  const std::string t = g->proc_->stderrText();
  if ((t.find(needle + "http://127.0.0.1:") != std::string::npos ||
       t.find(needle + "https://127.0.0.1:") != std::string::npos) &&
      !waitForPort(g->port_, 5000ms)) {
    throw std::runtime_error("gatewayd port never opened");
  }
  return g;
}

std::string Gateway::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string Gateway::httpsUrl(std::string_view path, std::string_view host) const {
  return "https://" + std::string(host) + ":" + std::to_string(port_) + std::string(path);
}

ToolResult runTool(const std::vector<std::string>& argv, Millis timeout) {
  TempDir tmp;
  auto p = Process::spawn(argv, tmp.file("stdout"), tmp.file("stderr"));
  ToolResult r;
  auto code = p->waitExit(timeout);
  if (!code) {
    p->stop(SIGKILL, 1000ms);
    r.err = "timed out";
    return r;
  }
  r.exit_code = *code;
  r.out = p->stdoutText();
  r.err = p->stderrText();
  return r;
}

// ---------------------------------------------------------------------------------------------

namespace {
std::string hex(const unsigned char* d, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += k[d[i] >> 4];
    s += k[d[i] & 15];
  }
  return s;
}
}  // namespace

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

std::string sha256File(const std::string& path) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::ifstream f(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (f.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(f.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return hex(md, len);
}

std::string writePatternFile(const std::string& path, uint64_t n) {
  std::string block(251 * 4096, '\0');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(patternByte(i));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (uint64_t done = 0; done < n;) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(block.size(), n - done));
    f.write(block.data(), static_cast<std::streamsize>(k));
    EVP_DigestUpdate(ctx, block.data(), k);
    done += k;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  if (!f) throw std::runtime_error("cannot write " + path);
  return hex(md, len);
}

std::optional<uint64_t> firstPatternMismatch(std::string_view data, uint64_t offset) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (static_cast<unsigned char>(data[i]) != patternByte(offset + i)) return offset + i;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------

namespace {
// Position just after `"key"` followed by optional spaces and ':' and optional spaces.
std::optional<size_t> jsonValuePos(std::string_view json, std::string_view key) {
  std::string quoted = "\"" + std::string(key) + "\"";
  size_t p = 0;
  while ((p = json.find(quoted, p)) != std::string_view::npos) {
    size_t q = p + quoted.size();
    while (q < json.size() && json[q] == ' ') ++q;
    if (q < json.size() && json[q] == ':') {
      ++q;
      while (q < json.size() && json[q] == ' ') ++q;
      return q;
    }
    p = q;
  }
  return std::nullopt;
}

std::optional<std::string> jsonStringAt(std::string_view json, size_t q) {
  if (q >= json.size() || json[q] != '"') return std::nullopt;
  std::string out;
  for (size_t i = q + 1; i < json.size(); ++i) {
    char c = json[i];
    if (c == '"') return out;
    if (c == '\\' && i + 1 < json.size()) {
      char e = json[++i];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u':
          if (i + 4 < json.size()) {
            out += static_cast<char>(std::strtol(std::string(json.substr(i + 1, 4)).c_str(), nullptr, 16));
            i += 4;
          }
          break;
        default: out += e;
      }
      continue;
    }
    out += c;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> jsonString(std::string_view json, std::string_view key) {
  auto q = jsonValuePos(json, key);
  if (!q) return std::nullopt;
  return jsonStringAt(json, *q);
}

std::optional<long long> jsonNumber(std::string_view json, std::string_view key) {
  auto q = jsonValuePos(json, key);
  if (!q || *q >= json.size()) return std::nullopt;
  char c = json[*q];
  if (!(c == '-' || (c >= '0' && c <= '9'))) return std::nullopt;
  return std::strtoll(std::string(json.substr(*q, 24)).c_str(), nullptr, 10);
}

std::optional<std::string> echoHeader(std::string_view json, std::string_view name) {
  auto q = jsonValuePos(json, "headers");
  if (!q || *q >= json.size() || json[*q] != '{') return std::nullopt;
  // The object ends at the matching brace (string-aware).
  size_t i = *q + 1;
  bool in_str = false;
  int depth = 1;
  for (; i < json.size() && depth > 0; ++i) {
    char c = json[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    }
  }
  std::string_view obj = json.substr(*q, i - *q);
  // Keys are compared only at key positions: `"name": `, preceded by '{' or ", ".
  std::string quoted = "\"" + std::string(name) + "\"";
  size_t p = 0;
  while ((p = obj.find(quoted, p)) != std::string_view::npos) {
    size_t before = p;
    while (before > 0 && obj[before - 1] == ' ') --before;
    if (before > 0 && (obj[before - 1] == '{' || obj[before - 1] == ',')) {
      auto v = jsonValuePos(obj.substr(p), name);
      if (v) return jsonStringAt(obj.substr(p), *v);
    }
    p += quoted.size();
  }
  return std::nullopt;
}

}  // namespace gwtest
