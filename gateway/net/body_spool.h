#pragma once
// A request body whose length is known only at its end (chunked HTTP/1.1, HTTP/2 without
// content-length), held for upstreams that must be told the length first (FastCGI and uwsgi
// send CONTENT_LENGTH before the body, as nginx's fastcgi_request_buffering does): the first
// `memory_limit` bytes stay in memory, the rest goes to an unlinked temporary file. Disk writes
// and reads are synchronous and bounded by one chunk per call, like nginx's client_body_temp.
//
// Threading: one stream, one worker. Never throws; errors come back as false + a message.
#include <event2/buffer.h>

#include <cstdint>
#include <string>

namespace gw::net {

class BodySpool {
 public:
  BodySpool(size_t memory_limit, std::string temp_dir);
  ~BodySpool();
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // Drains `data` into the spool.
  bool append(evbuffer* data, std::string* error);
  uint64_t size() const { return size_; }
  bool onDisk() const { return fd_ >= 0; }
  // Moves up to `max` bytes, in order, into `out` (memory part first, then the file).
  bool read(evbuffer* out, size_t max, std::string* error);
  // Everything appended has been read.
  bool drained() const { return read_ == size_; }

 private:
  bool openFile(std::string* error);

  size_t memory_limit_;
  std::string temp_dir_;
  evbuffer* memory_;
  int fd_ = -1;
  uint64_t size_ = 0;       // bytes appended
  uint64_t read_ = 0;       // bytes read
  uint64_t file_size_ = 0;  // bytes in the file
  uint64_t file_read_ = 0;  // file offset read up to
};

}  // namespace gw::net
