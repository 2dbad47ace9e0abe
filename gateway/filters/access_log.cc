#include "filters/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "config/config.h"

namespace gw::filters {

std::shared_ptr<AccessLog> AccessLog::open(const std::string& path, config::AccessFormat format, std::string* error) {
  if (path == "off") return std::shared_ptr<AccessLog>(new AccessLog(-1, false, format));
  if (path == "stdout") return std::shared_ptr<AccessLog>(new AccessLog(1, false, format));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open access log '" + path + "': " + strerror(errno);
    return nullptr;
  }
  return std::shared_ptr<AccessLog>(new AccessLog(fd, true, format));
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

std::string AccessLog::format(const http::StreamInfo& si) const {
  const auto end = Clock::now();
  const double duration = std::chrono::duration<double>(end - si.start).count();
  char tbuf[64];
  time_t now = time(nullptr);
  tm t;
  std::string out;
  out.reserve(384);
  const std::string client = si.client_address.empty() ? si.peer_ip : si.client_address;
  char num[64];
  if (format_ == config::AccessFormat::Json) {
    gmtime_r(&now, &t);
    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &t);
    auto field = [&](const char* k, std::string_view v, bool first = false) {
      if (!first) out += ',';
      out += '"';
      out += k;
      out += "\":\"";
      jsonEscape(out, v);
      out += '"';
    };
    out += '{';
    field("time", tbuf, true);
    field("client", client);
    field("user", si.user);
    field("peer", si.peer.str());
    field("method", si.method);
    field("path", si.target);
    field("protocol", si.protocol);
    field("host", si.host);
    out += ",\"status\":" + std::to_string(si.status);
    out += ",\"bytes_sent\":" + std::to_string(si.response_body_bytes);
    out += ",\"bytes_received\":" + std::to_string(si.request_body_bytes);
    snprintf(num, sizeof(num), "%.3f", duration * 1000.0);
    out += ",\"duration_ms\":";
    out += num;
    field("upstream", si.upstream_address);
    if (si.upstream_time_us >= 0) {
      snprintf(num, sizeof(num), "%.3f", si.upstream_time_us / 1000.0);
      out += ",\"upstream_time_ms\":";
      out += num;
    } else {
      out += ",\"upstream_time_ms\":null";
    }
    field("request_id", si.request_id);
    field("route", si.route ? si.route->name : "");
    field("details", si.details);
    field("referer", si.referer);
    field("user_agent", si.user_agent);
    out += "}\n";
    return out;
  }
  localtime_r(&now, &t);
  strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S %z", &t);
  auto quoted = [&](std::string_view v) {
    out += '"';
    if (v.empty()) {
      out += '-';
    } else {
      logEscape(out, v);
    }
    out += '"';
  };
  logEscape(out, client);
  out += " - ";
  if (si.user.empty()) {
    out += '-';
  } else {
    logEscape(out, si.user);  // the Digest-authenticated user, like nginx's $remote_user
  }
  out += " [";
  out += tbuf;
  out += "] \"";
  if (si.method.empty()) {
    out += '-';
  } else {
    logEscape(out, si.method);
    out += ' ';
    logEscape(out, si.target);
    out += ' ';
    out += si.protocol;
  }
  out += "\" " + std::to_string(si.status) + " " + std::to_string(si.response_body_bytes) + " ";
  quoted(si.referer);
  out += ' ';
  quoted(si.user_agent);
  snprintf(num, sizeof(num), " rt=%.3f", duration);
  out += num;
  out += " ua=";
  quoted(si.upstream_address);
  if (si.upstream_time_us >= 0) {
    snprintf(num, sizeof(num), " urt=%.3f", si.upstream_time_us / 1e6);
    out += num;
  } else {
    out += " urt=-";
  }
  out += " rid=";
  out += si.request_id.empty() ? "-" : si.request_id;
  if (!si.details.empty()) {
    out += " details=";
    logEscape(out, si.details);
  }
  out += '\n';
  return out;
}

void AccessLog::log(const http::StreamInfo& si) const {
  if (fd_ < 0) return;
  std::string line = format(si);
  ssize_t ignored = ::write(fd_, line.data(), line.size());
  (void)ignored;
}

}  // namespace gw::filters
