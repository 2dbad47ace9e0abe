#include "http/problem.h"

#include "core/util.h"
#include "http/message.h"

namespace gw::http {

std::string problemJson(int status, std::string_view code, std::string_view detail,
                        std::string_view request_id) {
  std::string out = "{\"type\":\"urn:gatewayd:problem:";
  jsonEscape(out, code);
  out += "\",\"title\":\"";
  jsonEscape(out, reasonPhrase(status));
  out += "\",\"status\":";
  out += std::to_string(status);
  out += ",\"detail\":\"";
  jsonEscape(out, detail);
  out += '"';
  if (!request_id.empty()) {
    out += ",\"request_id\":\"";
    jsonEscape(out, request_id);
    out += '"';
  }
  out += "}\n";
  return out;
}

}  // namespace gw::http
