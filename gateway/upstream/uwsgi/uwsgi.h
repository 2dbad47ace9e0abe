#pragma once
// uwsgi binary protocol (https://uwsgi-docs.readthedocs.io/en/latest/Protocol.html), modifier1 0
// (WSGI/CGI vars). A request is one vars packet:
//   modifier1 (1 byte) | datasize (uint16 LE) | modifier2 (1 byte)
//   then datasize bytes of { keysize (uint16 LE) key valsize (uint16 LE) value }*
// followed by the request body as raw bytes (CONTENT_LENGTH of them): the caller moves the body
// evbuffer after the packet as it arrives; this module adds no framing to it.
//
// The response is a raw HTTP/1.x response ("HTTP/1.1 200 OK\r\n..."), verified against uWSGI
// 2.0.21 (../shared/RECIPES.md §2). No parser lives here: the uwsgi upstream feeds the response
// bytes to the existing http_parser-based HTTP/1.1 response path (as upstream/http1_upstream.cc
// does; Content-Length / chunked / close-delimited framing, 1xx and header-injection refusal
// included), with the connection not reused unless that response framing allows it.
//
// Vars come from cgi::writeEnviron (shared with FastCGI PARAMS).
#include <event2/buffer.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "upstream/cgi/environ.h"
#include "upstream/cgi/expected.h"

namespace gw::uwsgi {

inline constexpr size_t kHeaderLen = 4;
inline constexpr size_t kMaxPacket = 65535;  // datasize is 16 bits

enum class Error {
  TooLarge,  // the vars (or one key/value) do not fit the 16-bit sizes
};
const char* errorName(Error e);  // "uwsgi_vars_too_large"

// Size of the vars data (without the 4-byte header).
size_t varsSize(std::span<const cgi::Var> vars);

// Appends one key/value to the vars data `data` (no packet header). Sizes are checked by
// encodeVarsPacket: data over kMaxPacket, which any key or value over 0xffff makes it, is refused.
void appendVar(std::string& data, std::string_view key, std::string_view value);

// Appends the vars packet for `data` (built by appendVar) to `out`, or appends nothing and returns
// TooLarge when the data is over 65535 bytes. modifier1 0 = WSGI/CGI vars.
proto::Expected<void, Error> encodeVarsPacket(evbuffer* out, std::string_view data, uint8_t modifier1 = 0,
                                              uint8_t modifier2 = 0);

// The same for a list of vars.
proto::Expected<void, Error> encodeVars(evbuffer* out, std::span<const cgi::Var> vars, uint8_t modifier1 = 0,
                                      uint8_t modifier2 = 0);

}  // namespace gw::uwsgi
