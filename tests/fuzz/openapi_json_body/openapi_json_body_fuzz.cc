// Fuzz target: request body parsing and validation (JSON, form, multipart) against a fixed
// petstore-like contract. Input: first byte picks the media type; the rest is the body.

#include <cstddef>
#include <cstdint>
#include <string>

#include "validators/contract.h"

namespace {

const char* kSpec = R"(openapi: 3.0.3
info: {title: fuzz, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
          application/x-www-form-urlencoded:
            schema: {$ref: "#/components/schemas/Pet"}
          multipart/form-data:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "200": {description: ok}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        id: {type: integer, format: int64, readOnly: true}
        name: {type: string, pattern: "^[A-Za-z ]{1,40}$"}
        email: {type: string, format: email}
        born: {type: string, format: date-time}
        tags: {type: array, items: {type: string, maxLength: 10}, uniqueItems: true}
        owner: {$ref: "#/components/schemas/Owner"}
        kind: {type: string, enum: [cat, dog], nullable: true}
        weight: {type: number, minimum: 0, exclusiveMinimum: true, multipleOf: 0.01}
      additionalProperties: false
    Owner:
      type: object
      properties:
        name: {type: string}
        pets: {type: array, items: {$ref: "#/components/schemas/Pet"}}
        meta: {type: object, patternProperties: {"^x-": {type: string}}}
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
  static const char* kTypes[] = {"application/json", "application/vnd.x+json; charset=utf-8",
                                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=B"};
  HttpRequestView req;
  req.method = "POST";
  req.path = "/pets";
  req.headers = {{"Content-Type", kTypes[data[0] % 4]}};
  req.body = std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
  req.body_present = true;
  ValidationContext ctx;
  ViolationSink sink(16);
  c->validateRequest(req, ctx, sink);
  return 0;
}
