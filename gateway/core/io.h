#pragma once
// Socket I/O helpers shared by the transports (core/transport.cc, tls/tls_transport.cc) and the
// connection code.
#include <event2/buffer.h>
#include <event2/event.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace gw {

// A downstream connection's socket failed (BEV_EVENT_ERROR): counts a client reset (ECONNRESET,
// EPIPE; logged at debug) or logs the error at info. Reads errno, so call it first thing.
void logDownstreamSocketError(uint64_t conn_id);

// The call would block (or was interrupted): try again on the next readiness event.
inline bool wouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// One read(2) or readv(2) of up to `max` bytes from `fd` appended to `buf` (no FIONREAD, no 4 KiB cap).
// Returns what read(2) returned (errno set when < 0).
ssize_t readInto(evbuffer* buf, evutil_socket_t fd, size_t max);

}  // namespace gw
