// gw-openapi: check an OpenAPI document, or validate a captured HTTP exchange against it.
//
//   gw-openapi check SPEC [--format text|json]
//   gw-openapi validate SPEC --request FILE [--response FILE] [--format text|json]
//
// Exit status: 0 = spec loads / exchange conforms; 1 = spec errors or violations found;
// 2 = usage or I/O error.

// json_doc.h first: valijson's adapter must define RAPIDJSON_ASSERT before RapidJSON is seen.
#include "validators/json_doc.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "validators/contract.h"
#include "validators/json_doc.h"
#include "validators/tools/raw_http.h"

namespace gw::validators {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void usage() {
  std::fprintf(stderr,
               "usage: gw-openapi check SPEC [--format text|json]\n"
               "       gw-openapi validate SPEC --request FILE [--response FILE] [--format text|json]\n"
               "FILE holds a raw HTTP/1.1 message (request line or status line, headers, blank line, body).\n");
}

void kv(JsonWriter& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

void writeItems(JsonWriter& w, const char* key, const std::vector<ReportItem>& items) {
  w.Key(key);
  w.StartArray();
  for (const auto& i : items) {
    w.StartObject();
    kv(w, "file", i.file);
    kv(w, "pointer", i.pointer);
    kv(w, "keyword", i.keyword);
    kv(w, "detail", i.detail);
    w.EndObject();
  }
  w.EndArray();
}

void writeErrors(JsonWriter& w, const SpecErrors& errors) {
  w.Key("errors");
  w.StartArray();
  for (const auto& e : errors.errors) {
    w.StartObject();
    kv(w, "file", e.file);
    w.Key("line");
    w.Int(e.line);
    kv(w, "pointer", e.pointer);
    kv(w, "message", e.message);
    w.EndObject();
  }
  w.EndArray();
}

void writeViolations(JsonWriter& w, const char* key, const ViolationSink& sink) {
  w.Key(key);
  w.StartArray();
  for (const auto& v : sink.violations()) {
    w.StartObject();
    kv(w, "code", v.code);
    kv(w, "in", v.in);
    kv(w, "name", v.name);
    kv(w, "pointer", v.pointer);
    kv(w, "keyword", v.keyword);
    kv(w, "spec_pointer", v.spec_pointer);
    kv(w, "message", v.message);
    w.EndObject();
  }
  w.EndArray();
  std::string dk = std::string(key) + "_dropped";
  w.Key(dk.c_str());
  w.Uint64(sink.dropped());
}

void printReportText(const CompileReport& r) {
  for (const auto& i : r.unenforced)
    std::printf("unenforced: %s#%s: %s (%s)\n", i.file.c_str(), i.pointer.c_str(), i.keyword.c_str(), i.detail.c_str());
  for (const auto& i : r.unknown_formats)
    std::printf("unknown format: %s#%s: '%s' accepted without a check\n", i.file.c_str(), i.pointer.c_str(),
                i.keyword.c_str());
  for (const auto& i : r.warnings)
    std::printf("warning: %s#%s: %s\n", i.file.c_str(), i.pointer.c_str(), i.detail.c_str());
}

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

int cmdCheck(const std::string& spec, bool json) {
  auto c = loadContract(spec);
  if (json) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    kv(w, "spec", spec);
    w.Key("ok");
    w.Bool(c.has_value());
    if (!c) {
      writeErrors(w, c.error());
    } else {
      kv(w, "openapi", std::string((*c)->openapiVersion()));
      w.Key("base_paths");
      w.StartArray();
      for (const auto& b : (*c)->basePaths()) w.String(b.c_str());
      w.EndArray();
      w.Key("operations");
      w.StartArray();
      for (const auto& op : (*c)->operations()) {
        w.StartObject();
        kv(w, "method", op.method);
        kv(w, "path", op.path);
        kv(w, "operation_id", op.operation_id);
        w.EndObject();
      }
      w.EndArray();
      writeItems(w, "unenforced", (*c)->report().unenforced);
      writeItems(w, "unknown_formats", (*c)->report().unknown_formats);
      writeItems(w, "warnings", (*c)->report().warnings);
    }
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return c ? 0 : 1;
  }
  if (!c) {
    std::fprintf(stdout, "%s", c.error().toString().c_str());
    std::printf("FAILED: %zu error(s)\n", c.error().errors.size());
    return 1;
  }
  std::printf("OpenAPI %s, %zu operation(s)", std::string((*c)->openapiVersion()).c_str(), (*c)->operations().size());
  std::printf(", base path(s):");
  for (const auto& b : (*c)->basePaths()) std::printf(" '%s'", b.c_str());
  std::printf("\n");
  for (const auto& op : (*c)->operations())
    std::printf("  %-7s %s%s%s\n", op.method.c_str(), op.path.c_str(), op.operation_id.empty() ? "" : "  ",
                op.operation_id.c_str());
  printReportText((*c)->report());
  std::printf("OK\n");
  return 0;
}

int cmdValidate(const std::string& spec, const std::string& req_file, const std::string& resp_file, bool json) {
  auto c = loadContract(spec);
  if (!c) {
    std::fprintf(stderr, "%s", c.error().toString().c_str());
    return 1;
  }
  std::string text, err;
  if (!readFile(req_file, text)) {
    std::fprintf(stderr, "cannot read %s\n", req_file.c_str());
    return 2;
  }
  tools::RawHttpMessage req;
  if (!tools::parseRawHttp(std::move(text), true, req, err)) {
    std::fprintf(stderr, "%s: %s\n", req_file.c_str(), err.c_str());
    return 2;
  }
  tools::RawHttpMessage resp;
  if (!resp_file.empty()) {
    if (!readFile(resp_file, text)) {
      std::fprintf(stderr, "cannot read %s\n", resp_file.c_str());
      return 2;
    }
    if (!tools::parseRawHttp(std::move(text), false, resp, err)) {
      std::fprintf(stderr, "%s: %s\n", resp_file.c_str(), err.c_str());
      return 2;
    }
  }
  ValidationContext ctx;
  ViolationSink req_sink(64), resp_sink(64);
  RequestOutcome outcome = (*c)->validateRequest(req.requestView(), ctx, req_sink);
  bool checked_response = false;
  if (!resp_file.empty() && outcome.operation) {
    (*c)->validateResponse(*outcome.operation, resp.responseView(), ctx, resp_sink);
    checked_response = true;
  }
  bool ok = req_sink.empty() && resp_sink.empty();
  if (json) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    w.Key("ok");
    w.Bool(ok);
    if (outcome.operation) {
      kv(w, "operation", std::string(outcome.operation->method()) + " " + std::string(outcome.operation->pathTemplate()));
    }
    writeViolations(w, "request", req_sink);
    if (!resp_file.empty()) {
      w.Key("response_checked");
      w.Bool(checked_response);
      writeViolations(w, "response", resp_sink);
    }
    w.EndObject();
    std::printf("%s\n", sb.GetString());
    return ok ? 0 : 1;
  }
  if (outcome.operation)
    std::printf("operation: %s %s\n", std::string(outcome.operation->method()).c_str(),
                std::string(outcome.operation->pathTemplate()).c_str());
  for (const auto& v : req_sink.violations()) std::printf("request: %s\n", v.toString().c_str());
  if (req_sink.dropped()) std::printf("request: ... %zu more\n", req_sink.dropped());
  if (!resp_file.empty() && !checked_response) std::printf("response: not checked (request has no operation)\n");
  for (const auto& v : resp_sink.violations()) std::printf("response: %s\n", v.toString().c_str());
  if (resp_sink.dropped()) std::printf("response: ... %zu more\n", resp_sink.dropped());
  std::printf(ok ? "OK\n" : "VIOLATIONS\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace gw::validators

int main(int argc, char** argv) {
  using namespace gw::validators;
  if (argc < 3) {
    usage();
    return 2;
  }
  std::string cmd = argv[1], spec = argv[2], req, resp, format = "text";
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--request" && i + 1 < argc) {
      req = argv[++i];
    } else if (a == "--response" && i + 1 < argc) {
      resp = argv[++i];
    } else if (a == "--format" && i + 1 < argc) {
      format = argv[++i];
    } else {
      usage();
      return 2;
    }
  }
  if (format != "text" && format != "json") {
    usage();
    return 2;
  }
  if (cmd == "check" && req.empty() && resp.empty()) return cmdCheck(spec, format == "json");
  if (cmd == "validate" && !req.empty()) return cmdValidate(spec, req, resp, format == "json");
  usage();
  return 2;
}
