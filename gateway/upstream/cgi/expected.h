#pragma once
// gw::proto::Expected<T, E> / gw::proto::unexpected(e): std::expected and std::unexpected where the
// standard library has them (g++ 12), else a minimal stand-in with the same spelling for the parts
// the protocol modules use. Why: the fuzz preset builds gateway/ with clang 14 + libstdc++ 12,
// which has no std::expected (cmake/Deps.cmake), and these modules must build there too.
#include <version>

#if defined(__cpp_lib_expected)
#include <expected>
namespace gw::proto {
template <class T, class E>
using Expected = std::expected<T, E>;
using std::unexpected;
}  // namespace gw::proto
#else
#include <optional>
#include <utility>
#include <variant>

namespace gw::proto {

template <class E>
class unexpected {
 public:
  constexpr explicit unexpected(E e) : e_(std::move(e)) {}
  constexpr const E& error() const { return e_; }

 private:
  E e_;
};

template <class T, class E>
class Expected {
 public:
  Expected() : v_(std::in_place_index<0>) {}
  Expected(const T& v) : v_(std::in_place_index<0>, v) {}
  Expected(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  template <class G>
  Expected(const unexpected<G>& u) : v_(std::in_place_index<1>, E(u.error())) {}
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class Expected<void, E> {
 public:
  Expected() = default;
  template <class G>
  Expected(const unexpected<G>& u) : e_(E(u.error())) {}
  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const E& error() const { return *e_; }

 private:
  std::optional<E> e_;
};

}  // namespace gw::proto
#endif
