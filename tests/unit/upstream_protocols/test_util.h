#pragma once
// Small evbuffer helpers for the protocol-layer tests.
#include <event2/buffer.h>

#include <memory>
#include <string>
#include <string_view>

namespace gw::test {

struct EvbufferDeleter {
  void operator()(evbuffer* b) const { evbuffer_free(b); }
};
using EvbufferPtr = std::unique_ptr<evbuffer, EvbufferDeleter>;

inline EvbufferPtr makeBuffer(std::string_view s = {}) {
  EvbufferPtr b(evbuffer_new());
  if (!s.empty()) evbuffer_add(b.get(), s.data(), s.size());
  return b;
}

// `s` as chains of `piece` bytes each (evbuffer_add_buffer moves chains without merging them),
// for the readers that parse the first chain in place.
inline EvbufferPtr makeChainedBuffer(std::string_view s, size_t piece) {
  EvbufferPtr b(evbuffer_new());
  for (size_t off = 0; off < s.size(); off += piece) {
    EvbufferPtr one = makeBuffer(s.substr(off, piece));
    evbuffer_add_buffer(b.get(), one.get());
  }
  return b;
}

inline std::string contents(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  evbuffer_copyout(b, s.data(), s.size());
  return s;
}

inline std::string drain(evbuffer* b) {
  std::string s = contents(b);
  evbuffer_drain(b, s.size());
  return s;
}

}  // namespace gw::test
