// Path-template router. Templates are split into '/'-separated segments and stored in a trie;
// a segment is either literal or a template ("{id}", "{name}.{ext}", "v{version}").
// Matching prefers literal segments over templated ones at every level (OpenAPI: concrete
// paths match before templated ones) and backtracks, so "/pets/mine" beats "/pets/{id}" while
// "/pets/7" still reaches the template.

#include <algorithm>

#include "validators/contract_impl.h"

namespace gw::validators {

const char* const kMethodNames[kMethodCount] = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"};

int methodIndex(std::string_view m) {
  for (int i = 0; i < kMethodCount; ++i) {
    std::string_view n = kMethodNames[i];
    if (n.size() != m.size()) continue;
    bool eq = true;
    for (size_t j = 0; j < n.size() && eq; ++j) {
      char c = m[j];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      eq = c == n[j];
    }
    if (eq) return i;
  }
  return -1;
}

struct Router::Node {
  struct Piece {
    bool is_param;
    std::string text;  // literal text or parameter name
  };
  struct Templ {
    std::vector<Piece> pieces;
    std::string key;  // normalised ("{}" for params) to merge equal templates
    size_t literal_chars = 0;
    std::unique_ptr<Node> child;
  };
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;  // sorted by key
  std::vector<Templ> templs;
  std::array<const OperationImpl*, kMethodCount> ops{};
  bool terminal = false;
  std::string tmpl;
  std::vector<std::string> names;  // of the terminal template; templates sharing a prefix may
                                   // name their parameters differently
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

namespace {

std::vector<std::string_view> splitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  size_t pos = 1;
  while (true) {
    size_t next = path.find('/', pos);
    out.push_back(path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> Router::add(const std::string& tmpl, int method, const OperationImpl* op) {
  if (tmpl.empty() || tmpl[0] != '/') return "path must start with '/'";
  Node* node = root_.get();
  std::vector<std::string> names;  // parameter names of this template, in path order
  for (std::string_view seg : splitSegments(tmpl)) {
    if (seg.find('{') == std::string_view::npos) {
      if (seg.find('}') != std::string_view::npos) return "unbalanced '}' in path template";
      auto it = std::lower_bound(node->literals.begin(), node->literals.end(), seg,
                                 [](const auto& a, std::string_view b) { return a.first < b; });
      if (it == node->literals.end() || it->first != seg)
        it = node->literals.insert(it, {std::string(seg), std::make_unique<Node>()});
      node = it->second.get();
      continue;
    }
    Node::Templ t;
    size_t pos = 0;
    while (pos < seg.size()) {
      size_t open = seg.find('{', pos);
      if (open == std::string_view::npos) {
        t.pieces.push_back({false, std::string(seg.substr(pos))});
        break;
      }
      if (open > pos) t.pieces.push_back({false, std::string(seg.substr(pos, open - pos))});
      size_t close = seg.find('}', open);
      if (close == std::string_view::npos) return "unbalanced '{' in path template";
      std::string name(seg.substr(open + 1, close - open - 1));
      if (name.empty() || name.find('{') != std::string::npos) return "empty or nested template expression";
      if (!t.pieces.empty() && t.pieces.back().is_param)
        return "two template expressions without a literal between them";
      t.pieces.push_back({true, name});
      pos = close + 1;
    }
    for (const auto& p : t.pieces) {
      t.key += p.is_param ? "{}" : p.text;
      if (!p.is_param) t.literal_chars += p.text.size();
    }
    auto it = std::find_if(node->templs.begin(), node->templs.end(),
                           [&](const Node::Templ& x) { return x.key == t.key; });
    for (const auto& p : t.pieces)
      if (p.is_param) names.push_back(p.text);
    if (it == node->templs.end()) {
      std::string key = t.key;
      t.child = std::make_unique<Node>();
      node->templs.push_back(std::move(t));
      // More literal text first: "{id}.json" is tried before "{id}".
      std::stable_sort(node->templs.begin(), node->templs.end(),
                       [](const Node::Templ& a, const Node::Templ& b) { return a.literal_chars > b.literal_chars; });
      it = std::find_if(node->templs.begin(), node->templs.end(),
                        [&](const Node::Templ& x) { return x.key == key; });
    }
    node = it->child.get();
  }
  if (node->ops[method]) return "operation already defined by path '" + node->tmpl + "'";
  if (node->terminal && node->names != names)
    return "path template is equivalent to '" + node->tmpl + "' but names its parameters differently";
  if (names.size() > 16) return "more than 16 path parameters";
  node->terminal = true;
  node->names = std::move(names);
  if (node->tmpl.empty()) node->tmpl = tmpl;
  node->ops[method] = op;
  return std::nullopt;
}

namespace {

struct MatchState {
  const std::vector<std::string_view>* segs;
  int method;
  bool head_fallback;
  RouteMatch* out;
  const void* first_terminal = nullptr;
  std::array<PathParam, 16> first_params{};
  uint8_t first_count = 0;
};

bool matchTemplate(const std::vector<Router::Node::Piece>& pieces, std::string_view seg, RouteMatch& out) {
  size_t pos = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    if (!p.is_param) {
      if (seg.substr(pos, p.text.size()) != p.text) return false;
      pos += p.text.size();
      continue;
    }
    size_t end;
    if (i + 1 < pieces.size()) {
      end = seg.find(pieces[i + 1].text, pos + 1);
      if (end == std::string_view::npos) return false;
    } else {
      end = seg.size();
    }
    if (end <= pos) return false;  // path parameters are never empty
    if (out.param_count >= out.params.size()) return false;
    out.params[out.param_count++] = PathParam{p.text, seg.substr(pos, end - pos)};
    pos = end;
  }
  return pos == seg.size();
}

}  // namespace

// Depth-first walk in priority order. Returns true when an operation for the method is found.
static bool walk(const Router::Node* node, size_t i, MatchState& st);

static const OperationImpl* opFor(const Router::Node* n, int method, bool head_fallback) {
  if (method < 0) return nullptr;
  const OperationImpl* op = n->ops[method];
  if (!op && head_fallback && method == 5) op = n->ops[0];
  return op;
}

static bool walk(const Router::Node* node, size_t i, MatchState& st) {
  const auto& segs = *st.segs;
  RouteMatch& out = *st.out;
  if (i == segs.size()) {
    if (!node->terminal) return false;
    for (uint8_t p = 0; p < out.param_count && p < node->names.size(); ++p) out.params[p].name = node->names[p];
    if (const OperationImpl* op = opFor(node, st.method, st.head_fallback)) {
      out.status = RouteStatus::Found;
      out.operation = op;
      out.path_template = node->tmpl;
      return true;
    }
    if (!st.first_terminal) {
      st.first_terminal = node;
      st.first_params = out.params;
      st.first_count = out.param_count;
    }
    return false;
  }
  std::string_view seg = segs[i];
  auto it = std::lower_bound(node->literals.begin(), node->literals.end(), seg,
                             [](const auto& a, std::string_view b) { return a.first < b; });
  if (it != node->literals.end() && it->first == seg && walk(it->second.get(), i + 1, st)) return true;
  for (const auto& t : node->templs) {
    uint8_t saved = out.param_count;
    if (matchTemplate(t.pieces, seg, out) && walk(t.child.get(), i + 1, st)) return true;
    out.param_count = saved;
  }
  return false;
}

void Router::match(std::string_view path, int method, bool head_fallback, RouteMatch& out) const {
  out.status = RouteStatus::NotFound;
  out.operation = nullptr;
  out.param_count = 0;
  // Avoid a heap allocation for typical paths.
  std::vector<std::string_view> segs;
  segs.reserve(16);
  if (path.empty() || path[0] != '/') return;
  size_t pos = 1;
  while (true) {
    size_t next = path.find('/', pos);
    segs.push_back(path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  MatchState st{&segs, method, head_fallback, &out};
  if (walk(root_.get(), 0, st)) return;
  if (st.first_terminal) {
    const Node* n = static_cast<const Node*>(st.first_terminal);
    out.status = RouteStatus::MethodNotAllowed;
    out.params = st.first_params;
    out.param_count = st.first_count;
    out.path_template = n->tmpl;
    out.allowed.clear();
    for (int m = 0; m < kMethodCount; ++m) {
      bool has = n->ops[m] != nullptr || (m == 5 && head_fallback && n->ops[0]);
      if (!has) continue;
      if (!out.allowed.empty()) out.allowed += ", ";
      out.allowed += kMethodNames[m];
    }
  }
}

}  // namespace gw::validators
