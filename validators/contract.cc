// Loading an OpenAPI document into a Contract, and checking requests / responses against it.

#include "validators/text.h"
#include "validators/contract.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "validators/contract_impl.h"
#include "validators/json_doc.h"
#include "validators/schema.h"

namespace gw::validators {
namespace {

using rapidjson::Value;

const Value* member(const Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

using text::iequals;
using text::lowerAscii;

// A node of some source document.
struct Node {
  const SourceDoc* doc = nullptr;
  std::string ptr;
  const Value* v = nullptr;
};

class ContractImpl final : public Contract {
 public:
  RouteMatch matchRoute(std::string_view method, std::string_view path) const override;
  RequestOutcome validateRequest(const HttpRequestView& req, ValidationContext& ctx,
                                 ViolationSink& sink) const override;
  bool validateResponse(const Operation& op, const HttpResponseView& resp, ValidationContext& ctx,
                        ViolationSink& sink) const override;
  const CompileReport& report() const override { return report_; }
  std::vector<OperationSummary> operations() const override {
    std::vector<OperationSummary> out;
    for (const auto& op : ops_) out.push_back({op->method_, op->path_, op->operation_id_, op->pointer_});
    return out;
  }
  std::string_view openapiVersion() const override { return version_; }
  const std::vector<std::string>& basePaths() const override { return base_paths_; }
  const ValidationLimits& limits() const override { return options_.limits; }

  // -- state (immutable after load) --
  LoadOptions options_;
  std::string version_;
  std::vector<std::string> base_paths_;  // longest first; "" = no prefix
  std::vector<std::unique_ptr<OperationImpl>> ops_;
  Router router_;
  SchemaSetPtr schemas_;
  CompileReport report_;
  std::string spec_label_;
  // Source documents, kept (read-only) to point violations at the failing keyword.
  std::shared_ptr<const DocumentStore> store_;
  struct RootRef {
    const SourceDoc* doc = nullptr;
    std::string ptr;
  };
  std::vector<RootRef> roots_;  // per schema root index

  std::string refineSpecPointer(int root, const Value& instance, const std::string& instance_ptr,
                                const std::string& keyword) const;

 private:
  RequestOutcome validateRequestImpl(const HttpRequestView& req, ValidationContext& ctx, ViolationSink& sink) const;
  bool validateResponseImpl(const Operation& op, const HttpResponseView& resp, ValidationContext& ctx,
                            ViolationSink& sink) const;
  void checkParams(const OperationImpl& op, const HttpRequestView& req, std::string_view query,
                   const RouteMatch& m, ValidationContext& ctx, ViolationSink& sink) const;
  void checkValue(int schema, const Value& v, const char* code_prefix, const char* in, std::string_view name,
                  const std::string& fallback_spec, ValidationContext& ctx, ViolationSink& sink) const;
  void checkBody(bool request, const std::vector<MediaSpec>& content, bool required, std::string_view content_type,
                 std::string_view body, bool present, const std::string& spec_ptr, ValidationContext& ctx,
                 ViolationSink& sink) const;
};

void addViolation(ViolationSink& sink, std::string code, std::string in, std::string_view name, std::string pointer,
                  std::string keyword, std::string spec, std::string message) {
  sink.add(Violation{std::move(code), std::move(in), std::string(name), std::move(pointer), std::move(keyword),
                     std::move(spec), std::move(message)});
}

// ---------------------------------------------------------------------------------------------
// Loader

class Loader {
 public:
  Loader(const LoadOptions& opts)
      : opts_(opts), store_holder_(std::make_shared<DocumentStore>(opts.documents, opts.fetch)), store_(*store_holder_) {}

  Result<ContractPtr> loadFile(const std::string& path) { return load(store_.loadFile(path)); }
  Result<ContractPtr> loadText(std::string_view text, const std::string& name) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(name, ec);
    std::string uri = ec ? name : "file://" + abs.lexically_normal().string();
    return load(store_.addText(uri, std::string(text)));
  }

 private:
  Result<ContractPtr> load(Result<const SourceDoc*> root_doc);
  void err(const SourceDoc* doc, const std::string& ptr, std::string msg) {
    if (errors_.size() < 200) errors_.push_back(store_.error(*doc, ptr, std::move(msg)));
  }
  // Follows $ref (OpenAPI component references) to the object.
  bool deref(Node& n, const char* what);
  int addRoot(const SourceDoc& doc, std::string ptr, Direction dir);
  TypeHintPtr hintFor(const SourceDoc* doc, const std::string& ptr, const Value& schema, int depth);
  void loadServers();
  void loadPathItem(const std::string& path, Node item);
  bool loadParam(Node n, ParamSpec& p, Direction dir);
  void loadContent(Node content, Direction dir, std::vector<MediaSpec>& out, bool with_encoding);
  void loadResponse(Node n, ResponseSpec& out);

  const LoadOptions& opts_;
  std::shared_ptr<DocumentStore> store_holder_;
  DocumentStore& store_;
  std::vector<SpecError> errors_;
  std::unique_ptr<SchemaSetBuilder> builder_;
  std::unordered_map<std::string, std::shared_ptr<TypeHint>> hint_memo_;  // completed hints only
  std::set<std::string> hint_in_progress_;
  std::shared_ptr<ContractImpl> c_;
  const SourceDoc* root_ = nullptr;
  Dialect dialect_ = Dialect::OpenApi30;
};

int Loader::addRoot(const SourceDoc& doc, std::string ptr, Direction dir) {
  int idx = builder_->addRoot(doc, ptr, dir);
  if (c_->roots_.size() <= static_cast<size_t>(idx)) c_->roots_.resize(idx + 1);
  c_->roots_[idx] = ContractImpl::RootRef{&doc, std::move(ptr)};
  return idx;
}

bool Loader::deref(Node& n, const char* what) {
  std::set<std::string> seen;
  for (int hop = 0; hop < 32; ++hop) {
    if (!n.v || !n.v->IsObject()) {
      err(n.doc, n.ptr, std::string(what) + " must be an object");
      return false;
    }
    const Value* r = member(*n.v, "$ref");
    if (!r) return true;
    if (!r->IsString()) {
      err(n.doc, n.ptr + "/$ref", "'$ref' must be a string");
      return false;
    }
    std::string full = resolveUri(n.doc->uri, str(*r));
    if (!seen.insert(full).second) {
      err(n.doc, n.ptr + "/$ref", "$ref cycle");
      return false;
    }
    auto d = store_.get(stripFragment(full));
    if (!d) {
      err(n.doc, n.ptr + "/$ref", "cannot resolve $ref '" + str(*r) + "': " + d.error().errors[0].message);
      return false;
    }
    size_t hash = full.find('#');
    std::string frag = hash == std::string::npos ? "" : percentDecode(std::string_view(full).substr(hash + 1));
    const Value* target = store_.resolve(**d, frag);
    if (!target) {
      err(n.doc, n.ptr + "/$ref", "cannot resolve $ref '" + str(*r) + "': nothing at '" + frag + "'");
      return false;
    }
    n = Node{*d, frag, target};
  }
  err(n.doc, n.ptr, "too many chained $refs");
  return false;
}

TypeHintPtr Loader::hintFor(const SourceDoc* doc, const std::string& ptr, const Value& schema, int depth) {
  auto h = std::make_shared<TypeHint>();
  if (depth > 6) return h;
  Node n{doc, ptr, &schema};
  if (schema.IsObject() && member(schema, "$ref")) {
    size_t before = errors_.size();
    if (!deref(n, "schema")) {
      errors_.resize(before);  // reported by the schema compiler with a better message
      return h;
    }
  }
  const Value& s = *n.v;
  if (!s.IsObject()) return h;
  // Component schemas are shared by many operations: build each hint once.
  std::string memo_key = std::to_string(n.doc->index) + "|" + n.ptr;
  if (auto it = hint_memo_.find(memo_key); it != hint_memo_.end()) return it->second;
  // A recursive reference gets an unconstrained hint: sharing the one being built would make a
  // shared_ptr cycle (and deserialization never needs more than a few levels).
  if (!hint_in_progress_.insert(memo_key).second) return h;
  struct Done {
    Loader* l;
    const std::string& key;
    std::shared_ptr<TypeHint> h;  // a copy: `return h` below moves the local away
    ~Done() {
      l->hint_in_progress_.erase(key);
      l->hint_memo_.emplace(key, h);
    }
  } done{this, memo_key, h};
  if (const Value* t = member(s, "type")) {
    auto bit = [](std::string_view x) -> unsigned {
      if (x == "null") return TypeHint::kNull;
      if (x == "boolean") return TypeHint::kBool;
      if (x == "integer") return TypeHint::kInteger;
      if (x == "number") return TypeHint::kNumber;
      if (x == "string") return TypeHint::kString;
      if (x == "array") return TypeHint::kArray;
      if (x == "object") return TypeHint::kObject;
      return 0;
    };
    if (t->IsString()) h->types |= bit(t->GetString());
    if (t->IsArray())
      for (const auto& x : t->GetArray())
        if (x.IsString()) h->types |= bit(x.GetString());
  }
  if (member(s, "nullable") && member(s, "nullable")->IsBool() && member(s, "nullable")->GetBool() && h->types)
    h->types |= TypeHint::kNull;
  auto mergeFrom = [&](const TypeHint& o, bool unite_types) {
    if (unite_types) h->types |= o.types;
    if (!h->items && o.items) h->items = o.items;
    for (const auto& p : o.props)
      if (!h->prop(p.first) || h->prop(p.first) == h->additional.get()) h->props.push_back(p);
    if (!h->additional && o.additional) h->additional = o.additional;
  };
  // Composition: allOf contributes types/properties; oneOf/anyOf contribute possible types.
  for (const char* kw : {"allOf", "oneOf", "anyOf"}) {
    const Value* arr = member(s, kw);
    if (!arr || !arr->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < arr->Size(); ++i) {
      auto sub = hintFor(n.doc, n.ptr + "/" + kw + "/" + std::to_string(i), (*arr)[i], depth + 1);
      bool all_of = std::string_view(kw) == "allOf";
      mergeFrom(*sub, !all_of || h->types == 0);
    }
  }
  if (const Value* items = member(s, "items"); items && items->IsObject()) {
    h->items = hintFor(n.doc, n.ptr + "/items", *items, depth + 1);
    if (!h->types) h->types = TypeHint::kArray;
  }
  if (const Value* props = member(s, "properties"); props && props->IsObject()) {
    for (auto m = props->MemberBegin(); m != props->MemberEnd(); ++m) {
      std::string pp = n.ptr + "/properties";
      appendPointer(pp, m->name.GetString());
      h->props.emplace_back(m->name.GetString(), hintFor(n.doc, pp, m->value, depth + 1));
    }
    if (!h->types) h->types = TypeHint::kObject;
  }
  if (const Value* add = member(s, "additionalProperties"); add && add->IsObject())
    h->additional = hintFor(n.doc, n.ptr + "/additionalProperties", *add, depth + 1);
  else if (!add && (h->types & TypeHint::kObject))
    h->additional = std::make_shared<TypeHint>();
  return h;
}

void Loader::loadServers() {
  std::vector<std::string> bases;
  const Value* servers = member(root_->doc, "servers");
  if (servers && servers->IsArray()) {
    for (rapidjson::SizeType i = 0; i < servers->Size(); ++i) {
      const Value& s = (*servers)[i];
      const Value* url = member(s, "url");
      std::string at = "/servers/" + std::to_string(i);
      if (!url || !url->IsString()) {
        err(root_, at, "server needs a string 'url'");
        continue;
      }
      std::string u = str(*url);
      // Substitute variables with their defaults.
      const Value* vars = member(s, "variables");
      std::string expanded;
      for (size_t p = 0; p < u.size();) {
        if (u[p] == '{') {
          size_t close = u.find('}', p);
          if (close == std::string::npos) {
            err(root_, at + "/url", "unbalanced '{' in server url");
            break;
          }
          std::string name = u.substr(p + 1, close - p - 1);
          const Value* var = vars ? member(*vars, name.c_str()) : nullptr;
          const Value* def = var ? member(*var, "default") : nullptr;
          if (!def || !def->IsString()) {
            err(root_, at + "/url", "server variable '" + name + "' has no default");
            break;
          }
          expanded += str(*def);
          p = close + 1;
        } else {
          expanded.push_back(u[p++]);
        }
      }
      // Keep the path: drop "scheme://authority".
      std::string path = expanded;
      size_t scheme = path.find("://");
      if (scheme != std::string::npos) {
        size_t slash = path.find('/', scheme + 3);
        path = slash == std::string::npos ? "" : path.substr(slash);
      } else if (path.rfind("//", 0) == 0) {
        size_t slash = path.find('/', 2);
        path = slash == std::string::npos ? "" : path.substr(slash);
      }
      size_t q = path.find_first_of("?#");
      if (q != std::string::npos) path.resize(q);
      while (!path.empty() && path.back() == '/') path.pop_back();
      if (!path.empty() && path[0] != '/') path = "/" + path;
      if (std::find(bases.begin(), bases.end(), path) == bases.end()) bases.push_back(path);
    }
  }
  if (bases.empty() || !opts_.use_server_base_paths) bases = {""};
  std::sort(bases.begin(), bases.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  c_->base_paths_ = bases;
}

bool Loader::loadParam(Node n, ParamSpec& p, Direction dir) {
  if (!deref(n, "parameter")) return false;
  const Value& v = *n.v;
  const Value* name = member(v, "name");
  const Value* in = member(v, "in");
  if (!name || !name->IsString()) {
    err(n.doc, n.ptr, "parameter needs a string 'name'");
    return false;
  }
  p.name = str(*name);
  p.lower_name = lowerAscii(p.name);
  p.spec_pointer = n.doc->label + "#" + n.ptr;
  std::string in_s = in && in->IsString() ? str(*in) : "";
  if (in_s == "path") p.in = ParamIn::Path;
  else if (in_s == "query") p.in = ParamIn::Query;
  else if (in_s == "header") p.in = ParamIn::Header;
  else if (in_s == "cookie") p.in = ParamIn::Cookie;
  else {
    err(n.doc, n.ptr + "/in", "parameter 'in' must be path, query, header or cookie");
    return false;
  }
  auto flag = [&](const char* k, bool def) {
    const Value* f = member(v, k);
    if (!f) return def;
    if (!f->IsBool()) {
      err(n.doc, n.ptr + "/" + k, std::string("'") + k + "' must be a boolean");
      return def;
    }
    return f->GetBool();
  };
  if (p.in == ParamIn::Header && (p.lower_name == "accept" || p.lower_name == "content-type" ||
                                   p.lower_name == "authorization")) {
    // OpenAPI: such header parameter definitions are ignored (media types and security
    // schemes describe them).
    c_->report_.warnings.push_back(ReportItem{n.doc->label, n.ptr, "parameters",
                                              "header parameter '" + p.name + "' is ignored (OpenAPI rule)"});
    return false;
  }
  p.required = flag("required", false);
  if (p.in == ParamIn::Path && !p.required) {
    err(n.doc, n.ptr + "/required", "path parameters must have required: true");
    p.required = true;
  }
  p.allow_empty = flag("allowEmptyValue", false);
  p.allow_reserved = flag("allowReserved", false);
  Style def_style = p.in == ParamIn::Query || p.in == ParamIn::Cookie ? Style::Form : Style::Simple;
  p.style = def_style;
  if (const Value* st = member(v, "style")) {
    std::string s = st->IsString() ? str(*st) : "";
    static const std::pair<const char*, Style> kStyles[] = {
        {"simple", Style::Simple}, {"label", Style::Label}, {"matrix", Style::Matrix}, {"form", Style::Form},
        {"spaceDelimited", Style::SpaceDelimited}, {"pipeDelimited", Style::PipeDelimited},
        {"deepObject", Style::DeepObject}};
    bool found = false;
    for (auto& [nm, sv] : kStyles)
      if (s == nm) {
        p.style = sv;
        found = true;
      }
    bool allowed = false;
    switch (p.in) {
      case ParamIn::Path: allowed = p.style == Style::Simple || p.style == Style::Label || p.style == Style::Matrix; break;
      case ParamIn::Query:
        allowed = p.style == Style::Form || p.style == Style::SpaceDelimited || p.style == Style::PipeDelimited ||
                  p.style == Style::DeepObject;
        break;
      case ParamIn::Header: allowed = p.style == Style::Simple; break;
      case ParamIn::Cookie: allowed = p.style == Style::Form; break;
    }
    if (!found || !allowed) {
      err(n.doc, n.ptr + "/style", "style '" + s + "' is not valid for a " + in_s + " parameter");
      return false;
    }
  }
  p.explode = flag("explode", p.style == Style::Form);
  const Value* schema = member(v, "schema");
  const Value* content = member(v, "content");
  if (schema && content) {
    err(n.doc, n.ptr, "parameter has both 'schema' and 'content'");
    return false;
  }
  if (schema) {
    p.schema = addRoot(*n.doc, n.ptr + "/schema", dir);
    p.hint = hintFor(n.doc, n.ptr + "/schema", *schema, 0);
  } else if (content) {
    if (!content->IsObject() || content->MemberCount() != 1) {
      err(n.doc, n.ptr + "/content", "parameter 'content' must have exactly one media type");
      return false;
    }
    auto m = content->MemberBegin();
    p.content = true;
    MediaTypeView mt;
    p.content_json = parseMediaType(m->name.GetString(), mt) && isJsonMedia(mt.type, mt.subtype);
    std::string mp = n.ptr + "/content";
    appendPointer(mp, m->name.GetString());
    if (const Value* s = member(m->value, "schema")) {
      p.schema = addRoot(*n.doc, mp + "/schema", dir);
      p.hint = hintFor(n.doc, mp + "/schema", *s, 0);
    }
  }
  return true;
}

void Loader::loadContent(Node content, Direction dir, std::vector<MediaSpec>& out, bool with_encoding) {
  if (!content.v->IsObject()) {
    err(content.doc, content.ptr, "'content' must be an object");
    return;
  }
  for (auto m = content.v->MemberBegin(); m != content.v->MemberEnd(); ++m) {
    MediaSpec ms;
    ms.key = m->name.GetString();
    std::string mp = content.ptr;
    appendPointer(mp, ms.key);
    ms.spec_pointer = content.doc->label + "#" + mp;
    MediaTypeView mt;
    if (!parseMediaType(ms.key, mt)) {
      err(content.doc, mp, "invalid media type '" + ms.key + "'");
      continue;
    }
    ms.type = mt.type;
    ms.subtype = mt.subtype;
    ms.params = mt.params;
    if (!m->value.IsObject()) {
      err(content.doc, mp, "media type object must be an object");
      continue;
    }
    if (const Value* s = member(m->value, "schema")) {
      ms.schema = addRoot(*content.doc, mp + "/schema", dir);
      ms.hint = hintFor(content.doc, mp + "/schema", *s, 0);
    }
    if (with_encoding) {
      if (const Value* enc = member(m->value, "encoding"); enc && enc->IsObject()) {
        for (auto e = enc->MemberBegin(); e != enc->MemberEnd(); ++e) {
          EncodingSpec es;
          if (const Value* ct = member(e->value, "contentType"); ct && ct->IsString()) es.content_type = str(*ct);
          if (const Value* st = member(e->value, "style"); st && st->IsString()) {
            std::string s = str(*st);
            es.style = s == "deepObject" ? Style::DeepObject
                       : s == "spaceDelimited" ? Style::SpaceDelimited
                       : s == "pipeDelimited" ? Style::PipeDelimited
                                              : Style::Form;
          }
          es.explode = es.style == Style::Form;
          if (const Value* ex = member(e->value, "explode"); ex && ex->IsBool()) es.explode = ex->GetBool();
          if (const Value* ar = member(e->value, "allowReserved"); ar && ar->IsBool()) es.allow_reserved = ar->GetBool();
          ms.encoding.emplace(e->name.GetString(), es);
        }
      }
    }
    out.push_back(std::move(ms));
  }
}

void Loader::loadResponse(Node n, ResponseSpec& out) {
  if (!deref(n, "response")) return;
  out.spec_pointer = n.doc->label + "#" + n.ptr;
  if (const Value* content = member(*n.v, "content")) {
    out.has_content = true;
    loadContent(Node{n.doc, n.ptr + "/content", content}, Direction::Response, out.content, false);
  }
  if (const Value* headers = member(*n.v, "headers"); headers && headers->IsObject()) {
    for (auto h = headers->MemberBegin(); h != headers->MemberEnd(); ++h) {
      std::string name = h->name.GetString();
      if (iequals(name, "content-type")) continue;  // OpenAPI: ignored
      std::string hp = n.ptr + "/headers";
      appendPointer(hp, name);
      Node hn{n.doc, hp, &h->value};
      if (!deref(hn, "header")) continue;
      // A header object is a parameter without name/in.
      rapidjson::Document tmp;
      tmp.CopyFrom(*hn.v, tmp.GetAllocator());
      ParamSpec p;
      p.name = name;
      p.lower_name = lowerAscii(name);
      p.in = ParamIn::Header;
      p.style = Style::Simple;
      p.explode = false;
      p.spec_pointer = hn.doc->label + "#" + hn.ptr;
      if (const Value* r = member(*hn.v, "required"); r && r->IsBool()) p.required = r->GetBool();
      if (const Value* ex = member(*hn.v, "explode"); ex && ex->IsBool()) p.explode = ex->GetBool();
      if (const Value* s = member(*hn.v, "schema")) {
        p.schema = addRoot(*hn.doc, hn.ptr + "/schema", Direction::Response);
        p.hint = hintFor(hn.doc, hn.ptr + "/schema", *s, 0);
      } else if (const Value* c = member(*hn.v, "content"); c && c->IsObject() && c->MemberCount() == 1) {
        auto m = c->MemberBegin();
        p.content = true;
        MediaTypeView mt;
        p.content_json = parseMediaType(m->name.GetString(), mt) && isJsonMedia(mt.type, mt.subtype);
        std::string mp = hn.ptr + "/content";
        appendPointer(mp, m->name.GetString());
        if (const Value* s = member(m->value, "schema")) {
          p.schema = addRoot(*hn.doc, mp + "/schema", Direction::Response);
          p.hint = hintFor(hn.doc, mp + "/schema", *s, 0);
        }
      }
      out.headers.push_back(std::move(p));
    }
  }
}

void Loader::loadPathItem(const std::string& path, Node item) {
  if (!deref(item, "path item")) return;
  std::vector<ParamSpec> common;
  auto loadParams = [&](const Node& owner, std::vector<ParamSpec>& into) {
    const Value* params = member(*owner.v, "parameters");
    if (!params) return;
    if (!params->IsArray()) {
      err(owner.doc, owner.ptr + "/parameters", "'parameters' must be an array");
      return;
    }
    for (rapidjson::SizeType i = 0; i < params->Size(); ++i) {
      ParamSpec p;
      std::string pp = owner.ptr + "/parameters/" + std::to_string(i);
      if (!loadParam(Node{owner.doc, pp, &(*params)[i]}, p, Direction::Request)) continue;
      bool dup = false;
      for (auto& q : into) {
        if (q.in == p.in && (p.in == ParamIn::Header ? q.lower_name == p.lower_name : q.name == p.name)) {
          err(owner.doc, pp, "duplicate parameter '" + p.name + "' in " + paramInName(p.in));
          dup = true;
        }
      }
      if (!dup) into.push_back(std::move(p));
    }
  };
  loadParams(item, common);

  // Template variables of the path.
  std::vector<std::string> vars;
  for (size_t p = path.find('{'); p != std::string::npos; p = path.find('{', p + 1)) {
    size_t close = path.find('}', p);
    if (close == std::string::npos) break;
    vars.push_back(path.substr(p + 1, close - p - 1));
  }

  static const char* kMethods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
  for (int mi = 0; mi < kMethodCount; ++mi) {
    const Value* opv = member(*item.v, kMethods[mi]);
    if (!opv) continue;
    std::string op_ptr = item.ptr + "/" + kMethods[mi];
    if (!opv->IsObject()) {
      err(item.doc, op_ptr, "operation must be an object");
      continue;
    }
    auto op = std::make_unique<OperationImpl>();
    op->method_ = kMethodNames[mi];
    op->path_ = path;
    op->pointer_ = op_ptr;
    if (const Value* id = member(*opv, "operationId"); id && id->IsString()) op->operation_id_ = str(*id);
    Node opn{item.doc, op_ptr, opv};
    std::vector<ParamSpec> own;
    loadParams(opn, own);
    // Operation-level parameters override path-level ones with the same name and location.
    op->params = own;
    for (const auto& c : common) {
      bool overridden = false;
      for (const auto& o : own)
        overridden |= o.in == c.in && (c.in == ParamIn::Header ? o.lower_name == c.lower_name : o.name == c.name);
      if (!overridden) op->params.push_back(c);
    }
    for (const auto& v : vars) {
      bool declared = false;
      for (const auto& p : op->params) declared |= p.in == ParamIn::Path && p.name == v;
      // A MUST of the spec that its meta-schema cannot check: reported, the value is then
      // not validated.
      if (!declared)
        c_->report_.warnings.push_back(ReportItem{item.doc->label, op_ptr, "parameters",
                                                  "path parameter '" + v + "' of '" + path + "' is not declared"});
    }
    for (const auto& p : op->params) {
      if (p.in == ParamIn::Path && std::find(vars.begin(), vars.end(), p.name) == vars.end())
        c_->report_.warnings.push_back(ReportItem{item.doc->label, op_ptr, "parameters",
                                                  "path parameter '" + p.name + "' does not appear in '" + path + "'"});
    }
    if (const Value* rb = member(*opv, "requestBody")) {
      Node bn{item.doc, op_ptr + "/requestBody", rb};
      if (deref(bn, "requestBody")) {
        op->has_body = true;
        op->body_pointer = bn.doc->label + "#" + bn.ptr;
        if (const Value* r = member(*bn.v, "required"); r && r->IsBool()) op->body_required = r->GetBool();
        const Value* content = member(*bn.v, "content");
        if (!content) {
          err(bn.doc, bn.ptr, "requestBody needs 'content'");
        } else {
          loadContent(Node{bn.doc, bn.ptr + "/content", content}, Direction::Request, op->body, true);
        }
      }
    }
    const Value* responses = member(*opv, "responses");
    op->responses_pointer = item.doc->label + "#" + op_ptr + "/responses";
    if (!responses) {
      // Required in 3.0; optional in 3.1 (then every status is undocumented).
      if (dialect_ == Dialect::OpenApi30) err(item.doc, op_ptr, "operation needs a 'responses' object");
    } else if (!responses->IsObject()) {
      err(item.doc, op_ptr + "/responses", "'responses' must be an object");
    } else {
      for (auto r = responses->MemberBegin(); r != responses->MemberEnd(); ++r) {
        std::string code = r->name.GetString();
        std::string rp = op_ptr + "/responses";
        appendPointer(rp, code);
        if (code.rfind("x-", 0) == 0) continue;
        ResponseSpec spec;
        loadResponse(Node{item.doc, rp, &r->value}, spec);
        if (code == "default") {
          op->fallback = std::move(spec);
        } else if (code.size() == 3 && code[0] >= '1' && code[0] <= '5' && (code[1] == 'X' || code[1] == 'x') &&
                   (code[2] == 'X' || code[2] == 'x')) {
          op->ranges[code[0] - '0'] = std::move(spec);
        } else if (code.size() == 3 && std::all_of(code.begin(), code.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                   code[0] >= '1' && code[0] <= '5') {
          op->exact.emplace(std::stoi(code), std::move(spec));
        } else {
          err(item.doc, rp, "invalid response status '" + code + "'");
        }
      }
    }
    if (auto e = c_->router_.add(path, mi, op.get())) err(item.doc, op_ptr, *e);
    c_->ops_.push_back(std::move(op));
  }
}

Result<ContractPtr> Loader::load(Result<const SourceDoc*> root_doc) {
  if (!root_doc) return std::unexpected(root_doc.error());
  root_ = *root_doc;
  c_ = std::make_shared<ContractImpl>();
  c_->options_ = opts_;
  c_->spec_label_ = root_->label;
  const Value& doc = root_->doc;
  if (!doc.IsObject()) return specError(root_->label, "", "an OpenAPI document must be an object");
  const Value* ver = member(doc, "openapi");
  if (!ver || !ver->IsString()) {
    if (member(doc, "swagger")) return specError(root_->label, "/swagger", "Swagger 2.0 is not supported; convert to OpenAPI 3");
    SpecError e = store_.error(*root_, "", "missing 'openapi' version field");
    return std::unexpected(SpecErrors{{e}});
  }
  c_->version_ = str(*ver);
  if (c_->version_.rfind("3.0.", 0) == 0 || c_->version_ == "3.0") {
    dialect_ = Dialect::OpenApi30;
  } else if (c_->version_.rfind("3.1.", 0) == 0 || c_->version_ == "3.1") {
    dialect_ = Dialect::OpenApi31;
  } else {
    return std::unexpected(SpecErrors{{store_.error(*root_, "/openapi", "unsupported OpenAPI version '" + c_->version_ + "'")}});
  }
  if (dialect_ == Dialect::OpenApi31) {
    if (const Value* jsd = member(doc, "jsonSchemaDialect"); jsd && jsd->IsString() &&
        std::string_view(jsd->GetString()) != "https://spec.openapis.org/oas/3.1/dialect/base" &&
        std::string_view(jsd->GetString()) != "https://json-schema.org/draft/2020-12/schema") {
      c_->report_.warnings.push_back(ReportItem{root_->label, "/jsonSchemaDialect", "jsonSchemaDialect",
                                                "treated as JSON Schema 2020-12"});
    }
  }
  builder_ = std::make_unique<SchemaSetBuilder>(store_, dialect_, c_->report_);
  builder_->setComponentsDoc(root_);
  loadServers();
  const Value* paths = member(doc, "paths");
  if (paths && !paths->IsObject()) err(root_, "/paths", "'paths' must be an object");
  if (!paths && dialect_ == Dialect::OpenApi30) err(root_, "", "missing 'paths'");
  if (paths && paths->IsObject()) {
    for (auto p = paths->MemberBegin(); p != paths->MemberEnd(); ++p) {
      std::string path = p->name.GetString();
      std::string pp = "/paths";
      appendPointer(pp, path);
      if (path.rfind("x-", 0) == 0) continue;
      if (path.empty() || path[0] != '/') {
        err(root_, pp, "path must start with '/'");
        continue;
      }
      loadPathItem(path, Node{root_, pp, &p->value});
    }
  }
  if (const Value* wh = member(doc, "webhooks"); wh && wh->IsObject() && wh->MemberCount() > 0) {
    c_->report_.warnings.push_back(ReportItem{root_->label, "/webhooks", "webhooks",
                                              "webhooks are outgoing requests; not routed"});
  }
  if (!errors_.empty()) return std::unexpected(SpecErrors{std::move(errors_)});
  auto set = builder_->build();
  if (!set) return std::unexpected(std::move(set.error()));
  c_->schemas_ = std::move(*set);
  store_holder_->releaseLoadState();
  c_->store_ = store_holder_;
  return std::shared_ptr<const Contract>(std::move(c_));
}

// ---------------------------------------------------------------------------------------------
// Validation

std::string_view headerValue(const std::vector<HeaderView>& headers, std::string_view name, bool* found) {
  *found = false;
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      *found = true;
      return v;
    }
  }
  return {};
}

// All values of a header, joined with ", " (RFC 9110 field combination).
std::string joinedHeader(const std::vector<HeaderView>& headers, std::string_view name, bool* found) {
  std::string out;
  *found = false;
  for (const auto& [k, v] : headers) {
    if (!iequals(k, name)) continue;
    if (*found) out += ", ";
    out += v;
    *found = true;
  }
  return out;
}

}  // namespace

RouteMatch ContractImpl::matchRoute(std::string_view method, std::string_view path) const {
  RouteMatch m;
  size_t q = path.find('?');
  if (q != std::string_view::npos) path = path.substr(0, q);
  int mi = methodIndex(method);
  bool any_prefix = false;
  RouteMatch best;
  for (const auto& base : base_paths_) {
    if (path.size() < base.size() || path.compare(0, base.size(), base) != 0) continue;
    std::string_view rest = path.substr(base.size());
    if (!rest.empty() && rest[0] != '/') continue;
    if (rest.empty()) rest = "/";
    any_prefix = true;
    router_.match(rest, mi, options_.head_falls_back_to_get, m);
    if (m.status == RouteStatus::Found) return m;
    if (m.status == RouteStatus::MethodNotAllowed && best.status == RouteStatus::NotFound) best = m;
  }
  (void)any_prefix;
  return best;
}

void ContractImpl::checkValue(int schema, const Value& v, const char* code_prefix, const char* in, std::string_view name,
                              const std::string& fallback_spec, ValidationContext& ctx, ViolationSink& sink) const {
  if (schema < 0) return;
  std::vector<SchemaError> errors;
  if (schemas_->validate(schema, v, ctx, &errors, std::max<std::size_t>(1, 16))) return;
  for (auto& e : errors) {
    if (sink.full()) {
      sink.add(Violation{});
      continue;
    }
    std::string spec = e.spec_exact ? std::move(e.spec_pointer) : refineSpecPointer(schema, v, e.pointer, e.keyword);
    if (spec.empty()) spec = fallback_spec;
    addViolation(sink, std::string(code_prefix) + ".schema", in, name, std::move(e.pointer), std::move(e.keyword),
                 std::move(spec), std::move(e.message));
  }
}

// Error path only. valijson does not say which subschema failed; follow the instance path
// through the source schema (properties / additionalProperties / items, through $refs) and
// point at the keyword when the schema reached has it. Stops at composition keywords.
std::string ContractImpl::refineSpecPointer(int root, const Value& instance, const std::string& instance_ptr,
                                            const std::string& keyword) const {
  if (root < 0 || static_cast<size_t>(root) >= roots_.size() || !roots_[root].doc) return "";
  struct Loc {
    const SourceDoc* doc;
    std::string ptr;
    const Value* node;
  };
  Loc cur{roots_[root].doc, roots_[root].ptr, resolvePointer(roots_[root].doc->doc, roots_[root].ptr)};
  auto jump = [&](Loc& l, const std::string& ref) {
    std::string full = resolveUri(l.doc->uri, ref);
    const SourceDoc* d = store_ ? store_->find(full) : nullptr;
    if (!d) return false;
    size_t hash = full.find('#');
    std::string frag = hash == std::string::npos ? "" : percentDecode(std::string_view(full).substr(hash + 1));
    const Value* t = resolvePointer(d->doc, frag);
    if (!t) return false;
    l = Loc{d, frag, t};
    return true;
  };
  auto follow = [&](Loc& l) {
    for (int hop = 0; hop < 16 && l.node && l.node->IsObject(); ++hop) {
      const Value* r = member(*l.node, "$ref");
      if (!r || !r->IsString() || !jump(l, str(*r))) return;
    }
  };
  const Value* inst = &instance;
  // OpenAPI discriminator: the branch named by the instance's property value.
  auto dispatch = [&](Loc& l) {
    const Value* disc = l.node ? member(*l.node, "discriminator") : nullptr;
    const Value* prop = disc ? member(*disc, "propertyName") : nullptr;
    if (!prop || !prop->IsString() || !inst || !inst->IsObject()) return;
    const Value* val = member(*inst, prop->GetString());
    if (!val || !val->IsString()) return;
    std::string target = "#/components/schemas/" + str(*val);
    if (const Value* mapping = member(*disc, "mapping"); mapping && member(*mapping, val->GetString()) &&
                                                         member(*mapping, val->GetString())->IsString()) {
      target = str(*member(*mapping, val->GetString()));
      if (target.find('/') == std::string::npos && target.find('#') == std::string::npos)
        target = "#/components/schemas/" + target;
    }
    Loc next = l;
    if (jump(next, target) && next.node != l.node) {
      l = next;
      follow(l);
    }
  };
  follow(cur);
  dispatch(cur);
  size_t pos = instance_ptr.empty() ? std::string::npos : 1;
  while (cur.node && pos != std::string::npos && pos <= instance_ptr.size()) {
    size_t next = instance_ptr.find('/', pos);
    std::string raw = instance_ptr.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    std::string token;  // unescape ~1 ~0
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) {
        token.push_back(raw[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        token.push_back(raw[i]);
      }
    }
    bool is_index = !token.empty() && token.size() < 10 && token.find_first_not_of("0123456789") == std::string::npos;
    // The schema (this one, or an allOf member) that describes `token`.
    auto step = [&](Loc& l) -> bool {
      const Value* props = member(*l.node, "properties");
      const Value* items = member(*l.node, "items");
      const Value* prefix = member(*l.node, "prefixItems");
      const Value* add = member(*l.node, "additionalProperties");
      if (props && props->IsObject() && member(*props, token.c_str())) {
        l.ptr += "/properties";
        appendPointer(l.ptr, token);
        l.node = member(*props, token.c_str());
      } else if (is_index && prefix && prefix->IsArray() && std::stoul(token) < prefix->Size()) {
        l.ptr += "/prefixItems/" + token;
        l.node = &(*prefix)[static_cast<rapidjson::SizeType>(std::stoul(token))];
      } else if (is_index && items && items->IsObject()) {
        l.ptr += "/items";
        l.node = items;
      } else if (is_index && items && items->IsArray() && std::stoul(token) < items->Size()) {
        l.ptr += "/items/" + token;
        l.node = &(*items)[static_cast<rapidjson::SizeType>(std::stoul(token))];
      } else if (add && add->IsObject()) {
        l.ptr += "/additionalProperties";
        l.node = add;
      } else {
        return false;
      }
      return true;
    };
    bool moved = step(cur);
    if (!moved) {
      if (const Value* all = member(*cur.node, "allOf"); all && all->IsArray()) {
        for (rapidjson::SizeType i = 0; i < all->Size() && !moved; ++i) {
          Loc sub{cur.doc, cur.ptr + "/allOf/" + std::to_string(i), &(*all)[i]};
          follow(sub);
          if (sub.node && sub.node->IsObject() && step(sub)) {
            cur = sub;
            moved = true;
          }
        }
      }
    }
    if (!moved) break;  // inside oneOf/anyOf/patternProperties...: keep the last schema reached
    if (inst && inst->IsObject()) {
      inst = member(*inst, token.c_str());
    } else if (inst && inst->IsArray() && is_index && std::stoul(token) < inst->Size()) {
      inst = &(*inst)[static_cast<rapidjson::SizeType>(std::stoul(token))];
    } else {
      inst = nullptr;
    }
    follow(cur);
    dispatch(cur);
    pos = next == std::string::npos ? std::string::npos : next + 1;
  }
  if (cur.node && !keyword.empty() && member(*cur.node, keyword.c_str())) appendPointer(cur.ptr, keyword);
  return cur.doc->label + "#" + cur.ptr;
}

void ContractImpl::checkParams(const OperationImpl& op, const HttpRequestView& req, std::string_view query,
                               const RouteMatch& m, ValidationContext& ctx, ViolationSink& sink) const {
  auto& a = ctx.scratch();
  std::vector<QueryPair> pairs;
  bool pairs_parsed = false;
  std::vector<std::string_view> claimed;
  JsonLimits jl{options_.limits.max_depth, options_.limits.max_string_length};
  for (const auto& p : op.params) {
    const char* in = paramInName(p.in);
    std::string code = std::string("request.") + in;
    Value v;
    ParamResult r = ParamResult::Absent;
    std::string reserved;
    switch (p.in) {
      case ParamIn::Path: {
        for (uint8_t i = 0; i < m.param_count; ++i) {
          if (m.params[i].name == p.name) {
            if (m.params[i].raw.size() > options_.limits.max_parameter_length) {
              r = ParamResult::StyleError;
              break;
            }
            r = p.content ? (v.SetString(percentDecode(m.params[i].raw).c_str(), a), ParamResult::Ok)
                          : deserializePathParam(p, m.params[i].raw, v, a);
          }
        }
        break;
      }
      case ParamIn::Query: {
        if (!pairs_parsed) {
          pairs = parseQuery(query);
          pairs_parsed = true;
          for (const auto& o : op.params)
            if (o.in == ParamIn::Query) claimed.push_back(o.name);
        }
        r = deserializeQueryParam(p, pairs, claimed, v, a, &reserved);
        break;
      }
      case ParamIn::Header: {
        bool found = false;
        std::string joined = joinedHeader(req.headers, p.name, &found);
        if (found) r = deserializeHeaderValue(p, joined, v, a);
        break;
      }
      case ParamIn::Cookie: {
        for (const auto& [k, hv] : req.headers) {
          if (!iequals(k, "cookie")) continue;
          std::string_view rest = hv;
          while (!rest.empty() && r == ParamResult::Absent) {
            size_t semi = rest.find(';');
            std::string_view c = rest.substr(0, semi);
            while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
            size_t eq = c.find('=');
            if (eq != std::string_view::npos && c.substr(0, eq) == p.name) {
              r = deserializeCookieValue(p, c.substr(eq + 1), v, a);
            }
            if (semi == std::string_view::npos) break;
            rest = rest.substr(semi + 1);
          }
        }
        break;
      }
    }
    switch (r) {
      case ParamResult::Absent:
        if (p.required)
          addViolation(sink, code + ".missing", in, p.name, "", "required", p.spec_pointer,
                       std::string("required ") + in + " parameter '" + p.name + "' is missing");
        continue;
      case ParamResult::Empty:
        addViolation(sink, code + ".empty", in, p.name, "", "allowEmptyValue", p.spec_pointer,
                     std::string(in) + " parameter '" + p.name + "' is empty and allowEmptyValue is false");
        continue;
      case ParamResult::StyleError:
        addViolation(sink, code + ".style", in, p.name, "", "style", p.spec_pointer,
                     std::string(in) + " parameter '" + p.name + "' does not match its style");
        continue;
      case ParamResult::Ok:
        break;
    }
    if (!reserved.empty()) {
      addViolation(sink, code + ".reserved", in, p.name, "", "allowReserved", p.spec_pointer,
                   std::string(in) + " parameter '" + p.name + "' contains '" + reserved +
                       "' without percent-encoding and allowReserved is false");
    }
    if (p.content) {
      if (p.content_json && v.IsString()) {
        ScratchDocument d(&a, 256, &a);
        JsonParseResult pr = parseJsonCapped(std::string_view(v.GetString(), v.GetStringLength()), d, jl);
        if (pr.status != JsonParseStatus::Ok) {
          addViolation(sink, code + ".content", in, p.name, "", "content", p.spec_pointer,
                       std::string(in) + " parameter '" + p.name + "': " + pr.message);
          continue;
        }
        Value parsed;
        parsed.CopyFrom(d, a);
        v = parsed;
      }
    }
    checkValue(p.schema, v, code.c_str(), in, p.name, p.spec_pointer, ctx, sink);
  }
}

void ContractImpl::checkBody(bool request, const std::vector<MediaSpec>& content, bool required,
                             std::string_view content_type, std::string_view body, bool present,
                             const std::string& spec_ptr, ValidationContext& ctx, ViolationSink& sink) const {
  const std::string prefix = request ? "request.body" : "response.body";
  const char* in = "body";
  if (!present || body.empty()) {
    if (required) addViolation(sink, prefix + ".missing", in, "", "", "required", spec_ptr, "body is required");
    return;
  }
  if (content.empty()) return;  // `content: {}` documents a body of any type
  MediaTypeView mt;
  if (content_type.empty() || !parseMediaType(content_type, mt)) {
    addViolation(sink, prefix + ".content_type", in, "", "", "content", spec_ptr,
                 content_type.empty() ? "body without Content-Type" : "invalid Content-Type '" + std::string(content_type) + "'");
    return;
  }
  const MediaSpec* media = matchMedia(content, mt);
  if (!media) {
    std::string documented;
    for (const auto& c : content) documented += (documented.empty() ? "" : ", ") + c.key;
    addViolation(sink, prefix + ".content_type", in, "", "", "content", spec_ptr,
                 "Content-Type '" + std::string(content_type) + "' is not documented (documented: " + documented + ")");
    return;
  }
  if (body.size() > options_.limits.max_body_bytes) {
    addViolation(sink, prefix + ".too_large", in, "", "", "", media->spec_pointer,
                 "body of " + std::to_string(body.size()) + " bytes is above the validation limit of " +
                     std::to_string(options_.limits.max_body_bytes));
    return;
  }
  if (media->schema < 0) return;  // media type without schema: accepted by type only
  auto& a = ctx.scratch();
  JsonLimits jl{options_.limits.max_depth, options_.limits.max_string_length};
  Value instance;
  if (isJsonMedia(mt.type, mt.subtype)) {
    ScratchDocument d(&a, 1024, &a);
    JsonParseResult pr = parseJsonCapped(body, d, jl);
    if (pr.status != JsonParseStatus::Ok) {
      addViolation(sink, prefix + (pr.status == JsonParseStatus::Syntax ? ".parse" : ".limits"), in, "", "", "",
                   media->spec_pointer, pr.message);
      return;
    }
    static_cast<Value&>(d).Swap(instance);
  } else if (mt.type == "application" && mt.subtype == "x-www-form-urlencoded") {
    std::string err;
    if (!parseFormBody(body, *media, instance, a, &err)) {
      addViolation(sink, prefix + ".parse", in, "", "", "", media->spec_pointer, err);
      return;
    }
  } else if (mt.type == "multipart" && mt.subtype == "form-data") {
    std::string boundary, err;
    for (const auto& [k, v] : mt.params)
      if (k == "boundary") boundary = v;
    std::vector<std::pair<std::string, std::string>> type_errors;
    if (!parseMultipartBody(body, boundary, *media, jl, instance, a, &err, &type_errors)) {
      addViolation(sink, prefix + ".parse", in, "", "", "", media->spec_pointer, err);
      return;
    }
    for (const auto& [name, type] : type_errors) {
      std::string ptr;
      appendPointer(ptr, name);
      addViolation(sink, prefix + ".content_type", in, name, ptr, "encoding", media->spec_pointer,
                   "part '" + name + "' has Content-Type '" + type + "', not the documented one");
    }
  } else if (mt.type == "text") {
    // A text body against a string schema (e.g. text/plain with maxLength).
    instance.SetString(body.data(), static_cast<rapidjson::SizeType>(body.size()), a);
  } else {
    return;  // other media types: accepted by type only
  }
  checkValue(media->schema, instance, prefix.c_str(), in, "", media->spec_pointer, ctx, sink);
}

RequestOutcome ContractImpl::validateRequest(const HttpRequestView& req, ValidationContext& ctx,
                                             ViolationSink& sink) const {
  RequestOutcome out;
  try {
    return validateRequestImpl(req, ctx, sink);
  } catch (const std::exception& e) {
    // Data plane: nothing escapes. Reaching this is a bug (or OOM); report it as a violation.
    addViolation(sink, "request.internal", "route", "", "", "", "", std::string("internal error: ") + e.what());
    return out;  // no operation: callers treat it like an unroutable request
  }
}

RequestOutcome ContractImpl::validateRequestImpl(const HttpRequestView& req, ValidationContext& ctx,
                                                 ViolationSink& sink) const {
  RequestOutcome out;
  size_t before = sink.size() + sink.dropped();
  std::string_view path = req.path, query = req.query;
  if (size_t q = path.find('?'); q != std::string_view::npos) {
    if (query.empty()) query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  RouteMatch m = matchRoute(req.method, path);
  out.route = m.status;
  if (m.status == RouteStatus::NotFound) {
    addViolation(sink, "request.route.not_found", "route", "", "", "", "",
                 "no path of the contract matches '" + std::string(path) + "'");
    return out;
  }
  if (m.status == RouteStatus::MethodNotAllowed) {
    out.allowed = m.allowed;
    addViolation(sink, "request.route.method", "route", "", "", "", "",
                 "method " + std::string(req.method) + " is not documented for '" + std::string(m.path_template) +
                     "' (allowed: " + m.allowed + ")");
    return out;
  }
  const auto& op = static_cast<const OperationImpl&>(*m.operation);
  out.operation = &op;
  ctx.resetScratch();
  checkParams(op, req, query, m, ctx, sink);
  if (op.has_body) {
    bool found = false;
    std::string_view ct = headerValue(req.headers, "content-type", &found);
    checkBody(true, op.body, op.body_required, ct, req.body, req.body_present, op.body_pointer, ctx, sink);
  } else if (req.body_present && !req.body.empty()) {
    addViolation(sink, "request.body.unexpected", "body", "", "", "", std::string(spec_label_) + "#" + op.pointer_,
                 "operation documents no request body");
  }
  out.valid = sink.size() + sink.dropped() == before;
  return out;
}

bool ContractImpl::validateResponse(const Operation& opv, const HttpResponseView& resp, ValidationContext& ctx,
                                    ViolationSink& sink) const {
  try {
    return validateResponseImpl(opv, resp, ctx, sink);
  } catch (const std::exception& e) {
    addViolation(sink, "response.internal", "status", "", "", "", "", std::string("internal error: ") + e.what());
    return false;
  }
}

bool ContractImpl::validateResponseImpl(const Operation& opv, const HttpResponseView& resp, ValidationContext& ctx,
                                        ViolationSink& sink) const {
  const auto& op = static_cast<const OperationImpl&>(opv);
  size_t before = sink.size() + sink.dropped();
  const ResponseSpec* spec = nullptr;
  if (auto it = op.exact.find(resp.status); it != op.exact.end()) {
    spec = &it->second;
  } else if (resp.status >= 100 && resp.status < 600 && op.ranges[resp.status / 100]) {
    spec = &*op.ranges[resp.status / 100];
  } else if (op.fallback) {
    spec = &*op.fallback;
  }
  if (!spec) {
    addViolation(sink, "response.status", "status", "", "", "responses", op.responses_pointer,
                 "status " + std::to_string(resp.status) + " is not documented for " + op.method_ + " " + op.path_);
    return false;
  }
  ctx.resetScratch();
  auto& a = ctx.scratch();
  for (const auto& h : spec->headers) {
    bool found = false;
    std::string joined = joinedHeader(resp.headers, h.name, &found);
    if (!found) {
      if (h.required)
        addViolation(sink, "response.header.missing", "header", h.name, "", "required", h.spec_pointer,
                     "required response header '" + h.name + "' is missing");
      continue;
    }
    Value v;
    if (deserializeHeaderValue(h, joined, v, a) != ParamResult::Ok) {
      addViolation(sink, "response.header.style", "header", h.name, "", "style", h.spec_pointer,
                   "response header '" + h.name + "' does not match its style");
      continue;
    }
    if (h.content && h.content_json) {
      ScratchDocument d(&a, 256, &a);
      JsonLimits jl{options_.limits.max_depth, options_.limits.max_string_length};
      if (parseJsonCapped(std::string_view(v.GetString(), v.GetStringLength()), d, jl).status != JsonParseStatus::Ok) {
        addViolation(sink, "response.header.content", "header", h.name, "", "content", h.spec_pointer,
                     "response header '" + h.name + "' is not valid JSON");
        continue;
      }
      v.CopyFrom(d, a);
    }
    checkValue(h.schema, v, "response.header", "header", h.name, h.spec_pointer, ctx, sink);
  }
  bool body_allowed = !(resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200));
  if (body_allowed && resp.body_present && !resp.body.empty()) {
    if (!spec->has_content) {
      addViolation(sink, "response.body.unexpected", "body", "", "", "content", spec->spec_pointer,
                   "response " + std::to_string(resp.status) + " documents no body");
    } else {
      bool found = false;
      std::string_view ct = headerValue(resp.headers, "content-type", &found);
      checkBody(false, spec->content, false, ct, resp.body, true, spec->spec_pointer, ctx, sink);
    }
  }
  return sink.size() + sink.dropped() == before;
}

Result<ContractPtr> loadContract(const std::string& path, const LoadOptions& options) {
  try {
    Loader loader(options);
    return loader.loadFile(path);
  } catch (const std::exception& e) {
    return specError(path, "", std::string("internal error while loading: ") + e.what());
  }
}

Result<ContractPtr> loadContractFromString(std::string_view text, const std::string& name,
                                           const LoadOptions& options) {
  try {
    Loader loader(options);
    return loader.loadText(text, name);
  } catch (const std::exception& e) {
    return specError(name, "", std::string("internal error while loading: ") + e.what());
  }
}

}  // namespace gw::validators
