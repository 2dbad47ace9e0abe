#include "core/io.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/counters.h"
#include "core/log.h"

namespace gw {

void logDownstreamSocketError(uint64_t conn_id) {
  int err = EVUTIL_SOCKET_ERROR();
  if (err == ECONNRESET || err == EPIPE) {
    GW_INC(downstream_cx_reset);
    GW_LOG(Debug, "c%llu: client reset (%s)", static_cast<unsigned long long>(conn_id), strerror(err));
  } else {
    GW_LOG(Info, "c%llu: socket error: %s", static_cast<unsigned long long>(conn_id), strerror(err));
  }
}

ssize_t readInto(evbuffer* buf, evutil_socket_t fd, size_t max) {
  evbuffer_iovec v[2];
  int n = evbuffer_reserve_space(buf, static_cast<ev_ssize_t>(max), v, 2);
  if (n <= 0) {
    errno = ENOMEM;
    return -1;
  }
  iovec iov[2];
  size_t room = 0;
  for (int i = 0; i < n; ++i) {
    v[i].iov_len = std::min(v[i].iov_len, max - room);  // reserve_space may offer more than asked
    room += v[i].iov_len;
    iov[i] = {v[i].iov_base, v[i].iov_len};
  }
  // One buffer (the usual case: the last chain has room) is a plain read(2), which the kernel
  // serves without importing an iovec.
  if (n == 2 && iov[1].iov_len == 0) n = 1;
  ssize_t r = n == 1 ? ::read(fd, iov[0].iov_base, iov[0].iov_len) : readv(fd, iov, n);
  const int saved = errno;
  size_t left = r > 0 ? static_cast<size_t>(r) : 0;
  for (int i = 0; i < n; ++i) {
    v[i].iov_len = std::min(v[i].iov_len, left);
    left -= v[i].iov_len;
  }
  evbuffer_commit_space(buf, v, r > 0 ? n : 0);
  errno = saved;
  return r;
}

}  // namespace gw
