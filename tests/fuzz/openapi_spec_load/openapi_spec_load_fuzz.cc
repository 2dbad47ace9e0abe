// Fuzz target: loading and compiling an arbitrary OpenAPI document (YAML or JSON), then routing
// a few requests through whatever compiled. Loading must never crash or hang.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "validators/contract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gw::validators;
  if (size > (1u << 20)) return 0;
  LoadOptions opts;
  opts.documents.allow_files = false;  // never read the file system from fuzz input
  opts.documents.max_depth = 128;
  auto c = loadContractFromString(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", opts);
  if (!c) return 0;
  ValidationContext ctx;
  for (const char* path : {"/", "/pets", "/pets/1", "/a/b/c", "/v1/pets/x.json"}) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      ViolationSink sink(8);
      HttpRequestView req;
      req.method = method;
      req.path = path;
      req.query = "limit=1&tags=a,b&filter[x]=1";
      req.headers = {{"Content-Type", "application/json"}, {"Cookie", "a=1"}};
      req.body = "{\"name\":\"x\",\"id\":1,\"tags\":[1,\"a\",null]}";
      req.body_present = true;
      RequestOutcome o = (*c)->validateRequest(req, ctx, sink);
      if (o.operation) {
        HttpResponseView resp;
        resp.status = 200;
        resp.headers = {{"Content-Type", "application/json"}};
        resp.body = "[{\"id\":1}]";
        resp.body_present = true;
        (*c)->validateResponse(*o.operation, resp, ctx, sink);
      }
    }
  }
  return 0;
}
