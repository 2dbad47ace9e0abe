#pragma once
// The static-file upstream (config kind: static): answers GET and HEAD from a document root.
//
//  * Paths: percent-decoded and checked by resolvePath (no encoded '/', NUL, backslash, dot
//    segments; dotfiles only if allowed), then opened beneath the root's fd (openBeneath: no
//    symlink escape, no check-then-open race). The answer is built from fstat() of that fd.
//  * Directories: without a trailing slash, 301 to add it (like nginx); with it, the configured
//    index file or 403.
//  * Conditional requests and ranges: RFC 9110 (If-Match, If-Unmodified-Since → 412;
//    If-None-Match, If-Modified-Since → 304; Range with If-Range: one range → 206, several → 200
//    with the whole file, none satisfiable → 416).
//  * Errors (404, 403, 400, 405 with Allow) are application/problem+json, like the gateway's own.
//  * The body is read in chunks of at most `buffer_bytes` with pread into the response evbuffer,
//    one chunk per event-loop turn, and only while the downstream has not asked to pause
//    (UpstreamRequest::readDisable): a huge file to a slow client holds bounded memory.
//
// Threading: one StaticUpstream per worker; everything on that worker's thread.
// Lifetime: the StaticUpstream outlives its requests (UpstreamRequest contract). No callback is
// made from inside sendHeaders: the answer starts from a loop callback.
#include <sys/stat.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "core/dispatcher.h"
#include "upstream/static/mime.h"
#include "upstream/upstream.h"

namespace gw::statics {

class StaticUpstream : public upstream::Upstream {
 public:
  // Opens the root directory now (a failure is logged; requests then get 503).
  StaticUpstream(Dispatcher& dispatcher, const config::Upstream& cfg, size_t buffer_bytes);
  ~StaticUpstream() override;

  upstream::UpstreamRequestPtr newRequest(upstream::UpstreamCallbacks& callbacks) override;

  Dispatcher& dispatcher() { return dispatcher_; }
  const config::StaticFiles& settings() const { return settings_; }
  const MimeTable& mime() const { return mime_; }
  int rootFd() const { return root_fd_; }
  // Opens `relative` beneath the root (static_fs.h rules) and fstat()s it into `st`: a regular
  // file is returned open for reading, anything else as an O_PATH fd. -1 with `*err` set.
  int open(const std::string& relative, struct stat* st, int* err);
  size_t chunkBytes() const { return chunk_bytes_; }

 private:
  Dispatcher& dispatcher_;
  config::StaticFiles settings_;
  MimeTable mime_;
  int root_fd_ = -1;
  bool use_openat2_ = true;  // probed once; cleared if openat2 turns out blocked
  size_t chunk_bytes_;
};

}  // namespace gw::statics
