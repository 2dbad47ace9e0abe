#include "net/body_spool.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace gw::net {

BodySpool::BodySpool(size_t memory_limit, std::string temp_dir)
    : memory_limit_(memory_limit), temp_dir_(std::move(temp_dir)), memory_(evbuffer_new()) {}

BodySpool::~BodySpool() {
  evbuffer_free(memory_);
  if (fd_ >= 0) close(fd_);
}

bool BodySpool::openFile(std::string* error) {
  fd_ = open(temp_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0) {  // a file system without O_TMPFILE: create, then unlink at once
    std::string path = temp_dir_ + "/gatewayd-body-XXXXXX";
    fd_ = mkostemp(path.data(), O_CLOEXEC);
    if (fd_ >= 0) unlink(path.c_str());
  }
  if (fd_ < 0) {
    *error = "cannot create a temporary file in " + temp_dir_ + ": " + strerror(errno);
    return false;
  }
  return true;
}

bool BodySpool::append(evbuffer* data, std::string* error) {
  const size_t len = evbuffer_get_length(data);
  size_ += len;
  if (fd_ < 0 && evbuffer_get_length(memory_) + len <= memory_limit_) {
    evbuffer_add_buffer(memory_, data);
    return true;
  }
  if (fd_ < 0 && !openFile(error)) return false;
  while (evbuffer_get_length(data) > 0) {
    evbuffer_iovec v[16];
    int n = evbuffer_peek(data, -1, nullptr, v, 16);
    n = std::min(n, 16);
    std::vector<iovec> iov(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) iov[i] = {v[i].iov_base, v[i].iov_len};
    ssize_t w = pwritev(fd_, iov.data(), n, static_cast<off_t>(file_size_));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *error = std::string("cannot write the request body to a temporary file: ") + (w < 0 ? strerror(errno) : "no space");
      return false;
    }
    file_size_ += static_cast<uint64_t>(w);
    evbuffer_drain(data, static_cast<size_t>(w));
  }
  return true;
}

bool BodySpool::read(evbuffer* out, size_t max, std::string* error) {
  size_t moved = 0;
  if (size_t mem = evbuffer_get_length(memory_); mem > 0) {
    moved = static_cast<size_t>(evbuffer_remove_buffer(memory_, out, std::min(mem, max)));
  }
  while (moved < max && file_read_ < file_size_) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(max - moved, file_size_ - file_read_));
    evbuffer_iovec v;
    if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(want), &v, 1) < 1) {
      *error = "out of memory reading the spooled request body";
      return false;
    }
    ssize_t r = pread(fd_, v.iov_base, std::min(want, v.iov_len), static_cast<off_t>(file_read_));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      *error = std::string("cannot read the spooled request body: ") + (r < 0 ? strerror(errno) : "file shrank");
      return false;
    }
    v.iov_len = static_cast<size_t>(r);
    evbuffer_commit_space(out, &v, 1);
    file_read_ += static_cast<uint64_t>(r);
    moved += static_cast<size_t>(r);
  }
  read_ += moved;
  return true;
}

}  // namespace gw::net
