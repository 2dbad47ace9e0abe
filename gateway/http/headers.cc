#include "http/headers.h"

#include "core/util.h"

namespace gw::http {

void HeaderMap::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

size_t HeaderMap::remove(std::string_view name) {
  size_t before = fields_.size();
  std::erase_if(fields_, [&](const HeaderField& f) { return iequals(f.name, name); });
  return before - fields_.size();
}

const std::string* HeaderMap::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (iequals(f.name, name)) return &f.value;
  }
  return nullptr;
}

size_t HeaderMap::count(std::string_view name) const {
  size_t n = 0;
  for (const auto& f : fields_) n += iequals(f.name, name) ? 1 : 0;
  return n;
}

std::string HeaderMap::getCombined(std::string_view name) const {
  std::string out;
  for (const auto& f : fields_) {
    if (!iequals(f.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += f.value;
  }
  return out;
}

bool isTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool isValidFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

bool isValidFieldValue(std::string_view value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::vector<std::string_view> splitList(std::string_view value) {
  std::vector<std::string_view> out;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

void removeHopByHop(HeaderMap& headers) {
  std::vector<std::string> named;
  for (const auto& f : headers.fields()) {
    if (!iequals(f.name, "connection")) continue;
    for (std::string_view token : splitList(f.value)) {
      // Never let a client strip framing or identity headers by naming them in Connection.
      if (iequals(token, "content-length") || iequals(token, "host")) continue;
      named.emplace_back(token);
    }
  }
  for (const auto& n : named) headers.remove(n);
  for (const char* h : {"connection", "keep-alive", "te", "transfer-encoding", "upgrade",
                        "proxy-connection", "trailer"}) {
    headers.remove(h);
  }
}

}  // namespace gw::http
