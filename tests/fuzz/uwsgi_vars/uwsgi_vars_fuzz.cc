// Fuzzes the environ builder and both encoders on a fuzzed request head. The input is split on
// '\n' into: method, path, query, authority, mount prefix, then header lines "name:value".
// Checks: no crash; no HTTP_PROXY; every name once (repeated fields are combined); the uwsgi vars
// packet decodes back to exactly the environ (or
// is refused as too large, writing nothing); the FastCGI PARAMS stream decodes back to the same.
#include <event2/buffer.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/cgi/environ.h"
#include "upstream/fastcgi/fastcgi.h"
#include "upstream/uwsgi/uwsgi.h"

namespace {

using namespace gw;

std::string drainAll(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  evbuffer_remove(b, s.data(), s.size());
  return s;
}

void checkUwsgi(const cgi::Environ& env) {
  evbuffer* out = evbuffer_new();
  auto r = uwsgi::encodeVars(out, env);
  std::string pkt = drainAll(out);
  evbuffer_free(out);
  if (!r) {
    if (!pkt.empty() || uwsgi::varsSize(env) <= uwsgi::kMaxPacket) {
      // refused only when too large; nothing written
      bool field_too_big = false;
      for (const auto& v : env) field_too_big |= v.name.size() > 0xffff || v.value.size() > 0xffff;
      if (!pkt.empty() || !field_too_big) __builtin_trap();
    }
    return;
  }
  if (pkt.size() < 4 || pkt[0] != 0 || pkt[3] != 0) __builtin_trap();
  size_t size = uint8_t(pkt[1]) | (size_t(uint8_t(pkt[2])) << 8);
  if (size != pkt.size() - 4) __builtin_trap();
  size_t p = 4, i = 0;
  auto get16 = [&] {
    size_t n = uint8_t(pkt[p]) | (size_t(uint8_t(pkt[p + 1])) << 8);
    p += 2;
    return n;
  };
  while (p < pkt.size()) {
    if (i >= env.size()) __builtin_trap();
    size_t kl = get16();
    std::string_view k(pkt.data() + p, kl);
    p += kl;
    size_t vl = get16();
    std::string_view v(pkt.data() + p, vl);
    p += vl;
    if (k != env[i].name || v != env[i].value) __builtin_trap();
    ++i;
  }
  if (i != env.size()) __builtin_trap();
}

void checkFastcgi(const cgi::Environ& env) {
  std::vector<fastcgi::NameValue> nv;
  for (const auto& v : env) nv.push_back({v.name, v.value});
  evbuffer* out = evbuffer_new();
  if (!fastcgi::encodeParams(out, 1, nv)) __builtin_trap();
  std::string s = drainAll(out);
  evbuffer_free(out);
  std::string content;
  while (!s.empty()) {
    if (s.size() < 8 || s[0] != 1 || s[1] != 4) __builtin_trap();
    size_t len = (size_t(uint8_t(s[4])) << 8) | uint8_t(s[5]);
    size_t pad = uint8_t(s[6]);
    if ((len + pad) % 8 != 0 || s.size() < 8 + len + pad) __builtin_trap();
    content += s.substr(8, len);
    s.erase(0, 8 + len + pad);
  }
  size_t i = 0;
  auto r = fastcgi::forEachNameValue(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size()),
      [&](fastcgi::NameValue p) {
        if (i >= env.size() || p.name != env[i].name || p.value != env[i].value) __builtin_trap();
        ++i;
      });
  if (!r || i != env.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (!in.empty() && lines.size() < 200) {
    size_t nl = in.find('\n');
    lines.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  while (lines.size() < 5) lines.push_back({});
  http::RequestHead head;
  head.method = lines[0];
  head.path = lines[1];
  head.query = lines[2];
  head.authority = lines[3];
  if (!head.query.empty() && head.query[0] == '2') head.version_major = 2;
  if (!head.query.empty() && head.query.size() % 3 == 0) head.content_length = head.query.size();
  cgi::EnvironOptions o;
  o.mount_prefix = lines[4];
  o.https = head.method.size() % 2 == 1;
  o.allow_underscores_in_headers = head.path.size() % 2 == 1;
  o.remote_addr = "127.0.0.1";
  // An upstream with forwarded_headers: the gateway's vars must replace the request's, never repeat.
  const std::pair<std::string_view, std::string_view> forwarded[] = {
      {"HTTP_X_FORWARDED_FOR", "127.0.0.1"}, {"HTTP_X_FORWARDED_PROTO", "http"}, {"HTTP_FORWARDED", "for=127.0.0.1"}};
  if (head.authority.size() % 2 == 1) o.forwarded = forwarded;
  for (size_t i = 5; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) continue;
    head.headers.add(lines[i].substr(0, colon), lines[i].substr(colon + 1));
  }
  auto env = cgi::buildEnviron(head, o);
  if (!env) return 0;
  std::set<std::string_view> names;
  for (const auto& v : *env) {
    if (!names.insert(v.name).second) __builtin_trap();
    if (v.name == "HTTP_PROXY") __builtin_trap();
    if (v.name == "PATH_INFO" && v.value.find('\0') != std::string::npos) __builtin_trap();
  }
  checkUwsgi(*env);
  checkFastcgi(*env);
  return 0;
}
