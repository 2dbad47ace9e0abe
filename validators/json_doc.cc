#include "validators/json_doc.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gw::validators {
namespace {

// SAX filter in front of a Document: enforces depth and string caps while parsing.
template <typename Doc>
struct CappedHandler {
  Doc& doc;
  const JsonLimits& limits;
  int depth = 0;
  JsonParseStatus failure = JsonParseStatus::Ok;

  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned u) { return doc.Uint(u); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t u) { return doc.Uint64(u); }
  bool Double(double d) { return doc.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return doc.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (n > limits.max_string_length) {
      failure = JsonParseStatus::StringTooLong;
      return false;
    }
    return doc.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (n > limits.max_string_length) {
      failure = JsonParseStatus::StringTooLong;
      return false;
    }
    return doc.Key(s, n, copy);
  }
  bool StartObject() {
    if (++depth > limits.max_depth) {
      failure = JsonParseStatus::TooDeep;
      return false;
    }
    return doc.StartObject();
  }
  bool EndObject(rapidjson::SizeType n) {
    --depth;
    return doc.EndObject(n);
  }
  bool StartArray() {
    if (++depth > limits.max_depth) {
      failure = JsonParseStatus::TooDeep;
      return false;
    }
    return doc.StartArray();
  }
  bool EndArray(rapidjson::SizeType n) {
    --depth;
    return doc.EndArray(n);
  }
};

// YAML 1.2 core-schema resolution of a plain scalar.
void yamlScalar(const YAML::Node& n, rapidjson::Value& out, rapidjson::Document::AllocatorType& a) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "?") {  // plain (unquoted) scalar
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
      out.SetNull();
      return;
    }
    if (s == "true" || s == "True" || s == "TRUE") {
      out.SetBool(true);
      return;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out.SetBool(false);
      return;
    }
    // integers: [-+]?[0-9]+ ; floats: JSON-like numbers
    const char* b = s.data();
    const char* e = b + s.size();
    const char* p = b;
    if (p < e && (*p == '-' || *p == '+')) ++p;
    bool all_digits = p < e;
    for (const char* q = p; q < e; ++q)
      if (*q < '0' || *q > '9') all_digits = false;
    if (all_digits) {
      long long v = 0;
      auto r = std::from_chars(*b == '+' ? b + 1 : b, e, v);
      if (r.ec == std::errc() && r.ptr == e) {
        out.SetInt64(v);
        return;
      }
      unsigned long long u = 0;
      r = std::from_chars(*b == '+' ? b + 1 : b, e, u);
      if (r.ec == std::errc() && r.ptr == e) {
        out.SetUint64(u);
        return;
      }
    }
    bool numberish = p < e && ((*p >= '0' && *p <= '9') || *p == '.');
    if (numberish) {
      for (const char* q = p; q < e; ++q)
        if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '-' ||
              *q == '+'))
          numberish = false;
    }
    if (numberish) {
      double d = 0;
      auto r = std::from_chars(*b == '+' ? b + 1 : b, e, d);
      if (r.ec == std::errc() && r.ptr == e && std::isfinite(d)) {
        out.SetDouble(d);
        return;
      }
    }
    if (s == ".inf" || s == ".Inf" || s == "-.inf" || s == ".nan" || s == ".NaN") {
      out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
      return;
    }
  }
  out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

bool yamlToJson(const YAML::Node& n, rapidjson::Value& out, rapidjson::Document::AllocatorType& a,
                int depth, int max_depth, std::string& err, YAML::Mark& err_mark, size_t& budget) {
  // Aliases share nodes in YAML but are expanded here: a budget stops "billion laughs".
  if (budget == 0) {
    err = "document expands to too many nodes (recursive or exponential YAML aliases?)";
    err_mark = n.Mark();
    return false;
  }
  --budget;
  if (depth > max_depth) {
    err = "document nested deeper than " + std::to_string(max_depth) + " levels";
    err_mark = n.Mark();
    return false;
  }
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out.SetNull();
      return true;
    case YAML::NodeType::Scalar:
      yamlScalar(n, out, a);
      return true;
    case YAML::NodeType::Sequence: {
      out.SetArray();
      out.Reserve(static_cast<rapidjson::SizeType>(n.size()), a);
      for (const auto& child : n) {
        rapidjson::Value v;
        if (!yamlToJson(child, v, a, depth + 1, max_depth, err, err_mark, budget)) return false;
        out.PushBack(v, a);
      }
      return true;
    }
    case YAML::NodeType::Map: {
      out.SetObject();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) {
          err = "mapping keys must be scalars";
          err_mark = kv.first.Mark();
          return false;
        }
        const std::string& k = kv.first.Scalar();
        if (out.FindMember(rapidjson::StringRef(k.data(), k.size())) != out.MemberEnd()) {
          err = "duplicate key '" + k + "'";
          err_mark = kv.first.Mark();
          return false;
        }
        rapidjson::Value key(k.data(), static_cast<rapidjson::SizeType>(k.size()), a);
        rapidjson::Value v;
        if (!yamlToJson(kv.second, v, a, depth + 1, max_depth, err, err_mark, budget)) return false;
        out.AddMember(key, v, a);
      }
      return true;
    }
  }
  return true;
}

bool looksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::string unescapeToken(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out.push_back(t[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(t[i]);
    }
  }
  return out;
}

struct UriParts {
  std::string_view scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

UriParts splitUri(std::string_view u) {
  UriParts p;
  size_t hash = u.find('#');
  if (hash != std::string_view::npos) {
    p.fragment = u.substr(hash + 1);
    p.has_fragment = true;
    u = u.substr(0, hash);
  }
  size_t q = u.find('?');
  if (q != std::string_view::npos) {
    p.query = u.substr(q + 1);
    p.has_query = true;
    u = u.substr(0, q);
  }
  size_t colon = u.find(':');
  size_t slash = u.find('/');
  if (colon != std::string_view::npos && colon > 0 && (slash == std::string_view::npos || colon < slash)) {
    p.scheme = u.substr(0, colon);
    p.has_scheme = true;
    u = u.substr(colon + 1);
  }
  if (u.substr(0, 2) == "//") {
    u = u.substr(2);
    size_t s = u.find('/');
    p.authority = u.substr(0, s);
    p.has_authority = true;
    u = s == std::string_view::npos ? std::string_view() : u.substr(s);
  }
  p.path = u;
  return p;
}

std::string removeDotSegments(std::string_view in) {
  std::vector<std::string_view> out;
  bool absolute = !in.empty() && in[0] == '/';
  size_t pos = absolute ? 1 : 0;
  bool trailing = false;
  while (pos <= in.size()) {
    size_t next = in.find('/', pos);
    std::string_view seg = in.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    trailing = false;
    if (seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else {
      out.push_back(seg);
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  std::string r = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) r += '/';
    r += out[i];
  }
  if (trailing && !out.empty() && !out.back().empty()) r += '/';
  return r;
}

}  // namespace

namespace {
template <typename Doc>
JsonParseResult parseCapped(std::string_view text, Doc& doc, const JsonLimits& limits) {
  JsonParseResult res;
  CappedHandler<Doc> handler{doc, limits};
  rapidjson::ParseResult pr;
  auto gen = [&](Doc& d) {
    rapidjson::Reader reader;
    // Iterative parsing: no recursion on deep input. Full-precision parsing is deliberately off.
    // RapidJSON's streams report NUL as end of input, so "[1]\0junk" would parse as "[1]".
    // A raw NUL is never valid JSON: refuse it up front.
    if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
      pr = rapidjson::ParseResult(rapidjson::kParseErrorValueInvalid,
                                  static_cast<size_t>(static_cast<const char*>(nul) - text.data()));
      return false;
    }
    if constexpr (std::is_same_v<Doc, ScratchDocument>) {
      // In-situ parsing of a NUL-terminated copy in the scratch pool: strings are decoded in
      // place instead of being pushed character by character through the parser's stack.
      char* buf = static_cast<char*>(d.GetAllocator().Malloc(text.size() + 1));
      std::memcpy(buf, text.data(), text.size());
      buf[text.size()] = '\0';
      rapidjson::InsituStringStream is(buf);
      pr = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                        rapidjson::kParseInsituFlag>(is, handler);
    } else {
      rapidjson::MemoryStream ms(text.data(), text.size());
      rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> is(ms);
      pr = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(is, handler);
    }
    return !pr.IsError();
  };
  try {
    doc.Populate(gen);
  } catch (const std::exception& e) {
    res.status = JsonParseStatus::Syntax;
    res.message = "invalid JSON";
    return res;
  }
  if (pr.IsError()) {
    res.offset = pr.Offset();
    if (handler.failure == JsonParseStatus::TooDeep) {
      res.status = JsonParseStatus::TooDeep;
      res.message = "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
    } else if (handler.failure == JsonParseStatus::StringTooLong) {
      res.status = JsonParseStatus::StringTooLong;
      res.message = "JSON string longer than " + std::to_string(limits.max_string_length) + " bytes";
    } else {
      res.status = JsonParseStatus::Syntax;
      res.message = std::string("invalid JSON at offset ") + std::to_string(pr.Offset()) + ": " +
                    rapidjson::GetParseError_En(pr.Code());
    }
    doc.SetNull();
  }
  return res;
}

}  // namespace

JsonParseResult parseJsonCapped(std::string_view text, rapidjson::Document& doc, const JsonLimits& limits) {
  return parseCapped(text, doc, limits);
}

JsonParseResult parseJsonCapped(std::string_view text, ScratchDocument& doc, const JsonLimits& limits) {
  return parseCapped(text, doc, limits);
}

std::string escapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out.push_back(c);
  }
  return out;
}

void appendPointer(std::string& ptr, std::string_view token) {
  ptr.push_back('/');
  ptr += escapePointerToken(token);
}

const rapidjson::Value* resolvePointer(const rapidjson::Value& root, std::string_view pointer) {
  const rapidjson::Value* cur = &root;
  if (pointer.empty()) return cur;
  if (pointer[0] != '/') return nullptr;
  size_t pos = 1;
  while (true) {
    size_t next = pointer.find('/', pos);
    std::string tok = unescapeToken(pointer.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (cur->IsObject()) {
      auto it = cur->FindMember(rapidjson::StringRef(tok.data(), tok.size()));
      if (it == cur->MemberEnd()) return nullptr;
      cur = &it->value;
    } else if (cur->IsArray()) {
      if (tok.empty() || tok.size() > 9) return nullptr;
      size_t idx = 0;
      for (char c : tok) {
        if (c < '0' || c > '9') return nullptr;
        idx = idx * 10 + (c - '0');
      }
      if (tok.size() > 1 && tok[0] == '0') return nullptr;
      if (idx >= cur->Size()) return nullptr;
      cur = &(*cur)[static_cast<rapidjson::SizeType>(idx)];
    } else {
      return nullptr;
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return cur;
}

std::string percentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string toJsonString(const rapidjson::Value& v, std::size_t max_len) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  std::string s(sb.GetString(), sb.GetSize());
  if (s.size() > max_len) {
    s.resize(max_len);
    s += "...";
  }
  return s;
}

std::string stripFragment(std::string_view uri) {
  return std::string(uri.substr(0, uri.find('#')));
}

std::string resolveUri(std::string_view base, std::string_view ref) {
  UriParts r = splitUri(ref);
  UriParts b = splitUri(base);
  std::string scheme, authority, path, query;
  bool has_authority = false, has_query = false;
  if (r.has_scheme) {
    scheme = r.scheme;
    has_authority = r.has_authority;
    authority = r.authority;
    path = removeDotSegments(r.path);
    has_query = r.has_query;
    query = r.query;
  } else {
    if (r.has_authority) {
      has_authority = true;
      authority = r.authority;
      path = removeDotSegments(r.path);
      has_query = r.has_query;
      query = r.query;
    } else {
      if (r.path.empty()) {
        path = b.path;
        has_query = r.has_query ? true : b.has_query;
        query = r.has_query ? r.query : b.query;
      } else {
        if (r.path[0] == '/') {
          path = removeDotSegments(r.path);
        } else {
          std::string merged;
          if (b.has_authority && b.path.empty()) {
            merged = "/" + std::string(r.path);
          } else {
            size_t slash = b.path.rfind('/');
            merged = std::string(slash == std::string_view::npos ? std::string_view() : b.path.substr(0, slash + 1));
            merged += r.path;
          }
          path = removeDotSegments(merged);
        }
        has_query = r.has_query;
        query = r.query;
      }
      has_authority = b.has_authority;
      authority = b.authority;
    }
    scheme = b.scheme;
  }
  std::string out;
  if (!scheme.empty()) out += scheme + ":";
  if (has_authority) out += "//" + authority;
  out += path;
  if (has_query) out += "?" + query;
  if (r.has_fragment) out += "#" + std::string(r.fragment);
  return out;
}

Result<const SourceDoc*> DocumentStore::loadFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return specError(path, "", "cannot resolve path: " + ec.message());
  abs = abs.lexically_normal();
  std::string uri = "file://" + abs.string();
  if (auto it = by_uri_.find(uri); it != by_uri_.end()) return it->second;
  if (!limits_.allow_files && !docs_.empty())
    return specError(path, "", "references to other files are disabled");
  // Only regular files: a $ref to /dev/zero or a FIFO must not hang the loader.
  if (!std::filesystem::is_regular_file(abs, ec))
    return specError(path, "", "not a regular file (or it does not exist)");
  auto size = std::filesystem::file_size(abs, ec);
  if (ec) return specError(path, "", "cannot stat file: " + ec.message());
  if (size > limits_.max_file_bytes)
    return specError(path, "", "file larger than " + std::to_string(limits_.max_file_bytes) + " bytes");
  std::ifstream in(abs, std::ios::binary);
  if (!in) return specError(path, "", std::string("cannot open file: ") + std::strerror(errno));
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<size_t>(in.gcount()));
  return parse(uri, abs.string(), std::move(text));
}

Result<const SourceDoc*> DocumentStore::addText(const std::string& uri, std::string text) {
  if (auto it = by_uri_.find(uri); it != by_uri_.end()) return it->second;
  std::string label = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  return parse(uri, label, std::move(text));
}

const SourceDoc* DocumentStore::addValue(const std::string& uri, const rapidjson::Value& v) {
  auto d = std::make_unique<SourceDoc>();
  d->uri = uri;
  d->label = uri;
  d->doc.CopyFrom(v, d->doc.GetAllocator());
  d->index = static_cast<int>(docs_.size());
  SourceDoc* raw = d.get();
  docs_.push_back(std::move(d));
  by_uri_[uri] = raw;
  return raw;
}

Result<const SourceDoc*> DocumentStore::get(const std::string& uri_in) {
  std::string uri = stripFragment(uri_in);
  if (auto it = by_uri_.find(uri); it != by_uri_.end()) return it->second;
  if (docs_.size() >= limits_.max_documents)
    return specError(uri, "", "too many referenced documents (limit " + std::to_string(limits_.max_documents) + ")");
  if (uri.rfind("file://", 0) == 0) return loadFile(percentDecode(uri.substr(7)));
  if (fetch_) {
    if (auto text = fetch_(uri)) return parse(uri, uri, std::move(*text));
  }
  return specError(uri, "", "cannot fetch referenced document (only local files are loaded)");
}

Result<const SourceDoc*> DocumentStore::parse(std::string uri, std::string label, std::string text) {
  if (text.size() > limits_.max_file_bytes)
    return specError(label, "", "document larger than " + std::to_string(limits_.max_file_bytes) + " bytes");
  auto d = std::make_unique<SourceDoc>();
  d->uri = std::move(uri);
  d->label = std::move(label);
  d->text = std::move(text);
  if (looksLikeJson(d->text)) {
    JsonLimits lim;
    lim.max_depth = limits_.max_depth;
    lim.max_string_length = limits_.max_file_bytes;
    JsonParseResult r = parseJsonCapped(d->text, d->doc, lim);
    if (r.status != JsonParseStatus::Ok) {
      int line = 1;
      for (size_t i = 0; i < r.offset && i < d->text.size(); ++i)
        if (d->text[i] == '\n') ++line;
      return specError(d->label, "", r.message, line);
    }
  } else {
    d->yaml = true;
    try {
      YAML::Node root = YAML::Load(d->text);
      std::string err;
      YAML::Mark mark;
      size_t budget = std::max<size_t>(1u << 20, d->text.size());
      if (!yamlToJson(root, d->doc, d->doc.GetAllocator(), 0, limits_.max_depth, err, mark, budget))
        return specError(d->label, "", err, mark.line + 1);
    } catch (const YAML::Exception& e) {
      return specError(d->label, "", "YAML: " + e.msg, e.mark.line >= 0 ? e.mark.line + 1 : 0);
    } catch (const std::exception& e) {
      return specError(d->label, "", std::string("YAML: ") + e.what());
    }
  }
  d->index = static_cast<int>(docs_.size());
  SourceDoc* raw = d.get();
  by_uri_[raw->uri] = raw;
  docs_.push_back(std::move(d));
  return raw;
}

const rapidjson::Value* DocumentStore::resolve(const SourceDoc& doc, const std::string& pointer) {
  if (pointer.empty()) return &doc.doc;
  if (pointer[0] != '/') return nullptr;  // not a JSON Pointer (e.g. an anchor name)
  // The memo recurses once per segment: long pointers (from hostile $refs) go the plain,
  // iterative way.
  if (pointer.size() > 2048 || std::count(pointer.begin(), pointer.end(), '/') > 64)
    return resolvePointer(doc.doc, pointer);
  std::string key = std::to_string(doc.index);
  key += '|';
  key += pointer;
  auto it = resolved_.find(key);
  if (it != resolved_.end()) return it->second;
  // Resolve the parent through the memo too: siblings share it.
  const rapidjson::Value* v = nullptr;
  size_t slash = pointer.rfind('/');
  const rapidjson::Value* parent = slash == 0 ? &doc.doc : resolve(doc, pointer.substr(0, slash));
  if (parent && parent->IsObject() && parent->MemberCount() > 16) {
    auto idx = index_.find(parent);
    if (idx == index_.end()) {
      idx = index_.emplace(parent, std::unordered_map<std::string_view, const rapidjson::Value*>{}).first;
      idx->second.reserve(parent->MemberCount());
      for (auto m = parent->MemberBegin(); m != parent->MemberEnd(); ++m)
        idx->second.emplace(std::string_view(m->name.GetString(), m->name.GetStringLength()), &m->value);
    }
    std::string tok = unescapeToken(std::string_view(pointer).substr(slash + 1));
    auto hit = idx->second.find(tok);
    v = hit == idx->second.end() ? nullptr : hit->second;
  } else if (parent) {
    v = resolvePointer(*parent, std::string_view(pointer).substr(slash));
  }
  resolved_.emplace(std::move(key), v);
  return v;
}

void DocumentStore::releaseLoadState() {
  resolved_.clear();
  index_.clear();
  yaml_cache_.clear();
  for (auto& d : docs_) std::string().swap(d->text);
}

int DocumentStore::lineOf(const SourceDoc& doc, std::string_view pointer) const {
  if (doc.text.empty()) return 0;
  try {
    // yaml-cpp reads JSON too (JSON is YAML 1.2 flow syntax), and keeps node marks.
    auto cached = yaml_cache_.find(doc.index);
    if (cached == yaml_cache_.end()) cached = yaml_cache_.emplace(doc.index, YAML::Load(doc.text)).first;
    YAML::Node cur;
    cur.reset(cached->second);
    int line = cur.Mark().line;
    if (pointer.empty()) return line + 1;
    size_t pos = 1;
    while (true) {
      size_t next = pointer.find('/', pos);
      std::string tok = unescapeToken(pointer.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
      YAML::Node child;
      if (cur.IsMap()) {
        bool found = false;
        for (const auto& kv : cur) {
          if (kv.first.IsScalar() && kv.first.Scalar() == tok) {
            child.reset(kv.second);
            line = kv.first.Mark().line;
            found = true;
            break;
          }
        }
        if (!found) return line + 1;
      } else if (cur.IsSequence()) {
        size_t idx = 0;
        for (char c : tok) idx = idx * 10 + static_cast<size_t>(c - '0');
        if (idx >= cur.size()) return line + 1;
        child.reset(cur[idx]);
        line = child.Mark().line;
      } else {
        return line + 1;
      }
      cur.reset(child);
      if (next == std::string_view::npos) break;
      pos = next + 1;
    }
    return line + 1;
  } catch (...) {
    return 0;
  }
}

SpecError DocumentStore::error(const SourceDoc& doc, std::string pointer, std::string message) const {
  SpecError e;
  e.file = doc.label;
  e.line = lineOf(doc, pointer);
  e.pointer = std::move(pointer);
  e.message = std::move(message);
  return e;
}

}  // namespace gw::validators
