#pragma once

// The grub backend runs grub-editenv through the platform's process runner; this header keeps
// the backend's name for it.

#include "platform/posix/run_command.hpp"

namespace aloft::agent::slots::grub {

using platform::posix::CommandResult;
using platform::posix::RunCommand;

}  // namespace aloft::agent::slots::grub
