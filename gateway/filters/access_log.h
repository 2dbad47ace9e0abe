#pragma once
// Access log: one line per request, in nginx's combined format extended with timing, upstream
// and request id, or as JSON lines. Header values other than Referer and User-Agent are never
// written (no Authorization, Cookie, Set-Cookie).
//
// Thread-safe: each line is formatted on the calling worker and written with one write(2) to an
// O_APPEND descriptor, so lines never interleave.
#include <memory>
#include <string>

#include "config/config.h"
#include "http/filter.h"

namespace gw::filters {

class AccessLog {
 public:
  // `path`: a file, "stdout" or "off". Returns null (and sets *error) if the file cannot be opened.
  static std::shared_ptr<AccessLog> open(const std::string& path, config::AccessFormat format, std::string* error);
  ~AccessLog();
  void log(const http::StreamInfo& info) const;
  bool enabled() const { return fd_ >= 0; }  // false for "off"
  std::string format(const http::StreamInfo& info) const;

 private:
  AccessLog(int fd, bool owned, config::AccessFormat format) : fd_(fd), owned_(owned), format_(format) {}
  int fd_;
  bool owned_;
  config::AccessFormat format_;
};
using AccessLogSharedPtr = std::shared_ptr<const AccessLog>;

class AccessLogFilter : public http::StreamFilter {
 public:
  explicit AccessLogFilter(AccessLogSharedPtr log) : log_(std::move(log)) {}
  void onStreamComplete(const http::StreamInfo& info) override { log_->log(info); }

 private:
  AccessLogSharedPtr log_;
};

}  // namespace gw::filters
