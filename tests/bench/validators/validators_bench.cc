// Benchmarks of the contract engine (issue 5):
//  - BM_LoadGeneratedSpec/N: load + compile a generated spec with N operations (JSON text in
//    memory; bytes reported as the spec size);
//  - BM_RouteLookup: route lookup in a 600-operation spec (templated paths, worst-case depth);
//  - BM_ValidateRequest1KB: a ~1 KB JSON body through validateRequest (route, params, parse,
//    schema) against a petstore-like schema;
//  - BM_ValidateArray1MB: a ~1 MB JSON array body (throughput).

#include <benchmark/benchmark.h>

#include <string>

#include "validators/contract.h"

namespace {

using namespace gw::validators;

// A petstore-like component set, repeated with a suffix so that specs grow realistically.
std::string components(int copies) {
  std::string s;
  for (int i = 0; i < copies; ++i) {
    std::string n = std::to_string(i);
    s += R"("Pet)" + n + R"(": {"type": "object", "required": ["id", "name"], "properties": {
      "id": {"type": "integer", "format": "int64", "readOnly": true},
      "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z][A-Za-z0-9 _-]*$"},
      "tag": {"type": "string", "maxLength": 32, "nullable": true},
      "status": {"type": "string", "enum": ["available", "pending", "sold"]},
      "born": {"type": "string", "format": "date"},
      "email": {"type": "string", "format": "email"},
      "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
      "owner": {"$ref": "#/components/schemas/Owner)" + n + R"("},
      "photoUrls": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "uri"}},
      "attributes": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 128}}}},
    "Owner)" + n + R"(": {"type": "object", "required": ["name"], "properties": {
      "name": {"type": "string"}, "phone": {"type": "string", "pattern": "^\\+?[0-9 ]{6,20}$"},
      "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                  "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}}},
    "Error)" + n + R"(": {"type": "object", "required": ["code", "message"], "properties": {
      "code": {"type": "integer", "format": "int32"}, "message": {"type": "string"}}},)";
  }
  s.pop_back();  // trailing comma
  return s;
}

// `ops` operations: ops/2 resources, each with GET (query params) and POST (body) on
// "/resN/{id}/items".
std::string generateSpec(int ops) {
  int resources = ops / 2;
  int schema_sets = std::max(1, resources / 4);
  std::string s = R"({"openapi": "3.0.3", "info": {"title": "generated", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}], "paths": {)";
  for (int i = 0; i < resources; ++i) {
    std::string n = std::to_string(i), c = std::to_string(i % schema_sets);
    s += R"("/res)" + n + R"(/{id}/items": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
      "get": {"operationId": "list)" + n + R"(", "parameters": [
          {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
          {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
          {"name": "X-Trace", "in": "header", "schema": {"type": "string", "format": "uuid"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "array", "items": {"$ref": "#/components/schemas/Pet)" + c + R"("}}}}},
          "default": {"description": "error", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error)" + c + R"("}}}}}},
      "post": {"operationId": "create)" + n + R"(", "requestBody": {"required": true, "content": {
          "application/json": {"schema": {"$ref": "#/components/schemas/Pet)" + c + R"("}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Pet)" + c + R"("}}}},
          "4XX": {"description": "error", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Error)" + c + R"("}}}}}}},)";
  }
  s.pop_back();
  s += R"(}, "components": {"schemas": {)" + components(schema_sets) + "}}}";
  return s;
}

ContractPtr load(const std::string& text) {
  auto c = loadContractFromString(text, "generated.json");
  if (!c) {
    std::fprintf(stderr, "%s", c.error().toString().c_str());
    std::abort();
  }
  return *c;
}

std::string pet(int i) {
  return R"({"name":"Pet number )" + std::to_string(i) +
         R"(","tag":"friendly","status":"available","born":"2019-05-17","email":"owner)" + std::to_string(i) +
         R"(@example.com","weight":12.5,"owner":{"name":"Jane Doe","phone":"+1 555 0100","address":{"street":"1 Main St","city":"Springfield","zip":"12345"}},"photoUrls":["https://img.example.com/a.png","https://img.example.com/b.png"],"attributes":{"color":"brown","size":"medium","temper":"calm"}})";
}

void BM_LoadGeneratedSpec(benchmark::State& state) {
  std::string text = generateSpec(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto c = load(text);
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["spec_bytes"] = static_cast<double>(text.size());
  state.counters["operations"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_LoadGeneratedSpec)->Arg(600)->Arg(6000)->Unit(benchmark::kMillisecond);

void BM_RouteLookup(benchmark::State& state) {
  static ContractPtr c = load(generateSpec(600));
  const char* paths[] = {"/v1/res0/17/items", "/v1/res150/3/items", "/v1/res299/99/items", "/v1/res77/1/items"};
  size_t i = 0;
  for (auto _ : state) {
    RouteMatch m = c->matchRoute(i & 1 ? "GET" : "POST", paths[i & 3]);
    benchmark::DoNotOptimize(m.operation);
    ++i;
  }
}
BENCHMARK(BM_RouteLookup);

void BM_RouteLookupMethodNotAllowed(benchmark::State& state) {
  static ContractPtr c = load(generateSpec(600));
  for (auto _ : state) {
    RouteMatch m = c->matchRoute("DELETE", "/v1/res150/3/items");
    benchmark::DoNotOptimize(m.allowed);
  }
}
BENCHMARK(BM_RouteLookupMethodNotAllowed);

void BM_ValidateRequest1KB(benchmark::State& state) {
  static ContractPtr c = load(generateSpec(600));
  std::string body = pet(1);
  while (body.size() < 1000) body.insert(body.size() - 2, ",\"pad\":\"x\"");  // "attributes" allows strings
  body = pet(1);
  // ~1 KB: pad the attributes map
  std::string padded = body.substr(0, body.size() - 2);
  for (int k = 0; padded.size() < 1010; ++k) padded += ",\"k" + std::to_string(k) + "\":\"value\"";
  padded += "}}";
  ValidationContext ctx;
  HttpRequestView req;
  req.method = "POST";
  req.path = "/v1/res150/3/items";
  req.headers = {{"Host", "api.example.com"}, {"Content-Type", "application/json"}, {"X-Trace", "x"}};
  req.body = padded;
  req.body_present = true;
  ViolationSink sink;
  c->validateRequest(req, ctx, sink);
  if (!sink.empty()) {
    for (const auto& v : sink.violations()) std::fprintf(stderr, "%s\n", v.toString().c_str());
    state.SkipWithError("benchmark body is not valid");
    return;
  }
  for (auto _ : state) {
    sink.clear();
    RequestOutcome o = c->validateRequest(req, ctx, sink);
    benchmark::DoNotOptimize(o.valid);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(padded.size()));
  state.counters["body_bytes"] = static_cast<double>(padded.size());
}
BENCHMARK(BM_ValidateRequest1KB);

void BM_ValidateRequest1KBInvalid(benchmark::State& state) {
  static ContractPtr c = load(generateSpec(600));
  std::string body = pet(1);
  body.replace(body.find("\"available\""), 11, "\"unknown!!\"");
  ValidationContext ctx;
  HttpRequestView req;
  req.method = "POST";
  req.path = "/v1/res150/3/items";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body;
  req.body_present = true;
  ViolationSink sink;
  for (auto _ : state) {
    sink.clear();
    RequestOutcome o = c->validateRequest(req, ctx, sink);
    benchmark::DoNotOptimize(o.valid);
  }
}
BENCHMARK(BM_ValidateRequest1KBInvalid);

void BM_ValidateArray1MB(benchmark::State& state) {
  static ContractPtr c = load(generateSpec(600));
  RouteMatch m = c->matchRoute("GET", "/v1/res150/3/items");
  std::string body = "[";
  for (int i = 0; body.size() < (1u << 20); ++i) {
    if (i) body += ",";
    std::string p = pet(i);
    p.insert(1, "\"id\":" + std::to_string(i) + ",");
    body += p;
  }
  body += "]";
  ValidationContext ctx;
  HttpResponseView resp;
  resp.status = 200;
  resp.headers = {{"Content-Type", "application/json"}};
  resp.body = body;
  resp.body_present = true;
  ViolationSink sink;
  if (!c->validateResponse(*m.operation, resp, ctx, sink)) {
    for (const auto& v : sink.violations()) std::fprintf(stderr, "%s\n", v.toString().c_str());
    state.SkipWithError("benchmark body is not valid");
    return;
  }
  for (auto _ : state) {
    sink.clear();
    bool ok = c->validateResponse(*m.operation, resp, ctx, sink);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ValidateArray1MB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
