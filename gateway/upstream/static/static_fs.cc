#include "upstream/static/static_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace gw::statics {

namespace {

constexpr int kReadFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
constexpr int kPathFlags = O_PATH | O_CLOEXEC;
std::atomic<bool> g_no_openat2{false};

int flagsFor(OpenMode mode) { return mode == OpenMode::Read ? kReadFlags : kPathFlags; }

// openat2 missing (ENOSYS), or refused by a seccomp filter (EPERM, or E2BIG for an open_how it
// does not know): the component walk does the same job.
bool openat2Unavailable(int e) { return e == ENOSYS || e == EPERM || e == E2BIG; }

int callOpenat2(int root_fd, const char* relative, OpenMode mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flagsFor(mode));
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {  // EAGAIN: a concurrent rename; the kernel asks to retry
    fd = static_cast<int>(syscall(SYS_openat2, root_fd, relative, &how, sizeof(how)));
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  return fd;
}

int walkNoFollow(int root_fd, const std::string& relative, OpenMode mode, int* err) {
  int dir = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dir < 0) {
    *err = errno;
    return -1;
  }
  size_t pos = 0;
  while (true) {
    size_t slash = relative.find('/', pos);
    std::string part = relative.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    const bool last = slash == std::string::npos;
    // O_PATH|O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR; O_PATH|O_NOFOLLOW on a final
    // symlink opens the link itself (refused below as ELOOP, as openat2 RESOLVE_NO_SYMLINKS does).
    int next = openat(dir, part.c_str(), last ? (flagsFor(mode) | O_NOFOLLOW) : (kPathFlags | O_DIRECTORY | O_NOFOLLOW));
    int e = errno;
    close(dir);
    if (next < 0) {
      *err = e;
      return -1;
    }
    if (last) {
      struct stat st;
      if (mode == OpenMode::Path && (fstat(next, &st) != 0 || S_ISLNK(st.st_mode))) {
        close(next);
        *err = ELOOP;
        return -1;
      }
      return next;
    }
    dir = next;
    pos = slash + 1;
  }
}

}  // namespace

int openRoot(const std::string& root) { return open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); }

void setOpenat2Disabled(bool disabled) { g_no_openat2.store(disabled, std::memory_order_relaxed); }

bool probeOpenat2(int root_fd) {
  if (g_no_openat2.load(std::memory_order_relaxed)) return false;
  int fd = callOpenat2(root_fd, ".", OpenMode::Path);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return !openat2Unavailable(errno);
}

int openBeneath(int root_fd, const std::string& relative, int* err, OpenMode mode, bool* use_openat2) {
  *err = 0;
  if (relative.empty()) {
    int fd = openat(root_fd, ".", flagsFor(mode) | O_DIRECTORY);
    if (fd < 0) *err = errno;
    return fd;
  }
  bool allowed = use_openat2 ? *use_openat2 : true;
  if (allowed && !g_no_openat2.load(std::memory_order_relaxed)) {
    int fd = callOpenat2(root_fd, relative.c_str(), mode);
    if (fd >= 0) return fd;
    if (!openat2Unavailable(errno)) {
      *err = errno;
      return -1;
    }
    // Seccomp or an old kernel: the walk from now on (for this upstream; the walk answers this
    // open too, so a file's own EPERM is still reported as such).
    if (use_openat2) *use_openat2 = false;
    else g_no_openat2.store(true, std::memory_order_relaxed);
  }
  return walkNoFollow(root_fd, relative, mode, err);
}

}  // namespace gw::statics
