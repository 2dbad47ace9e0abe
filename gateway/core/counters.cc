#include "core/counters.h"

namespace gw {

Counters& counters() {
  static Counters c;
  return c;
}

std::string countersText() {
  std::string out;
#define GW_PRINT_COUNTER(name)                                                   \
  out += #name;                                                                  \
  out += ' ';                                                                    \
  out += std::to_string(counters().name.load(std::memory_order_relaxed));        \
  out += '\n';
  GW_ALL_COUNTERS(GW_PRINT_COUNTER)
#undef GW_PRINT_COUNTER
  return out;
}

}  // namespace gw
