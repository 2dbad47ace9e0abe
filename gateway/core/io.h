#pragma once
// Socket I/O shortcuts around libevent 2.1's bufferevents, measured in tests/load (BENCHMARKS.md):
//  - writeThrough: write queued output now instead of enabling EV_WRITE and waiting one loop turn
//    (saves two epoll_ctl calls and a wakeup per response); EV_WRITE is enabled only when the
//    kernel pushes back, and libevent then finishes the job as usual.
//  - topUpInput: libevent 2.1 reads at most 4096 bytes per read(2) (EVBUFFER_MAX_READ), plus an
//    ioctl(FIONREAD) each time; a 1 MiB body cost 256 of each. One readv of up to `limit` bytes
//    tops the input up instead. EOF and errors are left to libevent (epoll is level-triggered).
// Both are for socket bufferevents owned by the calling worker thread.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace gw {

// A downstream connection's socket failed (BEV_EVENT_ERROR): counts a client reset (ECONNRESET,
// EPIPE; logged at debug) or logs the error at info. Reads errno, so call it first thing.
void logDownstreamSocketError(uint64_t conn_id);

// Returns true if everything was written (EV_WRITE not needed).
bool writeThrough(bufferevent* bev);
void topUpInput(bufferevent* bev, size_t limit);

// One readv(2) of up to `max` bytes from `fd` appended to `buf` (no FIONREAD, no 4 KiB cap).
// Returns what read(2) returned (errno set when < 0).
ssize_t readInto(evbuffer* buf, evutil_socket_t fd, size_t max);

}  // namespace gw
