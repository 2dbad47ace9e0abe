// Unit tests for gateway/auth: the Authorization parser, the algorithms (RFC 7616 §3.9 vectors),
// nonces, the replay table, throttling, the credential store and DigestAuthFilter.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auth/credentials.h"
#include "auth/digest.h"
#include "auth/digest_filter.h"
#include "auth/nonce.h"
#include "auth/throttle.h"
#include "config/config.h"
#include "net/worker_context.h"

namespace gw::auth {
namespace {

// ------------------------------------------------------------------------------------------------
// Parser

TEST(DigestParse, FullHeader) {
  auto r = parseAuthorization(
      R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, )"
      R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", )"
      R"(qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", )"
      R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
  ASSERT_TRUE(r.creds) << parseErrorText(r.error);
  EXPECT_EQ(r.creds->username, "Mufasa");
  EXPECT_EQ(r.creds->realm, "http-auth@example.org");
  EXPECT_EQ(r.creds->uri, "/dir/index.html");
  EXPECT_EQ(r.creds->algorithm, "SHA-256");
  EXPECT_EQ(r.creds->nc, "00000001");
  EXPECT_EQ(r.creds->qop, "auth");
  EXPECT_EQ(r.creds->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
  EXPECT_FALSE(r.creds->userhash);
}

TEST(DigestParse, CaseOwsEscapesAndUnknownParams) {
  auto r = parseAuthorization("  dIgEsT   USERNAME = \"a\\\"b\\\\c\" ,, Realm=\"r\",nonce=n,uri=\"/x?y=1\",response=ab,"
                              " foo=bar , userhash=TRUE,");
  ASSERT_TRUE(r.creds) << parseErrorText(r.error);
  EXPECT_EQ(r.creds->username, "a\"b\\c");
  EXPECT_EQ(r.creds->nonce, "n");
  EXPECT_EQ(r.creds->uri, "/x?y=1");
  EXPECT_TRUE(r.creds->userhash);
  EXPECT_TRUE(r.creds->qop.empty());
}

TEST(DigestParse, ExtendedUsername) {
  auto r = parseAuthorization("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"00\"");
  ASSERT_TRUE(r.creds) << parseErrorText(r.error);
  EXPECT_EQ(r.creds->username, "J\xC3\xA4s\xC3\xB8n Doe");
  EXPECT_TRUE(r.creds->username_ext);
  EXPECT_EQ(parseAuthorization("Digest username*=ISO-8859-1''x, realm=r, nonce=n, uri=\"/\", response=0").error, ParseError::BadValue);
  EXPECT_EQ(parseAuthorization("Digest username=a, username*=UTF-8''a, realm=r, nonce=n, uri=\"/\", response=0").error,
            ParseError::BadValue);
  EXPECT_EQ(parseAuthorization("Digest username*=UTF-8''%zz, realm=r, nonce=n, uri=\"/\", response=0").error, ParseError::BadValue);
}

TEST(DigestParse, Refusals) {
  const std::string ok = R"(username="u", realm="r", nonce="n", uri="/", response="0")";
  EXPECT_TRUE(parseAuthorization("Digest " + ok).creds);
  EXPECT_EQ(parseAuthorization("Basic dTpw").error, ParseError::NotDigest);
  EXPECT_EQ(parseAuthorization("Digestive " + ok).error, ParseError::NotDigest);
  EXPECT_EQ(parseAuthorization("Digest").error, ParseError::Syntax);
  EXPECT_EQ(parseAuthorization("").error, ParseError::NotDigest);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", realm=\"x\"").error, ParseError::Duplicate);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", REALM=x").error, ParseError::Duplicate);
  EXPECT_EQ(parseAuthorization(R"(Digest username="u, realm="r")").error, ParseError::Syntax);  // unterminated
  EXPECT_EQ(parseAuthorization(R"(Digest username="u" realm="r")").error, ParseError::Syntax);  // no comma
  EXPECT_EQ(parseAuthorization(R"(Digest username=, realm="r")").error, ParseError::Syntax);
  EXPECT_EQ(parseAuthorization(R"(Digest =x)").error, ParseError::Syntax);
  EXPECT_EQ(parseAuthorization("Digest username=\"a\nb\", realm=r").error, ParseError::Syntax);
  EXPECT_EQ(parseAuthorization(R"(Digest username="u", realm="r", nonce="n", uri="/")").error, ParseError::Missing);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", qop=auth, nc=00000001").error, ParseError::Missing);  // no cnonce
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", qop=auth, cnonce=c").error, ParseError::Missing);     // no nc
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", qop=auth, cnonce=c, nc=1").error, ParseError::BadValue);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", qop=auth, cnonce=c, nc=0000000g").error, ParseError::BadValue);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", userhash=maybe").error, ParseError::BadValue);
  EXPECT_EQ(parseAuthorization(R"(Digest username="", realm="r", nonce="n", uri="/", response="0")").error, ParseError::BadValue);
  EXPECT_EQ(parseAuthorization("Digest " + ok + ", x=\"" + std::string(5000, 'a') + "\"").error, ParseError::TooLong);
  std::string many = "Digest " + ok;
  for (int i = 0; i < 40; ++i) many += ", p" + std::to_string(i) + "=1";
  EXPECT_EQ(parseAuthorization(many).error, ParseError::Syntax);
}

// ------------------------------------------------------------------------------------------------
// Algorithms: RFC 7616 §3.9.1 (MD5 and SHA-256) and §3.9.2 (SHA-512-256, userhash)

TEST(DigestAlgorithms, NamesAndRank) {
  for (const char* n : {"MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"}) {
    auto a = parseAlgorithm(n);
    ASSERT_TRUE(a) << n;
    EXPECT_EQ(algorithmName(*a), n);
  }
  EXPECT_EQ(parseAlgorithm("sha-256")->hash, Hash::SHA256);
  EXPECT_FALSE(parseAlgorithm("SHA-1"));
  EXPECT_FALSE(parseAlgorithm("SHA-512"));
  EXPECT_LT(algorithmRank(*parseAlgorithm("SHA-512-256")), algorithmRank(*parseAlgorithm("SHA-256")));
  EXPECT_LT(algorithmRank(*parseAlgorithm("SHA-256-sess")), algorithmRank(*parseAlgorithm("MD5")));
}

TEST(DigestAlgorithms, Rfc7616Section391) {
  const char* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const char* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  std::string md5 = computeHa1(Hash::MD5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(computeResponse({{Hash::MD5, false}, md5, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html"}),
            "8ca523f5e9506fed4657c9700eebdbec");
  std::string sha = computeHa1(Hash::SHA256, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(computeResponse({{Hash::SHA256, false}, sha, nonce, "00000001", cnonce, "auth", "GET", "/dir/index.html"}),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(DigestAlgorithms, SessAndSha512256ByComposition) {
  // -sess: HA1' = H(HA1:nonce:cnonce); SHA-512-256 is OpenSSL's truncated SHA-512 (FIPS 180-4).
  EXPECT_EQ(hashHex(Hash::SHA512_256, "abc"), "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
  std::string ha1 = computeHa1(Hash::SHA512_256, "u", "r", "p");
  std::string sess = hashHex(Hash::SHA512_256, ha1 + ":n:c");
  std::string ha2 = hashHex(Hash::SHA512_256, "GET:/x");
  EXPECT_EQ(computeResponse({{Hash::SHA512_256, true}, ha1, "n", "00000002", "c", "auth", "GET", "/x"}),
            hashHex(Hash::SHA512_256, sess + ":n:00000002:c:auth:" + ha2));
  std::string rsp = computeRspauth({{Hash::SHA512_256, true}, ha1, "n", "00000002", "c", "auth", "GET", "/x"});
  EXPECT_EQ(rsp, hashHex(Hash::SHA512_256, sess + ":n:00000002:c:auth:" + hashHex(Hash::SHA512_256, ":/x")));
}

TEST(DigestAlgorithms, Userhash) {
  // RFC 7616 §3.4.4: userhash = H(username ":" realm).
  EXPECT_EQ(hashHex(Hash::SHA256, "Mufasa:http-auth@example.org"), hashHex(Hash::SHA256, std::string("Mufasa:http-auth@example.org")));
  EXPECT_EQ(hashHex(Hash::MD5, ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestAlgorithms, ConstantTimeHexCompare) {
  EXPECT_TRUE(hexEqualConstantTime("abcdef01", "ABCDEF01"));
  EXPECT_FALSE(hexEqualConstantTime("abcdef01", "abcdef02"));
  EXPECT_FALSE(hexEqualConstantTime("abcdef01", "abcdef0"));
  EXPECT_FALSE(hexEqualConstantTime("", ""));
  EXPECT_EQ(quote("a\"b\\"), "\"a\\\"b\\\\\"");
}

// ------------------------------------------------------------------------------------------------
// Nonces and replay

TEST(DigestNonce, MintVerifyStaleRealmTamper) {
  NonceCodec codec("0123456789abcdef0123456789abcdef", 60);
  std::string n = codec.mint("realm-a", 1000);
  EXPECT_EQ(n.size(), 64u);
  EXPECT_EQ(codec.verify("realm-a", n, 1000).status, NonceCodec::Status::Ok);
  EXPECT_EQ(codec.verify("realm-a", n, 1000).issued, 1000u);
  EXPECT_EQ(codec.verify("realm-a", n, 1060).status, NonceCodec::Status::Ok);
  EXPECT_EQ(codec.verify("realm-a", n, 1061).status, NonceCodec::Status::Stale);
  EXPECT_EQ(codec.verify("realm-a", n, 900).status, NonceCodec::Status::Stale);  // from the future
  EXPECT_EQ(codec.verify("realm-b", n, 1000).status, NonceCodec::Status::Invalid);
  for (size_t i = 0; i < n.size(); i += 7) {
    std::string t = n;
    t[i] = t[i] == '0' ? '1' : '0';
    EXPECT_EQ(codec.verify("realm-a", t, 1000).status, NonceCodec::Status::Invalid) << i;
  }
  std::string upper = n;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  if (upper != n) {
    EXPECT_EQ(codec.verify("realm-a", upper, 1000).status, NonceCodec::Status::Invalid);
  }
  EXPECT_EQ(codec.verify("realm-a", n.substr(2), 1000).status, NonceCodec::Status::Invalid);
  EXPECT_EQ(codec.verify("realm-a", "", 1000).status, NonceCodec::Status::Invalid);
  // Another secret (another gateway, or a restart with a random secret) does not accept it.
  NonceCodec other("fedcba9876543210fedcba9876543210", 60);
  EXPECT_EQ(other.verify("realm-a", n, 1000).status, NonceCodec::Status::Invalid);
  NonceCodec random1("", 60), random2("", 60);
  EXPECT_EQ(random2.verify("r", random1.mint("r", 5), 5).status, NonceCodec::Status::Invalid);
  EXPECT_NE(codec.mint("realm-a", 1000), codec.mint("realm-a", 1000));
}

TEST(DigestReplay, CountsMustIncrease) {
  ReplayTable t(1000, 60);
  EXPECT_EQ(t.check("n1", 1, 100, 100), ReplayTable::Verdict::Fresh);
  EXPECT_EQ(t.check("n1", 1, 100, 100), ReplayTable::Verdict::Replay);  // same header again
  EXPECT_EQ(t.check("n1", 3, 100, 100), ReplayTable::Verdict::Fresh);
  EXPECT_EQ(t.check("n1", 2, 100, 100), ReplayTable::Verdict::Replay);  // lower nc
  EXPECT_EQ(t.check("n2", 2, 100, 100), ReplayTable::Verdict::Fresh);   // other nonce: own count
  EXPECT_EQ(t.size(), 2u);
}

TEST(DigestReplay, BoundedAndEvictedNoncesAreStale) {
  ReplayTable t(64, 600);  // 4 per shard
  for (uint64_t i = 0; i < 2000; ++i) {
    auto v = t.check("nonce-" + std::to_string(i), 1, 1000 + i, 1000 + i);
    EXPECT_EQ(v, ReplayTable::Verdict::Fresh) << i;
    EXPECT_LE(t.size(), t.capacity());
  }
  // Early nonces may have been evicted: they are never Fresh again.
  for (uint64_t i = 0; i < 2000; ++i) EXPECT_NE(t.check("nonce-" + std::to_string(i), 1, 1000 + i, 3000), ReplayTable::Verdict::Fresh);
}

TEST(DigestReplay, ExpiredEntriesMakeRoom) {
  ReplayTable t(16, 10);  // 1 per shard
  EXPECT_EQ(t.check("a", 1, 100, 100), ReplayTable::Verdict::Fresh);
  for (int i = 0; i < 200; ++i) t.check("x" + std::to_string(i), 1, 200, 200);  // "a" expired by then
  EXPECT_LE(t.size(), 16u);
}

TEST(DigestReplay, EachCountAcceptedOnceAcrossThreads) {
  ReplayTable t(10000, 60);
  std::atomic<int> fresh{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&] {
      for (uint32_t nc = 1; nc <= 2000; ++nc) {
        for (int k = 0; k < 4; ++k) {
          if (t.check("nonce-" + std::to_string(k), nc, 1, 1) == ReplayTable::Verdict::Fresh) fresh.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(fresh.load(), 4 * 2000);  // no count of a nonce accepted twice
  EXPECT_GE(fresh.load(), 4);
}

// ------------------------------------------------------------------------------------------------
// Throttle

TEST(DigestThrottle, BlocksAfterFailuresThenExpires) {
  Throttle t(3, 60, 30, 1000);
  EXPECT_EQ(t.blockedFor("1.2.3.4", 100), 0u);
  EXPECT_FALSE(t.recordFailure("1.2.3.4", 100));
  EXPECT_FALSE(t.recordFailure("1.2.3.4", 101));
  EXPECT_TRUE(t.recordFailure("1.2.3.4", 102));
  EXPECT_EQ(t.blockedFor("1.2.3.4", 102), 30u);
  EXPECT_EQ(t.blockedFor("1.2.3.4", 120), 12u);
  EXPECT_EQ(t.blockedFor("5.6.7.8", 120), 0u);  // per address
  EXPECT_EQ(t.blockedFor("1.2.3.4", 132), 0u);
}

TEST(DigestThrottle, WindowResetsAndSuccessClears) {
  Throttle t(3, 10, 30, 1000);
  t.recordFailure("a", 100);
  t.recordFailure("a", 101);
  EXPECT_FALSE(t.recordFailure("a", 120));  // window over: counting restarts
  t.recordSuccess("a");
  EXPECT_FALSE(t.recordFailure("a", 121));
  EXPECT_FALSE(t.recordFailure("a", 121));
  EXPECT_TRUE(t.recordFailure("a", 121));
}

TEST(DigestThrottle, Bounded) {
  Throttle t(5, 60, 60, 64);
  for (int i = 0; i < 5000; ++i) t.recordFailure("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 100);
  EXPECT_LE(t.size(), 64u);
}

// ------------------------------------------------------------------------------------------------
// Credentials

// Files of these tests live in one per-process directory, removed at exit.
struct TestDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("gw_digest_test_" + std::to_string(getpid()));
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string tmpFile(const std::string& name, const std::string& content) {
  static TestDir test_dir;
  const auto& dir = test_dir.path;
  std::filesystem::create_directories(dir);
  std::string p = (dir / name).string();
  std::ofstream(p, std::ios::trunc) << content;
  return p;
}

TEST(DigestCredentials, ApacheAndAlgorithmColumn) {
  std::string md5 = computeHa1(Hash::MD5, "alice", "private", "wonderland");
  std::string sha = computeHa1(Hash::SHA256, "alice", "private", "wonderland");
  std::string s512 = computeHa1(Hash::SHA512_256, "bob", "private", "builder");
  std::string text = "# comment\n\nalice:private:" + md5 + "\r\nalice:private:" + sha + ":SHA-256\nbob:private:" + s512 +
                     ":SHA-512-256-sess\n";
  std::string why;
  auto t = parseCredentialFile(text, &why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->lines, 3u);
  ASSERT_TRUE(t->find("alice", "private", Hash::MD5));
  EXPECT_EQ(*t->find("alice", "private", Hash::MD5), md5);
  EXPECT_EQ(*t->find("alice", "private", Hash::SHA256), sha);
  EXPECT_FALSE(t->find("alice", "private", Hash::SHA512_256));
  EXPECT_FALSE(t->find("alice", "other", Hash::MD5));
  EXPECT_EQ(*t->find("bob", "private", Hash::SHA512_256), s512);
  const std::string* u = t->userForHash(Hash::SHA256, "private", hashHex(Hash::SHA256, "alice:private"));
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, "alice");
  EXPECT_FALSE(t->userForHash(Hash::SHA256, "private", hashHex(Hash::SHA256, "alice:other")));
  EXPECT_FALSE(t->userForHash(Hash::SHA256, "other", hashHex(Hash::SHA256, "alice:private")));
  EXPECT_FALSE(t->userForHash(Hash::MD5, "private", hashHex(Hash::SHA256, "alice:private")));
}

TEST(DigestCredentials, BrokenLinesNameTheLine) {
  std::string md5 = computeHa1(Hash::MD5, "a", "r", "p");
  std::string why;
  EXPECT_FALSE(parseCredentialFile("a:r\n", &why));
  EXPECT_NE(why.find("line 1"), std::string::npos) << why;
  EXPECT_FALSE(parseCredentialFile("a:r:" + md5 + "\na:r:xyz\n", &why));
  EXPECT_NE(why.find("line 2"), std::string::npos) << why;
  EXPECT_FALSE(parseCredentialFile("a:r:" + md5 + ":SHA-256\n", &why));  // length vs algorithm
  EXPECT_FALSE(parseCredentialFile("a:r:" + md5 + ":SHA-1\n", &why));
  EXPECT_FALSE(parseCredentialFile(":r:" + md5 + "\n", &why));
  EXPECT_FALSE(parseCredentialFile("a:r:" + md5 + ":MD5:x\n", &why));
  EXPECT_FALSE(parseCredentialFile("a:r:" + std::string(31, 'g') + "0\n", &why));
  EXPECT_FALSE(parseCredentialFile("a:r:" + md5 + "\na:r:" + md5 + "\n", &why));
  EXPECT_NE(why.find("duplicate"), std::string::npos) << why;
  EXPECT_TRUE(parseCredentialFile("", &why));
}

TEST(DigestCredentials, StoreReloadsAndKeepsOldTableOnBrokenFile) {
  std::string md5a = computeHa1(Hash::MD5, "a", "r", "p");
  std::string md5b = computeHa1(Hash::MD5, "b", "r", "p");
  std::string path = tmpFile("store.htdigest", "a:r:" + md5a + "\n");
  std::string why;
  EXPECT_FALSE(CredentialStore::open(path + ".missing", &why));
  auto store = CredentialStore::open(path, &why);
  ASSERT_TRUE(store) << why;
  EXPECT_TRUE(store->table()->find("a", "r", Hash::MD5));
  EXPECT_FALSE(store->reloadIfChanged());
  // A changed file (size differs) is picked up.
  std::ofstream(path, std::ios::trunc) << "a:r:" << md5a << "\nb:r:" << md5b << "\n";
  EXPECT_TRUE(store->reloadIfChanged());
  EXPECT_TRUE(store->table()->find("b", "r", Hash::MD5));
  // A broken file is refused; the old table stays.
  std::ofstream(path, std::ios::trunc) << "garbage\n";
  EXPECT_FALSE(store->reloadIfChanged());
  EXPECT_TRUE(store->table()->find("b", "r", Hash::MD5));
  // The rate limit: at most one check per second.
  std::ofstream(path, std::ios::trunc) << "a:r:" << md5a << "\n";
  EXPECT_TRUE(store->maybeReload(5000));
  std::ofstream(path, std::ios::trunc) << "a:r:" << md5a << "\nb:r:" << md5b << "\n";
  EXPECT_FALSE(store->maybeReload(5500));
  EXPECT_TRUE(store->maybeReload(6000));
  std::filesystem::remove(path);
  EXPECT_FALSE(store->reloadIfChanged());  // gone: keep serving the old table
  EXPECT_TRUE(store->table()->find("b", "r", Hash::MD5));
}

// ------------------------------------------------------------------------------------------------
// DigestAuthFilter

class FakeCallbacks : public http::StreamFilterCallbacks {
 public:
  void sendLocalReply(int status, std::string_view code, std::string_view, const http::HeaderMap* extra) override {
    local_status = status;
    local_code = std::string(code);
    headers = extra ? *extra : http::HeaderMap{};
  }
  void resume() override {}
  http::StreamInfo& streamInfo() override { return info; }
  http::StreamInfo info;
  int local_status = 0;
  std::string local_code;
  http::HeaderMap headers;
};

struct FilterFixture : ::testing::Test {
  void SetUp() override {
    std::string lines = "alice:gw:" + computeHa1(Hash::MD5, "alice", "gw", "wonderland") + "\n" +
                        "alice:gw:" + computeHa1(Hash::SHA256, "alice", "gw", "wonderland") + ":SHA-256\n" +
                        "alice:gw:" + computeHa1(Hash::SHA512_256, "alice", "gw", "wonderland") + ":SHA-512-256\n" +
                        "carol:gw:" + computeHa1(Hash::SHA256, "carol", "gw", "pw") + ":SHA-256\n";
    path = tmpFile("filter.htdigest", lines);
    std::string yaml = "upstreams: [{name: app, servers: [\"127.0.0.1:9\"]}]\n"
                       "digest: {nonce_secret: \"0123456789abcdef0123456789abcdef\", max_failures: 5, block: 30s}\n"
                       "routes:\n"
                       "  - {name: priv, prefix: /priv, upstream: app, auth: {realm: gw, credentials: \"" + path +
                       "\", users: [alice], algorithms: [MD5, SHA-256, SHA-512-256, SHA-256-sess], authentication_info: true}}\n"
                       "  - {name: open, prefix: /, upstream: app}\n";
    auto r = config::loadConfigText(yaml, "t.yaml");
    ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].str());
    cfg = r.config;
    rt = std::make_shared<DigestRuntime>(cfg);
  }
  struct Outcome {
    http::FilterStatus status;
    int local_status;
    std::string code;
    http::HeaderMap reply_headers;
    http::RequestHead head;
    std::string user;
  };
  Outcome run(const std::string& target, const std::string& authorization, const std::string& extra_header = "",
              const std::string& client = "192.0.2.1") {
    FakeCallbacks cb;
    cb.info.route = &cfg->routes[target.starts_with("/priv") ? 0 : 1];
    cb.info.target = target;
    cb.info.client_address = client;
    DigestAuthFilter f(rt);
    f.setCallbacks(cb);
    http::RequestHead h;
    h.method = "GET";
    h.path = target;
    if (!authorization.empty()) h.headers.add("Authorization", authorization);
    if (!extra_header.empty()) h.headers.add("X-Remote-User", extra_header);
    auto st = f.onRequestHeaders(h, true);
    http::ResponseHead resp;
    f.onResponseHeaders(resp, true);
    if (auto ai = resp.headers.get("Authentication-Info")) last_auth_info = *ai;
    else last_auth_info.clear();
    return {st, cb.local_status, cb.local_code, cb.headers, h, cb.info.user};
  }
  std::string nonceFromChallenge() {
    auto o = run("/priv/x", "");
    std::string_view v = o.reply_headers.fields().at(0).value;
    size_t p = v.find("nonce=\"") + 7;
    return std::string(v.substr(p, v.find('"', p) - p));
  }
  std::string header(const std::string& alg_name, const std::string& user, const std::string& pw, const std::string& nonce,
                     const std::string& uri, const std::string& nc = "00000001", bool userhash = false,
                     const std::string& realm = "gw") {
    Algorithm a = *parseAlgorithm(alg_name);
    std::string ha1 = computeHa1(a.hash, user, realm, pw);
    std::string resp = computeResponse({a, ha1, nonce, nc, "cn0nce", "auth", "GET", uri});
    std::string uname = userhash ? hashHex(a.hash, user + ":" + realm) : user;
    return "Digest username=\"" + uname + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri +
           "\", algorithm=" + alg_name + ", qop=auth, nc=" + nc + ", cnonce=\"cn0nce\", response=\"" + resp + "\"" +
           (userhash ? ", userhash=true" : "");
  }
  std::string path;
  config::ConfigConstSharedPtr cfg;
  std::shared_ptr<DigestRuntime> rt;
  std::string last_auth_info;
};

TEST_F(FilterFixture, ChallengeListsAlgorithmsStrongestFirst) {
  auto o = run("/priv/x", "", "mallory");
  EXPECT_EQ(o.status, http::FilterStatus::StopIteration);
  EXPECT_EQ(o.local_status, 401);
  EXPECT_EQ(o.code, "digest_auth_required");
  const auto& f = o.reply_headers.fields();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_NE(f[0].value.find("algorithm=SHA-512-256,"), std::string::npos) << f[0].value;
  EXPECT_NE(f[1].value.find("algorithm=SHA-256,"), std::string::npos) << f[1].value;
  EXPECT_NE(f[2].value.find("algorithm=SHA-256-sess,"), std::string::npos) << f[2].value;
  EXPECT_NE(f[3].value.find("algorithm=MD5,"), std::string::npos) << f[3].value;
  for (const auto& h : f) {
    EXPECT_EQ(h.name, "WWW-Authenticate");
    EXPECT_TRUE(h.value.starts_with("Digest realm=\"gw\", qop=\"auth\""));
    EXPECT_NE(h.value.find("charset=UTF-8, userhash=true"), std::string::npos);
    EXPECT_EQ(h.value.find("stale"), std::string::npos);
  }
}

// gatewayd builds the filter chain once and gives it to every worker: filters made by that one
// chain (two workers' streams) share the replay table, so a replay on another worker is refused.
TEST_F(FilterFixture, OneChainSharesReplayStateAcrossWorkers) {
  std::string err;
  auto chain = net::buildFilterChain(cfg, filters::AccessLog::open("off", config::AccessFormat::Combined, &err));
  http::FilterArena heap;  // no room: on the heap
  auto digestOf = [&](std::vector<http::StreamFilterPtr>& keep) -> DigestAuthFilter* {
    for (auto& make : chain) {
      keep.push_back(make(heap));
      if (auto* d = dynamic_cast<DigestAuthFilter*>(keep.back().get())) return d;
    }
    return nullptr;
  };
  std::vector<http::StreamFilterPtr> worker_a, worker_b;
  DigestAuthFilter* a = digestOf(worker_a);
  DigestAuthFilter* b = digestOf(worker_b);
  ASSERT_TRUE(a && b);
  auto send = [&](DigestAuthFilter* f, const std::string& authorization, FakeCallbacks& cb) {
    cb.info.route = &cfg->routes[0];
    cb.info.target = "/priv/x";
    cb.info.client_address = "192.0.2.7";
    f->setCallbacks(cb);
    http::RequestHead h;
    h.method = "GET";
    h.path = "/priv/x";
    if (!authorization.empty()) h.headers.add("Authorization", authorization);
    return f->onRequestHeaders(h, true);
  };
  FakeCallbacks challenge_cb;
  send(a, "", challenge_cb);
  ASSERT_EQ(challenge_cb.local_status, 401);
  std::string_view v = challenge_cb.headers.fields().at(0).value;
  size_t p = v.find("nonce=\"") + 7;
  const std::string nonce(v.substr(p, v.find('"', p) - p));
  const std::string auth = header("SHA-256", "alice", "wonderland", nonce, "/priv/x");
  FakeCallbacks ok_cb, replay_cb;
  EXPECT_EQ(send(a, auth, ok_cb), http::FilterStatus::Continue) << ok_cb.local_code;
  EXPECT_EQ(send(b, auth, replay_cb), http::FilterStatus::StopIteration);  // same nc on the other worker
  EXPECT_EQ(replay_cb.local_status, 401) << replay_cb.local_code;
}

TEST_F(FilterFixture, OpenRouteOnlyLosesSpoofedUserHeader) {
  auto o = run("/open", "", "mallory");
  EXPECT_EQ(o.status, http::FilterStatus::Continue);
  EXPECT_EQ(o.head.headers.count("X-Remote-User"), 0u);
}

TEST_F(FilterFixture, EachAlgorithmAuthenticates) {
  for (const char* alg : {"MD5", "SHA-256", "SHA-512-256", "SHA-256-sess"}) {
    for (bool uh : {false, true}) {
      std::string n = nonceFromChallenge();
      auto o = run("/priv/x?y=1", header(alg, "alice", "wonderland", n, "/priv/x?y=1", "00000001", uh), "mallory");
      EXPECT_EQ(o.status, http::FilterStatus::Continue) << alg << " " << o.code;
      EXPECT_EQ(o.user, "alice");
      ASSERT_TRUE(o.head.headers.get("X-Remote-User")) << alg;
      EXPECT_EQ(*o.head.headers.get("X-Remote-User"), "alice");
      EXPECT_EQ(o.head.headers.count("X-Remote-User"), 1u);
      EXPECT_EQ(o.head.headers.count("Authorization"), 0u);
      EXPECT_NE(last_auth_info.find("rspauth=\""), std::string::npos) << last_auth_info;
      EXPECT_NE(last_auth_info.find("nextnonce=\""), std::string::npos) << last_auth_info;
    }
  }
}

TEST_F(FilterFixture, RspauthMatchesRfcFormula) {
  std::string n = nonceFromChallenge();
  ASSERT_EQ(run("/priv/a", header("SHA-256", "alice", "wonderland", n, "/priv/a")).status, http::FilterStatus::Continue);
  std::string ha1 = computeHa1(Hash::SHA256, "alice", "gw", "wonderland");
  std::string expect = computeRspauth({{Hash::SHA256, false}, ha1, n, "00000001", "cn0nce", "auth", "GET", "/priv/a"});
  EXPECT_NE(last_auth_info.find("rspauth=\"" + expect + "\""), std::string::npos) << last_auth_info;
}

TEST_F(FilterFixture, WrongPasswordUnknownUserAndUnofferedAlgorithm) {
  std::string n = nonceFromChallenge();
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "nope", n, "/priv/x"), "", "198.51.100.1").local_status, 401);
  EXPECT_EQ(run("/priv/x", header("SHA-256", "eve", "x", n, "/priv/x"), "", "198.51.100.1").local_status, 401);
  EXPECT_EQ(run("/priv/x", header("MD5-sess", "alice", "wonderland", n, "/priv/x"), "", "198.51.100.1").code, "digest_bad_algorithm");
  EXPECT_EQ(run("/priv/x", "Digest garbage", "", "198.51.100.1").code, "digest_bad_header");
  EXPECT_EQ(run("/priv/x", "Basic YWxpY2U6d29uZGVybGFuZA==", "", "198.51.100.1").code, "digest_auth_required");
}

TEST_F(FilterFixture, ValidUserNotAllowedIs403) {
  std::string n = nonceFromChallenge();
  auto o = run("/priv/x", header("SHA-256", "carol", "pw", n, "/priv/x"));
  EXPECT_EQ(o.local_status, 403);
  EXPECT_EQ(o.code, "digest_user_forbidden");
}

TEST_F(FilterFixture, ReplayLowerNcOtherRealmTamperedWrongUri) {
  std::string n = nonceFromChallenge();
  std::string h2 = header("SHA-256", "alice", "wonderland", n, "/priv/x", "00000002");
  EXPECT_EQ(run("/priv/x", h2).status, http::FilterStatus::Continue);
  auto again = run("/priv/x", h2);  // the same header twice
  EXPECT_EQ(again.local_status, 401);
  EXPECT_EQ(again.code, "digest_replay");
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "wonderland", n, "/priv/x", "00000001")).code, "digest_replay");
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "wonderland", n, "/priv/x", "00000003")).status, http::FilterStatus::Continue);
  // A nonce minted for another realm (with the same secret) does not verify here.
  std::string foreign = rt->nonces.mint("other", unixSeconds());
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "wonderland", foreign, "/priv/x")).code, "digest_bad_nonce");
  std::string wrong_realm = header("SHA-256", "alice", "wonderland", n, "/priv/x", "00000009", false, "other");
  EXPECT_EQ(run("/priv/x", wrong_realm).code, "digest_bad_realm");
  std::string tampered = n;
  tampered[0] = tampered[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "wonderland", tampered, "/priv/x")).code, "digest_bad_nonce");
  auto wrong_uri = run("/priv/y", header("SHA-256", "alice", "wonderland", nonceFromChallenge(), "/priv/x"));
  EXPECT_EQ(wrong_uri.local_status, 400);
  EXPECT_EQ(wrong_uri.code, "digest_uri_mismatch");
}

TEST_F(FilterFixture, ExpiredNonceIsStaleOnlyWithRightPassword) {
  std::string old = rt->nonces.mint("gw", unixSeconds() - 3600);
  auto o = run("/priv/x", header("SHA-256", "alice", "wonderland", old, "/priv/x"));
  EXPECT_EQ(o.local_status, 401);
  EXPECT_EQ(o.code, "digest_stale_nonce");
  ASSERT_FALSE(o.reply_headers.empty());
  EXPECT_NE(o.reply_headers.fields()[0].value.find("stale=true"), std::string::npos);
  auto bad = run("/priv/x", header("SHA-256", "alice", "wrong", old, "/priv/x"), "", "203.0.113.9");
  EXPECT_EQ(bad.code, "digest_bad_credentials");
  EXPECT_EQ(bad.reply_headers.fields()[0].value.find("stale=true"), std::string::npos);
}

TEST_F(FilterFixture, ThrottlesAClientAfterRepeatedFailures) {
  std::string n = nonceFromChallenge();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "guess" + std::to_string(i), n, "/priv/x"), "", "203.0.113.77").local_status, 401);
  auto o = run("/priv/x", header("SHA-256", "alice", "wonderland", n, "/priv/x"), "", "203.0.113.77");
  EXPECT_EQ(o.local_status, 429);
  ASSERT_TRUE(o.reply_headers.get("Retry-After"));
  EXPECT_GT(std::stoi(std::string(*o.reply_headers.get("Retry-After"))), 0);
  EXPECT_GE(digestCounters().throttled.load(), 1u);
  EXPECT_GE(digestCounters().blocks.load(), 1u);
  EXPECT_NE(digestCountersText().find("digest_throttled "), std::string::npos);
  // Another client is not affected.
  EXPECT_EQ(run("/priv/x", header("SHA-256", "alice", "wonderland", n, "/priv/x", "00000005"), "", "203.0.113.78").status,
            http::FilterStatus::Continue);
}

TEST_F(FilterFixture, ForwardAuthorizationWhenAsked) {
  std::string yaml = "upstreams: [{name: app, servers: [\"127.0.0.1:9\"]}]\n"
                     "digest: {user_header: X-Auth-User}\n"
                     "routes: [{prefix: /, upstream: app, auth: {realm: gw, credentials: \"" + path +
                     "\", algorithms: [SHA-256], forward_authorization: true}}]\n";
  auto r = config::loadConfigText(yaml, "t.yaml");
  ASSERT_TRUE(r.config);
  auto rt2 = std::make_shared<DigestRuntime>(r.config);
  FakeCallbacks cb;
  cb.info.route = &r.config->routes[0];
  cb.info.target = "/z";
  DigestAuthFilter f(rt2);
  f.setCallbacks(cb);
  http::RequestHead h;
  h.method = "GET";
  h.headers.add("X-Auth-User", "mallory");
  h.headers.add("Authorization", header("SHA-256", "carol", "pw", rt2->nonces.mint("gw", unixSeconds()), "/z"));
  EXPECT_EQ(f.onRequestHeaders(h, true), http::FilterStatus::Continue) << cb.local_code;
  EXPECT_EQ(*h.headers.get("X-Auth-User"), "carol");  // any user of the realm
  EXPECT_EQ(h.headers.count("Authorization"), 1u);
}

TEST_F(FilterFixture, UnreadableCredentialsFailClosed) {
  std::string yaml = "upstreams: [{name: app, servers: [\"127.0.0.1:9\"]}]\n"
                     "routes: [{prefix: /, upstream: app, auth: {realm: gw, credentials: /nonexistent/htdigest}}]\n";
  auto r = config::loadConfigText(yaml, "t.yaml");
  ASSERT_TRUE(r.config);
  auto rt2 = std::make_shared<DigestRuntime>(r.config);
  FakeCallbacks cb;
  cb.info.route = &r.config->routes[0];
  DigestAuthFilter f(rt2);
  f.setCallbacks(cb);
  http::RequestHead h;
  EXPECT_EQ(f.onRequestHeaders(h, true), http::FilterStatus::StopIteration);
  EXPECT_EQ(cb.local_status, 503);
}

}  // namespace
}  // namespace gw::auth
