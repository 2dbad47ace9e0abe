#pragma once
// Glue between http_parser's C callbacks and the downstream HTTP/1 codec (responses from
// upstreams go through response_parser.h): one settings table per handler type, and the
// accumulation of header fields that http_parser may deliver in several pieces.
#include <http_parser.h>

#include <string>

namespace gw::http1 {

// Settings whose callbacks forward to `T`'s member functions, with `parser->data` pointing at a T.
// Callbacks T does not declare stay unset.
template <class T>
const http_parser_settings& parserSettingsFor() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    if constexpr (requires(T t) { t.onMessageBegin(); }) {
      s.on_message_begin = [](http_parser* p) { return static_cast<T*>(p->data)->onMessageBegin(); };
    }
    if constexpr (requires(T t, const char* at, size_t len) { t.onUrl(at, len); }) {
      s.on_url = [](http_parser* p, const char* at, size_t len) { return static_cast<T*>(p->data)->onUrl(at, len); };
    }
    s.on_header_field = [](http_parser* p, const char* at, size_t len) {
      return static_cast<T*>(p->data)->onHeaderField(at, len);
    };
    s.on_header_value = [](http_parser* p, const char* at, size_t len) {
      return static_cast<T*>(p->data)->onHeaderValue(at, len);
    };
    s.on_headers_complete = [](http_parser* p) { return static_cast<T*>(p->data)->onHeadersComplete(); };
    s.on_body = [](http_parser* p, const char* at, size_t len) { return static_cast<T*>(p->data)->onBody(at, len); };
    s.on_message_complete = [](http_parser* p) { return static_cast<T*>(p->data)->onMessageComplete(); };
    return s;
  }();
  return settings;
}

// One header field assembled from http_parser's pieces. A field is complete when the next
// field name starts, or when the header section ends.
class FieldAccumulator {
 public:
  // Returns true when a complete field is pending and must be committed before this name piece.
  bool nameStartsAfterValue() const { return last_was_value_; }
  void appendName(const char* at, size_t len) {
    last_was_value_ = false;
    name_.append(at, len);
  }
  void appendValue(const char* at, size_t len) {
    last_was_value_ = true;
    value_.append(at, len);
  }
  bool pending() const { return !name_.empty() || !value_.empty(); }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  void clear() {
    name_.clear();
    value_.clear();
    last_was_value_ = false;
  }

 private:
  std::string name_, value_;
  bool last_was_value_ = false;
};

}  // namespace gw::http1
