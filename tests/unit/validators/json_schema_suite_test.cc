// JSON-Schema-Test-Suite (../shared/testdata/json-schema-test-suite) run through the engine's
// JsonSchema (so the translation, RE2 and format layers are exercised, not valijson alone).
//
// Every failing case must be listed in json_schema_suite_known_failures.txt with a reason; a
// listed case that passes is reported too (stale entry), so the list stays exact.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "validators/json_doc.h"
#include "validators/schema.h"

namespace gw::validators {
namespace {

namespace fs = std::filesystem;

const std::string kSuite = std::string(GW_TESTDATA_DIR) + "/json-schema-test-suite";

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// key: "draft|file|case description|test description" (test description "*" = whole case)
std::map<std::string, std::string> loadKnownFailures() {
  std::map<std::string, std::string> out;
  std::ifstream in(std::string(GW_KNOWN_FAILURES));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    // draft | file | case | test | reason
    std::vector<std::string> parts;
    size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
      size_t bar = line.find(" | ", pos);
      if (bar == std::string::npos) break;
      parts.push_back(line.substr(pos, bar - pos));
      pos = bar + 3;
    }
    if (parts.size() != 4) continue;
    out[parts[0] + "|" + parts[1] + "|" + parts[2] + "|" + parts[3]] = line.substr(pos);
  }
  return out;
}

struct Totals {
  int passed = 0, failed_known = 0;
  std::vector<std::string> unexpected, stale;
};

// The draft-04 and draft-07 meta-schemas, as Debian's python3-jsonschema ships them (a test
// dependency; the engine itself never fetches http(s) references).
const std::string kMetaSchemaDir = "/usr/lib/python3/dist-packages/jsonschema/schemas";
const std::map<std::string, std::string> kMetaSchemas = {
    {"http://json-schema.org/draft-04/schema", "draft4.json"},
    {"http://json-schema.org/draft-07/schema", "draft7.json"}};

bool metaSchemasInstalled() {
  for (const auto& [uri, file] : kMetaSchemas) {
    if (!fs::is_regular_file(fs::path(kMetaSchemaDir) / file)) return false;
  }
  return true;
}

std::optional<std::string> fetchRemote(const std::string& uri) {
  std::string no_fragment = uri.substr(0, uri.find('#'));
  if (auto it = kMetaSchemas.find(no_fragment); it != kMetaSchemas.end()) {
    fs::path p = fs::path(kMetaSchemaDir) / it->second;
    if (!fs::is_regular_file(p)) return std::nullopt;
    return readFile(p);
  }
  const std::string prefix = "http://localhost:1234/";
  if (uri.rfind(prefix, 0) != 0) return std::nullopt;
  fs::path p = fs::path(kSuite) / "remotes" / uri.substr(prefix.size());
  if (!fs::is_regular_file(p)) return std::nullopt;
  return readFile(p);
}

void runDir(const std::string& draft, const std::string& rel_dir, Dialect dialect, bool assert_formats,
            const std::map<std::string, std::string>& known, Totals& t) {
  fs::path dir = fs::path(kSuite) / "tests" / draft / rel_dir;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ValidationContext ctx;
  std::set<std::string> seen_known;
  for (const auto& f : files) {
    std::string file = (rel_dir.empty() ? "" : rel_dir + "/") + f.filename().string();
    rapidjson::Document doc;
    doc.Parse(readFile(f).c_str());
    ASSERT_FALSE(doc.HasParseError()) << f;
    for (const auto& c : doc.GetArray()) {
      std::string case_desc = c["description"].GetString();
      JsonSchemaOptions opts;
      opts.dialect = dialect;
      opts.assert_formats = assert_formats;
      opts.base_uri = "http://localhost:1234/root.json";  // suite convention: no $id => unnamed root
      opts.fetch = fetchRemote;
      auto schema = JsonSchema::compile(c["schema"], opts);
      for (const auto& test : c["tests"].GetArray()) {
        std::string test_desc = test["description"].GetString();
        bool expected = test["valid"].GetBool();
        bool ok;
        if (!schema) {
          ok = false;
        } else {
          ok = (*schema)->validate(test["data"], ctx) == expected;
        }
        std::string key_case = draft + "|" + file + "|" + case_desc + "|*";
        std::string key_test = draft + "|" + file + "|" + case_desc + "|" + test_desc;
        bool is_known = known.count(key_case) || known.count(key_test);
        if (is_known) seen_known.insert(known.count(key_test) ? key_test : key_case);
        if (ok && !is_known) {
          ++t.passed;
        } else if (ok && is_known) {
          if (known.count(key_test)) t.stale.push_back(key_test);
          ++t.passed;
        } else if (!ok && is_known) {
          ++t.failed_known;
        } else {
          t.unexpected.push_back(key_test + (schema ? "" : "  [compile: " + schema.error().toString() + "]"));
        }
      }
    }
  }
}

void runDraft(const std::string& draft, Dialect dialect) {
  if (!fs::is_directory(kSuite)) {
    GTEST_SKIP() << "NOT RUN: JSON-Schema-Test-Suite not found at " << kSuite
                 << " (conformance data lives outside the repository, in ../shared/testdata)";
  }
  auto known = loadKnownFailures();
  if (!metaSchemasInstalled()) {
    // These cases need the official meta-schemas; without python3-jsonschema they cannot run.
    std::printf("[suite] NOT RUN: the %s cases that reference the official meta-schema (%s missing; "
                "install python3-jsonschema)\n", draft.c_str(), kMetaSchemaDir.c_str());
    for (const char* k : {"|definitions.json|validate definition against metaschema|*",
                          "|ref.json|remote ref, containing refs itself|*"}) {
      known[draft + k] = "meta-schema not installed";
    }
  }
  Totals required, optional;
  runDir(draft, "", dialect, dialect != Dialect::Draft2020, known, required);
  runDir(draft, "optional/format", dialect, true, known, optional);
  int req_total = required.passed + required.failed_known + static_cast<int>(required.unexpected.size());
  int opt_total = optional.passed + optional.failed_known + static_cast<int>(optional.unexpected.size());
  std::printf("[suite] %s required: %d/%d passed (%d known failures); optional/format: %d/%d passed (%d known failures)\n",
              draft.c_str(), required.passed, req_total, required.failed_known, optional.passed, opt_total,
              optional.failed_known);
  for (auto* t : {&required, &optional}) {
    for (const auto& u : t->unexpected) ADD_FAILURE() << "unexpected failure: " << u;
    for (const auto& s : t->stale) ADD_FAILURE() << "known failure now passes (remove it from the list): " << s;
  }
}

TEST(JsonSchemaTestSuite, Draft4) { runDraft("draft4", Dialect::Draft4); }
TEST(JsonSchemaTestSuite, Draft7) { runDraft("draft7", Dialect::Draft7); }
TEST(JsonSchemaTestSuite, Draft2020_12) { runDraft("draft2020-12", Dialect::Draft2020); }

}  // namespace
}  // namespace gw::validators
