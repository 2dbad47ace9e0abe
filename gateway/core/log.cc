#include "core/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace gw {
namespace detail {
LogLevel g_log_level = LogLevel::Notice;
}

namespace {
int g_log_fd = 2;
thread_local int t_worker_id = -1;
const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Notice: return "notice";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    case LogLevel::Trace: return "trace";
  }
  return "?";
}
}  // namespace

void setLogLevel(LogLevel level) { detail::g_log_level = level; }
LogLevel logLevel() { return detail::g_log_level; }
void setLogWorker(int worker_id) { t_worker_id = worker_id; }

bool setLogFile(const char* path) {
  int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  g_log_fd = fd;
  return true;
}

void logWrite(LogLevel level, const char* fmt, ...) {
  char buf[2048];
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  gmtime_r(&tv.tv_sec, &t);
  int n = static_cast<int>(strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &t));
  if (t_worker_id >= 0) {
    n += snprintf(buf + n, sizeof(buf) - n, ".%03ldZ [%s] w%d ", static_cast<long>(tv.tv_usec / 1000),
                  levelName(level), t_worker_id);
  } else {
    n += snprintf(buf + n, sizeof(buf) - n, ".%03ldZ [%s] main ", static_cast<long>(tv.tv_usec / 1000),
                  levelName(level));
  }
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
  va_end(ap);
  n = (m < 0) ? n : std::min<int>(n + m, sizeof(buf) - 2);
  // A log line is one line: control characters from peers never split or forge lines.
  for (int i = 0; i < n; ++i) {
    if (static_cast<unsigned char>(buf[i]) < 0x20) buf[i] = ' ';
  }
  buf[n++] = '\n';
  ssize_t ignored = ::write(g_log_fd, buf, n);
  (void)ignored;
}

}  // namespace gw
