#pragma once
// Content-Type by file extension: a built-in table of common types (no dependency on
// /etc/mime.types), optionally extended/overridden by a mime.types-format file.
//
// Threading: built once (control plane), then only read: safe to share between workers.
#include <string>
#include <string_view>
#include <unordered_map>

namespace gw::statics {

class MimeTable {
 public:
  MimeTable();  // the built-in table

  // Adds the entries of a mime.types file ("type ext1 ext2 ...", '#' comments); they override
  // the built-in ones. Returns false (and sets *why) when the file cannot be read; the table is
  // unchanged then. Lines that do not parse are skipped, as Apache and nginx do.
  bool loadFile(const std::string& path, std::string* why);

  // The type for a file name, by its last extension (case-insensitive);
  // "application/octet-stream" when unknown or without extension.
  std::string_view lookup(std::string_view file_name) const;

  size_t size() const { return by_ext_.size(); }

 private:
  std::unordered_map<std::string, std::string> by_ext_;  // lower-case extension → type
};

}  // namespace gw::statics
