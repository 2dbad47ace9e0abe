#pragma once
// Integration-test harness: processes, ports, /proc memory, a raw-socket HTTP client, curl, temp
// dirs, and the peers (gatewayd, gunicorn with tests/support/wsgi_app.py, bad_backend.py).
// Every wait is bounded; every process is killed (its whole process group) on destruction.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gwtest {

using Millis = std::chrono::milliseconds;
using namespace std::chrono_literals;

// Paths baked in by CMake.
std::string gatewaydPath();
std::string sourceDir();
std::string supportDir();  // <source>/tests/support

// ---------------------------------------------------------------------------------------------
// Files and temp dirs

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content) const;  // returns the path

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
std::vector<std::string> readLines(const std::string& path);
bool waitUntil(const std::function<bool()>& pred, Millis timeout, Millis step = 20ms);

// ---------------------------------------------------------------------------------------------
// Processes

class Process {
 public:
  // Starts argv[0] (a path) in its own process group, stdout/stderr redirected to files.
  static std::unique_ptr<Process> spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                                        const std::string& stderr_path,
                                        const std::vector<std::pair<std::string, std::string>>& env = {});
  ~Process();  // stop(SIGTERM, 3 s) then SIGKILL to the group

  pid_t pid() const { return pid_; }
  bool running();
  // Waits for the exit; returns the exit code (128+signal when killed), or nullopt on timeout.
  std::optional<int> waitExit(Millis timeout);
  void signal(int sig) const;
  void signalGroup(int sig) const;
  // Sends `sig` to the process, waits up to `grace`, then SIGKILLs the whole group.
  void stop(int sig, Millis grace);
  std::string stdoutText() const;
  std::string stderrText() const;
  const std::string& stdoutPath() const { return out_; }
  const std::string& stderrPath() const { return err_; }

 private:
  Process() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_, err_;
};

// ---------------------------------------------------------------------------------------------
// Sockets and memory

bool canConnect(uint16_t port);
bool waitForPort(uint16_t port, Millis timeout);
// A loopback port on which nothing listens (bound, then closed; connect gets ECONNREFUSED).
uint16_t deadPort();

struct MemInfo {
  long rss_kb = -1;
  long hwm_kb = -1;
};
MemInfo readMem(pid_t pid);

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 responses

struct HttpResponse {
  int status = 0;
  std::string version;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool complete = false;  // framing satisfied (Content-Length reached, last chunk seen)
  std::optional<std::string> header(std::string_view name) const;  // first, case-insensitive
  size_t headerCount(std::string_view name) const;
};

// Parses one response from the front of `buf` and removes it. Returns nullopt when `buf` does not
// hold a complete response yet (unless `at_eof`, where a close-delimited or truncated response is
// returned with complete=false). `head_request`: the response has no body.
std::optional<HttpResponse> takeResponse(std::string& buf, bool at_eof, bool head_request = false);
// Every response in a byte stream read until the peer closed.
std::vector<HttpResponse> parseAllResponses(std::string buf);

// ---------------------------------------------------------------------------------------------
// Raw-socket client

class RawClient {
 public:
  explicit RawClient(uint16_t port, int rcvbuf = 0);  // rcvbuf > 0: SO_RCVBUF before connect
  ~RawClient();
  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes);
  void shutdownWrite();
  // Reads until the peer closes or the timeout; returns everything read (incl. earlier leftovers).
  std::string readUntilClose(Millis timeout);
  // Reads one response (keeps what follows for the next call).
  std::optional<HttpResponse> readResponse(Millis timeout, bool head_request = false);
  // Reads up to `n` bytes or until the timeout/close.
  std::string readSome(size_t n, Millis timeout);
  bool peerClosed() const { return eof_; }
  int fd() const { return fd_; }

 private:
  bool fill(Millis timeout);  // one recv with poll; false on timeout/eof/error
  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

// One request, one response, on a new connection.
std::optional<HttpResponse> rawRequest(uint16_t port, std::string_view bytes, Millis timeout = 5000ms);

// ---------------------------------------------------------------------------------------------
// curl

struct CurlResult {
  int exit_code = -1;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // of the last response
  std::string body;
  std::string stderr_text;
  std::optional<std::string> header(std::string_view name) const;
};
// Runs /usr/bin/curl -sS <args> capturing headers (-D) and body (-o, unless args has -o).
CurlResult curl(const std::vector<std::string>& args, Millis timeout = 30000ms);

// Any command line tool (openssl s_client, sh -c ...): stdin is /dev/null.
struct ToolResult {
  int exit_code = -1;  // -1: timed out (killed)
  std::string out, err;
};
ToolResult runTool(const std::vector<std::string>& argv, Millis timeout = 30000ms);

// ---------------------------------------------------------------------------------------------
// Peers

class Gunicorn {
 public:
  // gunicorn (gthread, 1 worker, 4 threads, keep-alive) serving tests/support/wsgi_app.py.
  static std::unique_ptr<Gunicorn> start(const std::string& dir);
  ~Gunicorn();  // SIGKILL to the process group: a test peer needs no graceful stop
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string recordFile() const { return record_; }
  std::vector<std::string> recorded() const { return readLines(record_); }
  bool sawPathContaining(std::string_view needle) const;
  // Waits until a recorded line contains `needle`.
  bool waitForRecord(std::string_view needle, Millis timeout) const;
  Process& process() { return *proc_; }

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
  std::string record_;
};

class BadBackend {
 public:
  static std::unique_ptr<BadBackend> start(const std::string& dir);
  ~BadBackend();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> recorded() const { return readLines(record_); }

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
  std::string record_;
};

class Gateway {
 public:
  // Writes `yaml` to <dir>/gatewayd-N.yaml and starts gatewayd -c on it; the listener must use
  // port 0 (the chosen port is read from the "listening on" log line).
  static std::unique_ptr<Gateway> start(const std::string& dir, const std::string& yaml,
                                        const std::vector<std::string>& extra_args = {});
  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const;
  // https://HOST:PORT/path (pair with curl --resolve HOST:PORT:127.0.0.1 unless HOST resolves).
  std::string httpsUrl(std::string_view path = "/", std::string_view host = "localhost") const;
  Process& process() { return *proc_; }
  pid_t pid() const { return proc_->pid(); }
  const std::string& configPath() const { return config_; }
  std::string errorLog() const { return proc_->stderrText(); }

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
  std::string config_;
};

// The byte at offset i of the test pattern (same as wsgi_app.py's /stream).
inline unsigned char patternByte(uint64_t i) { return static_cast<unsigned char>(i % 251); }
// Writes `n` pattern bytes to `path`; returns the SHA-256 (hex) of them.
std::string writePatternFile(const std::string& path, uint64_t n);
// Offset of the first byte of `data` (starting at pattern offset `offset`) that breaks the pattern.
std::optional<uint64_t> firstPatternMismatch(std::string_view data, uint64_t offset = 0);
std::string sha256Hex(std::string_view data);
std::string sha256File(const std::string& path);

// Minimal JSON helpers for flat lookups in the echo/problem bodies: the string or number value of
// "key" (the first occurrence, anywhere in the text). Good enough for our own well-formed JSON.
std::optional<std::string> jsonString(std::string_view json, std::string_view key);
std::optional<long long> jsonNumber(std::string_view json, std::string_view key);
// The value of `name` inside the echo body's "headers" object (names are lower-case there).
std::optional<std::string> echoHeader(std::string_view json, std::string_view name);

}  // namespace gwtest
