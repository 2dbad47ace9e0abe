#include "upstream/cgi/environ.h"

#include <charconv>
#include <cstring>
#include <memory>

#include "core/util.h"
#include "http/headers.h"

namespace gw::cgi {

const char* environErrorName(EnvironError e) {
  switch (e) {
    case EnvironError::BadPath: return "cgi_bad_path";
  }
  return "cgi_error";
}

namespace {

using Param = std::pair<std::string, std::string>;

// '-' → '_', a-z → A-Z, other bytes as they are. Branch-free arithmetic rather than a table, so
// that the loop over a field name is vectorised: this runs for every byte of every field name.
inline char cgiNameChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  u = static_cast<unsigned char>(u - (static_cast<unsigned char>(u - 'a') < 26 ? 32 : 0));
  return static_cast<char>(u == '-' ? '_' : u);
}

// Writes "HTTP_" + the field name mapped as in cgiHeaderName() to out (5 + size bytes).
void writeCgiHeaderName(std::string_view field_name, char* out) {
  std::memcpy(out, "HTTP_", 5);
  for (size_t i = 0; i < field_name.size(); ++i) out[5 + i] = cgiNameChar(field_name[i]);
}

// Do the two field names give the same HTTP_* name ("X-A", "x_a")? Compared without building them.
bool sameCgiName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (cgiNameChar(a[i]) != cgiNameChar(b[i])) return false;
  }
  return true;
}

// Does this request field become an HTTP_* variable? (Names are tokens: both codecs refuse other
// names, and the vars are length-prefixed, so no byte of a name could break their framing.)
bool passedAsHttpVar(std::string_view name, const EnvironOptions& o) {
  if (iequals(name, "Content-Type") || iequals(name, "Content-Length")) return false;  // only CONTENT_*
  if (sameCgiName(name, "Proxy")) return false;  // httpoxy: never an HTTP_PROXY
  if (!o.forwarded.empty()) {  // the gateway's forwarding vars replace the request's (any spelling)
    if (http::isForwardingField(name)) return false;
    for (const auto& var : o.forwarded) {
      if (sameCgiName(name, var.first.substr(5))) return false;
    }
  }
  return o.allow_underscores_in_headers || name.find('_') == std::string_view::npos;
}

std::string_view hostOf(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

// Decimal text of n in buf (no allocation, unlike std::to_string).
template <class Int, size_t N>
std::string_view decimal(char (&buf)[N], Int n) {
  return {buf, size_t(std::to_chars(buf, buf + N, n).ptr - buf)};
}

// Applies the per-route params and SCRIPT_FILENAME on the way to the sink (rules in environ.h).
class VarWriter {
 public:
  VarWriter(const EnvironOptions& o, EnvironSink& sink) : o_(o), sink_(sink), used_(o.extra.size()) {}

  // A variable of the base environ (each name once).
  void add(std::string_view name, std::string_view value) {
    if (const Param* p = lastParam(name)) {
      value = p->second;
      used_[index(p)] = true;
    }
    sink_.onVar(name, value);
  }

  // The params no variable stood for, then SCRIPT_FILENAME. path_info: the base PATH_INFO.
  void finish(std::string_view path_info) {
    std::string script_filename;
    if (o_.script_filename) script_filename = expandScriptFilename(path_info);
    bool script_filename_done = false;
    for (const Param& first : o_.extra) {
      // A name given twice goes where it first appears, with the last value (as if applied in turn).
      const Param* p = lastParam(first.first);
      if (used_[index(p)]) continue;
      used_[index(p)] = true;
      std::string_view value = p->second;
      if (o_.script_filename && p->first == "SCRIPT_FILENAME") {
        value = script_filename;
        script_filename_done = true;
      }
      sink_.onVar(p->first, value);
    }
    if (o_.script_filename && !script_filename_done) sink_.onVar("SCRIPT_FILENAME", script_filename);
  }

 private:
  const Param* lastParam(std::string_view name) const {
    for (size_t i = o_.extra.size(); i-- > 0;) {
      if (o_.extra[i].first == name) return &o_.extra[i];
    }
    return nullptr;
  }
  size_t index(const Param* p) const { return size_t(p - o_.extra.data()); }

  // {document_root} and {path_info} from the final environ (a param may have replaced either).
  std::string expandScriptFilename(std::string_view base_path_info) const {
    std::string sf(*o_.script_filename);
    const Param* dr = lastParam("DOCUMENT_ROOT");
    const Param* pi = lastParam("PATH_INFO");
    std::string_view document_root = dr ? std::string_view(dr->second) : o_.document_root.value_or("");
    std::string_view path_info = pi ? std::string_view(pi->second) : base_path_info;
    auto replaceAll = [&](std::string_view from, std::string_view to) {
      for (size_t p = sf.find(from); p != std::string::npos; p = sf.find(from, p + to.size())) sf.replace(p, from.size(), to);
    };
    replaceAll("{document_root}", document_root);
    replaceAll("{path_info}", path_info);
    return sf;
  }

  const EnvironOptions& o_;
  EnvironSink& sink_;
  std::vector<bool> used_;  // per param: emitted, or replaced a variable (allocates only with params)
};

}  // namespace

std::optional<std::string> percentDecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%' && i + 2 < path.size()) {
      int hi = hexValue(path[i + 1]), lo = hexValue(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = char(hi * 16 + lo);
        i += 2;
      }
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::pair<std::string_view, std::string_view> splitScriptName(std::string_view path, std::string_view prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return {{}, path};
  if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    return {prefix, path.substr(prefix.size())};
  }
  return {{}, path};
}

std::string cgiHeaderName(std::string_view field_name) {
  std::string n(5 + field_name.size(), '\0');
  writeCgiHeaderName(field_name, n.data());
  return n;
}

proto::Expected<void, EnvironError> writeEnviron(const http::RequestHead& head, const EnvironOptions& o,
                                                 EnvironSink& sink) {
  const std::string_view path = o.path.empty() ? std::string_view(head.path) : o.path;
  if (path.empty() || path.front() != '/') return proto::unexpected(EnvironError::BadPath);
  auto [script_name, path_info_raw] = splitScriptName(path, o.mount_prefix);
  // Most paths have nothing to decode: PATH_INFO is then a view of the path.
  std::string decoded;
  std::string_view path_info = path_info_raw;
  if (path_info_raw.find('%') != std::string_view::npos) {
    auto d = percentDecodePath(path_info_raw);
    if (!d) return proto::unexpected(EnvironError::BadPath);
    decoded = std::move(*d);
    path_info = decoded;
  } else if (path_info_raw.find('\0') != std::string_view::npos) {
    return proto::unexpected(EnvironError::BadPath);
  }
  std::string target;
  std::string_view request_uri = path;
  if (!head.query.empty()) {
    target.reserve(path.size() + 1 + head.query.size());
    target.append(path).append(1, '?').append(head.query);
    request_uri = target;
  }

  VarWriter w(o, sink);
  char num[24];  // one number at a time: the sink is done with a value when add() returns
  w.add("REQUEST_METHOD", head.method);
  w.add("SCRIPT_NAME", script_name);
  w.add("PATH_INFO", path_info);
  w.add("REQUEST_URI", request_uri);
  w.add("QUERY_STRING", head.query);
  if (auto ct = head.headers.get("Content-Type")) w.add("CONTENT_TYPE", *ct);
  // RFC 3875 §4.1.2: only when the request has a body (not for a bodiless GET); an explicit
  // "Content-Length: 0" is an empty body.
  if (head.content_length && (*head.content_length > 0 || head.headers.get("Content-Length"))) {
    w.add("CONTENT_LENGTH", decimal(num, *head.content_length));
  }
  w.add("SERVER_NAME", o.server_name.empty() ? hostOf(head.authority) : o.server_name);
  w.add("SERVER_PORT", decimal(num, o.server_port));
  if (head.version_major >= 2) {
    w.add("SERVER_PROTOCOL", "HTTP/2.0");
  } else {
    char major[16], minor[16];
    std::string_view a = decimal(major, head.version_major), b = decimal(minor, head.version_minor);
    char version[40] = "HTTP/";
    char* p = std::copy(a.begin(), a.end(), version + 5);
    *p++ = '.';
    p = std::copy(b.begin(), b.end(), p);
    w.add("SERVER_PROTOCOL", std::string_view(version, size_t(p - version)));
  }
  w.add("GATEWAY_INTERFACE", "CGI/1.1");
  if (!o.server_software.empty()) w.add("SERVER_SOFTWARE", o.server_software);
  w.add("REMOTE_ADDR", o.remote_addr);
  if (o.remote_port != 0) w.add("REMOTE_PORT", decimal(num, o.remote_port));  // 0: not known
  if (o.https) w.add("HTTPS", "on");
  if (o.remote_user) w.add("REMOTE_USER", *o.remote_user);
  if (o.document_root) w.add("DOCUMENT_ROOT", *o.document_root);

  // HTTP_*: a repeated field goes where it first appears, its values combined in order. Each
  // field is classified once: passed on or not, and (for the passed ones) already emitted as part
  // of an earlier field of the same CGI name.
  const std::vector<http::HeaderField>& fields = head.headers.fields();
  bool small[64];
  std::unique_ptr<bool[]> big;  // only for heads of more than 64 fields
  bool* pending = fields.size() <= std::size(small) ? small : (big = std::make_unique<bool[]>(fields.size())).get();
  for (size_t i = 0; i < fields.size(); ++i) pending[i] = passedAsHttpVar(fields[i].name, o);
  bool have_host = false;
  char name_buf[128];
  std::string long_name, combined;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!pending[i]) continue;  // not passed, or combined into an earlier field
    const http::HeaderField& f = fields[i];
    if (!have_host && iequals(f.name, "Host")) have_host = true;
    std::string_view value = f.value;
    bool combining = false;
    for (size_t j = i + 1; j < fields.size(); ++j) {
      const http::HeaderField& later = fields[j];
      if (!pending[j] || !sameCgiName(later.name, f.name)) continue;
      pending[j] = false;
      if (!combining) combined.assign(f.value);
      combining = true;
      combined += iequals(later.name, "Cookie") ? "; " : ", ";
      combined += later.value;
    }
    if (combining) value = combined;
    char* name = name_buf;
    if (5 + f.name.size() > sizeof(name_buf)) {
      long_name.resize(5 + f.name.size());
      name = long_name.data();
    }
    writeCgiHeaderName(f.name, name);
    w.add(std::string_view(name, 5 + f.name.size()), value);
  }
  if (!have_host && !head.authority.empty()) w.add("HTTP_HOST", head.authority);
  for (const auto& [name, value] : o.forwarded) {
    if (!value.empty()) w.add(name, value);
  }
  w.finish(path_info);
  return {};
}

proto::Expected<Environ, EnvironError> buildEnviron(const http::RequestHead& head, const EnvironOptions& o) {
  struct Collector final : EnvironSink {
    Environ env;
    void onVar(std::string_view name, std::string_view value) override {
      env.push_back(Var{std::string(name), std::string(value)});
    }
  } collector;
  collector.env.reserve(24 + head.headers.size());
  if (auto r = writeEnviron(head, o, collector); !r) return proto::unexpected(r.error());
  return std::move(collector.env);
}

}  // namespace gw::cgi
