#include "upstream/fastcgi/fastcgi.h"
#include "upstream/fastcgi/stdout_reader.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "test_util.h"

namespace gw::fastcgi {
namespace {

using test::contents;
using test::drain;
using test::makeBuffer;

std::string header(uint8_t type, uint16_t id, uint16_t len, uint8_t pad, uint8_t version = 1) {
  std::string h;
  h += char(version);
  h += char(type);
  h += char(id >> 8);
  h += char(id & 0xff);
  h += char(len >> 8);
  h += char(len & 0xff);
  h += char(pad);
  h += char(0);
  return h;
}

std::string record(RecordType type, uint16_t id, std::string_view content, uint8_t pad = 0) {
  return header(uint8_t(type), id, uint16_t(content.size()), pad) + std::string(content) + std::string(pad, '\0');
}

std::string endRequest(uint16_t id, uint32_t app_status, uint8_t protocol_status) {
  std::string c;
  c += char(app_status >> 24);
  c += char(app_status >> 16);
  c += char(app_status >> 8);
  c += char(app_status);
  c += char(protocol_status);
  c += std::string(3, '\0');
  return record(RecordType::EndRequest, id, c);
}

struct Recorder : DecoderCallbacks {
  void onStdout(uint16_t id, evbuffer* data, bool end) override {
    stdout_[id] += drain(data);
    if (end) stdout_end[id] = true;
    events.push_back("stdout");
  }
  void onStderr(uint16_t id, evbuffer* data, bool end) override {
    stderr_[id] += drain(data);
    if (end) stderr_end[id] = true;
  }
  void onEndRequest(uint16_t id, uint32_t app_status, ProtocolStatus status) override {
    ended[id] = {app_status, status};
    events.push_back("end");
  }
  void onGetValuesResult(std::span<const NameValue> values) override {
    for (const auto& v : values) get_values[std::string(v.name)] = std::string(v.value);
  }
  void onUnknownType(uint8_t type) override { unknown_types.push_back(type); }

  std::map<uint16_t, std::string> stdout_, stderr_;
  std::map<uint16_t, bool> stdout_end, stderr_end;
  std::map<uint16_t, std::pair<uint32_t, ProtocolStatus>> ended;
  std::map<std::string, std::string> get_values;
  std::vector<uint8_t> unknown_types;
  std::vector<std::string> events;
};

// ---------- encoders ----------

TEST(FastcgiEncode, BeginRequestResponderKeepConn) {
  auto out = makeBuffer();
  encodeBeginRequest(out.get(), 0x0102, Role::Responder, true);
  EXPECT_EQ(contents(out.get()), header(1, 0x0102, 8, 0) + std::string("\x00\x01\x01\x00\x00\x00\x00\x00", 8));
  auto out2 = makeBuffer();
  encodeBeginRequest(out2.get(), 1, Role::Responder, false);
  EXPECT_EQ(contents(out2.get()).substr(8), std::string("\x00\x01\x00\x00\x00\x00\x00\x00", 8));
}

TEST(FastcgiEncode, AbortAndStdinEnd) {
  auto out = makeBuffer();
  encodeAbortRequest(out.get(), 7);
  encodeStdinEnd(out.get(), 7);
  EXPECT_EQ(contents(out.get()), header(2, 7, 0, 0) + header(5, 7, 0, 0));
}

TEST(FastcgiEncode, ParamsShortLengthsAndPadding) {
  auto out = makeBuffer();
  std::vector<NameValue> p = {{"A", "bc"}, {"REQUEST_METHOD", "GET"}};
  ASSERT_TRUE(encodeParams(out.get(), 1, p));
  std::string content = std::string("\x01\x02" "Abc", 5) + std::string("\x0e\x03" "REQUEST_METHODGET", 19);
  ASSERT_EQ(content.size(), 24u);
  EXPECT_EQ(contents(out.get()), record(RecordType::Params, 1, content, 0) + header(4, 1, 0, 0));
  auto out2 = makeBuffer();
  std::vector<NameValue> q = {{"A", "b"}};
  ASSERT_TRUE(encodeParams(out2.get(), 1, q));
  EXPECT_EQ(contents(out2.get()), record(RecordType::Params, 1, std::string("\x01\x01" "Ab", 4), 4) + header(4, 1, 0, 0));
}

TEST(FastcgiEncode, ParamsFourByteLengths) {
  auto out = makeBuffer();
  std::string name(200, 'N');
  std::string value(128, 'v');
  std::vector<NameValue> p = {{name, value}};
  ASSERT_TRUE(encodeParams(out.get(), 3, p));
  std::string s = contents(out.get());
  ASSERT_GE(s.size(), 16u);
  EXPECT_EQ(s.substr(8, 8), std::string("\x80\x00\x00\xc8\x80\x00\x00\x80", 8));
  EXPECT_EQ(nameValueSize(name, value), 8 + 200 + 128u);
  // 127 still uses one byte.
  EXPECT_EQ(nameValueSize(std::string(127, 'x'), ""), 2 + 127u);
}

// Parses a PARAMS stream back into pairs, checking record structure.
std::vector<std::pair<std::string, std::string>> decodeParamsStream(std::string s, size_t* records = nullptr) {
  std::string content;
  size_t n = 0;
  bool ended = false;
  while (!s.empty()) {
    EXPECT_FALSE(ended);
    EXPECT_GE(s.size(), 8u);
    EXPECT_EQ(uint8_t(s[0]), 1);
    EXPECT_EQ(uint8_t(s[1]), 4);
    size_t len = (uint8_t(s[4]) << 8) | uint8_t(s[5]);
    size_t pad = uint8_t(s[6]);
    EXPECT_LE(len, kMaxContentLen);
    EXPECT_EQ((len + pad) % 8, 0u);
    if (len == 0) ended = true;
    content += s.substr(8, len);
    s.erase(0, 8 + len + pad);
    ++n;
  }
  EXPECT_TRUE(ended);
  if (records) *records = n;
  std::vector<std::pair<std::string, std::string>> pairs;
  auto r = forEachNameValue(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size()),
                            [&](NameValue nv) { pairs.emplace_back(nv.name, nv.value); });
  EXPECT_TRUE(r);
  return pairs;
}

TEST(FastcgiEncode, ParamsSplitAcrossRecords) {
  auto out = makeBuffer();
  std::string big(100000, 'x');  // one value larger than a record
  std::vector<NameValue> p = {{"SMALL", "1"}, {"BIG", big}, {"LAST", "z"}};
  ASSERT_TRUE(encodeParams(out.get(), 9, p));
  size_t records = 0;
  auto pairs = decodeParamsStream(contents(out.get()), &records);
  EXPECT_EQ(records, 3u);  // 65528 + rest + terminator
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1].first, "BIG");
  EXPECT_EQ(pairs[1].second, big);
  EXPECT_EQ(pairs[2].second, "z");
}

TEST(FastcgiEncode, ParamsManyPairs) {
  auto out = makeBuffer();
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) names.push_back("HTTP_X_" + std::to_string(i));
  const std::string value(20, 'a');
  std::vector<NameValue> p;
  for (const std::string& n : names) p.push_back({n, value});
  ASSERT_TRUE(encodeParams(out.get(), 2, p));
  size_t records = 0;
  auto pairs = decodeParamsStream(contents(out.get()), &records);
  EXPECT_EQ(pairs.size(), 5000u);
  EXPECT_GT(records, 2u);
  EXPECT_EQ(pairs[4999].first, "HTTP_X_4999");
}

TEST(FastcgiEncode, RequestHeadInOneWrite) {
  const std::string content = std::string("\x01\x02" "Abc", 5);
  for (bool stdin_end : {false, true}) {
    auto out = makeBuffer();
    encodeRequestHead(out.get(), 3, content, true, stdin_end);
    auto expected = makeBuffer();
    encodeBeginRequest(expected.get(), 3, Role::Responder, true);
    encodeParamsStream(expected.get(), 3, content);
    if (stdin_end) encodeStdinEnd(expected.get(), 3);
    EXPECT_EQ(contents(out.get()), contents(expected.get()));
  }
  // Several PARAMS records.
  std::string big(2 * kMaxStreamChunk + 5, 'x');
  auto out = makeBuffer();
  encodeRequestHead(out.get(), 1, big, false, false);
  size_t records = 0;
  std::string s = contents(out.get());
  EXPECT_EQ(s.substr(0, 16), header(1, 1, 8, 0) + std::string("\x00\x01\x00\x00\x00\x00\x00\x00", 8));
  std::string params = s.substr(16);
  size_t off = 0;
  std::string rebuilt;
  while (off < params.size()) {
    size_t len = (uint8_t(params[off + 4]) << 8) | uint8_t(params[off + 5]);
    size_t pad = uint8_t(params[off + 6]);
    EXPECT_EQ(params[off + 1], 4);
    rebuilt += params.substr(off + 8, len);
    off += 8 + len + pad;
    ++records;
  }
  EXPECT_EQ(records, 4u);  // 65528 + 65528 + 5 + terminator
  EXPECT_EQ(rebuilt, big);
}

TEST(FastcgiEncode, EmptyParams) {
  auto out = makeBuffer();
  ASSERT_TRUE(encodeParams(out.get(), 1, {}));
  EXPECT_EQ(contents(out.get()), header(4, 1, 0, 0));
}

TEST(FastcgiEncode, StdinStreamsWithPadding) {
  auto body = makeBuffer("hello");
  auto out = makeBuffer();
  encodeStdin(out.get(), 5, body.get());
  EXPECT_EQ(evbuffer_get_length(body.get()), 0u);
  EXPECT_EQ(contents(out.get()), record(RecordType::Stdin, 5, "hello", 3));
  auto empty = makeBuffer();
  auto out2 = makeBuffer();
  encodeStdin(out2.get(), 5, empty.get());
  EXPECT_EQ(evbuffer_get_length(out2.get()), 0u);  // nothing: the terminator is explicit
}

TEST(FastcgiEncode, StdinLargeBodyChunks) {
  std::string data(200001, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 7);
  auto body = makeBuffer(data);
  auto out = makeBuffer();
  encodeStdin(out.get(), 1, body.get());
  std::string s = contents(out.get());
  std::string back;
  size_t recs = 0;
  while (!s.empty()) {
    size_t len = (uint8_t(s[4]) << 8) | uint8_t(s[5]);
    size_t pad = uint8_t(s[6]);
    EXPECT_EQ(uint8_t(s[1]), 5);
    EXPECT_LE(len, kMaxContentLen);
    EXPECT_GT(len, 0u);
    EXPECT_EQ((len + pad) % 8, 0u);
    back += s.substr(8, len);
    s.erase(0, 8 + len + pad);
    ++recs;
  }
  EXPECT_EQ(recs, 4u);  // 3 × 65528 + 4417
  EXPECT_EQ(back, data);
}

TEST(FastcgiEncode, GetValues) {
  auto out = makeBuffer();
  encodeGetValues(out.get());
  std::string s = contents(out.get());
  EXPECT_EQ(uint8_t(s[1]), 9);
  EXPECT_EQ(s[2], 0);
  EXPECT_EQ(s[3], 0);
  size_t len = (uint8_t(s[4]) << 8) | uint8_t(s[5]);
  std::string c = s.substr(8, len);
  EXPECT_EQ(c, std::string("\x0e\x00" "FCGI_MAX_CONNS" "\x0d\x00" "FCGI_MAX_REQS" "\x0f\x00" "FCGI_MPXS_CONNS", 48));
  EXPECT_EQ(s.size(), 8 + len + uint8_t(s[6]));
  EXPECT_EQ(s.size() % 8, 0u);
}

// ---------- decoder ----------

std::string sampleResponse() {
  std::string s;
  s += record(RecordType::Stdout, 1, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhel", 5);
  s += record(RecordType::Stderr, 1, "warning: x\n", 5);
  s += record(RecordType::Stdout, 2, "other", 3);
  s += record(RecordType::Stdout, 1, "lo");
  s += record(RecordType::Stdout, 1, "");
  s += record(RecordType::Stderr, 1, "");
  s += endRequest(1, 0x01020304, 0);
  s += record(RecordType::GetValuesResult, 0,
              std::string("\x0e\x02" "FCGI_MAX_CONNS" "10" "\x0f\x01" "FCGI_MPXS_CONNS" "1", 36), 4);
  s += record(RecordType::UnknownType, 0, std::string("\x42\0\0\0\0\0\0\0", 8));
  s += endRequest(2, 0, 2);
  return s;
}

void checkSample(const Recorder& r) {
  EXPECT_EQ(r.stdout_.at(1), "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello");
  EXPECT_TRUE(r.stdout_end.at(1));
  EXPECT_EQ(r.stdout_.at(2), "other");
  EXPECT_FALSE(r.stdout_end.contains(2));
  EXPECT_EQ(r.stderr_.at(1), "warning: x\n");
  EXPECT_TRUE(r.stderr_end.at(1));
  ASSERT_TRUE(r.ended.contains(1));
  EXPECT_EQ(r.ended.at(1).first, 0x01020304u);
  EXPECT_EQ(r.ended.at(1).second, ProtocolStatus::RequestComplete);
  EXPECT_EQ(r.ended.at(2).second, ProtocolStatus::Overloaded);
  EXPECT_EQ(r.get_values.at("FCGI_MAX_CONNS"), "10");
  EXPECT_EQ(r.get_values.at("FCGI_MPXS_CONNS"), "1");
  ASSERT_EQ(r.unknown_types.size(), 1u);
  EXPECT_EQ(r.unknown_types[0], 0x42);
}

TEST(FastcgiDecode, WholeInput) {
  Decoder d;
  Recorder r;
  auto in = makeBuffer(sampleResponse());
  ASSERT_TRUE(d.feed(in.get(), r));
  EXPECT_EQ(evbuffer_get_length(in.get()), 0u);
  EXPECT_TRUE(d.atRecordBoundary());
  checkSample(r);
}

TEST(FastcgiDecode, ByteByByte) {
  std::string s = sampleResponse();
  Decoder d;
  Recorder r;
  auto in = makeBuffer();
  for (char c : s) {
    evbuffer_add(in.get(), &c, 1);
    ASSERT_TRUE(d.feed(in.get(), r));
  }
  EXPECT_TRUE(d.atRecordBoundary());
  checkSample(r);
}

TEST(FastcgiDecode, SplitAtEveryByte) {
  std::string s = sampleResponse();
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    Decoder d;
    Recorder r;
    auto in = makeBuffer(s.substr(0, cut));
    ASSERT_TRUE(d.feed(in.get(), r));
    evbuffer_add(in.get(), s.data() + cut, s.size() - cut);
    ASSERT_TRUE(d.feed(in.get(), r)) << cut;
    checkSample(r);
  }
}

TEST(FastcgiDecode, MaxBytesLeavesTheRest) {
  for (size_t max : {1, 3, 8, 13, 100}) {
    Decoder d;
    Recorder r;
    auto in = makeBuffer(sampleResponse());
    size_t before = evbuffer_get_length(in.get());
    ASSERT_TRUE(d.feed(in.get(), r, max));
    EXPECT_EQ(evbuffer_get_length(in.get()), before - max);
    while (evbuffer_get_length(in.get()) > 0) ASSERT_TRUE(d.feed(in.get(), r, max));
    checkSample(r);
  }
}

TEST(FastcgiDecode, AnyChainLayout) {
  // Headers, padding and END_REQUEST contents are read in place from the first chain.
  const std::string s = sampleResponse();
  for (size_t piece = 1; piece <= 40; ++piece) {
    for (size_t max : {size_t(7), SIZE_MAX}) {
      Decoder d;
      Recorder r;
      auto in = test::makeChainedBuffer(s, piece);
      while (evbuffer_get_length(in.get()) > 0) ASSERT_TRUE(d.feed(in.get(), r, max)) << piece;
      EXPECT_TRUE(d.atRecordBoundary());
      checkSample(r);
    }
  }
}

TEST(FastcgiDecode, ProtocolStatuses) {
  Decoder d;
  Recorder r;
  auto in = makeBuffer(endRequest(1, 0, 1) + endRequest(2, 0, 2) + endRequest(3, 0, 3));
  ASSERT_TRUE(d.feed(in.get(), r));
  EXPECT_EQ(r.ended.at(1).second, ProtocolStatus::CantMpxConn);
  EXPECT_EQ(r.ended.at(2).second, ProtocolStatus::Overloaded);
  EXPECT_EQ(r.ended.at(3).second, ProtocolStatus::UnknownRole);
  EXPECT_STREQ(protocolStatusName(ProtocolStatus::CantMpxConn), "cant_mpx_conn");
}

TEST(FastcgiDecode, LargeStdoutRecordStreamsInPieces) {
  std::string big(65535, 'b');
  std::string s = record(RecordType::Stdout, 1, big, 1);
  Decoder d;
  Recorder r;
  auto in = makeBuffer();
  for (size_t off = 0; off < s.size(); off += 1000) {
    evbuffer_add(in.get(), s.data() + off, std::min<size_t>(1000, s.size() - off));
    ASSERT_TRUE(d.feed(in.get(), r));
  }
  EXPECT_EQ(r.stdout_.at(1), big);
  EXPECT_GT(r.events.size(), 60u);  // passed on as it arrived, not held until the record was whole
  EXPECT_TRUE(d.atRecordBoundary());
}

Error decodeError(const std::string& s) {
  Decoder d;
  Recorder r;
  auto in = makeBuffer(s);
  auto res = d.feed(in.get(), r);
  EXPECT_FALSE(res);
  if (res) return Error::TooLarge;
  // Sticky: later input gets the same error.
  auto more = makeBuffer(record(RecordType::Stdout, 1, "x"));
  auto again = d.feed(more.get(), r);
  EXPECT_FALSE(again);
  if (!again) {
    EXPECT_EQ(again.error(), res.error());
  }
  return res.error();
}

TEST(FastcgiDecode, MalformedRecords) {
  EXPECT_EQ(decodeError(header(6, 1, 0, 0, /*version=*/2)), Error::BadVersion);
  EXPECT_EQ(decodeError(header(6, 1, 0, 0, /*version=*/0)), Error::BadVersion);
  EXPECT_EQ(decodeError(record(RecordType::Stdout, 0, "x")), Error::BadRequestId);
  EXPECT_EQ(decodeError(record(RecordType::Stderr, 0, "x")), Error::BadRequestId);
  EXPECT_EQ(decodeError(record(RecordType::EndRequest, 1, "1234567")), Error::BadRecordLength);
  EXPECT_EQ(decodeError(record(RecordType::EndRequest, 1, "123456789")), Error::BadRecordLength);
  EXPECT_EQ(decodeError(endRequest(0, 0, 0)), Error::BadRequestId);
  EXPECT_EQ(decodeError(endRequest(1, 0, 4)), Error::UnknownProtocolStatus);
  EXPECT_EQ(decodeError(record(RecordType::UnknownType, 0, "short")), Error::BadRecordLength);
  EXPECT_EQ(decodeError(record(RecordType::UnknownType, 1, "12345678")), Error::BadRequestId);
  EXPECT_EQ(decodeError(record(RecordType::GetValuesResult, 1, "")), Error::BadRequestId);
  EXPECT_EQ(decodeError(record(RecordType::BeginRequest, 1, "12345678")), Error::BadRecordType);
  EXPECT_EQ(decodeError(record(RecordType::Params, 1, "")), Error::BadRecordType);
  EXPECT_EQ(decodeError(record(RecordType::Stdin, 1, "")), Error::BadRecordType);
  EXPECT_EQ(decodeError(header(0, 1, 0, 0)), Error::BadRecordType);
  EXPECT_EQ(decodeError(header(200, 1, 0, 0)), Error::BadRecordType);
  // Name-value sanity in GET_VALUES_RESULT.
  EXPECT_EQ(decodeError(record(RecordType::GetValuesResult, 0, std::string("\x05\x01" "AB", 4))), Error::BadNameValue);
  EXPECT_EQ(decodeError(record(RecordType::GetValuesResult, 0, std::string("\x80\x00", 2))), Error::BadNameValue);
  EXPECT_EQ(decodeError(record(RecordType::GetValuesResult, 0, std::string("\xff\xff\xff\xff\x00", 5))),
            Error::BadNameValue);
  EXPECT_EQ(decodeError(record(RecordType::GetValuesResult, 0, std::string("\x01", 1))), Error::BadNameValue);
  EXPECT_STREQ(errorName(Error::BadVersion), "fastcgi_bad_version");
}

TEST(FastcgiDecode, GoodRecordsBeforeErrorAreReported) {
  Decoder d;
  Recorder r;
  auto in = makeBuffer(record(RecordType::Stdout, 1, "ok") + header(6, 1, 0, 0, 9));
  EXPECT_FALSE(d.feed(in.get(), r));
  EXPECT_EQ(r.stdout_.at(1), "ok");
}

TEST(FastcgiDecode, PartialRecordIsNotABoundary) {
  Decoder d;
  Recorder r;
  auto in = makeBuffer(record(RecordType::Stdout, 1, "abcdef", 2).substr(0, 10));
  ASSERT_TRUE(d.feed(in.get(), r));
  EXPECT_FALSE(d.atRecordBoundary());
  auto in2 = makeBuffer(header(6, 1, 0, 0).substr(0, 3));
  Decoder d2;
  ASSERT_TRUE(d2.feed(in2.get(), r));
  EXPECT_FALSE(d2.atRecordBoundary());
}

TEST(FastcgiRoundTrip, EncodedStdoutDecodes) {
  // The stream encoder also writes STDOUT records (used by tests and a future fake app).
  std::string data(150000, 'q');
  auto body = makeBuffer(data);
  auto wire = makeBuffer();
  encodeStream(wire.get(), RecordType::Stdout, 4, body.get());
  encodeHeader(wire.get(), RecordType::Stdout, 4, 0, 0);
  Decoder d;
  Recorder r;
  ASSERT_TRUE(d.feed(wire.get(), r));
  EXPECT_EQ(r.stdout_.at(4), data);
  EXPECT_TRUE(r.stdout_end.at(4));
}

}  // namespace
}  // namespace gw::fastcgi

// ---------------------------------------------------------------------------------------------
// StdoutReader: bodiless responses

namespace gw::fastcgi {
namespace {

struct RecordingSink : upstream::ResponseSink {
  http::ResponseHeadPtr head;
  std::string body;
  bool onResponseHead(http::ResponseHeadPtr h) override {
    head = std::move(h);
    return true;
  }
  bool onResponseBody(evbuffer* data) override {
    body += test::drain(data);
    return true;
  }
};

TEST(FastcgiStdoutReader, NotModifiedWithContentLengthExpectsNoBody) {
  for (const char* status : {"304 Not Modified", "204 No Content"}) {
    SCOPED_TRACE(status);
    StdoutReader r;
    RecordingSink sink;
    auto in = makeBuffer(std::string("Status: ") + status + "\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n");
    EXPECT_EQ(r.onStdout(in.get(), true, sink), StdoutReader::Status::NeedMore);
    ASSERT_TRUE(sink.head);
    EXPECT_FALSE(sink.head->content_length.has_value());
    EXPECT_EQ(r.finish(), StdoutReader::Status::NeedMore) << (r.error() ? r.error() : "");
  }
}

TEST(FastcgiStdoutReader, HeadKeepsContentLengthAndDropsTheBody) {
  StdoutReader r(/*head_request=*/true);
  RecordingSink sink;
  auto in = makeBuffer("Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(r.onStdout(in.get(), true, sink), StdoutReader::Status::NeedMore);
  ASSERT_TRUE(sink.head);
  EXPECT_EQ(sink.head->content_length.value_or(0), 5u);
  EXPECT_EQ(sink.body, "");
  EXPECT_EQ(r.finish(), StdoutReader::Status::NeedMore);
  // Without the body at all (what php-fpm does for HEAD) it is complete too.
  StdoutReader r2(true);
  RecordingSink sink2;
  auto in2 = makeBuffer("Content-Length: 5\r\n\r\n");
  EXPECT_EQ(r2.onStdout(in2.get(), true, sink2), StdoutReader::Status::NeedMore);
  EXPECT_EQ(sink2.head->content_length.value_or(0), 5u);
  EXPECT_EQ(r2.finish(), StdoutReader::Status::NeedMore);
}

TEST(FastcgiStdoutReader, ShortBodyIsStillAnError) {
  StdoutReader r;
  RecordingSink sink;
  auto in = makeBuffer("Content-Length: 10\r\n\r\nabc");
  EXPECT_EQ(r.onStdout(in.get(), true, sink), StdoutReader::Status::NeedMore);
  EXPECT_EQ(r.finish(), StdoutReader::Status::Error);
  EXPECT_STREQ(r.error(), "fastcgi_body_shorter_than_content_length");
}

}  // namespace
}  // namespace gw::fastcgi
