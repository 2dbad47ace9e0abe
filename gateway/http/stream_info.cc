#include "http/stream_info.h"

#include <charconv>

#include "http/message.h"

namespace gw::http {

ForwardedValues::ForwardedValues(const StreamInfo& si, const RequestHead& head, bool enabled) {
  if (!enabled || !si.forward) return;
  const StreamInfo::Forwarded* f = si.forwarded.get();
  if (f) rfc7239 = f->rfc7239;
  if (si.peer_trusted && f) {
    xff = f->xff;
    proto = f->proto;
    host = f->host;
    port = f->port;
    return;
  }
  xff = si.peer_ip;
  proto = head.scheme;
  host = head.authority;
  port = std::string_view(port_buf_, std::to_chars(port_buf_, port_buf_ + sizeof(port_buf_), si.local_port).ptr);
}

}  // namespace gw::http
