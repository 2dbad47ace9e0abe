// Static files (kind: static) through a real gatewayd, driven by curl and raw sockets: path safety
// (traversal, encoded slashes, backslashes, NUL, symlinks, dotfiles), validators and 304/412,
// ranges (206/416/multi/If-Range), HEAD, index and directory redirect, 405, a 200 MB download
// with bounded memory, and a slow reader. No timed assertions: every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "it_common.h"

namespace gwtest {
namespace {

class StaticIT : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<TempDir>();
    root_ = tmp_->file("www");
    std::filesystem::create_directories(root_ + "/sub");
    std::filesystem::create_directories(root_ + "/noindex");
    std::filesystem::create_directories(root_ + "/.hidden");
    tmp_->write("secret.txt", "TOPSECRET outside the root\n");
    tmp_->write("www/hello.txt", "hello, static world\n");
    tmp_->write("www/page.html", "<p>page</p>\n");
    tmp_->write("www/sub/index.html", "<h1>index</h1>\n");
    tmp_->write("www/noindex/file.css", "body{}\n");
    tmp_->write("www/.env", "DOTFILE\n");
    tmp_->write("www/.hidden/x.txt", "HIDDEN\n");
    tmp_->write("www/data.unknownext", "0123456789");
    ASSERT_EQ(symlink("../secret.txt", (root_ + "/escape.txt").c_str()), 0);
    ASSERT_EQ(symlink(tmp_->path().c_str(), (root_ + "/outdir").c_str()), 0);
    ASSERT_EQ(symlink("hello.txt", (root_ + "/alias.txt").c_str()), 0);
  }
  void TearDown() override {
    stopChecked(gw_);
    tmp_.reset();
  }

  void start(const std::string& limits = "") {
    std::string y = "workers: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1\n    port: 0\n";
    y += "upstreams:\n";
    y += "  - name: files\n    kind: static\n    root: " + root_ + "\n    index: index.html\n"
         "    cache_control: \"public, max-age=60\"\n";
    y += "  - name: dotfiles\n    kind: static\n    root: " + root_ + "\n    allow_dotfiles: true\n";
    y += "routes:\n";
    y += "  - prefix: /static\n    strip_prefix: true\n    upstream: files\n";
    y += "  - prefix: /dots\n    strip_prefix: true\n    upstream: dotfiles\n";
    y += "  - prefix: /\n    upstream: files\n";
    if (!limits.empty()) y += "limits:\n" + limits;
    y += "logs:\n  access: " + tmp_->file("access.log") + "\n  access_format: json\n";
    gw_ = Gateway::start(tmp_->path(), y);
    ASSERT_TRUE(gw_);
  }

  std::optional<HttpResponse> raw(const std::string& target, const std::string& extra = "", bool head = false) {
    RawClient c(gw_->port());
    if (!c.send((head ? "HEAD " : "GET ") + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n")) return std::nullopt;
    return c.readResponse(5000ms, head);
  }

  std::unique_ptr<TempDir> tmp_;
  std::string root_;
  std::unique_ptr<Gateway> gw_;
};

TEST_F(StaticIT, ServesAFileWithTypeValidatorsAndCacheControl) {
  start();
  auto r = curl({gw_->url("/static/hello.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, static world\n");
  EXPECT_EQ(r.header("content-type").value_or(""), "text/plain");
  EXPECT_EQ(r.header("content-length").value_or(""), "20");
  EXPECT_EQ(r.header("accept-ranges").value_or(""), "bytes");
  EXPECT_EQ(r.header("cache-control").value_or(""), "public, max-age=60");
  std::string etag = r.header("etag").value_or("");
  EXPECT_TRUE(etag.size() > 2 && etag.front() == '"' && etag.back() == '"') << etag;
  EXPECT_TRUE(r.header("last-modified").has_value());
  EXPECT_EQ(curl({gw_->url("/static/page.html")}).header("content-type").value_or(""), "text/html");
  EXPECT_EQ(curl({gw_->url("/static/data.unknownext")}).header("content-type").value_or(""),
            "application/octet-stream");
  // Without strip_prefix the whole path maps under the root.
  EXPECT_EQ(curl({gw_->url("/hello.txt")}).body, "hello, static world\n");
  // A percent-encoded name is decoded.
  tmp_->write("www/with space.txt", "spaced");
  EXPECT_EQ(curl({gw_->url("/static/with%20space.txt")}).body, "spaced");
  auto missing = curl({gw_->url("/static/missing.txt")});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type").value_or(""), "application/problem+json");
  EXPECT_EQ(jsonString(missing.body, "type").value_or(""), "urn:gatewayd:problem:static_not_found");
}

TEST_F(StaticIT, TraversalAttemptsNeverLeaveTheRoot) {
  start();
  for (const char* target :
       {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2e/secret.txt", "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt", "/static/sub/..%2f..%2fsecret.txt", "/static/..\\secret.txt",
        "/static/%5c..%5csecret.txt", "/static/sub%5c..%5c..%5csecret.txt", "/static/hello.txt%00.html",
        "/static/%00", "/static/%2fetc%2fpasswd", "/static//etc/passwd", "/static/./hello.txt",
        "/static/%", "/static/%zz", "/../secret.txt", "/%2e%2e/secret.txt", "/outdir/secret.txt",
        "/static/outdir/secret.txt", "/static/escape.txt"}) {
    auto r = raw(target);
    ASSERT_TRUE(r) << target;
    EXPECT_TRUE(r->status == 400 || r->status == 403 || r->status == 404) << target << " -> " << r->status;
    EXPECT_EQ(r->body.find("TOPSECRET"), std::string::npos) << target;
    EXPECT_EQ(r->header("content-type").value_or(""), "application/problem+json") << target;
  }
  // NUL as a raw byte never even reaches the upstream.
  auto r = rawRequest(gw_->port(), std::string("GET /static/hello.txt\0x HTTP/1.1\r\nHost: x\r\n\r\n", 45));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(gw_->process().running());
}

TEST_F(StaticIT, SymlinksOnlyInsideTheRoot) {
  start();
  auto out = raw("/static/escape.txt");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 403);
  EXPECT_EQ(jsonString(out->body, "type").value_or(""), "urn:gatewayd:problem:static_symlink_refused");
  auto dir = raw("/static/outdir/secret.txt");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->status, 403);
  // No symlink is followed, not even one inside the root (README: one rule for openat2 and the
  // fallback walk): the served name is the requested one, so a link cannot expose a dotfile.
  auto in = raw("/static/alias.txt");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 403);
  EXPECT_EQ(jsonString(in->body, "type").value_or(""), "urn:gatewayd:problem:static_symlink_refused");
  std::ofstream(root_ + "/.env") << "SECRET=1\n";
  ASSERT_EQ(symlink(".env", (root_ + "/public.txt").c_str()), 0);
  auto dot = raw("/static/public.txt");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->status, 403);
  EXPECT_EQ(dot->body.find("SECRET"), std::string::npos);
}

TEST_F(StaticIT, DotfilesHiddenUnlessAllowed) {
  start();
  for (const char* t : {"/static/.env", "/static/.hidden/x.txt", "/static/%2eenv"}) {
    auto r = raw(t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << t;
    EXPECT_EQ(r->body.find("DOTFILE"), std::string::npos);
  }
  auto r = raw("/dots/.env");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "DOTFILE\n");
  EXPECT_EQ(raw("/dots/.hidden/x.txt")->body, "HIDDEN\n");
}

TEST_F(StaticIT, ConditionalRequests) {
  start();
  auto first = curl({gw_->url("/static/hello.txt")});
  const std::string etag = first.header("etag").value_or("");
  const std::string lm = first.header("last-modified").value_or("");
  ASSERT_FALSE(etag.empty());
  ASSERT_FALSE(lm.empty());
  auto r = raw("/static/hello.txt", "If-None-Match: " + etag + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->header("etag").value_or(""), etag);
  EXPECT_EQ(r->header("cache-control").value_or(""), "public, max-age=60");
  EXPECT_EQ(raw("/static/hello.txt", "If-None-Match: \"x\", W/" + etag + "\r\n")->status, 304);  // weak comparison
  EXPECT_EQ(raw("/static/hello.txt", "If-None-Match: *\r\n")->status, 304);
  EXPECT_EQ(raw("/static/hello.txt", "If-None-Match: \"other\"\r\n")->status, 200);
  EXPECT_EQ(raw("/static/hello.txt", "If-Modified-Since: " + lm + "\r\n")->status, 304);
  EXPECT_EQ(raw("/static/hello.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n")->status, 200);
  EXPECT_EQ(raw("/static/hello.txt", "If-Modified-Since: garbage\r\n")->status, 200);
  // If-None-Match takes precedence: a non-matching tag means 200 even with a fresh date.
  EXPECT_EQ(raw("/static/hello.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " + lm + "\r\n")->status, 200);
  EXPECT_EQ(raw("/static/hello.txt", "If-Match: \"other\"\r\n")->status, 412);
  EXPECT_EQ(raw("/static/hello.txt", "If-Match: " + etag + "\r\n")->status, 200);
  EXPECT_EQ(raw("/static/hello.txt", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n")->status, 412);
  // curl's own conditional GET (-z: If-Modified-Since from a date).
  auto cz = curl({"-z", lm, gw_->url("/static/hello.txt")});
  EXPECT_EQ(cz.status, 304);
  // Changing the file changes the validators.
  tmp_->write("www/hello.txt", "changed content, longer\n");
  EXPECT_EQ(raw("/static/hello.txt", "If-None-Match: " + etag + "\r\n")->status, 200);
}

TEST_F(StaticIT, Ranges) {
  start();
  auto r = raw("/static/data.unknownext", "Range: bytes=2-5\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "2345");
  EXPECT_EQ(r->header("content-range").value_or(""), "bytes 2-5/10");
  EXPECT_EQ(r->header("content-length").value_or(""), "4");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=-3\r\n")->body, "789");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=7-\r\n")->body, "789");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=8-100\r\n")->header("content-range").value_or(""),
            "bytes 8-9/10");
  auto u = raw("/static/data.unknownext", "Range: bytes=10-\r\n");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->status, 416);
  EXPECT_EQ(u->header("content-range").value_or(""), "bytes */10");
  EXPECT_EQ(u->header("content-type").value_or(""), "application/problem+json");
  // Several ranges: the whole file with 200 (no multipart), or 416 if none is satisfiable.
  auto m = raw("/static/data.unknownext", "Range: bytes=0-1,4-5\r\n");
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->body, "0123456789");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=20-30,40-50\r\n")->status, 416);
  // Invalid or foreign units are ignored.
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=5-1\r\n")->status, 200);
  EXPECT_EQ(raw("/static/data.unknownext", "Range: items=0-1\r\n")->status, 200);
  // If-Range: the range only when the validator still matches.
  const std::string etag = r->header("etag").value_or("");
  const std::string lm = r->header("last-modified").value_or("");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n")->status, 206);
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=0-0\r\nIf-Range: " + lm + "\r\n")->status, 206);
  auto stale = raw("/static/data.unknownext", "Range: bytes=0-0\r\nIf-Range: \"old\"\r\n");
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body, "0123456789");
  EXPECT_EQ(raw("/static/data.unknownext", "Range: bytes=0-0\r\nIf-Range: W/" + etag + "\r\n")->status, 200);
  // curl -r
  auto cr = curl({"-r", "1-3", gw_->url("/static/data.unknownext")});
  EXPECT_EQ(cr.status, 206);
  EXPECT_EQ(cr.body, "123");
}

TEST_F(StaticIT, HeadAndKeepAlive) {
  start();
  RawClient c(gw_->port());
  ASSERT_TRUE(c.send("HEAD /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto h = c.readResponse(5000ms, /*head_request=*/true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("content-length").value_or(""), "20");
  EXPECT_TRUE(h->header("etag").has_value());
  EXPECT_TRUE(h->body.empty());
  // The same connection goes on: a GET, a 304, a 404 and a HEAD of a missing file.
  ASSERT_TRUE(c.send("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto g = c.readResponse(5000ms);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "hello, static world\n");
  ASSERT_TRUE(c.send("GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + g->header("etag").value_or("") +
                     "\r\n\r\n"));
  auto n = c.readResponse(5000ms);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->status, 304);
  ASSERT_TRUE(c.send("GET /static/nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.readResponse(5000ms)->status, 404);
  ASSERT_TRUE(c.send("HEAD /static/nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto hn = c.readResponse(5000ms, true);
  ASSERT_TRUE(hn);
  EXPECT_EQ(hn->status, 404);
  EXPECT_TRUE(hn->body.empty());
  // Range is ignored on HEAD.
  ASSERT_TRUE(c.send("HEAD /static/hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n"));
  EXPECT_EQ(c.readResponse(5000ms, true)->status, 200);
  auto ci = curl({"-I", gw_->url("/static/page.html")});
  EXPECT_EQ(ci.status, 200);
  EXPECT_EQ(ci.header("content-type").value_or(""), "text/html");
}

TEST_F(StaticIT, OtherMethodsAre405WithAllow) {
  start();
  for (const char* m : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    auto r = curl({"-X", m, gw_->url("/static/hello.txt")});
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(r.header("allow").value_or(""), "GET, HEAD") << m;
    EXPECT_EQ(r.header("content-type").value_or(""), "application/problem+json");
  }
  // A POST with a body is refused and the gateway keeps serving.
  auto p = curl({"-d", "x=1", gw_->url("/static/hello.txt")});
  EXPECT_EQ(p.status, 405);
  EXPECT_EQ(curl({gw_->url("/static/hello.txt")}).status, 200);
}

TEST_F(StaticIT, IndexFileAndDirectoryRedirect) {
  start();
  auto r = raw("/static/sub");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->header("location").value_or(""), "/static/sub/");
  auto q = raw("/static/sub?a=1");
  EXPECT_EQ(q->header("location").value_or(""), "/static/sub/?a=1");
  auto idx = curl({gw_->url("/static/sub/")});
  EXPECT_EQ(idx.status, 200);
  EXPECT_EQ(idx.body, "<h1>index</h1>\n");
  EXPECT_EQ(idx.header("content-type").value_or(""), "text/html");
  // curl -L follows the redirect to the index.
  EXPECT_EQ(curl({"-L", gw_->url("/static/sub")}).body, "<h1>index</h1>\n");
  // No index file there (or none configured): 403, never a listing.
  auto no = raw("/static/noindex/");
  EXPECT_EQ(no->status, 403);
  EXPECT_EQ(no->body.find("file.css"), std::string::npos);
  EXPECT_EQ(raw("/dots/sub/")->status, 403);  // that upstream has no index configured
  // The root of the route without its slash: redirected; a file with a slash: 404.
  EXPECT_EQ(raw("/static")->status, 301);
  EXPECT_EQ(raw("/static")->header("location").value_or(""), "/static/");
  EXPECT_EQ(raw("/static/hello.txt/")->status, 404);
  // A redirect never produces a scheme-relative Location ("//host/").
  std::filesystem::create_directories(root_ + "/evil.example");
  auto ev = raw("//evil.example");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->status, 301);
  EXPECT_EQ(ev->header("location").value_or(""), "/evil.example/");
}

// 200 MB through a gateway whose per-stream buffers are 256 KiB: memory stays bounded.
TEST_F(StaticIT, Download200MBWithBoundedMemory) {
  start();
  constexpr uint64_t kSize = 200ull * 1024 * 1024;
  const std::string sha = writePatternFile(root_ + "/big.bin", kSize);
  ASSERT_EQ(curl({gw_->url("/static/hello.txt")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  const std::string out = tmp_->file("big.out");
  auto r = curl({"-o", out, gw_->url("/static/big.bin")}, 120000ms);
  MemInfo after = readMem(gw_->pid());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::filesystem::file_size(out), kSize);
  EXPECT_EQ(sha256File(out), sha);
  EXPECT_LT(after.hwm_kb - before.hwm_kb, 32 * 1024) << "VmHWM before " << before.hwm_kb << " kB, after "
                                                     << after.hwm_kb << " kB";
  std::filesystem::remove(out);
  // A range deep inside the big file.
  auto rr = raw("/static/big.bin", "Range: bytes=150000000-150000099\r\n");
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->status, 206);
  ASSERT_EQ(rr->body.size(), 100u);
  EXPECT_FALSE(firstPatternMismatch(rr->body, 150000000).has_value());
}

// A client that stops reading: the gateway stops reading the file (bounded memory), then
// finishes the transfer correctly when the client reads again.
TEST_F(StaticIT, SlowReaderHoldsBoundedMemory) {
  start();
  constexpr uint64_t kSize = 64ull * 1024 * 1024;
  writePatternFile(root_ + "/slow.bin", kSize);
  ASSERT_EQ(curl({gw_->url("/static/hello.txt")}).status, 200);
  MemInfo before = readMem(gw_->pid());
  RawClient c(gw_->port(), /*rcvbuf=*/64 * 1024);
  ASSERT_TRUE(c.send("GET /static/slow.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = c.readSome(1 << 20, 5000ms);
  ASSERT_FALSE(got.empty());
  // Stall: give the gateway time to fill every buffer it is willing to fill (not a timed assertion:
  // the check is on memory, whatever the gateway managed to do meanwhile).
  usleep(1500 * 1000);
  MemInfo stalled = readMem(gw_->pid());
  EXPECT_LT(stalled.hwm_kb - before.hwm_kb, 16 * 1024) << "VmHWM before " << before.hwm_kb << " kB, stalled "
                                                       << stalled.hwm_kb << " kB";
  // Then read slowly in small steps for a while, then everything.
  for (int i = 0; i < 20; ++i) {
    got += c.readSome(64 * 1024, 2000ms);
    usleep(10 * 1000);
  }
  while (!c.peerClosed()) {
    size_t head_end = got.find("\r\n\r\n");
    size_t want = head_end == std::string::npos ? 4096 : head_end + 4 + kSize - std::min(got.size(), head_end + 4 + kSize);
    if (want == 0) break;
    std::string more = c.readSome(std::min<size_t>(want, 4 << 20), 10000ms);
    if (more.empty()) break;
    got += more;
  }
  size_t head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  std::string_view body = std::string_view(got).substr(head_end + 4);
  EXPECT_EQ(body.size(), kSize);
  EXPECT_FALSE(firstPatternMismatch(body, 0).has_value());
  MemInfo after = readMem(gw_->pid());
  EXPECT_LT(after.hwm_kb - before.hwm_kb, 16 * 1024);
}

// A client that goes away mid-file: the gateway cleans up and keeps serving.
TEST_F(StaticIT, ClientAbortMidFile) {
  start();
  writePatternFile(root_ + "/abort.bin", 32ull * 1024 * 1024);
  for (int i = 0; i < 3; ++i) {
    RawClient c(gw_->port(), 32 * 1024);
    ASSERT_TRUE(c.send("GET /static/abort.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_FALSE(c.readSome(100000, 5000ms).empty());
  }  // closed with unread data: a reset
  auto r = curl({gw_->url("/static/hello.txt")});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(gw_->process().running());
}

// --check-config explains what is wrong with a static upstream.
TEST_F(StaticIT, CheckConfigReportsRootProblems) {
  const std::string cfg = tmp_->write("bad.yaml",
                                      "upstreams:\n  - name: files\n    kind: static\n    root: /nonexistent/www\n"
                                      "  - name: both\n    kind: static\n    root: " + root_ +
                                          "\n    servers: [\"127.0.0.1:1\"]\n"
                                          "  - name: plain\n    root: " + root_ + "\n    servers: [\"127.0.0.1:1\"]\n"
                                          "routes: [{upstream: files}]\n");
  auto p = Process::spawn({gatewaydPath(), "-c", cfg, "--check-config"}, tmp_->file("cc.out"), tmp_->file("cc.err"));
  auto rc = p->waitExit(10000ms);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 1);
  std::string text = p->stdoutText() + p->stderrText();
  EXPECT_NE(text.find("bad.yaml:4: /upstreams/0/root: cannot use '/nonexistent/www'"), std::string::npos) << text;
  EXPECT_NE(text.find("/upstreams/1/servers: not used by static upstreams"), std::string::npos) << text;
  EXPECT_NE(text.find("/upstreams/2/root: only for upstreams of kind static"), std::string::npos) << text;
}

}  // namespace
}  // namespace gwtest
