#include "demo/demo_backend.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/dispatcher.h"
#include "core/util.h"

namespace gw::demo {

struct DemoBackend::Impl {
  event_base* base = nullptr;
  evhttp* http = nullptr;
  std::unique_ptr<Waker> stop;  // the owner's thread asks the demo loop to end
  std::thread thread;
  std::mutex mu;
  std::map<int, std::string> items{{1, "{\"id\":1,\"name\":\"teapot\",\"price\":12.5}"},
                                   {2, "{\"id\":2,\"name\":\"kettle\",\"price\":30}"}};
  int next_id = 3;
};

namespace {

void reply(evhttp_request* req, int status, const std::string& json) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  evhttp_add_header(out, "Content-Type", "application/json");
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, json.data(), json.size());
  evhttp_send_reply(req, status, nullptr, buf);
  evbuffer_free(buf);
}

std::string requestJson(evhttp_request* req) {
  std::string out = "{\"method\":\"";
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: out += "GET"; break;
    case EVHTTP_REQ_POST: out += "POST"; break;
    case EVHTTP_REQ_PUT: out += "PUT"; break;
    case EVHTTP_REQ_DELETE: out += "DELETE"; break;
    case EVHTTP_REQ_HEAD: out += "HEAD"; break;
    case EVHTTP_REQ_PATCH: out += "PATCH"; break;
    default: out += "OTHER"; break;
  }
  out += "\",\"uri\":\"";
  jsonEscape(out, evhttp_request_get_uri(req));
  out += "\",\"headers\":{";
  bool first = true;
  for (evkeyval* h = evhttp_request_get_input_headers(req)->tqh_first; h; h = h->next.tqe_next) {
    if (!first) out += ',';
    first = false;
    out += '"';
    jsonEscape(out, h->key);
    out += "\":\"";
    jsonEscape(out, h->value);
    out += '"';
  }
  out += "},\"body_bytes\":" + std::to_string(evbuffer_get_length(evhttp_request_get_input_buffer(req))) + "}";
  return out;
}

void handle(evhttp_request* req, void* arg) {
  auto* impl = static_cast<DemoBackend::Impl*>(arg);
  std::string path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)) ?: "/";
  auto cmd = evhttp_request_get_command(req);
  if (path == "/api/hello" && cmd == EVHTTP_REQ_GET) {
    return reply(req, 200, "{\"message\":\"hello from the demo backend\"}");
  }
  if (path == "/api/items" && cmd == EVHTTP_REQ_GET) {
    std::lock_guard<std::mutex> lock(impl->mu);
    std::string out = "[";
    for (const auto& [id, json] : impl->items) out += (out.size() > 1 ? "," : "") + json;
    return reply(req, 200, out + "]");
  }
  if (path == "/api/items" && cmd == EVHTTP_REQ_POST) {
    evbuffer* in = evhttp_request_get_input_buffer(req);
    std::string body(evbuffer_get_length(in), '\0');
    evbuffer_copyout(in, body.data(), body.size());
    if (body.empty() || body.front() != '{' || body.back() != '}') {
      return reply(req, 400, "{\"error\":\"expected a JSON object\"}");
    }
    std::lock_guard<std::mutex> lock(impl->mu);
    int id = impl->next_id++;
    std::string json = "{\"id\":" + std::to_string(id) + (body.size() > 2 ? "," : "") + body.substr(1);
    impl->items[id] = json;
    return reply(req, 201, json);
  }
  if (path.starts_with("/api/items/") && cmd == EVHTTP_REQ_GET) {
    auto id = parseUint(std::string_view(path).substr(11));
    std::lock_guard<std::mutex> lock(impl->mu);
    if (id && impl->items.count(static_cast<int>(*id))) return reply(req, 200, impl->items[static_cast<int>(*id)]);
    return reply(req, 404, "{\"error\":\"no such item\"}");
  }
  if (path == "/api/echo") return reply(req, 200, requestJson(req));
  reply(req, 404, "{\"error\":\"not found\",\"path\":\"" + path + "\"}");
}

}  // namespace

std::unique_ptr<DemoBackend> DemoBackend::start(std::string* error) {
  std::unique_ptr<DemoBackend> b(new DemoBackend());
  b->impl_ = std::make_unique<Impl>();
  Impl& impl = *b->impl_;
  impl.base = event_base_new();
  impl.http = evhttp_new(impl.base);
  evhttp_set_allowed_methods(impl.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(impl.http, &handle, &impl);
  evhttp_bound_socket* sock = evhttp_bind_socket_with_handle(impl.http, "127.0.0.1", 0);
  if (!sock) {
    *error = "demo backend: cannot bind 127.0.0.1";
    return nullptr;
  }
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  getsockname(evhttp_bound_socket_get_fd(sock), reinterpret_cast<sockaddr*>(&ss), &len);
  b->port_ = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  impl.stop = std::make_unique<Waker>(impl.base, [base = impl.base] { event_base_loopbreak(base); });
  impl.thread = std::thread([base = impl.base] { event_base_dispatch(base); });
  return b;
}

DemoBackend::~DemoBackend() {
  if (!impl_) return;
  impl_->stop->wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->stop.reset();
  evhttp_free(impl_->http);
  event_base_free(impl_->base);
}

std::string demoConfigYaml(uint16_t backend_port, uint16_t listen_port, const std::string& tls_dir, uint16_t tls_port) {
  auto quote = [](const std::string& v) {  // a YAML double-quoted scalar
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string tls;
  if (!tls_dir.empty()) {
    tls = "  - {name: demo-tls, address: 127.0.0.1, port: " + std::to_string(tls_port) + ", tls: {certificates: [{cert: " +
          quote(tls_dir + "/cert.pem") + ", key: " + quote(tls_dir + "/key.pem") + "}]}}\n";
  }
  return "# built-in default: the gateway in front of the bundled demo backend\n"
         "listeners:\n"
         "  - {name: main, address: 127.0.0.1, port: " + std::to_string(listen_port) + "}\n" + tls +
         "upstreams:\n"
         "  - name: demo\n"
         "    servers: [\"127.0.0.1:" + std::to_string(backend_port) + "\"]\n"
         "routes:\n"
         "  - {name: demo-api, prefix: /api, upstream: demo}\n"
         "logs:\n"
         "  access: stdout\n";
}


}  // namespace gw::demo
