// Integration tests for HTTP Digest authentication (gateway/auth): gatewayd + gunicorn on loopback,
// driven by real clients — curl --digest, Python requests' HTTPDigestAuth, our own RFC 7616 client
// (tests/support/digest_client.py) for SHA-512-256, -sess and replays — with credential files made
// by the gw-digest tool and by Apache's htdigest (apache2-utils). HTTP/1.1 only (no h2 codec yet).
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <thread>

#include "it_common.h"

namespace gwtest {
namespace {

std::string gwDigestPath() { return GW_DIGEST_PATH; }

struct Exec {
  int code = -1;
  std::string out, err;
};

// Runs a program to completion (30 s cap), feeding `input` on stdin through a file.
Exec runCmd(const TempDir& dir, std::vector<std::string> argv, const std::string& input = "") {
  static int n = 0;
  const std::string base = dir.file("run" + std::to_string(++n));
  std::string in_path = dir.write("run" + std::to_string(n) + ".in", input);
  std::string cmd;
  for (const auto& a : argv) {
    cmd += "'";
    for (char c : a) cmd += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += "' ";
  }
  // The harness spawns argv directly; /bin/sh gives us stdin redirection.
  auto p = Process::spawn({"/bin/sh", "-c", cmd + "< '" + in_path + "'"}, base + ".out", base + ".err");
  Exec r;
  auto code = p->waitExit(30000ms);
  r.code = code.value_or(-1);
  r.out = p->stdoutText();
  r.err = p->stderrText();
  return r;
}

std::map<std::string, std::string> keyValues(const std::string& text) {
  std::map<std::string, std::string> kv;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    if (auto eq = line.find('='); eq != std::string::npos && !kv.count(line.substr(0, eq))) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

class DigestIT : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    creds_ = tmp_->file("users.htdigest");
    for (const char* alg : {"MD5", "SHA-256", "SHA-512-256"}) {
      ASSERT_EQ(runCmd(*tmp_, {gwDigestPath(), "-a", alg, "--stdin", creds_, "gw", "alice"}, "wonderland\n").code, 0);
      ASSERT_EQ(runCmd(*tmp_, {gwDigestPath(), "-a", alg, "--stdin", creds_, "gw", "carol"}, "c4rol\n").code, 0);
    }
  }
  std::string route(const std::string& prefix, const std::string& algs, const std::string& more = "") const {
    return "  - name: " + prefix.substr(1) + "\n    prefix: " + prefix + "\n    upstream: echo\n    auth:\n      realm: gw\n"
           "      credentials: " + creds_ + "\n      algorithms: [" + algs + "]\n" + more;
  }
  GatewayOptions options() const {
    GatewayOptions o;
    o.routes = route("/md5", "MD5") + route("/md5s", "MD5-sess") + route("/sha256", "SHA-256") +
               route("/sha256s", "SHA-256-sess") + route("/sha512", "SHA-512-256") + route("/sha512s", "SHA-512-256-sess") +
               route("/multi", "MD5, SHA-256, SHA-512-256", "      users: [alice]\n      authentication_info: true\n") +
               route("/pair", "MD5, SHA-256");
    o.extra = "digest:\n  max_failures: 1000\n";
    return o;
  }
  std::string client(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/python3", supportDir() + "/digest_client.py", std::to_string(gw_->port())};
    argv.insert(argv.end(), args.begin(), args.end());
    Exec r = runCmd(*tmp_, argv);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  std::string creds_;
};

TEST_F(DigestIT, CurlDigestMd5Sha256AndSess) {
  startGateway(options());
  for (const char* path : {"/md5/a?x=1", "/md5s/b", "/sha256/c", "/sha256s/d"}) {
    auto r = curl({"--digest", "-u", "alice:wonderland", "-H", "X-Remote-User: mallory", "-H", "Authorization-Extra: 1",
                   gw_->url(path)});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(echoHeader(r.body, "x-remote-user").value_or(""), "alice") << path << " " << r.body;
    EXPECT_FALSE(echoHeader(r.body, "authorization").has_value()) << r.body;
    auto bad = curl({"--digest", "-u", "alice:wrong", gw_->url(path)});
    EXPECT_EQ(bad.status, 401) << path;
    EXPECT_EQ(bad.header("content-type").value_or(""), "application/problem+json");
  }
  EXPECT_FALSE(gunicorn_->sawPathContaining("wrong"));
  // With several challenges curl answers the first one: SHA-256 (strongest offered) here, with userhash.
  auto pair = curl({"--digest", "-u", "alice:wonderland", gw_->url("/pair/x")});
  EXPECT_EQ(pair.status, 200) << pair.body;
  EXPECT_EQ(echoHeader(pair.body, "x-remote-user").value_or(""), "alice");
  // The access log names the user and the refusal codes, and never holds the Authorization value.
  const std::string log = readFile(accessLogPath());
  EXPECT_NE(log.find("\"user\":\"alice\""), std::string::npos) << log;
  EXPECT_NE(log.find("digest_bad_credentials"), std::string::npos) << log;
  EXPECT_EQ(log.find("response="), std::string::npos) << log;
}

// The same checks over HTTP/2 (h2 over TLS; curl 7.88 cannot reuse an h2c prior-knowledge
// connection, which --digest needs): auth runs on the protocol-neutral stream.
TEST_F(DigestIT, CurlDigestOverHttp2) {
  GatewayOptions o = options();
  o.listener_extra = selfSignedTlsBlock();
  startGateway(o);
  for (const char* path : {"/md5/a?x=1", "/md5s/b", "/sha256/c", "/sha256s/d"}) {
    auto r = curl({"-k", "--http2", "--digest", "-u", "alice:wonderland", "-H", "X-Remote-User: mallory",
                   gw_->httpsUrl(path, "127.0.0.1")});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(echoHeader(r.body, "x-remote-user").value_or(""), "alice") << path << " " << r.body;
    EXPECT_FALSE(echoHeader(r.body, "authorization").has_value()) << r.body;
    auto bad = curl({"-k", "--http2", "--digest", "-u", "alice:wrong", gw_->httpsUrl(path, "127.0.0.1")});
    EXPECT_EQ(bad.status, 401) << path;
    EXPECT_EQ(bad.header("content-type").value_or(""), "application/problem+json");
    EXPECT_NE(bad.header("www-authenticate").value_or("").find("Digest realm=\"gw\""), std::string::npos);
  }
  const std::string log = readFile(accessLogPath());
  EXPECT_NE(log.find("\"protocol\":\"HTTP/2.0\""), std::string::npos) << log;
  EXPECT_EQ(log.find("\"protocol\":\"HTTP/1.1\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"user\":\"alice\""), std::string::npos) << log;
}

TEST_F(DigestIT, CurlSha512256GetsACleanRefusal) {
  // curl 7.88 computes SHA-512-256 responses with SHA-256 (RECIPES §3): a correct server refuses.
  startGateway(options());
  auto r = curl({"--digest", "-u", "alice:wonderland", gw_->url("/sha512/x")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  EXPECT_NE(r.header("www-authenticate").value_or("").find("algorithm=SHA-512-256"), std::string::npos);
  EXPECT_FALSE(gunicorn_->sawPathContaining("/sha512/x"));
  expectStillServing();
}

TEST_F(DigestIT, ChallengeWithoutCredentials) {
  startGateway(options());
  auto r = rawRequest(gw_->port(), "GET /multi/x HTTP/1.1\r\nHost: x\r\nX-Remote-User: mallory\r\n\r\n");
  ASSERT_TRUE(r);
  expectProblem(*r, 401);
  ASSERT_EQ(r->headerCount("www-authenticate"), 3u);
  std::vector<std::string> order;
  for (const auto& [k, v] : r->headers) {
    if (strcasecmp(k.c_str(), "www-authenticate") == 0) order.push_back(v);
  }
  EXPECT_NE(order[0].find("algorithm=SHA-512-256,"), std::string::npos) << order[0];
  EXPECT_NE(order[1].find("algorithm=SHA-256,"), std::string::npos) << order[1];
  EXPECT_NE(order[2].find("algorithm=MD5,"), std::string::npos) << order[2];
  for (const auto& v : order) {
    EXPECT_NE(v.find("qop=\"auth\""), std::string::npos);
    EXPECT_NE(v.find("charset=UTF-8"), std::string::npos);
    EXPECT_NE(v.find("userhash=true"), std::string::npos);
  }
  // Open routes are untouched, except that a client-sent identity never reaches the upstream.
  auto open = curl({"-H", "X-Remote-User: mallory", gw_->url("/api/x")});
  EXPECT_EQ(open.status, 200);
  EXPECT_FALSE(echoHeader(open.body, "x-remote-user").has_value()) << open.body;
}

TEST_F(DigestIT, PythonRequestsMd5AndSha256) {
  startGateway(options());
  for (const char* path : {"/md5/r", "/sha256/r"}) {
    std::string code =
        "import requests, sys\nfrom requests.auth import HTTPDigestAuth\n"
        "r = requests.get(sys.argv[1], auth=HTTPDigestAuth('alice', 'wonderland'), timeout=10)\n"
        "print(r.status_code); print(r.text)\n"
        "print(requests.get(sys.argv[1], auth=HTTPDigestAuth('alice', 'nope'), timeout=10).status_code)\n";
    Exec r = runCmd(*tmp_, {"/usr/bin/python3", "-c", code, gw_->url(path)});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, 4), "200\n") << path << r.out;
    EXPECT_EQ(echoHeader(r.out, "x-remote-user").value_or(""), "alice") << r.out;
    EXPECT_NE(r.out.find("\n401\n"), std::string::npos) << r.out;
  }
}

TEST_F(DigestIT, OwnClientSha512256SessAndUserhash) {
  startGateway(options());
  for (const char* alg_path : {"SHA-512-256:/sha512/o", "SHA-512-256-sess:/sha512s/o", "SHA-256-sess:/sha256s/o", "MD5-sess:/md5s/o"}) {
    std::string s = alg_path;
    std::string alg = s.substr(0, s.find(':')), path = s.substr(s.find(':') + 1);
    for (const char* uh : {"", "userhash"}) {
      auto kv = keyValues(client({"get", path, alg, "alice", "wonderland", uh}));
      EXPECT_EQ(kv["challenge"], "401") << alg;
      EXPECT_EQ(kv["status"], "200") << alg << " " << uh << " " << kv["body"];
      EXPECT_EQ(echoHeader(kv["body"], "x-remote-user").value_or(""), "alice") << kv["body"];
    }
    EXPECT_EQ(keyValues(client({"get", path, alg, "alice", "bad"}))["status"], "401") << alg;
  }
}

TEST_F(DigestIT, ReplaysAndForgedNoncesAreRefused) {
  GatewayOptions o = options();
  o.routes += "  - name: other-realm\n    prefix: /otherrealm\n    upstream: echo\n    auth:\n      realm: other\n"
              "      credentials: " + creds_ + "\n      algorithms: [MD5]\n";
  startGateway(o);
  auto kv = keyValues(client({"replays", "/sha512/p", "SHA-512-256", "alice", "wonderland", "/otherrealm/q"}));
  EXPECT_EQ(kv["first"], "200");
  EXPECT_EQ(kv["same_header_again"], "401");
  EXPECT_EQ(kv["nc3"], "200");
  EXPECT_EQ(kv["lower_nc2"], "401");
  EXPECT_EQ(kv["wrong_uri"], "400");
  EXPECT_EQ(kv["tampered_nonce"], "401");
  EXPECT_EQ(kv["tampered_stale"], "False");
  EXPECT_EQ(kv["other_realm_nonce"], "401");
  EXPECT_EQ(kv["after_all_nc5"], "200");
  // Replay protection holds across worker threads: many connections (spread over 2 workers)
  // replaying one header get exactly one 200.
  auto par = keyValues(client({"parallel", "/sha512/p", "SHA-512-256", "alice", "wonderland", "16"}));
  EXPECT_EQ(par["ok"], "1");
  EXPECT_EQ(par["refused"], "15");
  EXPECT_EQ(readFile(accessLogPath()).find("Digest "), std::string::npos);  // never logged
}

TEST_F(DigestIT, ExpiredNonceIsStaleAndAuthenticationInfo) {
  GatewayOptions o = options();
  o.extra = "digest:\n  nonce_lifetime: 1s\n  max_failures: 1000\n";
  startGateway(o);
  auto kv = keyValues(client({"stale", "/sha256/s", "SHA-256", "alice", "wonderland", "2.5"}));
  EXPECT_EQ(kv["first"], "200");
  EXPECT_EQ(kv["expired"], "401");
  EXPECT_EQ(kv["expired_stale"], "True");
  EXPECT_EQ(kv["expired_wrong_password_stale"], "False");
  EXPECT_EQ(kv["retry_with_new_nonce"], "200");
  auto ai = keyValues(client({"authinfo", "/multi/i", "SHA-512-256", "alice", "wonderland"}));
  EXPECT_EQ(ai["status"], "200");
  EXPECT_EQ(ai["rspauth_ok"], "True");
  EXPECT_EQ(ai["nextnonce"], "200");
  // carol is a valid user of the realm but not allowed on /multi.
  EXPECT_EQ(keyValues(client({"get", "/multi/i", "SHA-256", "carol", "c4rol"}))["status"], "403");
}

TEST_F(DigestIT, ApacheHtdigestFileAcceptedAsIs) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/htdigest")) << "apache2-utils missing: deploy/install-deps.sh --test";
  const std::string file = tmp_->file("apache.htdigest");
  Exec h = runCmd(*tmp_, {"/usr/bin/python3", supportDir() + "/run_htdigest.py", "-c", file, "private", "alice", "wonderland"});
  ASSERT_EQ(h.code, 0) << h.out << h.err;
  GatewayOptions o;
  o.routes = "  - name: apache\n    prefix: /private\n    upstream: echo\n    auth:\n      realm: private\n"
             "      credentials: " + file + "\n      algorithms: [MD5]\n";
  startGateway(o);
  auto r = curl({"--digest", "-u", "alice:wonderland", gw_->url("/private/")});
  EXPECT_EQ(r.status, 200) << r.body << gw_->errorLog();
  EXPECT_EQ(curl({"--digest", "-u", "alice:nope", gw_->url("/private/")}).status, 401);
  // gw-digest lists and updates the Apache file and keeps it Apache-compatible (3 columns for MD5).
  Exec l = runCmd(*tmp_, {gwDigestPath(), "-l", file});
  EXPECT_EQ(l.out, "alice:private:MD5\n");
}

TEST_F(DigestIT, CredentialFileReloadKeepsOldTableWhenBroken) {
  startGateway(options());
  EXPECT_EQ(curl({"--digest", "-u", "dave:d4ve", gw_->url("/sha256/z")}).status, 401);
  ASSERT_EQ(runCmd(*tmp_, {gwDigestPath(), "-a", "SHA-256", "--stdin", creds_, "gw", "dave"}, "d4ve\n").code, 0);
  EXPECT_TRUE(waitUntil([&] { return curl({"--digest", "-u", "dave:d4ve", gw_->url("/sha256/z")}).status == 200; }, 5000ms, 300ms));
  // A broken file is refused (logged); the old users keep working.
  std::string good = readFile(creds_);
  tmp_->write("users.htdigest", good + "this line is broken\n");
  // The reload check runs on requests to Digest routes, at most once per second.
  EXPECT_TRUE(waitUntil(
      [&] {
        curl({"--digest", "-u", "alice:wonderland", gw_->url("/sha256/z")});
        return gw_->errorLog().find("reload refused") != std::string::npos;
      },
      5000ms, 300ms))
      << gw_->errorLog();
  EXPECT_EQ(curl({"--digest", "-u", "dave:d4ve", gw_->url("/sha256/z")}).status, 200);
  EXPECT_NE(gw_->errorLog().find("line "), std::string::npos);
}

TEST_F(DigestIT, BruteForceGets429WithRetryAfter) {
  GatewayOptions o = options();
  o.extra = "digest:\n  max_failures: 3\n  failure_window: 1m\n  block: 1m\n";
  startGateway(o);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(curl({"--digest", "-u", "alice:guess" + std::to_string(i), gw_->url("/sha256/b")}).status, 401);
  auto r = curl({"--digest", "-u", "alice:wonderland", gw_->url("/sha256/b")});
  EXPECT_EQ(r.status, 429);
  EXPECT_GT(std::stoi(r.header("retry-after").value_or("0")), 0);
  expectStillServing();  // open routes are not throttled
}

TEST_F(DigestIT, AuthIntCoversTheBody) {
  GatewayOptions o = options();
  o.routes = route("/int", "SHA-512-256, SHA-256", "      auth_int: true\n      auth_int_max_body: 200000\n") + o.routes;
  startGateway(o);
  for (const char* alg : {"SHA-512-256", "SHA-256"}) {
    SCOPED_TRACE(alg);
    std::string out = client({"authint", "/int/x", alg, "alice", "wonderland", "200000"});
    EXPECT_NE(out.find("offers_auth_int=True"), std::string::npos) << out;
    EXPECT_NE(out.find("post=200"), std::string::npos) << out;
    EXPECT_NE(out.find("upstream_saw_body=True"), std::string::npos) << out;  // released intact after the check
    EXPECT_NE(out.find("tampered_body=401"), std::string::npos) << out;
    EXPECT_NE(out.find("chunked_post=200 True"), std::string::npos) << out;
    EXPECT_NE(out.find("empty_body=200"), std::string::npos) << out;
    EXPECT_NE(out.find("over_cap=413"), std::string::npos) << out;
    EXPECT_NE(out.find("expect_continue=200"), std::string::npos) << out;
    EXPECT_NE(out.find("qop_auth=200"), std::string::npos) << out;
  }
  // A route without auth_int refuses qop=auth-int and offers only qop="auth".
  std::string out = client({"authint", "/sha256/x", "SHA-256", "alice", "wonderland", "200000"});
  EXPECT_NE(out.find("offers_auth_int=False"), std::string::npos) << out;
  EXPECT_NE(out.find("post=401"), std::string::npos) << out;
  EXPECT_NE(out.find("qop_auth=200"), std::string::npos) << out;
  expectStillServing();
}

TEST_F(DigestIT, RepeatedFailuresAreDelayedBeforeTheBlock) {
  GatewayOptions o = options();
  o.extra = "digest:\n  max_failures: 6\n  failure_window: 1m\n  block: 1m\n  failure_delay: 300ms\n";
  startGateway(o);
  // max_failures 6: failures 1-2 answer at once, 3-5 wait 300, 600, 900 ms, the 6th starts the block.
  std::string out = client({"delays", "/sha256/x", "SHA-256", "alice", "wonderland", "7"});
  auto latency = [&](int i) {
    std::string key = "attempt" + std::to_string(i) + "=";
    size_t p = out.find(key);
    EXPECT_NE(p, std::string::npos) << out;
    if (p == std::string::npos) return std::make_pair(0, 0);
    int status = std::stoi(out.substr(p + key.size(), 3));
    return std::make_pair(status, std::stoi(out.substr(p + key.size() + 4)));
  };
  for (int i = 0; i < 6; ++i) EXPECT_EQ(latency(i).first, 401) << out;
  EXPECT_EQ(latency(6).first, 429) << out;
  // Lower bounds only (a timer never fires early): the answers were held back, growing.
  EXPECT_GE(latency(2).second, 300) << out;
  EXPECT_GE(latency(3).second, 600) << out;
  EXPECT_GE(latency(4).second, 900) << out;
  EXPECT_GE(latency(5).second, 1200) << out;
  expectStillServing();
}

// -------------------------------------------------------------------------------------------------
// gw-digest

TEST(GwDigestTool, CreateAddUpdateDeleteList) {
  TempDir dir;
  const std::string f = dir.file("u.htdigest");
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "gw", "alice"}, "pw1\n").code, 0);
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "-a", "SHA-512-256", "--stdin", f, "gw", "alice"}, "pw1\n").code, 0);
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "-a", "SHA-256", "--stdin", f, "gw", "bob"}, "pw2\n").code, 0);
  EXPECT_EQ(runCmd(dir, {gwDigestPath(), "-l", f}).out, "alice:gw:MD5\nalice:gw:SHA-512-256\nbob:gw:SHA-256\n");
  auto lines = readLines(f);
  ASSERT_EQ(lines.size(), 3u);
  // MD5 lines are exactly what Apache's htdigest writes: user:realm:md5(user:realm:password).
  EXPECT_TRUE(lines[0].starts_with("alice:gw:"));
  EXPECT_EQ(lines[0].size(), 9u + 32u);
  EXPECT_TRUE(lines[1].ends_with(":SHA-512-256"));
  // Update replaces in place; -c truncates.
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "--stdin", f, "gw", "alice"}, "pw3\n").code, 0);
  auto after = readLines(f);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_NE(after[0], lines[0]);
  EXPECT_EQ(after[1], lines[1]);
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "-D", "-a", "SHA-256", f, "gw", "bob"}).code, 0);
  EXPECT_EQ(runCmd(dir, {gwDigestPath(), "-l", f}).out, "alice:gw:MD5\nalice:gw:SHA-512-256\n");
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-D", f, "gw", "nobody"}).code, 0);
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "gw", "zed"}, "pw\n").code, 0);
  EXPECT_EQ(runCmd(dir, {gwDigestPath(), "-l", f}).out, "zed:gw:MD5\n");
  // Atomic write: no temporary left behind; the file mode is kept.
  chmod(f.c_str(), 0600);
  ASSERT_EQ(runCmd(dir, {gwDigestPath(), "--stdin", f, "gw", "amy"}, "pw\n").code, 0);
  struct stat st {};
  ASSERT_EQ(stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".gw-digest."), std::string::npos) << e.path();
  }
}

TEST(GwDigestTool, RefusesWhatWouldBreakTheFormat) {
  TempDir dir;
  const std::string f = dir.file("u.htdigest");
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "gw", "al:ice"}, "pw\n").code, 0);
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "g:w", "alice"}, "pw\n").code, 0);
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "gw", "alice"}, "\n").code, 0);
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-c", "--stdin", f, "gw", ""}, "pw\n").code, 0);
  EXPECT_FALSE(std::filesystem::exists(f));
  EXPECT_NE(runCmd(dir, {gwDigestPath(), "-a", "SHA-1", "--stdin", f, "gw", "alice"}, "pw\n").code, 0);
  // A broken existing file is not rewritten.
  dir.write("u.htdigest", "garbage\n");
  Exec r = runCmd(dir, {gwDigestPath(), "--stdin", f, "gw", "alice"}, "pw\n");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(f), "garbage\n");
  // Without --stdin and without a terminal it refuses rather than hashing an empty password.
  Exec t = runCmd(dir, {"/usr/bin/setsid", gwDigestPath(), dir.file("v.htdigest"), "gw", "alice"});
  EXPECT_NE(t.code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir.file("v.htdigest")));
}

}  // namespace
}  // namespace gwtest
