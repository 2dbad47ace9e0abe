#include "validators/violation.h"

#include "validators/result.h"

namespace gw::validators {

std::string SpecError::toString() const {
  std::string s;
  if (!file.empty()) {
    s += file;
    if (line > 0) {
      s += ':';
      s += std::to_string(line);
    }
    s += ": ";
  }
  if (!pointer.empty()) s += pointer + ": ";
  s += message;
  return s;
}

std::string SpecErrors::toString() const {
  std::string s;
  for (const auto& e : errors) {
    s += e.toString();
    s += '\n';
  }
  return s;
}

std::string Violation::toString() const {
  std::string s = code;
  s += " [";
  s += in;
  if (!name.empty()) s += " " + name;
  if (!pointer.empty()) s += " " + pointer;
  s += "]";
  if (!keyword.empty()) s += " (" + keyword + ")";
  s += ": " + message;
  return s;
}

bool ViolationSink::add(Violation&& v) {
  if (items_.size() >= max_) {
    ++dropped_;
    return false;
  }
  items_.push_back(std::move(v));
  return items_.size() < max_;
}

}  // namespace gw::validators
