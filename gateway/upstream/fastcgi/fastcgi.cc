#include "upstream/fastcgi/fastcgi.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace gw::fastcgi {

const char* protocolStatusName(ProtocolStatus s) {
  switch (s) {
    case ProtocolStatus::RequestComplete: return "request_complete";
    case ProtocolStatus::CantMpxConn: return "cant_mpx_conn";
    case ProtocolStatus::Overloaded: return "overloaded";
    case ProtocolStatus::UnknownRole: return "unknown_role";
  }
  return "unknown";
}

const char* errorName(Error e) {
  switch (e) {
    case Error::BadVersion: return "fastcgi_bad_version";
    case Error::BadRecordType: return "fastcgi_bad_record_type";
    case Error::BadRecordLength: return "fastcgi_bad_record_length";
    case Error::BadRequestId: return "fastcgi_bad_request_id";
    case Error::BadNameValue: return "fastcgi_bad_name_value";
    case Error::UnknownProtocolStatus: return "fastcgi_unknown_protocol_status";
    case Error::TooLarge: return "fastcgi_too_large";
  }
  return "fastcgi_error";
}

namespace {

constexpr uint8_t kZeros[8] = {};

// Writes a 1- or 4-byte length into p; returns bytes written.
size_t putLength(uint8_t* p, uint32_t len) {
  if (len < 128) {
    p[0] = uint8_t(len);
    return 1;
  }
  p[0] = uint8_t(0x80 | (len >> 24));
  p[1] = uint8_t(len >> 16);
  p[2] = uint8_t(len >> 8);
  p[3] = uint8_t(len);
  return 4;
}

uint8_t paddingFor(size_t content_len) { return uint8_t((8 - content_len % 8) % 8); }

uint8_t* putHeader(uint8_t* p, RecordType type, uint16_t request_id, uint16_t content_len, uint8_t padding_len) {
  p[0] = kVersion1;
  p[1] = uint8_t(type);
  p[2] = uint8_t(request_id >> 8);
  p[3] = uint8_t(request_id);
  p[4] = uint8_t(content_len >> 8);
  p[5] = uint8_t(content_len);
  p[6] = padding_len;
  p[7] = 0;
  return p + kHeaderLen;
}

uint8_t* putBeginRequest(uint8_t* p, uint16_t request_id, Role role, bool keep_conn) {
  p = putHeader(p, RecordType::BeginRequest, request_id, 8, 0);
  const uint8_t body[8] = {uint8_t(uint16_t(role) >> 8), uint8_t(role), uint8_t(keep_conn ? kKeepConn : 0), 0, 0, 0, 0, 0};
  return std::copy(body, body + 8, p);
}

// Records, padding and the empty record of a PARAMS stream with this much content.
size_t paramsStreamSize(size_t content_len) {
  size_t full = content_len / kMaxStreamChunk, rest = content_len % kMaxStreamChunk;
  return full * (kHeaderLen + kMaxStreamChunk) + (rest ? kHeaderLen + rest + paddingFor(rest) : 0) + kHeaderLen;
}

uint8_t* putParamsStream(uint8_t* p, uint16_t request_id, std::string_view content) {
  for (size_t off = 0; off < content.size(); off += kMaxStreamChunk) {
    size_t n = std::min(content.size() - off, kMaxStreamChunk);
    uint8_t pad = paddingFor(n);
    p = putHeader(p, RecordType::Params, request_id, uint16_t(n), pad);
    p = std::copy_n(reinterpret_cast<const uint8_t*>(content.data()) + off, n, p);
    p = std::copy_n(kZeros, pad, p);
  }
  return putHeader(p, RecordType::Params, request_id, 0, 0);
}

// Writes `size` bytes with put(p) into one extent reserved in `out`, committed once: every
// change to a bufferevent's output buffer runs its callbacks, so records go in one change, not
// one per header and content.
template <class Put>
void writeInPlace(evbuffer* out, size_t size, Put put) {
  evbuffer_iovec vec;
  if (evbuffer_reserve_space(out, ev_ssize_t(size), &vec, 1) != 1) __builtin_trap();  // OOM
  put(static_cast<uint8_t*>(vec.iov_base));
  vec.iov_len = size;
  evbuffer_commit_space(out, &vec, 1);
}

}  // namespace

void encodeHeader(evbuffer* out, RecordType type, uint16_t request_id, uint16_t content_len, uint8_t padding_len) {
  uint8_t h[kHeaderLen];
  putHeader(h, type, request_id, content_len, padding_len);
  evbuffer_add(out, h, sizeof(h));
}

void encodeBeginRequest(evbuffer* out, uint16_t request_id, Role role, bool keep_conn) {
  uint8_t r[2 * kHeaderLen];
  putBeginRequest(r, request_id, role, keep_conn);
  evbuffer_add(out, r, sizeof(r));
}

void encodeAbortRequest(evbuffer* out, uint16_t request_id) {
  encodeHeader(out, RecordType::AbortRequest, request_id, 0, 0);
}

size_t nameValueSize(std::string_view name, std::string_view value) {
  return (name.size() < 128 ? 1 : 4) + (value.size() < 128 ? 1 : 4) + name.size() + value.size();
}

Result<void> appendNameValue(std::string& out, std::string_view name, std::string_view value) {
  if (name.size() > kMaxNameValueLen || value.size() > kMaxNameValueLen) return proto::unexpected(Error::TooLarge);
  // Grown once and written in place (not three appends, no zero-filling): this runs for every
  // environ variable.
  // (The size is returned as computed here: libstdc++ 12 passes the new capacity, not the size.)
  const size_t old = out.size(), size = old + nameValueSize(name, value);
  out.resize_and_overwrite(size, [&](char* data, size_t) {
    uint8_t* p = reinterpret_cast<uint8_t*>(data) + old;
    p += putLength(p, uint32_t(name.size()));
    p += putLength(p, uint32_t(value.size()));
    // (empty views may carry a null data(): memcpy must not see it, even for 0 bytes)
    if (!name.empty()) std::memcpy(p, name.data(), name.size());
    if (!value.empty()) std::memcpy(p + name.size(), value.data(), value.size());
    return size;
  });
  return {};
}

void encodeParamsStream(evbuffer* out, uint16_t request_id, std::string_view content) {
  writeInPlace(out, paramsStreamSize(content.size()),
               [&](uint8_t* p) { return putParamsStream(p, request_id, content); });
}

void encodeRequestHead(evbuffer* out, uint16_t request_id, std::string_view params, bool keep_conn, bool stdin_end) {
  const size_t size = 2 * kHeaderLen + paramsStreamSize(params.size()) + (stdin_end ? kHeaderLen : 0);
  writeInPlace(out, size, [&](uint8_t* p) {
    p = putBeginRequest(p, request_id, Role::Responder, keep_conn);
    p = putParamsStream(p, request_id, params);
    return stdin_end ? putHeader(p, RecordType::Stdin, request_id, 0, 0) : p;
  });
}

Result<void> encodeParams(evbuffer* out, uint16_t request_id, std::span<const NameValue> params) {
  std::string content;
  for (const NameValue& p : params) {
    if (auto r = appendNameValue(content, p.name, p.value); !r) return r;
  }
  encodeParamsStream(out, request_id, content);
  return {};
}

void encodeStream(evbuffer* out, RecordType type, uint16_t request_id, evbuffer* body) {
  size_t left = evbuffer_get_length(body);
  while (left > 0) {
    size_t n = std::min(left, kMaxStreamChunk);
    uint8_t pad = paddingFor(n);
    encodeHeader(out, type, request_id, uint16_t(n), pad);
    evbuffer_remove_buffer(body, out, n);
    if (pad) evbuffer_add(out, kZeros, pad);
    left -= n;
  }
}

void encodeStdinEnd(evbuffer* out, uint16_t request_id) { encodeHeader(out, RecordType::Stdin, request_id, 0, 0); }

namespace {

// The GET_VALUES record asking for `names`; TooLarge if they do not fit one record.
Result<std::string> getValuesRecord(std::span<const std::string_view> names) {
  std::string content;
  for (std::string_view n : names) {
    if (auto r = appendNameValue(content, n, {}); !r) return proto::unexpected(r.error());
  }
  if (content.size() > kMaxContentLen) return proto::unexpected(Error::TooLarge);
  const uint8_t pad = paddingFor(content.size());
  std::string record(kHeaderLen, '\0');
  putHeader(reinterpret_cast<uint8_t*>(record.data()), RecordType::GetValues, 0, uint16_t(content.size()), pad);
  record += content;
  record.append(pad, '\0');
  return record;
}

}  // namespace

Result<void> encodeGetValues(evbuffer* out, std::span<const std::string_view> names) {
  auto record = getValuesRecord(names);
  if (!record) return proto::unexpected(record.error());
  evbuffer_add(out, record->data(), record->size());
  return {};
}

void encodeGetValues(evbuffer* out) {
  static constexpr std::array<std::string_view, 3> kNames = {kMaxConns, kMaxReqs, kMpxsConns};
  // Sent on every new connection: encoded once (a thread-safe static).
  static const std::string record = *getValuesRecord(kNames);
  evbuffer_add(out, record.data(), record.size());
}

// ---- Decoder ----

// No evbuffer until stream content arrives: a connection that never gets any (uwsgi's, which
// carry a Decoder too) allocates nothing for it.
Decoder::Decoder() = default;

Decoder::~Decoder() {
  if (chunk_) evbuffer_free(chunk_);
}

Result<void> Decoder::onHeader(const uint8_t* h) {
  if (h[0] != kVersion1) return proto::unexpected(Error::BadVersion);
  type_ = RecordType(h[1]);
  request_id_ = uint16_t((h[2] << 8) | h[3]);
  content_len_ = content_left_ = size_t((h[4] << 8) | h[5]);
  padding_left_ = h[6];
  switch (type_) {
    case RecordType::Stdout:
    case RecordType::Stderr:
      if (request_id_ == 0) return proto::unexpected(Error::BadRequestId);
      state_ = State::StreamContent;
      return {};
    case RecordType::EndRequest:
      if (request_id_ == 0) return proto::unexpected(Error::BadRequestId);
      if (content_len_ != 8) return proto::unexpected(Error::BadRecordLength);
      break;
    case RecordType::UnknownType:
      if (request_id_ != 0) return proto::unexpected(Error::BadRequestId);
      if (content_len_ != 8) return proto::unexpected(Error::BadRecordLength);
      break;
    case RecordType::GetValuesResult:
      if (request_id_ != 0) return proto::unexpected(Error::BadRequestId);
      break;
    default:
      return proto::unexpected(Error::BadRecordType);
  }
  state_ = State::WholeContent;
  return {};
}

Result<void> Decoder::onWholeRecord(DecoderCallbacks& cb) {
  const uint8_t* c = scratch_.data();
  switch (type_) {
    case RecordType::EndRequest: {
      uint32_t app_status = (uint32_t(c[0]) << 24) | (uint32_t(c[1]) << 16) | (uint32_t(c[2]) << 8) | uint32_t(c[3]);
      if (c[4] > uint8_t(ProtocolStatus::UnknownRole)) return proto::unexpected(Error::UnknownProtocolStatus);
      cb.onEndRequest(request_id_, app_status, ProtocolStatus(c[4]));
      return {};
    }
    case RecordType::UnknownType:
      cb.onUnknownType(c[0]);
      return {};
    case RecordType::GetValuesResult: {
      pairs_.clear();
      auto r = forEachNameValue(std::span<const uint8_t>(scratch_.data(), content_len_),
                                [&](NameValue nv) { pairs_.push_back(nv); });
      if (!r) return r;
      cb.onGetValuesResult(pairs_);
      return {};
    }
    default:
      return proto::unexpected(Error::BadRecordType);
  }
}

namespace {

// The front of the decoder's input, read in place: record headers, padding and whole-record
// contents are copied out of the first chain and drained together by settle(), not one
// evbuffer_remove / evbuffer_drain each. Every change to a bufferevent's input buffer runs its
// callbacks, and a small evbuffer_remove costs a copy-out walk besides.
class InputFront {
 public:
  explicit InputFront(evbuffer* in) : in_(in) {}
  ~InputFront() { settle(); }
  InputFront(const InputFront&) = delete;
  InputFront& operator=(const InputFront&) = delete;

  // Bytes not taken yet.
  size_t length() const { return evbuffer_get_length(in_) - taken_; }
  // Copies the next n bytes (n <= length()) to dst.
  void take(uint8_t* dst, size_t n) {
    if (inFirstChain(n)) {
      std::memcpy(dst, static_cast<const uint8_t*>(chain_.iov_base) + taken_, n);
      taken_ += n;
    } else {
      evbuffer_remove(in_, dst, n);  // spans chains
      chain_ = {};
    }
  }
  // Passes over the next n bytes (n <= length()).
  void skip(size_t n) {
    if (inFirstChain(n)) {
      taken_ += n;
    } else {
      evbuffer_drain(in_, n);
      chain_ = {};
    }
  }
  // Drains what was taken. Due before anything else reads or changes the buffer.
  void settle() {
    if (taken_ > 0) evbuffer_drain(in_, taken_);
    taken_ = 0;
    chain_ = {};
  }

 private:
  // Do the next n bytes lie in the first chain (after settling, if they are past its end)?
  bool inFirstChain(size_t n) {
    if (taken_ + n > chain_.iov_len) {
      settle();
      if (evbuffer_peek(in_, -1, nullptr, &chain_, 1) < 1) chain_ = {};
    }
    return n <= chain_.iov_len;
  }

  evbuffer* in_;
  evbuffer_iovec chain_{};  // the first chain as last peeked; empty: peek again
  size_t taken_ = 0;        // bytes of it taken, not drained yet
};

}  // namespace

Result<void> Decoder::feed(evbuffer* in, DecoderCallbacks& cb, size_t max_bytes) {
  if (!failed_) return failed_;
  InputFront front(in);  // settled before each callback and each move of content, and on return
  auto fail = [&](Error e) -> Result<void> {
    failed_ = proto::unexpected(e);
    front.settle();
    evbuffer_drain(in, evbuffer_get_length(in));
    return failed_;
  };
  auto afterContent = [&] { state_ = padding_left_ > 0 ? State::Padding : State::Header; };
  size_t budget = max_bytes;
  for (;;) {
    size_t avail = std::min(front.length(), budget);
    switch (state_) {
      case State::Header: {
        if (avail == 0) return {};
        size_t n = std::min(avail, kHeaderLen - header_have_);
        front.take(header_ + header_have_, n);
        budget -= n;
        header_have_ += n;
        if (header_have_ < kHeaderLen) return {};
        header_have_ = 0;
        if (auto r = onHeader(header_); !r) return fail(r.error());
        if (state_ == State::StreamContent && !chunk_) chunk_ = evbuffer_new();
        if (state_ == State::StreamContent && content_len_ == 0) {
          // The empty record ends the stream.
          front.settle();
          if (type_ == RecordType::Stdout) cb.onStdout(request_id_, chunk_, true);
          else cb.onStderr(request_id_, chunk_, true);
          afterContent();
        } else if (state_ == State::WholeContent) {
          scratch_.resize(content_len_);
        }
        break;
      }
      case State::StreamContent: {
        if (avail == 0) return {};
        size_t n = std::min(avail, content_left_);
        front.settle();
        evbuffer_remove_buffer(in, chunk_, n);
        budget -= n;
        content_left_ -= n;
        if (type_ == RecordType::Stdout) cb.onStdout(request_id_, chunk_, false);
        else cb.onStderr(request_id_, chunk_, false);
        evbuffer_drain(chunk_, evbuffer_get_length(chunk_));
        if (content_left_ == 0) afterContent();
        break;
      }
      case State::WholeContent: {
        if (content_left_ > 0) {
          if (avail == 0) return {};
          size_t n = std::min(avail, content_left_);
          front.take(scratch_.data() + (content_len_ - content_left_), n);
          budget -= n;
          content_left_ -= n;
          if (content_left_ > 0) return {};
        }
        front.settle();
        if (auto r = onWholeRecord(cb); !r) return fail(r.error());
        afterContent();
        break;
      }
      case State::Padding: {
        if (avail == 0) return {};
        size_t n = std::min(avail, padding_left_);
        front.skip(n);
        budget -= n;
        padding_left_ -= n;
        if (padding_left_ == 0) state_ = State::Header;
        break;
      }
    }
  }
}

}  // namespace gw::fastcgi
