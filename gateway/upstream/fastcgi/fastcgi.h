#pragma once
// FastCGI 1.0 wire protocol (https://fastcgi-archives.github.io/FastCGI_Specification.html):
// record encoders and an incremental record decoder. Pure: no sockets, no event loop; bytes live
// in libevent evbuffers and body bytes are moved between evbuffers, never gathered into one string.
//
// Every record: version(1) type(1) requestId(2, BE) contentLength(2, BE) paddingLength(1) reserved(1),
// then contentLength bytes of content and paddingLength bytes of padding.
//
// Threading: none of this is thread-safe; a Decoder belongs to one connection on one thread.
#include <event2/buffer.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/cgi/expected.h"

namespace gw::fastcgi {

inline constexpr uint8_t kVersion1 = 1;
inline constexpr size_t kHeaderLen = 8;
inline constexpr size_t kMaxContentLen = 65535;
// Stream records (PARAMS, STDIN) carry at most this much content: the largest multiple of 8 that
// fits, so a full record needs no padding.
inline constexpr size_t kMaxStreamChunk = 65528;
// Name and value lengths are 31-bit in the 4-byte encoding.
inline constexpr uint32_t kMaxNameValueLen = 0x7fffffff;

enum class RecordType : uint8_t {
  BeginRequest = 1,
  AbortRequest = 2,
  EndRequest = 3,
  Params = 4,
  Stdin = 5,
  Stdout = 6,
  Stderr = 7,
  Data = 8,
  GetValues = 9,
  GetValuesResult = 10,
  UnknownType = 11,
};

enum class Role : uint16_t { Responder = 1, Authorizer = 2, Filter = 3 };
inline constexpr uint8_t kKeepConn = 1;  // BEGIN_REQUEST flags

enum class ProtocolStatus : uint8_t {
  RequestComplete = 0,
  CantMpxConn = 1,  // the app cannot multiplex: retry on another connection
  Overloaded = 2,   // retry elsewhere or 503
  UnknownRole = 3,
};
const char* protocolStatusName(ProtocolStatus s);  // "request_complete", "cant_mpx_conn", ...

// Names for FCGI_GET_VALUES.
inline constexpr std::string_view kMaxConns = "FCGI_MAX_CONNS";
inline constexpr std::string_view kMaxReqs = "FCGI_MAX_REQS";
inline constexpr std::string_view kMpxsConns = "FCGI_MPXS_CONNS";

enum class Error {
  BadVersion,            // version byte is not 1
  BadRecordType,         // a type an application must never send (BEGIN_REQUEST, PARAMS, STDIN, ...)
  BadRecordLength,       // END_REQUEST / UNKNOWN_TYPE with contentLength != 8
  BadRequestId,          // stream record with requestId 0, or management record with requestId != 0
  BadNameValue,          // name-value pair lengths overrun the content, or too large
  UnknownProtocolStatus, // END_REQUEST protocolStatus > 3
  TooLarge,              // encoder: a name or value longer than kMaxNameValueLen
};
const char* errorName(Error e);  // "fastcgi_bad_version", ...

template <class T>
using Result = proto::Expected<T, Error>;

struct NameValue {
  std::string_view name;
  std::string_view value;
};

// ---- Encoders: append complete records to `out`. ----

// Writes one record header (no content). Exposed for tests and callers streaming their own content.
void encodeHeader(evbuffer* out, RecordType type, uint16_t request_id, uint16_t content_len, uint8_t padding_len);

// FCGI_BEGIN_REQUEST with the role and, if keep_conn, FCGI_KEEP_CONN.
void encodeBeginRequest(evbuffer* out, uint16_t request_id, Role role = Role::Responder, bool keep_conn = true);
// FCGI_ABORT_REQUEST (no content).
void encodeAbortRequest(evbuffer* out, uint16_t request_id);

// Size of one name-value pair in the FastCGI encoding (1-byte lengths below 128, else 4-byte).
size_t nameValueSize(std::string_view name, std::string_view value);
// Appends one encoded pair to `out` (raw pair bytes, no record header).
Result<void> appendNameValue(std::string& out, std::string_view name, std::string_view value);

// The PARAMS stream for `content`, pairs already encoded by appendNameValue: records of at most
// kMaxStreamChunk bytes (a pair may span records, as the spec allows for streams), then the empty
// PARAMS record. The environ is encoded once per request and framed per attempt with its id.
void encodeParamsStream(evbuffer* out, uint16_t request_id, std::string_view content);
// What a request starts with, in one write: FCGI_BEGIN_REQUEST (responder), the PARAMS stream for
// `params` (as for encodeParamsStream) and, if stdin_end (no body), the empty STDIN record.
void encodeRequestHead(evbuffer* out, uint16_t request_id, std::string_view params, bool keep_conn, bool stdin_end);
// Convenience: the whole PARAMS stream (records + empty terminator) for a list of pairs.
Result<void> encodeParams(evbuffer* out, uint16_t request_id, std::span<const NameValue> params);

// Moves all of `body` (drained) into STDIN records of at most kMaxStreamChunk bytes each, padded
// to a multiple of 8. Bytes are moved with evbuffer_remove_buffer (no whole-body copy). Does not
// write the terminator. Same for DATA records via encodeStream.
void encodeStream(evbuffer* out, RecordType type, uint16_t request_id, evbuffer* body);
inline void encodeStdin(evbuffer* out, uint16_t request_id, evbuffer* body) {
  encodeStream(out, RecordType::Stdin, request_id, body);
}
// The empty STDIN record that ends the request body.
void encodeStdinEnd(evbuffer* out, uint16_t request_id);

// FCGI_GET_VALUES (requestId 0) asking for `names` (empty values).
// Seen on loopback (Debian 12, with this encoder): php-fpm 8.2 answers only FCGI_MPXS_CONNS=0;
// uWSGI 2.0.21 sends no GET_VALUES_RESULT at all (and serves the request that follows). So a
// connection must not wait for the answer: assume no multiplexing until told otherwise.
Result<void> encodeGetValues(evbuffer* out, std::span<const std::string_view> names);
// FCGI_GET_VALUES for FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS.
void encodeGetValues(evbuffer* out);

// Calls fn(NameValue) for each pair in `content`; error if a length overruns the content.
// The views point into `content`.
template <class F>
Result<void> forEachNameValue(std::span<const uint8_t> content, F fn);

// ---- Decoder ----

// What the decoder reports. Data arguments are evbuffers the callee drains (or leaves: whatever is
// left is discarded when the callback returns). Callbacks must not destroy the Decoder.
class DecoderCallbacks {
 public:
  virtual ~DecoderCallbacks() = default;
  // STDOUT content as it arrives (possibly less than one record); end: the empty STDOUT record.
  virtual void onStdout(uint16_t request_id, evbuffer* data, bool end) = 0;
  virtual void onStderr(uint16_t request_id, evbuffer* data, bool end) = 0;
  virtual void onEndRequest(uint16_t request_id, uint32_t app_status, ProtocolStatus status) = 0;
  // All pairs of one GET_VALUES_RESULT record; views valid during the call only.
  virtual void onGetValuesResult(std::span<const NameValue> values) = 0;
  // FCGI_UNKNOWN_TYPE: the app did not understand a management record of this type.
  virtual void onUnknownType(uint8_t type) = 0;
};

// Incremental decoder for the records an application sends. Feed it whatever arrived, split
// anywhere. STDOUT/STDERR content is passed on as it arrives (memory stays bounded whatever the
// record size); management records (at most 65535 + 255 bytes) are waited for whole. After an
// error the decoder stays failed and returns that error from every feed().
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Consumes `in` (at most max_bytes of it; the rest stays for a later call, e.g. while the
  // downstream is read-disabled) and reports what it completes to `cb`. On error, `in` is drained.
  Result<void> feed(evbuffer* in, DecoderCallbacks& cb, size_t max_bytes = SIZE_MAX);
  // True between records (nothing half-read): a clean place for the connection to end.
  bool atRecordBoundary() const { return state_ == State::Header && header_have_ == 0; }

 private:
  enum class State { Header, StreamContent, WholeContent, Padding };
  Result<void> onHeader(const uint8_t* h);
  Result<void> onWholeRecord(DecoderCallbacks& cb);

  State state_ = State::Header;
  uint8_t header_[kHeaderLen];  // the record header gathered so far
  size_t header_have_ = 0;
  evbuffer* chunk_ = nullptr;  // stream content handed to callbacks; made on first use
  RecordType type_{};
  uint16_t request_id_ = 0;
  size_t content_left_ = 0;
  size_t content_len_ = 0;
  size_t padding_left_ = 0;
  std::vector<uint8_t> scratch_;  // whole-record content gathered so far
  std::vector<NameValue> pairs_;
  proto::Expected<void, Error> failed_;
};

// ---- template definition ----

namespace detail {
// Reads a 1- or 4-byte length at p (p < end); advances p. nullopt on overrun.
inline bool readLength(const uint8_t*& p, const uint8_t* end, uint32_t& len) {
  if (p >= end) return false;
  if ((*p & 0x80) == 0) {
    len = *p++;
    return true;
  }
  if (end - p < 4) return false;
  len = (uint32_t(p[0] & 0x7f) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
  p += 4;
  return true;
}
}  // namespace detail

template <class F>
Result<void> forEachNameValue(std::span<const uint8_t> content, F fn) {
  const uint8_t* p = content.data();
  const uint8_t* end = p + content.size();
  while (p < end) {
    uint32_t nlen = 0, vlen = 0;
    if (!detail::readLength(p, end, nlen) || !detail::readLength(p, end, vlen)) {
      return proto::unexpected(Error::BadNameValue);
    }
    size_t left = size_t(end - p);
    if (nlen > left || vlen > left - nlen) return proto::unexpected(Error::BadNameValue);
    std::string_view name(reinterpret_cast<const char*>(p), nlen);
    std::string_view value(reinterpret_cast<const char*>(p + nlen), vlen);
    p += nlen + vlen;
    fn(NameValue{name, value});
  }
  return {};
}

}  // namespace gw::fastcgi
