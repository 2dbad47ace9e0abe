#include "upstream/uwsgi/uwsgi.h"

#include <algorithm>
#include <cstring>

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

void appendVar(std::string& data, std::string_view key, std::string_view value) {
  // Grown once and written in place (not four appends, no zero-filling): this runs for every
  // environ variable.
  // (The size is returned as computed here: libstdc++ 12 passes the new capacity, not the size.)
  const size_t old = data.size(), size = old + 4 + key.size() + value.size();
  data.resize_and_overwrite(size, [&](char* out, size_t) {
    char* p = out + old;
    auto put16 = [&](size_t n) {
      *p++ = char(n & 0xff);
      *p++ = char((n >> 8) & 0xff);
    };
    put16(key.size());
    p = std::copy(key.begin(), key.end(), p);
    put16(value.size());
    std::copy(value.begin(), value.end(), p);
    return size;
  });
}

proto::Expected<void, Error> encodeVarsPacket(evbuffer* out, std::string_view data, uint8_t modifier1,
                                              uint8_t modifier2) {
  if (data.size() > kMaxPacket) return proto::unexpected(Error::TooLarge);
  // One contiguous extent written in place and committed once (one run of the buffer's callbacks).
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(out, ev_ssize_t(kHeaderLen + data.size()), &vec, 1) != 1) __builtin_trap();  // OOM
  uint8_t* p = static_cast<uint8_t*>(vec.iov_base);
  p[0] = modifier1;
  p[1] = uint8_t(data.size() & 0xff);
  p[2] = uint8_t(data.size() >> 8);
  p[3] = modifier2;
  if (!data.empty()) std::memcpy(p + kHeaderLen, data.data(), data.size());
  vec.iov_len = kHeaderLen + data.size();
  evbuffer_commit_space(out, &vec, 1);
  return {};
}

proto::Expected<void, Error> encodeVars(evbuffer* out, std::span<const cgi::Var> vars, uint8_t modifier1,
                                      uint8_t modifier2) {
  if (varsSize(vars) > kMaxPacket) return proto::unexpected(Error::TooLarge);
  std::string data;
  for (const cgi::Var& v : vars) appendVar(data, v.name, v.value);
  return encodeVarsPacket(out, data, modifier1, modifier2);
}

}  // namespace gw::uwsgi
