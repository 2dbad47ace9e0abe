#pragma once
// Protocol-neutral request and response heads. Codecs (HTTP/1.1 now, HTTP/2 later) produce a
// RequestHead and consume a ResponseHead; filters and upstreams only ever see these.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/util.h"
#include "http/headers.h"

namespace gw::http {

struct RequestHead {
  std::string method;     // as sent, e.g. "GET"
  std::string path;       // origin-form path, percent-encoded as received, starts with '/'
  std::string query;      // without the '?', empty if none
  std::string authority;  // Host (or :authority), as sent, port included
  std::string scheme = "http";
  int version_major = 1;  // 1.0, 1.1 or 2.0
  int version_minor = 1;
  HeaderMap headers;
  // Length of the body if known (Content-Length); nullopt for chunked (or HTTP/2 without it).
  std::optional<uint64_t> content_length;
  bool expect_continue = false;

  std::string target() const { return query.empty() ? path : path + "?" + query; }
};
using RequestHeadPtr = std::unique_ptr<RequestHead>;

struct ResponseHead {
  int status = 200;
  std::string reason;  // informational only; HTTP/1 codecs write their own reason phrase
  HeaderMap headers;
  std::optional<uint64_t> content_length;
};
using ResponseHeadPtr = std::unique_ptr<ResponseHead>;

// Canonical reason phrase for a status code ("Unknown" for unregistered codes).
const char* reasonPhrase(int status);

// Methods that RFC 9110 §9.2.2 calls idempotent (safe to retry on another server).
bool isIdempotentMethod(std::string_view method);

}  // namespace gw::http
