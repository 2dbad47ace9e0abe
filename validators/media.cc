// Media types (RFC 9110 section 8.3.1) and the two form encodings OpenAPI describes with a
// schema: application/x-www-form-urlencoded and multipart/form-data (RFC 7578).

#include "validators/text.h"
#include "validators/contract_impl.h"

namespace gw::validators {

using rapidjson::Value;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 32 || c >= 127 || std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos)
      return false;
  }
  return true;
}

using text::iequals;

}  // namespace

bool parseMediaType(std::string_view text, MediaTypeView& out) {
  out = MediaTypeView{};
  size_t semi = text.find(';');
  std::string_view essence = trim(text.substr(0, semi));
  size_t slash = essence.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view type = essence.substr(0, slash), subtype = essence.substr(slash + 1);
  if (!(isToken(type) || type == "*") || !(isToken(subtype) || subtype == "*")) return false;
  out.type = lower(type);
  out.subtype = lower(subtype);
  while (semi != std::string_view::npos) {
    text = text.substr(semi + 1);
    // quoted values may contain ';'
    size_t eq = text.find('=');
    if (eq == std::string_view::npos) break;
    std::string name = lower(trim(text.substr(0, eq)));
    std::string_view rest = text.substr(eq + 1);
    size_t lead = 0;
    while (lead < rest.size() && (rest[lead] == ' ' || rest[lead] == '\t')) ++lead;
    rest = rest.substr(lead);
    std::string value;
    if (!rest.empty() && rest[0] == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i]);
      }
      rest = rest.substr(std::min(i + 1, rest.size()));
      semi = rest.find(';');
      text = rest;
    } else {
      semi = rest.find(';');
      value = std::string(trim(rest.substr(0, semi)));
      text = rest;
    }
    if (!name.empty()) out.params.emplace_back(name, value);
  }
  return true;
}

bool isJsonMedia(std::string_view type, std::string_view subtype) {
  if (subtype == "json") return true;
  return subtype.size() > 5 && subtype.substr(subtype.size() - 5) == "+json";
}

const MediaSpec* matchMedia(const std::vector<MediaSpec>& specs, const MediaTypeView& mt) {
  // Exact type/subtype (whose parameters, when the spec names any, must match), then
  // type/*, then */*.
  const MediaSpec* best = nullptr;
  int best_rank = 0;
  for (const auto& s : specs) {
    int rank = 0;
    if (s.type == mt.type && s.subtype == mt.subtype) {
      bool params_ok = true;
      for (const auto& [k, v] : s.params) {
        bool found = false;
        for (const auto& [rk, rv] : mt.params)
          if (rk == k && (k == "charset" ? iequals(rv, v) : rv == v)) found = true;
        params_ok &= found;
      }
      if (!params_ok) continue;
      rank = s.params.empty() ? 3 : 4;
    } else if (s.type == mt.type && s.subtype == "*") {
      rank = 2;
    } else if (s.type == "*" && s.subtype == "*") {
      rank = 1;
    }
    if (rank > best_rank) {
      best_rank = rank;
      best = &s;
    }
  }
  return best;
}

namespace {

// Adds `v` under `key`; a repeated key turns the member into an array. With `splice`, `v` is an
// array whose items are appended one by one.
void addField(Value& obj, const std::string& key, Value& v, Alloc& a, bool splice = false) {
  Value k(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), a);
  auto it = obj.FindMember(k);
  if (it == obj.MemberEnd()) {
    obj.AddMember(k, v, a);
    return;
  }
  if (!it->value.IsArray()) {
    Value first(std::move(it->value));
    it->value.SetArray();
    it->value.PushBack(first, a);
  }
  if (!splice) {
    it->value.PushBack(v, a);
    return;
  }
  for (auto& x : v.GetArray()) it->value.PushBack(x, a);
}

// Typed value of a text field according to its property hint.
void typedField(const std::string& text, const TypeHint* h, const EncodingSpec* enc, Value& out, Alloc& a) {
  if (h && h->isArray()) {
    out.SetArray();
    // explode=false packs items with ','; the default (form, explode) repeats the field.
    if (enc && !enc->explode) {
      size_t pos = 0;
      while (true) {
        size_t next = text.find(',', pos);
        Value item;
        coerceScalar(std::string_view(text).substr(pos, next == std::string::npos ? std::string::npos : next - pos),
                     h->items.get(), item, a);
        out.PushBack(item, a);
        if (next == std::string::npos) break;
        pos = next + 1;
      }
      return;
    }
    Value item;
    coerceScalar(text, h->items.get(), item, a);
    out.PushBack(item, a);
    return;
  }
  coerceScalar(text, h, out, a);
}


}  // namespace

bool parseFormBody(std::string_view body, const MediaSpec& media, Value& out, Alloc& a, std::string* error) {
  out.SetObject();
  const TypeHint* hint = media.hint.get();
  for (const auto& qp : parseQuery(body)) {
    std::string value = percentDecode(qp.raw_value, true);
    const TypeHint* h = hint ? hint->prop(qp.key) : nullptr;
    auto enc_it = media.encoding.find(qp.key);
    const EncodingSpec* enc = enc_it == media.encoding.end() ? nullptr : &enc_it->second;
    // deepObject-encoded properties: key[sub]=v
    size_t br = qp.key.find('[');
    if (br != std::string::npos && qp.key.back() == ']') {
      std::string base = qp.key.substr(0, br);
      std::string sub = qp.key.substr(br + 1, qp.key.size() - br - 2);
      const TypeHint* bh = hint ? hint->prop(base) : nullptr;
      if (bh && bh->isObject()) {
        Value k(base.c_str(), static_cast<rapidjson::SizeType>(base.size()), a);
        auto it = out.FindMember(k);
        if (it == out.MemberEnd()) {
          out.AddMember(k, Value(rapidjson::kObjectType), a);
          it = out.FindMember(Value(base.c_str(), static_cast<rapidjson::SizeType>(base.size()), a));
        }
        if (!it->value.IsObject()) {
          *error = "field '" + base + "' given both as a value and as an object";
          return false;
        }
        Value v;
        coerceScalar(value, bh->prop(sub), v, a);
        Value sk(sub.c_str(), static_cast<rapidjson::SizeType>(sub.size()), a);
        if (it->value.HasMember(sk)) {
          *error = "field '" + qp.key + "' repeated";
          return false;
        }
        it->value.AddMember(sk, v, a);
        continue;
      }
    }
    Value v;
    typedField(value, h, enc, v, a);
    if (h && h->isArray())
      addField(out, qp.key, v, a, /*splice=*/true);
    else
      addField(out, qp.key, v, a);
  }
  return true;
}

bool parseMultipartBody(std::string_view body, std::string_view boundary, const MediaSpec& media,
                        const JsonLimits& limits, Value& out, Alloc& a, std::string* error,
                        std::vector<std::pair<std::string, std::string>>* part_type_errors) {
  out.SetObject();
  if (boundary.empty() || boundary.size() > 70) {
    *error = "multipart body without a valid boundary parameter";
    return false;
  }
  const std::string delim = "--" + std::string(boundary);
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) {
    *error = "multipart boundary not found";
    return false;
  }
  const TypeHint* hint = media.hint.get();
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return true;  // closing delimiter
    // skip transport padding and CRLF after the delimiter
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      *error = "malformed multipart delimiter line";
      return false;
    }
    pos += 2;
    size_t header_end = body.find("\r\n\r\n", pos);
    size_t next;
    std::string_view headers;
    if (body.substr(pos, 2) == "\r\n") {  // no part headers
      headers = {};
      header_end = pos;
      next = body.find("\r\n" + delim, pos);
    } else {
      if (header_end == std::string_view::npos) {
        *error = "multipart part headers not terminated";
        return false;
      }
      headers = body.substr(pos, header_end - pos);
      next = body.find("\r\n" + delim, header_end + 2);
    }
    if (next == std::string_view::npos) {
      *error = "multipart body not terminated by its boundary";
      return false;
    }
    std::string_view content = body.substr(header_end + 4 <= next ? header_end + 4 : next, 0);
    if (header_end + 4 <= next) content = body.substr(header_end + 4, next - (header_end + 4));
    std::string name;
    std::string part_type;
    bool has_name = false;
    size_t hpos = 0;
    while (hpos <= headers.size()) {
      size_t eol = headers.find("\r\n", hpos);
      std::string_view line = headers.substr(hpos, eol == std::string_view::npos ? std::string_view::npos : eol - hpos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view hname = trim(line.substr(0, colon));
        std::string_view hval = trim(line.substr(colon + 1));
        if (iequals(hname, "content-disposition")) {
          MediaTypeView cd;  // reuse the parameter parser: "form-data; name=..."
          std::string fake = "x/" + std::string(hval);
          size_t semi = hval.find(';');
          if (parseMediaType("x/x" + std::string(semi == std::string_view::npos ? "" : hval.substr(semi)), cd)) {
            for (const auto& [k, v] : cd.params) {
              if (k == "name") {
                name = v;
                has_name = true;
              }
            }
          }
        } else if (iequals(hname, "content-type")) {
          part_type = std::string(hval);
        }
      }
      if (eol == std::string_view::npos) break;
      hpos = eol + 2;
    }
    if (!has_name) {
      *error = "multipart part without a Content-Disposition name";
      return false;
    }
    const TypeHint* h = hint ? hint->prop(name) : nullptr;
    auto enc_it = media.encoding.find(name);
    const EncodingSpec* enc = enc_it == media.encoding.end() ? nullptr : &enc_it->second;
    MediaTypeView pmt;
    bool has_type = !part_type.empty() && parseMediaType(part_type, pmt);
    if (enc && !enc->content_type.empty() && has_type && part_type_errors) {
      // encoding.contentType is a comma-separated list of media ranges.
      bool ok = false;
      std::string_view list = enc->content_type;
      size_t p = 0;
      while (p <= list.size()) {
        size_t c = list.find(',', p);
        MediaTypeView allowed;
        if (parseMediaType(trim(list.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p)), allowed)) {
          if ((allowed.type == "*" || allowed.type == pmt.type) &&
              (allowed.subtype == "*" || allowed.subtype == pmt.subtype))
            ok = true;
        }
        if (c == std::string_view::npos) break;
        p = c + 1;
      }
      if (!ok) part_type_errors->emplace_back(name, part_type);
    }
    Value v;
    bool json_part = has_type ? isJsonMedia(pmt.type, pmt.subtype)
                              : (enc && !enc->content_type.empty() && enc->content_type.find("json") != std::string::npos);
    if (!json_part && !has_type && h && h->isObject()) json_part = true;  // objects default to JSON
    if (json_part) {
      ScratchDocument d(&a, 256, &a);
      JsonParseResult r = parseJsonCapped(content, d, limits);
      if (r.status != JsonParseStatus::Ok) {
        *error = "part '" + name + "': " + r.message;
        return false;
      }
      v.CopyFrom(d, a);
    } else {
      typedField(std::string(content), h, enc, v, a);
    }
    if (h && h->isArray() && v.IsArray())
      addField(out, name, v, a, /*splice=*/true);
    else
      addField(out, name, v, a);
    pos = next + 2;
  }
}

}  // namespace gw::validators
