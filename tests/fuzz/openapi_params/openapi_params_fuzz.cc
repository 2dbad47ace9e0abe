// Fuzz target: parameter deserialization (every style, path/query/header/cookie) of a fixed
// contract. Input: first byte picks where the rest goes; the rest is the raw text.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "validators/contract.h"

namespace {

const char* kSpec = R"(openapi: 3.0.3
info: {title: fuzz, version: "1"}
paths:
  /s/{simple}/{label}/{matrix}:
    get:
      parameters:
        - {name: simple, in: path, required: true, schema: {type: object, properties: {a: {type: integer}}}}
        - {name: label, in: path, required: true, style: label, explode: true, schema: {type: array, items: {type: number}}}
        - {name: matrix, in: path, required: true, style: matrix, schema: {type: array, items: {type: boolean}}}
        - {name: f, in: query, schema: {type: array, items: {type: integer}}}
        - {name: g, in: query, explode: false, schema: {type: object, additionalProperties: {type: string}}}
        - {name: sp, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: pp, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: d, in: query, style: deepObject, schema: {type: object, properties: {x: {type: array, items: {type: integer}}}}}
        - {name: e, in: query, style: form, schema: {type: object, properties: {p: {type: integer}}, additionalProperties: {type: string}}}
        - {name: j, in: query, content: {application/json: {schema: {type: object}}}}
        - {name: X-H, in: header, schema: {type: array, items: {type: string, pattern: "^[a-z]+$"}}}
        - {name: c, in: cookie, schema: {type: string, format: date-time}}
      responses:
        "200": {description: ok}
)";

const gw::validators::Contract* contract() {
  static gw::validators::ContractPtr c = [] {
    auto r = gw::validators::loadContractFromString(kSpec, "fuzz.yaml");
    return r ? *r : nullptr;
  }();
  return c.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gw::validators;
  const Contract* c = contract();
  if (!c || size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpRequestView req;
  req.method = "GET";
  std::string path = "/s/a,1/.1.2/;matrix=true";
  std::string query = "f=1&f=2";
  std::string header = "abc", cookie = "c=2020-01-01T00:00:00Z";
  switch (data[0] % 4) {
    case 0: path = "/s/" + text; break;
    case 1: query = text; break;
    case 2: header = text; break;
    default: cookie = text; break;
  }
  req.path = path;
  req.query = query;
  req.headers = {{"x-h", header}, {"Cookie", cookie}};
  ValidationContext ctx;
  ViolationSink sink(16);
  c->validateRequest(req, ctx, sink);
  return 0;
}
