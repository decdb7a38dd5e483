#pragma once

// std::optional members for CAF 0.17's inspectors, which know caf::optional
// but not std::optional: `f(x.a, optional_field(x.b))` writes a flag, then
// the value when there is one, and reads them back the same way (the layout
// of caf::optional's inspect, caf/optional.hpp at 0.17.6). No CAF include:
// an inspector only needs `reads_state` and `result_type`.

#include <optional>
#include <utility>

namespace hitl {

/// A view of one std::optional member, for the duration of one inspection.
template <class T>
struct optional_field_ref {
  std::optional<T>& x;
};

/// Wraps the member `x` for an inspector's argument list.
template <class T>
optional_field_ref<T> optional_field(std::optional<T>& x) {
  return {x};
}

namespace detail {

// The value after the flag: inspected only when the flag, read before it
// in the same argument list, says there is one.
template <class T>
struct optional_value {
  bool& present;
  T& value;

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f,
                                                 optional_value& x) {
    return x.present ? f(x.value) : f();
  }
};

} // namespace detail

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f,
                                        optional_field_ref<T>& ref) {
  if constexpr (Inspector::reads_state) {
    return ref.x ? f(true, *ref.x) : f(false);
  } else {
    bool present = false;
    T tmp{};
    detail::optional_value<T> value{present, tmp};
    auto result = f(present, value);
    if (present)
      ref.x = std::move(tmp);
    else
      ref.x.reset();
    return result;
  }
}

/// A std::optional of one of our own types as a message element of its own
/// (a reader's answer): found by ADL through the namespace of `T`. Members,
/// which may hold a std::optional of a standard type, go through
/// optional_field.
template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, std::optional<T>& x) {
  auto ref = optional_field(x);
  return inspect(f, ref);
}

} // namespace hitl
