#pragma once
// Leveled error log. Thread-safe: each call formats into a stack buffer and emits one write(2),
// so lines from different worker threads never interleave. Every line carries the worker id of
// the calling thread (set once by the worker with setLogWorker).
#include <cstdarg>

namespace gw {

enum class LogLevel { Error = 0, Warn = 1, Notice = 2, Info = 3, Debug = 4, Trace = 5 };

// Sets the global threshold; messages above it are dropped before formatting.
void setLogLevel(LogLevel level);
LogLevel logLevel();
inline bool logEnabled(LogLevel level);
// Redirects the error log to a file (append). Returns false if the file cannot be opened.
bool setLogFile(const char* path);
// Identifies the calling thread in log lines ("w3"); -1 means the main thread.
void setLogWorker(int worker_id);

void logWrite(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

namespace detail {
extern LogLevel g_log_level;
}
inline bool logEnabled(LogLevel level) { return level <= detail::g_log_level; }

}  // namespace gw

#define GW_LOG(level, ...)                                                   \
  do {                                                                       \
    if (::gw::logEnabled(::gw::LogLevel::level)) ::gw::logWrite(::gw::LogLevel::level, __VA_ARGS__); \
  } while (0)
