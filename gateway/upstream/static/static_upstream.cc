#include "upstream/static/static_upstream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "http/problem.h"
#include "upstream/static/static_fs.h"
#include "upstream/static/static_logic.h"

using namespace std::string_view_literals;  // "..."sv: compared by size first, then inline

namespace gw::statics {

namespace {

using upstream::UpstreamCallbacks;

struct ErrnoAnswer {
  int status;
  const char* code;
  const char* detail;
};

ErrnoAnswer answerForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return {404, "static_not_found", "no such file"};
    case EACCES:
    case EPERM:
      return {403, "static_forbidden", "access to this file is not allowed"};
    case EXDEV:  // openat2 RESOLVE_BENEATH: the path (through a symlink) leaves the root
    case ELOOP:  // a symlink where none may be followed, or a loop
      return {403, "static_symlink_refused", "access to this path is not allowed"};
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return {503, "static_open_failed", "the file cannot be opened now; retry later"};
    default:
      return {500, "static_open_failed", "the file cannot be opened"};
  }
}

class StaticRequest : public upstream::UpstreamRequest {
 public:
  StaticRequest(StaticUpstream& up, UpstreamCallbacks& callbacks)
      : up_(up),
        callbacks_(callbacks),
        start_(up.dispatcher(), &StaticRequest::onStart, this),
        pump_timer_(up.dispatcher(), [this] { pump(); }),
        buf_(evbuffer_new()) {}

  ~StaticRequest() override {
    closeFd();
    evbuffer_free(buf_);
  }

  void sendHeaders(const http::RequestHead& head, bool end_stream) override;

  void sendData(evbuffer* data, bool) override { evbuffer_drain(data, evbuffer_get_length(data)); }

  void readDisable(bool disable) override {
    paused_ = disable;
    if (!disable && streaming_ && !finished_ && !cancelled_) pump_timer_.enable(Millis(0));
  }

  void cancel() override {
    cancelled_ = true;
    pump_timer_.disable();
    closeFd();
  }

 private:
  static void onStart(evutil_socket_t, short, void* arg) { static_cast<StaticRequest*>(arg)->start(); }
  void start();
  void pump();
  void closeFd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Prepares a problem+json answer (sent by start()).
  void problem(int status, const char* code, std::string_view detail, const char* allow = nullptr);
  void serveFile(const http::RequestHead& head, const ResolvedPath& path, std::string_view name);

  StaticUpstream& up_;
  UpstreamCallbacks& callbacks_;
  LoopCallback start_;
  Timer pump_timer_;
  evbuffer* buf_;
  http::ResponseHeadPtr head_;  // the answer's head, built in sendHeaders
  std::string small_body_;      // problem+json body, if any
  bool head_only_ = false;      // HEAD: no body ever
  int fd_ = -1;
  uint64_t offset_ = 0;     // next file offset to send
  uint64_t remaining_ = 0;  // bytes of the file still to send
  bool streaming_ = false;  // headers sent, file body in progress
  bool finished_ = false;
  bool paused_ = false;
  bool cancelled_ = false;
};

void StaticRequest::problem(int status, const char* code, std::string_view detail, const char* allow) {
  http::StreamInfo& info = callbacks_.streamInfo();
  info.details = code;
  closeFd();
  small_body_ = http::problemJson(status, code, detail, info.request_id);
  head_ = std::make_unique<http::ResponseHead>();
  head_->status = status;
  head_->headers.set("Content-Type", http::kProblemContentType);
  head_->headers.set("Cache-Control", "no-store");
  if (allow) head_->headers.set("Allow", allow);
  head_->content_length = small_body_.size();
}

void StaticRequest::sendHeaders(const http::RequestHead& head, bool) {
  // Answer from the loop, never from inside the caller's stack.
  start_.activate();
  const config::StaticFiles& s = up_.settings();
  head_only_ = head.method == "HEAD"sv;
  if (head.method != "GET"sv && !head_only_) {
    problem(405, "method_not_allowed", "static files answer GET and HEAD only", "GET, HEAD");
    return;
  }
  if (up_.rootFd() < 0) {
    problem(503, "static_root_unavailable", "the document root is not available");
    return;
  }
  ResolvedPath path = resolvePath(head.path, s.allow_dotfiles);
  if (path.error != PathError::None) {
    problem(pathErrorStatus(path.error), pathErrorCode(path.error),
            path.error == PathError::Dotfile ? "no such file" : "this path is not allowed");
    return;
  }
  int err = 0;
  std::string rel = path.relative();
  struct stat st;
  fd_ = up_.open(rel, &st, &err);
  if (fd_ < 0) {
    ErrnoAnswer a = answerForErrno(err);
    if (a.status >= 500) GW_LOG(Error, "static %s: open '%s': %s", s.root.c_str(), rel.c_str(), strerror(err));
    problem(a.status, a.code, a.detail);
    return;
  }
  std::string_view name = path.segments.empty() ? std::string_view() : std::string_view(path.segments.back());
  if (S_ISDIR(st.st_mode)) {
    closeFd();
    // The client's own path decides (with strip_prefix, "/static" reaches us as "/").
    std::string_view client_path = callbacks_.streamInfo().target;
    client_path = client_path.substr(0, client_path.find('?'));
    if (!path.trailing_slash || (!client_path.empty() && client_path.back() != '/')) {
      // nginx: a directory without its slash is redirected, so relative links in its index work.
      // The client-visible target (before any strip_prefix); leading slashes collapsed so the
      // Location can never read as a scheme-relative "//host" URL.
      std::string_view target = callbacks_.streamInfo().target;
      size_t q = target.find('?');
      std::string_view p = target.substr(0, q);
      while (p.size() > 1 && p[1] == '/') p.remove_prefix(1);
      std::string location(p);
      location += '/';
      if (q != std::string_view::npos) location += target.substr(q);
      callbacks_.streamInfo().details = "static_directory_redirect";
      head_ = std::make_unique<http::ResponseHead>();
      head_->status = 301;
      head_->headers.set("Location", location);
      head_->content_length = 0;
      return;
    }
    if (s.index.empty()) {
      problem(403, "static_directory", "directory listing is not enabled");
      return;
    }
    std::string index_rel = rel.empty() ? s.index : rel + "/" + s.index;
    fd_ = up_.open(index_rel, &st, &err);
    if (fd_ < 0) {
      ErrnoAnswer a = answerForErrno(err);
      if (a.status == 404) problem(403, "static_directory", "directory listing is not enabled");
      else problem(a.status, a.code, a.detail);
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      problem(403, "static_directory", "directory listing is not enabled");
      return;
    }
    name = s.index;
  } else if (!S_ISREG(st.st_mode) || path.trailing_slash) {
    // FIFOs, sockets, devices are never served; "file/" names no directory.
    problem(404, "static_not_found", "no such file");
    return;
  }

  // ---- a regular file: validators, preconditions, range
  Validators v{makeEtag(static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec),
               static_cast<int64_t>(st.st_mtim.tv_sec)};
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string if_match = head.headers.getCombined("if-match");
  std::string if_none_match = head.headers.getCombined("if-none-match");
  ConditionalHeaders ch;
  if (head.headers.get("if-match")) ch.if_match = if_match;
  if (head.headers.get("if-none-match")) ch.if_none_match = if_none_match;
  ch.if_modified_since = head.headers.get("if-modified-since");
  ch.if_unmodified_since = head.headers.get("if-unmodified-since");

  auto validatorHeaders = [&](http::HeaderMap& h) {
    h.set("ETag", v.etag);
    h.set("Last-Modified", formatHttpDate(v.last_modified));
    if (!s.cache_control.empty()) h.set("Cache-Control", s.cache_control);
  };

  switch (evaluatePreconditions(ch, v, /*get_or_head=*/true)) {
    case Precondition::NotModified:
      closeFd();
      callbacks_.streamInfo().details = "static_not_modified";
      head_ = std::make_unique<http::ResponseHead>();
      head_->status = 304;
      validatorHeaders(head_->headers);
      return;
    case Precondition::Failed:
      problem(412, "static_precondition_failed", "a precondition (If-Match / If-Unmodified-Since) failed");
      return;
    case Precondition::Proceed:
      break;
  }

  uint64_t first = 0, length = size;
  int status = 200;
  std::optional<std::string_view> range;
  if (!head_only_) range = head.headers.get("range");  // Range applies to GET only
  if (range && head.headers.count("range") == 1) {
    auto if_range = head.headers.get("if-range");
    if (!if_range || ifRangeMatches(*if_range, v)) {
      RangeResult r = parseRange(*range, size);
      if (r.kind == RangeResult::Unsatisfiable) {
        problem(416, "static_range_not_satisfiable", "the requested range is outside the file");
        head_->headers.set("Content-Range", "bytes */" + std::to_string(size));
        head_->headers.set("Accept-Ranges", "bytes");
        return;
      }
      if (r.kind == RangeResult::Single) {
        status = 206;
        first = r.first;
        length = r.last - r.first + 1;
      }
      // Multiple: answered with the whole file (no multipart/byteranges), like a server that
      // ignores Range; Ignore: the same.
    }
  }
  head_ = std::make_unique<http::ResponseHead>();
  head_->status = status;
  head_->headers.set("Content-Type", up_.mime().lookup(name));
  validatorHeaders(head_->headers);
  head_->headers.set("Accept-Ranges", "bytes");
  if (status == 206) {
    head_->headers.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(first + length - 1) +
                                            "/" + std::to_string(size));
  }
  head_->content_length = length;
  offset_ = first;
  remaining_ = head_only_ ? 0 : length;
  if (remaining_ == 0) closeFd();
}

void StaticRequest::start() {
  if (cancelled_ || !head_) return;
  http::ResponseHeadPtr head = std::move(head_);
  if (!small_body_.empty()) {
    callbacks_.onUpstreamHeaders(std::move(head), head_only_);
    if (cancelled_ || head_only_) return;
    evbuffer_add(buf_, small_body_.data(), small_body_.size());
    finished_ = true;
    callbacks_.onUpstreamData(buf_, true);
    return;
  }
  if (remaining_ == 0) {
    finished_ = true;
    callbacks_.onUpstreamHeaders(std::move(head), true);
    return;
  }
  streaming_ = true;
  callbacks_.onUpstreamHeaders(std::move(head), false);
  pump();
}

void StaticRequest::pump() {
  if (cancelled_ || finished_ || paused_ || fd_ < 0) return;
  // One chunk per loop turn: a fast reader on loopback cannot monopolise the worker, and a slow
  // one stops us through readDisable(true) (the downstream's high watermark) after a chunk.
  const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, up_.chunkBytes()));
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(buf_, static_cast<ev_ssize_t>(n), &vec, 1) != 1 || vec.iov_len < n) {
    finished_ = true;
    closeFd();
    callbacks_.onUpstreamFailure(upstream::Failure::Reset, "static: out of buffer space");
    return;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, static_cast<char*>(vec.iov_base) + got, n - got, static_cast<off_t>(offset_ + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      // Read error, or the file shrank after its size was announced: the response must be cut short.
      GW_LOG(Warn, "static %s: read at %llu: %s", up_.settings().root.c_str(),
             static_cast<unsigned long long>(offset_ + got), r < 0 ? strerror(errno) : "file truncated");
      finished_ = true;
      closeFd();
      callbacks_.onUpstreamFailure(upstream::Failure::Reset, "static: file read failed");
      return;
    }
    got += static_cast<size_t>(r);
  }
  vec.iov_len = n;
  evbuffer_commit_space(buf_, &vec, 1);
  offset_ += n;
  remaining_ -= n;
  const bool end = remaining_ == 0;
  if (end) {
    finished_ = true;
    closeFd();
  }
  callbacks_.onUpstreamData(buf_, end);  // may call readDisable(true) or cancel() re-entrantly
  if (end || cancelled_ || paused_) return;
  pump_timer_.enable(Millis(0));
}

}  // namespace

StaticUpstream::StaticUpstream(Dispatcher& dispatcher, const config::Upstream& cfg, size_t buffer_bytes)
    : dispatcher_(dispatcher),
      settings_(cfg.static_files),
      chunk_bytes_(std::clamp<size_t>(buffer_bytes, 4096, 1 << 20)) {
  root_fd_ = openRoot(settings_.root);
  if (root_fd_ < 0) {
    GW_LOG(Error, "upstream %s: cannot open document root '%s': %s", cfg.name.c_str(), settings_.root.c_str(),
           strerror(errno));
  } else if (!(use_openat2_ = probeOpenat2(root_fd_))) {
    GW_LOG(Info, "upstream %s: openat2 unavailable (old kernel or seccomp); opening path components one by one",
           cfg.name.c_str());
  }
  if (!settings_.mime_types.empty()) {
    std::string why;
    if (!mime_.loadFile(settings_.mime_types, &why)) {
      GW_LOG(Error, "upstream %s: %s; using the built-in types only", cfg.name.c_str(), why.c_str());
    }
  }
}

StaticUpstream::~StaticUpstream() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

int StaticUpstream::open(const std::string& relative, struct stat* st, int* err) {
  // O_PATH first: only a regular file is ever opened for reading (a device node's open can have
  // side effects). The read open resolves the same name again; it must be the same file.
  int fd = openBeneath(root_fd_, relative, err, OpenMode::Path, &use_openat2_);
  if (fd < 0) return -1;
  if (fstat(fd, st) != 0) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st->st_mode)) return fd;  // fstat only (directory, FIFO, device, socket)
  const dev_t dev = st->st_dev;
  const ino_t ino = st->st_ino;
  ::close(fd);
  fd = openBeneath(root_fd_, relative, err, OpenMode::Read, &use_openat2_);
  if (fd < 0) return -1;
  if (fstat(fd, st) != 0 || st->st_dev != dev || st->st_ino != ino || !S_ISREG(st->st_mode)) {
    ::close(fd);
    *err = ENOENT;  // replaced in between: as if it had not been there
    return -1;
  }
  return fd;
}

upstream::UpstreamRequestPtr StaticUpstream::newRequest(upstream::UpstreamCallbacks& callbacks) {
  return std::make_unique<StaticRequest>(*this, callbacks);
}

}  // namespace gw::statics
