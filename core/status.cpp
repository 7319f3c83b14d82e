#include "core/status.hpp"

namespace lockbox {

Status Status::with_context(const std::string& context) const {
  if (is_ok()) return *this;
  return {code_, context + ": " + message_};
}

int exit_code_for(const Status& status) { return static_cast<int>(status.code()); }

}  // namespace lockbox
