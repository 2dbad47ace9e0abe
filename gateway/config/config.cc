#include "config/config.h"

// valijson's RapidJSON adapter must come before any RapidJSON header (it defines RAPIDJSON_ASSERT).
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/config_schema.h"

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
        if (!SocketAddress::parseIp(out.address)) error(ptr + "/address", "not a numeric IPv4 or IPv6 address");
        if (out.port != 0 && !seen.insert({out.address, out.port}).second) {
          error(ptr + "/port", "another listener already uses " + out.address + ":" + std::to_string(out.port));
        }
        cfg->listeners.push_back(std::move(out));
      }
    } else {
      cfg->listeners.push_back(Listener{"main"});
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
        const Value& servers = u["servers"];
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
        out.connect_timeout = dur(u, "connect_timeout", out.connect_timeout);
        out.response_timeout = dur(u, "response_timeout", out.response_timeout);
        out.idle_timeout = dur(u, "idle_timeout", out.idle_timeout);
        out.fail_timeout = dur(u, "fail_timeout", out.fail_timeout);
        out.retries = static_cast<int>(u64(u, "retries", out.retries));
        out.max_fails = static_cast<int>(u64(u, "max_fails", out.max_fails));
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
          out.auth = std::move(auth);
        }
        std::string up = r["upstream"].GetString();
        if (auto it = upstream_index.find(up); it != upstream_index.end()) {
          out.upstream = it->second;
        } else {
          error(ptr + "/upstream", "no upstream named '" + up + "'");
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
