#include "config/config.h"

// valijson's RapidJSON adapter must come before any RapidJSON header (it defines RAPIDJSON_ASSERT).
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/config_schema.h"
#include "upstream/static/static_logic.h"  // isPlainFileName (header-only)

namespace gw::config {

std::string ConfigError::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!pointer.empty()) out += pointer + ": ";
  out += message;
  return out;
}

const char* configSchemaText() { return kConfigSchemaJson; }

const char* upstreamKindName(UpstreamKind k) {
  switch (k) {
    case UpstreamKind::Http: return "http";
    case UpstreamKind::FastCgi: return "fastcgi";
    case UpstreamKind::Uwsgi: return "uwsgi";
    case UpstreamKind::Static: return "static";
  }
  return "http";
}

namespace {

using rapidjson::Document;
using rapidjson::Value;

// Converts YAML into RapidJSON, remembering the source line of every JSON Pointer.
class YamlToJson {
 public:
  YamlToJson(Document& doc, std::map<std::string, int>& lines) : doc_(doc), lines_(lines) {}

  bool convert(const YAML::Node& node, Value& out, const std::string& ptr, std::string* error) {
    lines_[ptr] = node.Mark().line + 1;
    auto& alloc = doc_.GetAllocator();
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.SetNull();
        return true;
      case YAML::NodeType::Scalar:
        scalar(node, out);
        return true;
      case YAML::NodeType::Sequence: {
        out.SetArray();
        size_t i = 0;
        for (const auto& item : node) {
          Value v;
          if (!convert(item, v, ptr + "/" + std::to_string(i++), error)) return false;
          out.PushBack(v, alloc);
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out.SetObject();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            *error = "line " + std::to_string(kv.first.Mark().line + 1) + ": keys must be plain strings";
            return false;
          }
          std::string key = kv.first.Scalar();
          if (out.HasMember(key.c_str())) {
            *error = "line " + std::to_string(kv.first.Mark().line + 1) + ": duplicate key '" + key + "'";
            return false;
          }
          Value v;
          if (!convert(kv.second, v, ptr + "/" + escape(key), error)) return false;
          lines_[ptr + "/" + escape(key)] = kv.first.Mark().line + 1;
          out.AddMember(Value(key.c_str(), alloc), v, alloc);
        }
        return true;
      }
    }
    return true;
  }

 private:
  static std::string escape(const std::string& key) {
    std::string out;
    for (char c : key) {
      if (c == '~') out += "~0";
      else if (c == '/') out += "~1";
      else out += c;
    }
    return out;
  }

  void scalar(const YAML::Node& node, Value& out) {
    const std::string& s = node.Scalar();
    auto& alloc = doc_.GetAllocator();
    // Quoted scalars (tag "!") are always strings; plain ones follow the YAML 1.2 core schema.
    if (node.Tag() != "!") {
      if (s == "true" || s == "True" || s == "TRUE") return (void)out.SetBool(true);
      if (s == "false" || s == "False" || s == "FALSE") return (void)out.SetBool(false);
      if (s == "null" || s == "~" || s == "Null" || s == "NULL" || s.empty()) return (void)out.SetNull();
      if (auto i = parseInteger(s)) return (void)out.SetInt64(*i);
      char* end = nullptr;
      if (!s.empty() && (isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) {
        double d = strtod(s.c_str(), &end);
        if (end && *end == '\0') return (void)out.SetDouble(d);
      }
    }
    out.SetString(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
  }

  static std::optional<int64_t> parseInteger(const std::string& s) {
    std::string_view v = s;
    bool neg = false;
    if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
      neg = v[0] == '-';
      v.remove_prefix(1);
    }
    auto u = parseUint(v);
    if (!u || *u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return neg ? -static_cast<int64_t>(*u) : static_cast<int64_t>(*u);
  }

  Document& doc_;
  std::map<std::string, int>& lines_;
};

const valijson::Schema& compiledSchema() {
  static const valijson::Schema* schema = [] {
    auto* s = new valijson::Schema();
    Document d;
    d.Parse(kConfigSchemaJson);
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::RapidJsonAdapter adapter(d);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *schema;
}

std::string contextToPointer(const std::vector<std::string>& context) {
  std::string ptr;
  for (const auto& c : context) {
    if (c == "<root>") continue;
    std::string_view part = c;
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') part = part.substr(1, part.size() - 2);
    if (part.size() >= 2 && part.front() == '"' && part.back() == '"') part = part.substr(1, part.size() - 2);
    ptr += "/";
    ptr += part;
  }
  return ptr;
}

// Makes valijson's messages read like a config checker's: "must be <= 65535", "unknown key".
// `ptr` may be extended (an unknown key points at the key itself).
std::string friendlyMessage(const std::string& description, std::string& ptr) {
  static const std::string kUnknown = "could not be validated using 'properties' or 'additionalProperties' constraints: '";
  if (auto pos = description.find(kUnknown); pos != std::string::npos) {
    std::string key = description.substr(pos + kUnknown.size());
    if (auto q = key.find('\''); q != std::string::npos) key.resize(q);
    ptr += "/" + key;
    return "unknown key";
  }
  auto number = [](const std::string& text, size_t at) {
    std::string n = text.substr(at);
    while (!n.empty() && (n.back() == '.' || n.back() == ' ')) n.pop_back();
    if (n.find('.') != std::string::npos) {
      while (n.back() == '0') n.pop_back();
      if (n.back() == '.') n.pop_back();
    }
    return n;
  };
  static const std::pair<const char*, const char*> kBounds[] = {
      {"Expected number less than or equal to ", "must be <= "},
      {"Expected number greater than or equal to ", "must be >= "},
      {"Expected number less than ", "must be < "},
      {"Expected number greater than ", "must be > "}};
  for (const auto& [from, to] : kBounds) {
    if (description.rfind(from, 0) == 0) return to + number(description, strlen(from));
  }
  if (description.find("'type' constraint") != std::string::npos) return "wrong type for this field";
  std::string out = description;
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// valijson also reports each enclosing object and array an error sits in ("Failed to validate
// item #0 in array"); those repeat the real error and are dropped when it is there.
bool isCascade(const std::string& description) { return description.rfind("Failed to validate", 0) == 0; }

class Builder {
 public:
  Builder(const Value& root, const std::string& source, const std::map<std::string, int>& lines)
      : root_(root), source_(source), lines_(lines) {}

  LoadResult build() {
    auto cfg = std::make_shared<Config>();
    cfg->source = source_;
    if (auto* v = member(root_, "workers")) cfg->workers = v->GetInt();

    if (auto* arr = member(root_, "listeners")) {
      std::set<std::pair<std::string, int>> seen;
      for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
        const Value& l = (*arr)[i];
        std::string ptr = "/listeners/" + std::to_string(i);
        Listener out;
        out.name = str(l, "name", "listener" + std::to_string(i));
        out.address = str(l, "address", "127.0.0.1");
        out.port = static_cast<uint16_t>(l["port"].GetInt());
        if (auto* b = member(l, "backlog")) out.backlog = b->GetInt();
        if (auto* t = member(l, "tls")) out.tls = listenerTls(*t, ptr + "/tls");
        if (!SocketAddress::parseIp(out.address)) error(ptr + "/address", "not a numeric IPv4 or IPv6 address");
        if (out.port != 0 && !seen.insert({out.address, out.port}).second) {
          error(ptr + "/port", "another listener already uses " + out.address + ":" + std::to_string(out.port));
        }
        cfg->listeners.push_back(std::move(out));
      }
    } else {
      Listener main;
      main.name = "main";
      cfg->listeners.push_back(std::move(main));
    }

    if (auto* l = member(root_, "limits")) {
      auto& lim = cfg->limits;
      lim.max_uri_bytes = u64(*l, "max_uri_bytes", lim.max_uri_bytes);
      lim.max_header_bytes = u64(*l, "max_header_bytes", lim.max_header_bytes);
      lim.max_headers = u64(*l, "max_headers", lim.max_headers);
      lim.max_body_bytes = u64(*l, "max_body_bytes", lim.max_body_bytes);
      lim.max_connections = u64(*l, "max_connections", lim.max_connections);
      lim.max_requests_per_connection = u64(*l, "max_requests_per_connection", lim.max_requests_per_connection);
      lim.buffer_bytes = u64(*l, "buffer_bytes", lim.buffer_bytes);
      lim.body_temp_dir = str(*l, "body_temp_dir", lim.body_temp_dir);
      if (lim.max_uri_bytes >= lim.max_header_bytes) {
        error("/limits/max_uri_bytes", "must be smaller than max_header_bytes (" + std::to_string(lim.max_header_bytes) + ")");
      }
    }
    if (auto* t = member(root_, "timeouts")) {
      auto& to = cfg->timeouts;
      to.client_header = dur(*t, "client_header", to.client_header);
      to.client_body = dur(*t, "client_body", to.client_body);
      to.keepalive = dur(*t, "keepalive", to.keepalive);
      to.send = dur(*t, "send", to.send);
      to.shutdown = dur(*t, "shutdown", to.shutdown);
    }

    if (auto* h = member(root_, "http2")) {
      auto& h2 = cfg->http2;
      if (auto* e = member(*h, "enabled")) h2.enabled = e->GetBool();
      h2.max_concurrent_streams = static_cast<uint32_t>(u64(*h, "max_concurrent_streams", h2.max_concurrent_streams));
      h2.max_header_list_bytes = u64(*h, "max_header_list_bytes", h2.max_header_list_bytes);
      h2.max_header_fields = u64(*h, "max_header_fields", h2.max_header_fields);
      h2.initial_stream_window = static_cast<uint32_t>(u64(*h, "initial_stream_window", h2.initial_stream_window));
      h2.initial_connection_window =
          static_cast<uint32_t>(u64(*h, "initial_connection_window", h2.initial_connection_window));
      h2.max_frame_size = static_cast<uint32_t>(u64(*h, "max_frame_size", h2.max_frame_size));
      h2.reset_burst = u64(*h, "reset_burst", h2.reset_burst);
      h2.reset_rate = u64(*h, "reset_rate", h2.reset_rate);
      h2.max_continuations = u64(*h, "max_continuations", h2.max_continuations);
      h2.max_settings = u64(*h, "max_settings", h2.max_settings);
      h2.max_outbound_acks = u64(*h, "max_outbound_acks", h2.max_outbound_acks);
      h2.max_glitches = static_cast<uint32_t>(u64(*h, "max_glitches", h2.max_glitches));
      h2.idle_timeout = dur(*h, "idle_timeout", h2.idle_timeout);
      h2.drain_notice = dur(*h, "drain_notice", h2.drain_notice);
      if (h2.initial_connection_window < h2.initial_stream_window) {
        error("/http2/initial_connection_window", "must be at least initial_stream_window (" +
                                                      std::to_string(h2.initial_stream_window) + ")");
      }
    }

    std::map<std::string, size_t> upstream_index;
    if (auto* arr = member(root_, "upstreams")) {
      for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
        const Value& u = (*arr)[i];
        std::string ptr = "/upstreams/" + std::to_string(i);
        Upstream out;
        out.name = u["name"].GetString();
        if (!upstream_index.emplace(out.name, i).second) error(ptr + "/name", "duplicate upstream name '" + out.name + "'");
        if (auto* k = member(u, "kind")) {
          std::string_view kind = k->GetString();
          out.kind = kind == "fastcgi" ? UpstreamKind::FastCgi
                     : kind == "uwsgi" ? UpstreamKind::Uwsgi
                     : kind == "static" ? UpstreamKind::Static
                                        : UpstreamKind::Http;
        }
        static const Value kNoServers(rapidjson::kArrayType);
        const Value* servers_v = member(u, "servers");
        if (out.kind == UpstreamKind::Static) {
          // Files come from `root`; the networking keys of the other kinds mean nothing here.
          for (const char* key : {"servers", "balance", "keepalive", "connect_timeout", "response_timeout",
                                  "idle_timeout", "retries", "max_fails", "fail_timeout", "forwarded_headers"}) {
            if (member(u, key)) error(ptr + "/" + key, "not used by static upstreams (they serve files from 'root')");
          }
          servers_v = nullptr;
          staticFiles(u, ptr, out.static_files);
        } else {
          if (!servers_v) error(ptr, std::string("missing required key 'servers' (for kind ") + upstreamKindName(out.kind) + ")");
          for (const char* key : {"root", "index", "allow_dotfiles", "cache_control", "mime_types"}) {
            if (member(u, key)) {
              error(ptr + "/" + key, std::string("only for upstreams of kind static (this one is ") +
                                         upstreamKindName(out.kind) + ")");
            }
          }
        }
        const Value& servers = servers_v ? *servers_v : kNoServers;
        for (rapidjson::SizeType j = 0; j < servers.Size(); ++j) {
          std::string why;
          auto addr = SocketAddress::resolve(servers[j].GetString(), &why);
          if (!addr) {
            error(ptr + "/servers/" + std::to_string(j), why);
            continue;
          }
          if (addr->family() != AF_UNIX && addr->port() == 0) {
            error(ptr + "/servers/" + std::to_string(j), "port must be between 1 and 65535");
          }
          out.servers.push_back(*addr);
        }
        if (auto* b = member(u, "balance")) {
          out.balance = std::string_view(b->GetString()) == "least_request" ? Balance::LeastRequest : Balance::RoundRobin;
        }
        out.keepalive = u64(u, "keepalive", out.keepalive);
        out.forwarded_headers = out.kind == UpstreamKind::Http;
        if (const Value* f = member(u, "forwarded_headers")) out.forwarded_headers = f->GetBool();
        out.connect_timeout = dur(u, "connect_timeout", out.connect_timeout);
        out.response_timeout = dur(u, "response_timeout", out.response_timeout);
        out.idle_timeout = dur(u, "idle_timeout", out.idle_timeout);
        out.fail_timeout = dur(u, "fail_timeout", out.fail_timeout);
        out.retries = static_cast<int>(u64(u, "retries", out.retries));
        out.max_fails = static_cast<int>(u64(u, "max_fails", out.max_fails));
        out.max_requests_per_server = u64(u, "max_requests_per_server", out.max_requests_per_server);
        out.queue_size = u64(u, "queue_size", out.queue_size);
        out.queue_timeout = dur(u, "queue_timeout", out.queue_timeout);
        if (auto* hc = member(u, "health_check")) {
          Upstream::HealthCheck h;
          h.path = str(*hc, "path", h.path);
          h.host = str(*hc, "host", h.host);
          h.interval = dur(*hc, "interval", h.interval);
          h.timeout = dur(*hc, "timeout", h.timeout);
          if (auto* v = member(*hc, "script_filename")) h.script_filename = std::string(v->GetString(), v->GetStringLength());
          if (auto* v = member(*hc, "document_root")) h.document_root = std::string(v->GetString(), v->GetStringLength());
          if (h.script_filename && h.script_filename->find("{document_root}") != std::string::npos && !h.document_root) {
            error(ptr + "/health_check/script_filename", "uses {document_root} but document_root is not set");
          }
          out.health_check = std::move(h);
        }
        const bool framed = out.kind == UpstreamKind::FastCgi || out.kind == UpstreamKind::Uwsgi;
        for (const char* key : {"max_requests_per_server", "queue_size", "queue_timeout", "health_check"}) {
          if (!framed && member(u, key)) {
            error(ptr + "/" + key, std::string("only for upstreams of kind fastcgi or uwsgi (this one is ") +
                                       upstreamKindName(out.kind) + ")");
          }
        }
        cfg->upstreams.push_back(std::move(out));
      }
    } else {
      error("", "at least one upstream is required (key 'upstreams')");
    }

    if (auto* arr = member(root_, "routes")) {
      for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
        const Value& r = (*arr)[i];
        std::string ptr = "/routes/" + std::to_string(i);
        Route out;
        out.name = str(r, "name", "route" + std::to_string(i));
        out.prefix = str(r, "prefix", "/");
        out.strip_prefix = member(r, "strip_prefix") && r["strip_prefix"].GetBool();
        if (auto* h = member(r, "hosts")) {
          for (const auto& v : h->GetArray()) out.hosts.push_back(toLower(v.GetString()));
        }
        if (auto* m = member(r, "methods")) {
          for (const auto& v : m->GetArray()) out.methods.emplace_back(v.GetString());
        }
        if (auto* a = member(r, "auth")) {
          RouteAuth auth;
          auth.realm = str(*a, "realm", "");
          auth.credentials = str(*a, "credentials", "");
          for (char ch : auth.realm) {
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) error(ptr + "/auth/realm", "control characters are not allowed");
          }
          if (auto* u = member(*a, "users")) {
            for (const auto& v : u->GetArray()) auth.users.emplace_back(v.GetString(), v.GetStringLength());
          }
          if (auto* al = member(*a, "algorithms")) {
            for (const auto& v : al->GetArray()) auth.algorithms.emplace_back(v.GetString());
          } else {
            auth.algorithms = {"SHA-512-256", "SHA-256"};
          }
          auth.forward_authorization = member(*a, "forward_authorization") && (*a)["forward_authorization"].GetBool();
          auth.authentication_info = member(*a, "authentication_info") && (*a)["authentication_info"].GetBool();
          auth.auth_int = member(*a, "auth_int") && (*a)["auth_int"].GetBool();
          auth.auth_int_max_body = u64(*a, "auth_int_max_body", auth.auth_int_max_body);
          out.auth = std::move(auth);
        }
        std::string up = r["upstream"].GetString();
        if (auto it = upstream_index.find(up); it != upstream_index.end()) {
          out.upstream = it->second;
        } else {
          error(ptr + "/upstream", "no upstream named '" + up + "'");
        }
        if (auto* c = member(r, "cgi")) {
          RouteCgi cgi;
          if (auto* v = member(*c, "script_filename")) cgi.script_filename = std::string(v->GetString(), v->GetStringLength());
          if (auto* v = member(*c, "document_root")) cgi.document_root = std::string(v->GetString(), v->GetStringLength());
          if (auto* p = member(*c, "params")) {
            for (auto m = p->MemberBegin(); m != p->MemberEnd(); ++m) {
              cgi.params.emplace_back(std::string(m->name.GetString(), m->name.GetStringLength()),
                                      std::string(m->value.GetString(), m->value.GetStringLength()));
            }
          }
          if (auto it = upstream_index.find(up); it != upstream_index.end()) {
            UpstreamKind k = cfg->upstreams[it->second].kind;
            if (k != UpstreamKind::FastCgi && k != UpstreamKind::Uwsgi) {
              error(ptr + "/cgi", "CGI params need an upstream of kind fastcgi or uwsgi ('" + up + "' is " +
                                      upstreamKindName(k) + ")");
            }
          }
          if (cgi.script_filename && cgi.script_filename->find("{document_root}") != std::string::npos &&
              !cgi.document_root) {
            error(ptr + "/cgi/script_filename", "uses {document_root} but document_root is not set");
          }
          out.cgi = std::move(cgi);
        }
        cfg->routes.push_back(std::move(out));
      }
    } else {
      error("", "at least one route is required (key 'routes')");
    }

    if (auto* arr = member(root_, "trusted_proxies")) {
      for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
        auto c = Cidr::parse((*arr)[i].GetString());
        if (!c) {
          error("/trusted_proxies/" + std::to_string(i), "not an IP address or CIDR range");
          continue;
        }
        cfg->trusted_proxies.push_back(*c);
      }
    }
    if (auto* f = member(root_, "forwarded")) {
      cfg->forwarded_rfc7239 = member(*f, "rfc7239") && (*f)["rfc7239"].GetBool();
      cfg->request_id_header = str(*f, "request_id_header", cfg->request_id_header);
    }
    if (auto* d = member(root_, "digest")) {
      auto& dg = cfg->digest;
      dg.nonce_secret = str(*d, "nonce_secret", dg.nonce_secret);
      dg.nonce_lifetime = dur(*d, "nonce_lifetime", dg.nonce_lifetime);
      dg.max_tracked_nonces = u64(*d, "max_tracked_nonces", dg.max_tracked_nonces);
      dg.user_header = str(*d, "user_header", dg.user_header);
      dg.max_failures = static_cast<uint32_t>(u64(*d, "max_failures", dg.max_failures));
      dg.failure_window = dur(*d, "failure_window", dg.failure_window);
      dg.block = dur(*d, "block", dg.block);
      dg.failure_delay = dur(*d, "failure_delay", dg.failure_delay);
      if (dg.nonce_lifetime.count() < 1000) error("/digest/nonce_lifetime", "must be at least 1s");
    }
    if (auto* l = member(root_, "logs")) {
      cfg->logs.access = str(*l, "access", cfg->logs.access);
      cfg->logs.error = str(*l, "error", cfg->logs.error);
      cfg->logs.level = str(*l, "level", cfg->logs.level);
      if (str(*l, "access_format", "combined") == "json") cfg->logs.access_format = AccessFormat::Json;
    }

    LoadResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.config = std::move(cfg);
    return result;
  }

 private:
  static const Value* member(const Value& obj, const char* name) {
    auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
  }
  static std::string str(const Value& obj, const char* name, const std::string& dflt) {
    const Value* v = member(obj, name);
    return v ? std::string(v->GetString(), v->GetStringLength()) : dflt;
  }
  static uint64_t u64(const Value& obj, const char* name, uint64_t dflt) {
    const Value* v = member(obj, name);
    return v ? v->GetUint64() : dflt;
  }
  static Millis dur(const Value& obj, const char* name, Millis dflt) {
    const Value* v = member(obj, name);
    if (!v) return dflt;
    return parseDuration(v->GetString()).value_or(dflt);  // the schema already checked the pattern
  }
  // A path from the config, relative to the config file's directory (or the working directory).
  std::string configRelative(const std::string& path) const {
    if (path.empty() || path[0] == '/') return path;
    size_t slash = source_.rfind('/');
    return slash == std::string::npos ? path : source_.substr(0, slash + 1) + path;
  }
  // kind: static. The root must be an existing, searchable directory; stored canonical.
  void staticFiles(const Value& u, const std::string& ptr, StaticFiles& out) {
    const Value* root = member(u, "root");
    if (!root) {
      error(ptr, "missing required key 'root' (for kind static)");
    } else {
      std::string path = configRelative(std::string(root->GetString(), root->GetStringLength()));
      struct stat st;
      char* canon = nullptr;
      if (::stat(path.c_str(), &st) != 0) {
        error(ptr + "/root", "cannot use '" + path + "': " + strerror(errno));
      } else if (!S_ISDIR(st.st_mode)) {
        error(ptr + "/root", "'" + path + "' is not a directory");
      } else if (::access(path.c_str(), R_OK | X_OK) != 0) {
        error(ptr + "/root", "cannot read directory '" + path + "': " + strerror(errno));
      } else if ((canon = ::realpath(path.c_str(), nullptr)) == nullptr) {
        error(ptr + "/root", "cannot resolve '" + path + "': " + strerror(errno));
      } else {
        out.root = canon;
        free(canon);
      }
    }
    out.index = str(u, "index", "");
    if (const Value* ix = member(u, "index"); ix && !statics::isPlainFileName(out.index)) {
      error(ptr + "/index", "must be a plain file name");
    }
    if (const Value* d = member(u, "allow_dotfiles")) out.allow_dotfiles = d->GetBool();
    out.cache_control = str(u, "cache_control", "");
    if (const Value* m = member(u, "mime_types")) {
      out.mime_types = configRelative(std::string(m->GetString(), m->GetStringLength()));
      if (::access(out.mime_types.c_str(), R_OK) != 0) {
        error(ptr + "/mime_types", "cannot read '" + out.mime_types + "': " + strerror(errno));
      }
    }
  }
  // Paths and settings only: gateway/tls loads and checks the files (main.cc, --check-config).
  ListenerTls listenerTls(const Value& t, const std::string& ptr) {
    ListenerTls out;
    out.pointer = ptr;
    out.line = lineOf(ptr);
    const Value& certs = t["certificates"];
    for (rapidjson::SizeType i = 0; i < certs.Size(); ++i) {
      const Value& c = certs[i];
      TlsCertificate tc;
      tc.pointer = ptr + "/certificates/" + std::to_string(i);
      tc.cert_line = lineOf(tc.pointer + "/cert");
      tc.key_line = lineOf(tc.pointer + "/key");
      tc.chain_line = lineOf(tc.pointer + "/chain");
      tc.cert = str(c, "cert", "");
      tc.key = str(c, "key", "");
      tc.chain = str(c, "chain", "");
      if (auto* n = member(c, "names")) {
        for (const auto& v : n->GetArray()) tc.names.push_back(toLower(v.GetString()));
      }
      out.certificates.push_back(std::move(tc));
    }
    out.min_version = str(t, "min_version", out.min_version);
    out.ciphers = str(t, "ciphers", out.ciphers);
    out.ciphersuites = str(t, "ciphersuites", out.ciphersuites);
    if (auto* a = member(t, "alpn")) {
      out.alpn.clear();
      for (const auto& v : a->GetArray()) {
        std::string p = v.GetString();
        if (std::find(out.alpn.begin(), out.alpn.end(), p) != out.alpn.end()) {
          error(ptr + "/alpn", "'" + p + "' is listed twice");
        }
        out.alpn.push_back(std::move(p));
      }
    }
    if (auto* v = member(t, "session_tickets")) out.session_tickets = v->GetBool();
    out.ticket_key_rotation = dur(t, "ticket_key_rotation", out.ticket_key_rotation);
    out.session_timeout = dur(t, "session_timeout", out.session_timeout);
    out.session_cache_size = u64(t, "session_cache_size", out.session_cache_size);
    if (out.ticket_key_rotation.count() < 1000) error(ptr + "/ticket_key_rotation", "must be at least 1s");
    if (out.session_timeout.count() < 1000) error(ptr + "/session_timeout", "must be at least 1s");
    if (auto* cc = member(t, "client_certificates")) {
      ListenerTls::ClientCertificates c;
      c.ca = str(*cc, "ca", "");
      c.line = lineOf(ptr + "/client_certificates/ca");
      if (auto* v = member(*cc, "required")) c.required = v->GetBool();
      c.verify_depth = static_cast<int>(u64(*cc, "verify_depth", c.verify_depth));
      c.subject_header = str(*cc, "subject_header", c.subject_header);
      out.client_certificates = std::move(c);
    }
    return out;
  }

  void error(const std::string& ptr, const std::string& msg) {
    errors_.push_back({source_, lineOf(ptr), ptr, msg});
  }
  int lineOf(std::string ptr) const {
    while (true) {
      if (auto it = lines_.find(ptr); it != lines_.end()) return it->second;
      size_t slash = ptr.rfind('/');
      if (slash == std::string::npos) return 0;
      ptr.resize(slash);
    }
  }

  const Value& root_;
  const std::string& source_;
  const std::map<std::string, int>& lines_;
  std::vector<ConfigError> errors_;
};

}  // namespace

LoadResult loadConfigText(const std::string& text, const std::string& source) {
  LoadResult result;
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    result.errors.push_back({source, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg});
    return result;
  }
  Document doc;
  std::map<std::string, int> lines;
  std::string why;
  try {
    if (!YamlToJson(doc, lines).convert(node, doc, "", &why)) {
      result.errors.push_back({source, 0, "", why});
      return result;
    }
  } catch (const YAML::Exception& e) {
    result.errors.push_back({source, e.mark.line >= 0 ? e.mark.line + 1 : 0, "", e.msg});
    return result;
  }
  if (!doc.IsObject()) {
    result.errors.push_back({source, 1, "", "the configuration must be a mapping (YAML) or an object (JSON)"});
    return result;
  }

  valijson::Validator validator;
  valijson::ValidationResults vr;
  valijson::adapters::RapidJsonAdapter adapter(doc);
  if (!validator.validate(compiledSchema(), adapter, &vr)) {
    std::vector<valijson::ValidationResults::Error> all;
    valijson::ValidationResults::Error e;
    while (vr.popError(e)) all.push_back(e);
    const bool has_specific = std::any_of(all.begin(), all.end(), [](const auto& x) { return !isCascade(x.description); });
    std::set<std::string> seen;
    for (const auto& err : all) {
      if (has_specific && isCascade(err.description)) continue;
      std::string ptr = contextToPointer(err.context);
      std::string msg = friendlyMessage(err.description, ptr);
      if (!seen.insert(ptr + msg).second) continue;
      int line = 0;
      for (std::string p = ptr;; p.resize(p.rfind('/'))) {
        if (auto it = lines.find(p); it != lines.end()) {
          line = it->second;
          break;
        }
        if (p.empty()) break;
      }
      result.errors.push_back({source, line, ptr, msg});
    }
    return result;
  }
  return Builder(doc, source, lines).build();
}

LoadResult loadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, "", std::string("cannot read file: ") + strerror(errno)});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return loadConfigText(ss.str(), path);
}

}  // namespace gw::config
