#include "upstream/uwsgi/uwsgi.h"

#include <algorithm>

namespace gw::uwsgi {

const char* errorName(Error e) {
  switch (e) {
    case Error::TooLarge: return "uwsgi_vars_too_large";
  }
  return "uwsgi_error";
}

size_t varsSize(std::span<const cgi::Var> vars) {
  size_t n = 0;
  for (const cgi::Var& v : vars) n += 4 + v.name.size() + v.value.size();
  return n;
}

proto::Expected<void, Error> encodeVars(evbuffer* out, std::span<const cgi::Var> vars, uint8_t modifier1,
                                      uint8_t modifier2) {
  size_t size = 0;
  for (const cgi::Var& v : vars) {
    if (v.name.size() > 0xffff || v.value.size() > 0xffff) return proto::unexpected(Error::TooLarge);
    size += 4 + v.name.size() + v.value.size();
    if (size > kMaxPacket) return proto::unexpected(Error::TooLarge);
  }
  // One contiguous extent written in place (evbuffer_reserve_space with one iovec), no staging copy.
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(out, ev_ssize_t(kHeaderLen + size), &vec, 1) != 1) __builtin_trap();  // OOM
  char* p = static_cast<char*>(vec.iov_base);
  *p++ = char(modifier1);
  *p++ = char(size & 0xff);
  *p++ = char(size >> 8);
  *p++ = char(modifier2);
  auto put16 = [&](size_t n) {
    *p++ = char(n & 0xff);
    *p++ = char(n >> 8);
  };
  for (const cgi::Var& v : vars) {
    put16(v.name.size());
    p = std::copy(v.name.begin(), v.name.end(), p);
    put16(v.value.size());
    p = std::copy(v.value.begin(), v.value.end(), p);
  }
  vec.iov_len = kHeaderLen + size;
  evbuffer_commit_space(out, &vec, 1);
  return {};
}

}  // namespace gw::uwsgi
