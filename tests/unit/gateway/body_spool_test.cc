#include "net/body_spool.h"

#include <gtest/gtest.h>

#include <string>

using gw::net::BodySpool;

namespace {
std::string drainAll(BodySpool& s, size_t chunk) {
  std::string out;
  evbuffer* b = evbuffer_new();
  std::string err;
  while (!s.drained()) {
    EXPECT_TRUE(s.read(b, chunk, &err)) << err;
    EXPECT_LE(evbuffer_get_length(b), chunk);
    std::string part(evbuffer_get_length(b), '\0');
    evbuffer_remove(b, part.data(), part.size());
    out += part;
  }
  evbuffer_free(b);
  return out;
}
void add(BodySpool& s, const std::string& data) {
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, data.data(), data.size());
  std::string err;
  EXPECT_TRUE(s.append(b, &err)) << err;
  EXPECT_EQ(evbuffer_get_length(b), 0u);
  evbuffer_free(b);
}
std::string pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}
}  // namespace

TEST(BodySpool, SmallBodyStaysInMemory) {
  BodySpool s(1024, "/tmp");
  add(s, "hello ");
  add(s, "world");
  EXPECT_FALSE(s.onDisk());
  EXPECT_EQ(s.size(), 11u);
  EXPECT_EQ(drainAll(s, 4), "hello world");
}

TEST(BodySpool, LargeBodySpillsToAnUnlinkedFileInOrder) {
  BodySpool s(1000, "/tmp");
  std::string all;
  for (int i = 0; i < 50; ++i) {
    std::string part = pattern(777 + i, i);
    all += part;
    add(s, part);
  }
  EXPECT_TRUE(s.onDisk());
  EXPECT_EQ(s.size(), all.size());
  EXPECT_EQ(drainAll(s, 4096), all);
}

TEST(BodySpool, EmptyBodyIsDrained) {
  BodySpool s(1000, "/tmp");
  EXPECT_TRUE(s.drained());
  EXPECT_EQ(drainAll(s, 10), "");
}

TEST(BodySpool, UnusableTempDirIsAnError) {
  BodySpool s(4, "/nonexistent-dir-for-gatewayd-test");
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, "0123456789", 10);
  std::string err;
  EXPECT_FALSE(s.append(b, &err));
  EXPECT_NE(err.find("/nonexistent-dir-for-gatewayd-test"), std::string::npos) << err;
  evbuffer_free(b);
}
