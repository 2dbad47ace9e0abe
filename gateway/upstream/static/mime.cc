#include "upstream/static/mime.h"

#include <fstream>
#include <sstream>

#include <cerrno>
#include <cstring>

namespace gw::statics {

namespace {

// The common part of nginx's mime.types plus a few modern types (avif, wasm, mjs, woff2...).
// Like nginx, no charset parameter is added.
constexpr std::pair<const char*, const char*> kBuiltin[] = {
    {"html", "text/html"}, {"htm", "text/html"}, {"shtml", "text/html"},
    {"css", "text/css"}, {"xml", "text/xml"}, {"txt", "text/plain"}, {"text", "text/plain"},
    {"csv", "text/csv"}, {"md", "text/markdown"}, {"markdown", "text/markdown"},
    {"js", "text/javascript"}, {"mjs", "text/javascript"}, {"json", "application/json"},
    {"map", "application/json"}, {"jsonld", "application/ld+json"},
    {"webmanifest", "application/manifest+json"}, {"yaml", "application/yaml"}, {"yml", "application/yaml"},
    {"atom", "application/atom+xml"}, {"rss", "application/rss+xml"}, {"xhtml", "application/xhtml+xml"},
    {"wasm", "application/wasm"}, {"pdf", "application/pdf"}, {"rtf", "application/rtf"},
    {"zip", "application/zip"}, {"gz", "application/gzip"}, {"tgz", "application/gzip"},
    {"bz2", "application/x-bzip2"}, {"xz", "application/x-xz"}, {"zst", "application/zstd"},
    {"7z", "application/x-7z-compressed"}, {"rar", "application/vnd.rar"}, {"tar", "application/x-tar"},
    {"jar", "application/java-archive"}, {"war", "application/java-archive"},
    {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"odt", "application/vnd.oasis.opendocument.text"}, {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"epub", "application/epub+zip"}, {"bin", "application/octet-stream"}, {"exe", "application/octet-stream"},
    {"dll", "application/octet-stream"}, {"deb", "application/octet-stream"}, {"iso", "application/octet-stream"},
    {"img", "application/octet-stream"}, {"msi", "application/octet-stream"}, {"dmg", "application/octet-stream"},
    {"wsdl", "application/wsdl+xml"}, {"xsl", "application/xslt+xml"}, {"ps", "application/postscript"},
    {"eps", "application/postscript"}, {"ai", "application/postscript"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
    {"webp", "image/webp"}, {"avif", "image/avif"}, {"svg", "image/svg+xml"}, {"svgz", "image/svg+xml"},
    {"ico", "image/x-icon"}, {"bmp", "image/bmp"}, {"tif", "image/tiff"}, {"tiff", "image/tiff"},
    {"heic", "image/heic"}, {"jxl", "image/jxl"},
    {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"}, {"otf", "font/otf"},
    {"eot", "application/vnd.ms-fontobject"},
    {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"oga", "audio/ogg"}, {"opus", "audio/ogg"},
    {"m4a", "audio/x-m4a"}, {"aac", "audio/aac"}, {"wav", "audio/wav"}, {"flac", "audio/flac"},
    {"mid", "audio/midi"}, {"midi", "audio/midi"},
    {"mp4", "video/mp4"}, {"m4v", "video/x-m4v"}, {"webm", "video/webm"}, {"ogv", "video/ogg"},
    {"mov", "video/quicktime"}, {"avi", "video/x-msvideo"}, {"mkv", "video/x-matroska"},
    {"mpeg", "video/mpeg"}, {"mpg", "video/mpeg"}, {"ts", "video/mp2t"}, {"m3u8", "application/vnd.apple.mpegurl"},
    {"flv", "video/x-flv"}, {"3gp", "video/3gpp"},
    {"ics", "text/calendar"}, {"vcf", "text/vcard"}, {"sh", "application/x-sh"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

}  // namespace

MimeTable::MimeTable() {
  by_ext_.reserve(std::size(kBuiltin) * 2);
  for (const auto& [ext, type] : kBuiltin) by_ext_.emplace(ext, type);
}

bool MimeTable::loadFile(const std::string& path, std::string* why) {
  std::ifstream in(path);
  if (!in) {
    if (why) *why = std::string("cannot read ") + path + ": " + strerror(errno);
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    // nginx's own format ("types { text/html html; }") is accepted too: ';', '{', '}' are separators.
    for (char& c : line) {
      if (c == ';' || c == '{' || c == '}') c = ' ';
    }
    std::istringstream words(line);
    std::string type, ext;
    if (!(words >> type)) continue;
    if (type == "types" && !(words >> type)) continue;
    if (type.find('/') == std::string::npos) continue;
    // A type must be a plain token pair: it becomes a header value.
    bool ok = true;
    for (char c : type) ok &= c > 0x20 && c < 0x7f;
    if (!ok) continue;
    while (words >> ext) by_ext_[lower(ext)] = type;
  }
  return true;
}

std::string_view MimeTable::lookup(std::string_view name) const {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return "application/octet-stream";
  auto it = by_ext_.find(lower(name.substr(dot + 1)));
  return it == by_ext_.end() ? std::string_view("application/octet-stream") : std::string_view(it->second);
}

}  // namespace gw::statics
