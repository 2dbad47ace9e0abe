// The config keys of kind: static (gateway/config/config.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "config/config.h"

namespace gw::config {
namespace {

std::string errorsOf(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.str() + "\n";
  return out;
}

class StaticConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gw-static-cfg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/www").c_str(), 0755), 0);
    FILE* f = fopen((dir_ + "/file").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  void TearDown() override { ASSERT_EQ(system(("rm -rf '" + dir_ + "'").c_str()), 0); }
  LoadResult load(const std::string& upstream_lines, const std::string& source = "") {
    std::string y = "upstreams:\n  - name: files\n" + upstream_lines + "routes: [{upstream: files}]\n";
    return loadConfigText(y, source.empty() ? dir_ + "/gw.yaml" : source);
  }
  std::string dir_;
};

TEST_F(StaticConfig, MinimalAndDefaults) {
  auto r = load("    kind: static\n    root: " + dir_ + "/www\n");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  const auto& u = r.config->upstreams[0];
  EXPECT_EQ(u.kind, UpstreamKind::Static);
  EXPECT_TRUE(u.servers.empty());
  EXPECT_EQ(u.static_files.root, dir_ + "/www");
  EXPECT_EQ(u.static_files.index, "");
  EXPECT_FALSE(u.static_files.allow_dotfiles);
  EXPECT_EQ(u.static_files.cache_control, "");
}

TEST_F(StaticConfig, AllKeysAndRelativeRoot) {
  FILE* f = fopen((dir_ + "/mime.types").c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  // Relative paths are relative to the config file's directory; the root is stored canonical.
  auto r = load("    kind: static\n    root: ./www/../www\n    index: index.html\n    allow_dotfiles: true\n"
                "    cache_control: \"public, max-age=3600\"\n    mime_types: mime.types\n");
  ASSERT_TRUE(r.errors.empty()) << errorsOf(r);
  const auto& s = r.config->upstreams[0].static_files;
  EXPECT_EQ(s.root, dir_ + "/www");
  EXPECT_EQ(s.index, "index.html");
  EXPECT_TRUE(s.allow_dotfiles);
  EXPECT_EQ(s.cache_control, "public, max-age=3600");
  EXPECT_EQ(s.mime_types, dir_ + "/mime.types");
}

TEST_F(StaticConfig, RootMustBeAnExistingDirectory) {
  auto r = load("    kind: static\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0: missing required key 'root'"), std::string::npos) << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/nope\n");
  EXPECT_NE(errorsOf(r).find("gw.yaml:4: /upstreams/0/root: cannot use"), std::string::npos) << errorsOf(r);
  EXPECT_NE(errorsOf(r).find("No such file or directory"), std::string::npos) << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/file\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/root: '" + dir_ + "/file' is not a directory"), std::string::npos)
      << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/www\n    mime_types: /nonexistent/mime.types\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/mime_types: cannot read"), std::string::npos) << errorsOf(r);
}

TEST_F(StaticConfig, ServersAndStaticKeysAreKindSpecific) {
  auto r = load("    kind: static\n    root: " + dir_ + "/www\n    servers: [\"127.0.0.1:1\"]\n    keepalive: 3\n");
  std::string all = errorsOf(r);
  EXPECT_NE(all.find("/upstreams/0/servers: not used by static upstreams"), std::string::npos) << all;
  EXPECT_NE(all.find("/upstreams/0/keepalive: not used by static upstreams"), std::string::npos) << all;
  r = load("    root: " + dir_ + "/www\n    servers: [\"127.0.0.1:1\"]\n");
  all = errorsOf(r);
  EXPECT_NE(all.find("/upstreams/0/root: only for upstreams of kind static (this one is http)"), std::string::npos)
      << all;
  r = load("    keepalive: 3\n");
  all = errorsOf(r);
  EXPECT_NE(all.find("/upstreams/0: missing required key 'servers' (for kind http)"), std::string::npos) << all;
}

TEST_F(StaticConfig, SchemaChecksValues) {
  auto r = load("    kind: static\n    root: " + dir_ + "/www\n    index: a/b\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/index"), std::string::npos) << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/www\n    index: \"..\"\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/index: must be a plain file name"), std::string::npos) << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/www\n    cache_control: \"a\\r\\nX-Evil: 1\"\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/cache_control"), std::string::npos) << errorsOf(r);
  r = load("    kind: static\n    root: " + dir_ + "/www\n    allow_dotfiles: yes please\n");
  EXPECT_NE(errorsOf(r).find("/upstreams/0/allow_dotfiles"), std::string::npos) << errorsOf(r);
}

}  // namespace
}  // namespace gw::config
