#pragma once
// RFC 9457 problem details: every error the gateway answers itself has an
// application/problem+json body with a stable `type` (the details code) and no internals.
#include <string>
#include <string_view>

namespace gw::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

// {"type":"urn:gatewayd:problem:<code>","title":<reason>,"status":N,"detail":...,"request_id":...}
std::string problemJson(int status, std::string_view code, std::string_view detail,
                        std::string_view request_id);

}  // namespace gw::http
