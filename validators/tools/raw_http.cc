#include "validators/tools/raw_http.h"

#include <http_parser.h>

#include <cstring>

namespace gw::validators::tools {
namespace {

struct State {
  RawHttpMessage* msg = nullptr;
  std::string url, field, value;
  bool last_was_value = false;
  bool complete = false;

  void flushHeader() {
    if (!field.empty()) msg->headers.emplace_back(std::move(field), std::move(value));
    field.clear();
    value.clear();
  }
};

State* state(http_parser* p) { return static_cast<State*>(p->data); }

int onUrl(http_parser* p, const char* at, size_t len) {
  state(p)->url.append(at, len);
  return 0;
}
int onHeaderField(http_parser* p, const char* at, size_t len) {
  State* s = state(p);
  if (s->last_was_value) s->flushHeader();
  s->field.append(at, len);
  s->last_was_value = false;
  return 0;
}
int onHeaderValue(http_parser* p, const char* at, size_t len) {
  State* s = state(p);
  s->value.append(at, len);
  s->last_was_value = true;
  return 0;
}
int onHeadersComplete(http_parser* p) {
  state(p)->flushHeader();
  return 0;
}
int onBody(http_parser* p, const char* at, size_t len) {
  state(p)->msg->body.append(at, len);
  state(p)->msg->has_body = true;
  return 0;
}
int onMessageComplete(http_parser* p) {
  state(p)->complete = true;
  return 0;
}

bool ieq(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

}  // namespace

HttpRequestView RawHttpMessage::requestView() const {
  HttpRequestView v;
  v.method = method;
  v.path = path;
  v.query = query;
  for (const auto& [k, val] : headers) v.headers.emplace_back(k, val);
  v.body = body;
  v.body_present = has_body;
  return v;
}

HttpResponseView RawHttpMessage::responseView() const {
  HttpResponseView v;
  v.status = status;
  for (const auto& [k, val] : headers) v.headers.emplace_back(k, val);
  v.body = body;
  v.body_present = has_body;
  return v;
}

bool parseRawHttp(std::string text, bool request, RawHttpMessage& out, std::string& error) {
  out = RawHttpMessage{};
  out.is_request = request;
  // Split head / body to normalise hand-written files.
  size_t head_end = text.find("\r\n\r\n");
  size_t sep = 4;
  if (head_end == std::string::npos) {
    head_end = text.find("\n\n");
    sep = 2;
  }
  std::string head = head_end == std::string::npos ? text : text.substr(0, head_end);
  std::string rest = head_end == std::string::npos ? "" : text.substr(head_end + sep);
  std::string norm;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) norm += '\r';
    norm += head[i];
  }
  bool has_length = false;
  {
    size_t pos = 0;
    while ((pos = norm.find("\r\n", pos)) != std::string::npos) {
      pos += 2;
      size_t colon = norm.find(':', pos);
      size_t eol = norm.find("\r\n", pos);
      if (colon == std::string::npos || (eol != std::string::npos && colon > eol)) continue;
      std::string name = norm.substr(pos, colon - pos);
      if (ieq(name, "content-length") || ieq(name, "transfer-encoding")) has_length = true;
    }
  }
  if (!has_length && !rest.empty()) {
    norm += "\r\nContent-Length: ";
    norm += std::to_string(rest.size());
  }
  norm += "\r\n\r\n";
  norm += rest;

  http_parser parser;
  http_parser_init(&parser, request ? HTTP_REQUEST : HTTP_RESPONSE);
  State st;
  st.msg = &out;
  parser.data = &st;
  http_parser_settings settings;
  std::memset(&settings, 0, sizeof settings);
  settings.on_url = onUrl;
  settings.on_header_field = onHeaderField;
  settings.on_header_value = onHeaderValue;
  settings.on_headers_complete = onHeadersComplete;
  settings.on_body = onBody;
  settings.on_message_complete = onMessageComplete;
  size_t n = http_parser_execute(&parser, &settings, norm.data(), norm.size());
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    error = std::string("HTTP parse error at byte ") + std::to_string(n) + ": " +
            http_errno_description(HTTP_PARSER_ERRNO(&parser));
    return false;
  }
  if (!st.complete) {
    // A response without length is delimited by EOF.
    http_parser_execute(&parser, &settings, nullptr, 0);
    if (!st.complete) {
      error = "incomplete HTTP message";
      return false;
    }
  }
  if (request) {
    out.method = http_method_str(static_cast<http_method>(parser.method));
    size_t q = st.url.find('?');
    out.path = st.url.substr(0, q);
    if (q != std::string::npos) out.query = st.url.substr(q + 1);
    // absolute-form request target: keep only the path
    if (out.path.rfind("http://", 0) == 0 || out.path.rfind("https://", 0) == 0) {
      size_t slash = out.path.find('/', out.path.find("//") + 2);
      out.path = slash == std::string::npos ? "/" : out.path.substr(slash);
    }
  } else {
    out.status = static_cast<int>(parser.status_code);
  }
  return true;
}

}  // namespace gw::validators::tools
