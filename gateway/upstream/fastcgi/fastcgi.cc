#include "upstream/fastcgi/fastcgi.h"

#include <algorithm>
#include <array>

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

}  // namespace

void encodeHeader(evbuffer* out, RecordType type, uint16_t request_id, uint16_t content_len, uint8_t padding_len) {
  const uint8_t h[kHeaderLen] = {kVersion1,
                                 uint8_t(type),
                                 uint8_t(request_id >> 8),
                                 uint8_t(request_id),
                                 uint8_t(content_len >> 8),
                                 uint8_t(content_len),
                                 padding_len,
                                 0};
  evbuffer_add(out, h, sizeof(h));
}

void encodeBeginRequest(evbuffer* out, uint16_t request_id, Role role, bool keep_conn) {
  encodeHeader(out, RecordType::BeginRequest, request_id, 8, 0);
  const uint8_t body[8] = {uint8_t(uint16_t(role) >> 8), uint8_t(role), uint8_t(keep_conn ? kKeepConn : 0), 0, 0, 0, 0, 0};
  evbuffer_add(out, body, sizeof(body));
}

void encodeAbortRequest(evbuffer* out, uint16_t request_id) {
  encodeHeader(out, RecordType::AbortRequest, request_id, 0, 0);
}

size_t nameValueSize(std::string_view name, std::string_view value) {
  return (name.size() < 128 ? 1 : 4) + (value.size() < 128 ? 1 : 4) + name.size() + value.size();
}

Result<void> appendNameValue(std::string& out, std::string_view name, std::string_view value) {
  if (name.size() > kMaxNameValueLen || value.size() > kMaxNameValueLen) return proto::unexpected(Error::TooLarge);
  uint8_t lens[8];
  size_t n = putLength(lens, uint32_t(name.size()));
  n += putLength(lens + n, uint32_t(value.size()));
  out.append(reinterpret_cast<const char*>(lens), n);
  out.append(name);
  out.append(value);
  return {};
}

void ParamsWriter::append(const char* data, size_t len) {
  while (len > 0) {
    if (staged_.capacity() < kMaxStreamChunk) staged_.reserve(std::min<size_t>(kMaxStreamChunk, std::max<size_t>(len, 1024)));
    size_t take = std::min(len, kMaxStreamChunk - staged_.size());
    staged_.append(data, take);
    data += take;
    len -= take;
    if (staged_.size() == kMaxStreamChunk) flush();
  }
}

void ParamsWriter::flush() {
  if (staged_.empty()) return;
  uint8_t pad = paddingFor(staged_.size());
  encodeHeader(out_, RecordType::Params, request_id_, uint16_t(staged_.size()), pad);
  evbuffer_add(out_, staged_.data(), staged_.size());
  if (pad) evbuffer_add(out_, kZeros, pad);
  staged_.clear();
}

Result<void> ParamsWriter::add(std::string_view name, std::string_view value) {
  if (name.size() > kMaxNameValueLen || value.size() > kMaxNameValueLen) return proto::unexpected(Error::TooLarge);
  uint8_t lens[8];
  size_t n = putLength(lens, uint32_t(name.size()));
  n += putLength(lens + n, uint32_t(value.size()));
  append(reinterpret_cast<const char*>(lens), n);
  append(name.data(), name.size());
  append(value.data(), value.size());
  return {};
}

void ParamsWriter::finish() {
  flush();
  encodeHeader(out_, RecordType::Params, request_id_, 0, 0);
}

Result<void> encodeParams(evbuffer* out, uint16_t request_id, std::span<const NameValue> params) {
  for (const NameValue& p : params) {
    if (p.name.size() > kMaxNameValueLen || p.value.size() > kMaxNameValueLen) return proto::unexpected(Error::TooLarge);
  }
  ParamsWriter w(out, request_id);
  for (const NameValue& p : params) (void)w.add(p.name, p.value);
  w.finish();
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

Result<void> encodeGetValues(evbuffer* out, std::span<const std::string_view> names) {
  std::string content;
  for (std::string_view n : names) {
    if (auto r = appendNameValue(content, n, {}); !r) return r;
  }
  if (content.size() > kMaxContentLen) return proto::unexpected(Error::TooLarge);
  uint8_t pad = paddingFor(content.size());
  encodeHeader(out, RecordType::GetValues, 0, uint16_t(content.size()), pad);
  evbuffer_add(out, content.data(), content.size());
  if (pad) evbuffer_add(out, kZeros, pad);
  return {};
}

void encodeGetValues(evbuffer* out) {
  static constexpr std::array<std::string_view, 3> kNames = {kMaxConns, kMaxReqs, kMpxsConns};
  (void)encodeGetValues(out, kNames);
}

// ---- Decoder ----

Decoder::Decoder() : partial_(evbuffer_new()), chunk_(evbuffer_new()) {}

Decoder::~Decoder() {
  evbuffer_free(partial_);
  evbuffer_free(chunk_);
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

Result<void> Decoder::feed(evbuffer* in, DecoderCallbacks& cb, size_t max_bytes) {
  if (!failed_) return failed_;
  auto fail = [&](Error e) -> Result<void> {
    failed_ = proto::unexpected(e);
    evbuffer_drain(in, evbuffer_get_length(in));
    return failed_;
  };
  auto afterContent = [&] { state_ = padding_left_ > 0 ? State::Padding : State::Header; };
  size_t budget = max_bytes;
  for (;;) {
    size_t avail = std::min(evbuffer_get_length(in), budget);
    switch (state_) {
      case State::Header: {
        if (avail == 0) return {};
        size_t have = evbuffer_get_length(partial_);
        size_t n = std::min(avail, kHeaderLen - have);
        evbuffer_remove_buffer(in, partial_, n);
        budget -= n;
        if (evbuffer_get_length(partial_) < kHeaderLen) return {};
        uint8_t h[kHeaderLen];
        evbuffer_remove(partial_, h, kHeaderLen);
        if (auto r = onHeader(h); !r) return fail(r.error());
        if (state_ == State::StreamContent && content_len_ == 0) {
          // The empty record ends the stream.
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
          evbuffer_remove(in, scratch_.data() + (content_len_ - content_left_), n);
          budget -= n;
          content_left_ -= n;
          if (content_left_ > 0) return {};
        }
        if (auto r = onWholeRecord(cb); !r) return fail(r.error());
        afterContent();
        break;
      }
      case State::Padding: {
        if (avail == 0) return {};
        size_t n = std::min(avail, padding_left_);
        evbuffer_drain(in, n);
        budget -= n;
        padding_left_ -= n;
        if (padding_left_ == 0) state_ = State::Header;
        break;
      }
    }
  }
}

}  // namespace gw::fastcgi
