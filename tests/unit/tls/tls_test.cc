#include <gtest/gtest.h>

#include <cstring>

#include "tls/server_context.h"

namespace gw::tls {
namespace {

using namespace std::chrono_literals;

TEST(TicketKeys, RotatesAndKeepsOldKeysForTheirLifetime) {
  TicketKeys keys(Millis(60000), Millis(30000));  // a new key every minute, tickets live 30 s
  const auto t0 = Clock::time_point{} + 1000h;
  TicketKeys::Key a, b;
  ASSERT_TRUE(keys.current(t0, &a));
  TicketKeys::Key same;
  ASSERT_TRUE(keys.current(t0 + 59s, &same));
  EXPECT_EQ(std::memcmp(same.name, a.name, 16), 0);  // not due yet
  ASSERT_TRUE(keys.current(t0 + 60s, &b));
  EXPECT_NE(std::memcmp(b.name, a.name, 16), 0);
  EXPECT_NE(std::memcmp(b.aes, a.aes, 32), 0);
  TicketKeys::Key found;
  bool newest = true;
  // A ticket under the old key still decrypts (and is renewed), until rotation + lifetime.
  ASSERT_TRUE(keys.find(a.name, t0 + 61s, &found, &newest));
  EXPECT_FALSE(newest);
  EXPECT_EQ(std::memcmp(found.hmac, a.hmac, 32), 0);
  ASSERT_TRUE(keys.find(b.name, t0 + 61s, &found, &newest));
  EXPECT_TRUE(newest);
  EXPECT_FALSE(keys.find(a.name, t0 + 90s, &found, &newest));
  unsigned char unknown[16] = {1, 2, 3};
  EXPECT_FALSE(keys.find(unknown, t0 + 61s, &found, &newest));
  // Retired keys are dropped: the store stays small however long it runs.
  for (int i = 2; i < 100; ++i) keys.current(t0 + i * 60s, &found);
  EXPECT_LE(keys.size(), 2u);
}

TEST(LoadCertificate, NamesTheFileAndTheReason) {
  config::TlsCertificate c;
  c.cert = "/nonexistent/cert.pem";
  c.key = "/nonexistent/key.pem";
  c.pointer = "/listeners/0/tls/certificates/0";
  c.cert_line = 7;
  c.key_line = 8;
  std::vector<config::ConfigError> errors;
  LoadedCertificate out;
  EXPECT_FALSE(loadCertificate(c, "gw.yaml", &errors, &out));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].str(),
            "gw.yaml:7: /listeners/0/tls/certificates/0/cert: /nonexistent/cert.pem: cannot read: No such file or directory");
  EXPECT_EQ(errors[1].str(),
            "gw.yaml:8: /listeners/0/tls/certificates/0/key: /nonexistent/key.pem: cannot read: No such file or directory");
}

}  // namespace
}  // namespace gw::tls
