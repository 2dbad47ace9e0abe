// Parameter deserialization: OpenAPI styles (simple, label, matrix, form, spaceDelimited,
// pipeDelimited, deepObject) x explode, into typed JSON that the schema then checks.
// Delimiters are split on the raw (still percent-encoded) text, so an encoded delimiter
// ("%2C") stays part of a value.

#include <charconv>
#include <cmath>

#include "validators/contract_impl.h"

namespace gw::validators {

using rapidjson::Value;

const char* paramInName(ParamIn in) {
  switch (in) {
    case ParamIn::Path: return "path";
    case ParamIn::Query: return "query";
    case ParamIn::Header: return "header";
    case ParamIn::Cookie: return "cookie";
  }
  return "";
}

const TypeHint* TypeHint::prop(std::string_view name) const {
  for (const auto& p : props)
    if (p.first == name) return p.second.get();
  return additional.get();
}

void coerceScalar(std::string_view text, const TypeHint* hint, Value& out, Alloc& a) {
  unsigned t = hint ? hint->types : 0;
  if (t && !(t & TypeHint::kString)) {
    if (t & (TypeHint::kInteger | TypeHint::kNumber)) {
      const char* b = text.data();
      const char* e = b + text.size();
      long long i = 0;
      auto r = std::from_chars(b, e, i);
      if (!text.empty() && r.ec == std::errc() && r.ptr == e) {
        out.SetInt64(i);
        return;
      }
      double d = 0;
      auto rd = std::from_chars(b, e, d);
      if (!text.empty() && rd.ec == std::errc() && rd.ptr == e && std::isfinite(d)) {
        out.SetDouble(d);
        return;
      }
    }
    if (t & TypeHint::kBool) {
      if (text == "true") {
        out.SetBool(true);
        return;
      }
      if (text == "false") {
        out.SetBool(false);
        return;
      }
    }
    if ((t & TypeHint::kNull) && (text.empty() || text == "null")) {
      out.SetNull();
      return;
    }
  }
  out.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), a);
}

namespace {

std::vector<std::string_view> split(std::string_view s, std::string_view delim) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(delim, pos);
    out.push_back(s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + delim.size();
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Shape { Primitive, Array, Object };
Shape shapeOf(const ParamSpec& p) {
  if (!p.hint) return Shape::Primitive;
  if (p.hint->isArray()) return Shape::Array;
  if (p.hint->isObject()) return Shape::Object;
  return Shape::Primitive;
}

const TypeHint* itemsHint(const ParamSpec& p) { return p.hint && p.hint->items ? p.hint->items.get() : nullptr; }

// Adds decoded tokens as an array.
void makeArray(const std::vector<std::string_view>& raw_items, const ParamSpec& p, bool decode, Value& out, Alloc& a) {
  out.SetArray();
  for (auto item : raw_items) {
    Value v;
    std::string text = decode ? percentDecode(item) : std::string(item);
    coerceScalar(text, itemsHint(p), v, a);
    out.PushBack(v, a);
  }
}

// "k1,v1,k2,v2" (explode=false) or ["k1=v1", "k2=v2"] (explode=true).
bool makeObjectFromPairs(const std::vector<std::string_view>& tokens, bool kv_with_equals, const ParamSpec& p,
                         bool decode, Value& out, Alloc& a) {
  out.SetObject();
  auto add = [&](std::string_view k, std::string_view v) {
    std::string key = decode ? percentDecode(k) : std::string(k);
    std::string val = decode ? percentDecode(v) : std::string(v);
    Value jv;
    coerceScalar(val, p.hint ? p.hint->prop(key) : nullptr, jv, a);
    Value jk(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), a);
    if (out.HasMember(jk)) return false;
    out.AddMember(jk, jv, a);
    return true;
  };
  if (kv_with_equals) {
    for (auto t : tokens) {
      size_t eq = t.find('=');
      if (eq == std::string_view::npos) return false;
      if (!add(t.substr(0, eq), t.substr(eq + 1))) return false;
    }
    return true;
  }
  if (tokens.size() % 2 != 0) return false;
  for (size_t i = 0; i < tokens.size(); i += 2)
    if (!add(tokens[i], tokens[i + 1])) return false;
  return true;
}

// Value of a primitive/array/object in "simple"-like encoding (comma-separated).
ParamResult fromDelimited(const ParamSpec& p, std::string_view raw, std::string_view delim, bool decode,
                          Value& out, Alloc& a) {
  switch (shapeOf(p)) {
    case Shape::Primitive: {
      std::string text = decode ? percentDecode(raw) : std::string(raw);
      coerceScalar(text, p.hint.get(), out, a);
      return ParamResult::Ok;
    }
    case Shape::Array:
      if (raw.empty()) {
        out.SetArray();
        return ParamResult::Ok;
      }
      makeArray(split(raw, delim), p, decode, out, a);
      return ParamResult::Ok;
    case Shape::Object:
      if (raw.empty()) {
        out.SetObject();
        return ParamResult::Ok;
      }
      return makeObjectFromPairs(split(raw, delim), p.explode, p, decode, out, a) ? ParamResult::Ok
                                                                                   : ParamResult::StyleError;
  }
  return ParamResult::StyleError;
}

}  // namespace

ParamResult deserializePathParam(const ParamSpec& p, std::string_view raw, Value& out, Alloc& a) {
  switch (p.style) {
    case Style::Simple:
      return fromDelimited(p, raw, ",", true, out, a);
    case Style::Label: {
      if (raw.empty() || raw[0] != '.') return ParamResult::StyleError;
      raw.remove_prefix(1);
      if (shapeOf(p) == Shape::Primitive) return fromDelimited(p, raw, ",", true, out, a);
      return fromDelimited(p, raw, p.explode ? "." : ",", true, out, a);
    }
    case Style::Matrix: {
      if (raw.empty() || raw[0] != ';') return ParamResult::StyleError;
      raw.remove_prefix(1);
      Shape shape = shapeOf(p);
      if (shape == Shape::Object && p.explode) {
        // ;role=admin;firstName=Alex
        return makeObjectFromPairs(split(raw, ";"), true, p, true, out, a) ? ParamResult::Ok : ParamResult::StyleError;
      }
      if (shape == Shape::Array && p.explode) {
        // ;id=3;id=4;id=5
        std::vector<std::string_view> items;
        for (auto part : split(raw, ";")) {
          size_t eq = part.find('=');
          if (eq == std::string_view::npos || part.substr(0, eq) != p.name) return ParamResult::StyleError;
          items.push_back(part.substr(eq + 1));
        }
        makeArray(items, p, true, out, a);
        return ParamResult::Ok;
      }
      // ;id=5  ;id=3,4,5  ;id=role,admin,firstName,Alex
      size_t eq = raw.find('=');
      if (eq == std::string_view::npos) {
        if (raw != p.name) return ParamResult::StyleError;
        return fromDelimited(p, "", ",", true, out, a);
      }
      if (raw.substr(0, eq) != p.name) return ParamResult::StyleError;
      return fromDelimited(p, raw.substr(eq + 1), ",", true, out, a);
    }
    default:
      return ParamResult::StyleError;
  }
}

std::vector<QueryPair> parseQuery(std::string_view query) {
  std::vector<QueryPair> out;
  if (query.empty()) return out;
  for (auto part : split(query, "&")) {
    if (part.empty()) continue;
    QueryPair qp;
    size_t eq = part.find('=');
    qp.has_equals = eq != std::string_view::npos;
    qp.raw_key = part.substr(0, eq);
    qp.raw_value = qp.has_equals ? part.substr(eq + 1) : std::string_view();
    qp.key = percentDecode(qp.raw_key, true);
    out.push_back(std::move(qp));
  }
  return out;
}

namespace {

// OpenAPI: without allowReserved, RFC 3986 reserved characters must be percent-encoded in
// query values. '+' is left out (form encoding uses it for spaces), and so are the delimiters
// of the parameter's own style.
char findReserved(std::string_view raw, std::string_view allowed_delims) {
  static constexpr std::string_view kReserved = ":/?#[]@!$'()*,;";
  for (char c : raw) {
    if (kReserved.find(c) != std::string_view::npos && allowed_delims.find(c) == std::string_view::npos) return c;
  }
  return 0;
}

std::string decodeQ(std::string_view raw) { return percentDecode(raw, true); }

// Replaces a percent-escape (hex digits compared case-insensitively) by `to`.
std::string replaceEscape(std::string_view in, std::string_view esc, char to) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() &&
        (in[i + 1] | 0x20) == (esc[1] | 0x20) && (in[i + 2] | 0x20) == (esc[2] | 0x20)) {
      out.push_back(to);
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

ParamResult deserializeQueryParam(const ParamSpec& p, const std::vector<QueryPair>& pairs,
                                  const std::vector<std::string_view>& claimed, Value& out, Alloc& a,
                                  std::string* reserved_char) {
  Shape shape = shapeOf(p);
  auto checkReserved = [&](std::string_view raw, std::string_view delims) {
    if (p.allow_reserved || !reserved_char || !reserved_char->empty()) return;
    if (char c = findReserved(raw, delims)) *reserved_char = std::string(1, c);
  };
  if (p.content) {
    for (const auto& qp : pairs) {
      if (qp.key != p.name) continue;
      std::string text = decodeQ(qp.raw_value);
      out.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a);
      return ParamResult::Ok;
    }
    return ParamResult::Absent;
  }
  if (p.style == Style::DeepObject) {
    // name[prop]=value (one level; name[a][b] nests one more)
    out.SetObject();
    bool found = false;
    for (const auto& qp : pairs) {
      std::string_view k = qp.key;
      if (k.size() <= p.name.size() + 2 || k.substr(0, p.name.size()) != p.name || k[p.name.size()] != '[') continue;
      std::string_view rest = k.substr(p.name.size());
      std::vector<std::string_view> path;
      while (!rest.empty()) {
        if (rest[0] != '[') return ParamResult::StyleError;
        size_t close = rest.find(']');
        if (close == std::string_view::npos) return ParamResult::StyleError;
        path.push_back(rest.substr(1, close - 1));
        rest = rest.substr(close + 1);
      }
      if (path.empty() || path.size() > 2) return ParamResult::StyleError;
      checkReserved(qp.raw_value, "");
      found = true;
      std::string val = decodeQ(qp.raw_value);
      Value* target = &out;
      const TypeHint* h = p.hint.get();
      for (size_t i = 0; i + 1 < path.size(); ++i) {
        h = h ? h->prop(path[i]) : nullptr;
        Value key(path[i].data(), static_cast<rapidjson::SizeType>(path[i].size()), a);
        auto it = target->FindMember(key);
        if (it == target->MemberEnd()) {
          target->AddMember(key, Value(rapidjson::kObjectType), a);
          it = target->FindMember(Value(path[i].data(), static_cast<rapidjson::SizeType>(path[i].size()), a));
        }
        if (!it->value.IsObject()) return ParamResult::StyleError;
        target = &it->value;
      }
      std::string_view leaf = path.back();
      h = h ? h->prop(leaf) : nullptr;
      Value jv;
      if (h && h->isArray()) {
        Value key(leaf.data(), static_cast<rapidjson::SizeType>(leaf.size()), a);
        auto it = target->FindMember(key);
        if (it == target->MemberEnd()) {
          target->AddMember(key, Value(rapidjson::kArrayType), a);
          it = target->FindMember(Value(leaf.data(), static_cast<rapidjson::SizeType>(leaf.size()), a));
        }
        if (!it->value.IsArray()) return ParamResult::StyleError;  // "x[a][b]" then "x[a]"
        coerceScalar(val, h->items.get(), jv, a);
        it->value.PushBack(jv, a);
        continue;
      }
      coerceScalar(val, h, jv, a);
      Value key(leaf.data(), static_cast<rapidjson::SizeType>(leaf.size()), a);
      if (target->HasMember(key)) return ParamResult::StyleError;
      target->AddMember(key, jv, a);
    }
    return found ? ParamResult::Ok : ParamResult::Absent;
  }

  if (shape == Shape::Object && p.explode && p.style == Style::Form) {
    // ?role=admin&firstName=Alex : the object's properties are separate query parameters.
    out.SetObject();
    bool found = false;
    for (const auto& qp : pairs) {
      const TypeHint* h = nullptr;
      bool known = false;
      for (const auto& pr : p.hint->props)
        if (pr.first == qp.key) {
          known = true;
          h = pr.second.get();
        }
      if (!known) {
        if (!p.hint->additional) continue;
        bool other = false;
        for (auto c : claimed) other |= c == qp.key;
        if (other) continue;
        h = p.hint->additional.get();
      }
      checkReserved(qp.raw_value, "");
      Value key(qp.key.c_str(), static_cast<rapidjson::SizeType>(qp.key.size()), a);
      if (out.HasMember(key)) return ParamResult::StyleError;
      Value jv;
      coerceScalar(decodeQ(qp.raw_value), h, jv, a);
      out.AddMember(key, jv, a);
      found = true;
    }
    return found ? ParamResult::Ok : ParamResult::Absent;
  }

  std::vector<const QueryPair*> mine;
  for (const auto& qp : pairs)
    if (qp.key == p.name) mine.push_back(&qp);
  if (mine.empty()) return ParamResult::Absent;
  for (auto* qp : mine)
    if (qp->raw_value.empty() && !p.allow_empty && shape == Shape::Primitive) return ParamResult::Empty;

  if (shape == Shape::Array && p.explode) {
    out.SetArray();
    for (auto* qp : mine) {
      checkReserved(qp->raw_value, "");
      Value jv;
      coerceScalar(decodeQ(qp->raw_value), itemsHint(p), jv, a);
      out.PushBack(jv, a);
    }
    return ParamResult::Ok;
  }
  if (mine.size() > 1) {
    // A non-exploded parameter given twice: keep every value so the schema reports it.
    out.SetArray();
    for (auto* qp : mine) {
      Value jv;
      coerceScalar(decodeQ(qp->raw_value), p.hint.get(), jv, a);
      out.PushBack(jv, a);
    }
    return ParamResult::Ok;
  }
  std::string_view raw = mine[0]->raw_value;
  if (shape == Shape::Primitive) {
    checkReserved(raw, "");
    coerceScalar(decodeQ(raw), p.hint.get(), out, a);
    return ParamResult::Ok;
  }
  if (raw.empty()) {
    if (!p.allow_empty) return ParamResult::Empty;
  }
  std::string_view delim = ",";
  std::string normalized;
  if (p.style == Style::SpaceDelimited) {
    // Spaces arrive as "%20" or "+".
    normalized = replaceEscape(raw, "%20", ' ');
    for (auto& c : normalized)
      if (c == '+') c = ' ';
    raw = normalized;
    delim = " ";
  } else if (p.style == Style::PipeDelimited) {
    normalized = replaceEscape(raw, "%7C", '|');
    raw = normalized;
    delim = "|";
  }
  checkReserved(raw, delim);
  out.SetNull();
  if (shape == Shape::Array) {
    if (raw.empty()) {
      out.SetArray();
      return ParamResult::Ok;
    }
    std::vector<std::string_view> items = split(raw, delim);
    out.SetArray();
    for (auto item : items) {
      Value jv;
      coerceScalar(decodeQ(item), itemsHint(p), jv, a);
      out.PushBack(jv, a);
    }
    return ParamResult::Ok;
  }
  // object, explode=false: k,v,k,v
  std::vector<std::string_view> tokens = split(raw, delim);
  if (tokens.size() % 2 != 0) return ParamResult::StyleError;
  out.SetObject();
  for (size_t i = 0; i < tokens.size(); i += 2) {
    std::string k = decodeQ(tokens[i]);
    Value jv;
    coerceScalar(decodeQ(tokens[i + 1]), p.hint->prop(k), jv, a);
    Value jk(k.c_str(), static_cast<rapidjson::SizeType>(k.size()), a);
    if (out.HasMember(jk)) return ParamResult::StyleError;
    out.AddMember(jk, jv, a);
  }
  return ParamResult::Ok;
}

ParamResult deserializeHeaderValue(const ParamSpec& p, std::string_view value, Value& out, Alloc& a) {
  value = trim(value);
  if (p.content) {
    out.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
    return ParamResult::Ok;
  }
  Shape shape = shapeOf(p);
  if (shape == Shape::Primitive) {
    coerceScalar(value, p.hint.get(), out, a);
    return ParamResult::Ok;
  }
  std::vector<std::string_view> tokens;
  for (auto t : split(value, ",")) tokens.push_back(trim(t));
  if (shape == Shape::Array) {
    makeArray(tokens, p, false, out, a);
    return ParamResult::Ok;
  }
  return makeObjectFromPairs(tokens, p.explode, p, false, out, a) ? ParamResult::Ok : ParamResult::StyleError;
}

ParamResult deserializeCookieValue(const ParamSpec& p, std::string_view value, Value& out, Alloc& a) {
  if (p.content) {
    out.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), a);
    return ParamResult::Ok;
  }
  if (value.empty() && !p.allow_empty && shapeOf(p) == Shape::Primitive &&
      !(p.hint && (p.hint->types & TypeHint::kString))) {
    coerceScalar(value, p.hint.get(), out, a);
    return ParamResult::Ok;
  }
  return fromDelimited(p, value, ",", false, out, a);
}

}  // namespace gw::validators
