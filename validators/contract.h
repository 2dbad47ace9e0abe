#pragma once

// The compiled OpenAPI contract: the public entry point of gw_validators.
//
//   auto contract = gw::validators::loadContract("specs/openapi/petstore.yaml");
//   if (!contract) { log(contract.error().toString()); return; }
//   // per worker thread, once:
//   gw::validators::ValidationContext vctx;
//   // per request:
//   gw::validators::ViolationSink sink(16);
//   gw::validators::HttpRequestView req{.method = "GET", .path = "/v1/pets", .query = "limit=5"};
//   auto outcome = (*contract)->validateRequest(req, vctx, sink);
//   if (outcome.route == RouteStatus::NotFound) ... 404; MethodNotAllowed ... 405 + outcome.allowed
//   // later, with the upstream's response:
//   (*contract)->validateResponse(*outcome.operation, resp_view, vctx, sink);
//
// Ownership and threading:
//  - loadContract() returns a shared_ptr<const Contract>. A Contract is immutable after
//    loading: every method is const and may be called from any number of threads at once.
//    Reload = load a new Contract and swap the shared_ptr; old requests keep the old one alive.
//  - Per-thread mutable state lives in ValidationContext (one per worker thread, not shared).
//  - ViolationSink is per request.
//  - Views (HttpRequestView / HttpResponseView) are borrowed for the duration of the call only.
//  - Operation pointers stay valid as long as their Contract.
// Errors: loading returns Result<> with located SpecErrors; validation never throws and
// reports through the sink.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "validators/http_view.h"
#include "validators/result.h"
#include "validators/schema.h"
#include "validators/violation.h"

namespace gw::validators {

struct ValidationLimits {
  std::size_t max_body_bytes = 8u << 20;       // larger bodies: *.body.too_large, not parsed
  int max_depth = 64;                          // JSON nesting cap, checked while parsing
  std::size_t max_string_length = 1u << 20;    // any JSON string / parameter value
  std::size_t max_parameter_length = 64u << 10;
};

struct LoadOptions {
  ValidationLimits limits;
  DocumentStore::Limits documents;  // spec file size / count / nesting
  // Strip `servers` base paths (e.g. "/v1" from "https://api.example.com/v1") before routing.
  bool use_server_base_paths = true;
  // Non-file $ref targets (http://...) are fetched only through this callback; by default the
  // loader never touches the network.
  DocumentStore::Fetch fetch;
  // HEAD requests use the GET operation when the path has no HEAD operation.
  bool head_falls_back_to_get = true;
};

enum class RouteStatus : std::uint8_t { Found, NotFound, MethodNotAllowed };

// Read-only description of one operation.
class Operation {
 public:
  virtual ~Operation() = default;
  virtual std::string_view method() const = 0;         // "GET", ...
  virtual std::string_view pathTemplate() const = 0;   // "/pets/{id}" (without base path)
  virtual std::string_view operationId() const = 0;    // may be empty
  virtual std::string_view specPointer() const = 0;    // "/paths/~1pets~1{id}/get"
};

struct PathParam {
  std::string_view name;  // points into the Contract
  std::string_view raw;   // points into the request path, still percent-encoded
};

struct RouteMatch {
  RouteStatus status = RouteStatus::NotFound;
  const Operation* operation = nullptr;
  std::string allowed;  // "GET, POST" when status == MethodNotAllowed (for the Allow header)
  std::string_view path_template;
  std::array<PathParam, 16> params{};
  std::uint8_t param_count = 0;
};

struct RequestOutcome {
  RouteStatus route = RouteStatus::NotFound;
  const Operation* operation = nullptr;  // set when route == Found
  std::string allowed;                   // for 405
  bool valid = false;                    // route found and no violation added by this call
};

struct OperationSummary {
  std::string method, path, operation_id, spec_pointer;
};

class Contract {
 public:
  virtual ~Contract() = default;

  // Route lookup only (no allocation unless the method is not allowed). `path` is the raw
  // request path; a '?' and what follows are ignored.
  virtual RouteMatch matchRoute(std::string_view method, std::string_view path) const = 0;

  // Route + parameters + body. Violations go to `sink` (route failures too, as
  // request.route.*). Uses `ctx` as scratch; `ctx` must belong to the calling thread.
  virtual RequestOutcome validateRequest(const HttpRequestView& req, ValidationContext& ctx,
                                         ViolationSink& sink) const = 0;

  // Status / headers / body of a response to `op`. Returns true when no violation was added.
  virtual bool validateResponse(const Operation& op, const HttpResponseView& resp,
                                ValidationContext& ctx, ViolationSink& sink) const = 0;

  // Load-time report: unenforced keywords, unknown formats, warnings.
  virtual const CompileReport& report() const = 0;
  virtual std::vector<OperationSummary> operations() const = 0;
  virtual std::string_view openapiVersion() const = 0;  // e.g. "3.0.3"
  virtual const std::vector<std::string>& basePaths() const = 0;
  virtual const ValidationLimits& limits() const = 0;
};

using ContractPtr = std::shared_ptr<const Contract>;

// Loads `path` (YAML or JSON) and every file it references, compiles, returns the contract.
// Never throws, never aborts on malformed input.
Result<ContractPtr> loadContract(const std::string& path, const LoadOptions& options = {});
// Same, from memory; `name` is used in error messages and as the base for relative $refs
// (relative to the current directory when it is a relative path).
Result<ContractPtr> loadContractFromString(std::string_view text, const std::string& name,
                                           const LoadOptions& options = {});

}  // namespace gw::validators
