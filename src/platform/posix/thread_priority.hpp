#pragma once

// CPU priority of the calling thread. aloftd's background work (the last-seen flush, delta
// builds) runs below its request threads, so a burst of it slows check-ins down as little as
// the scheduler allows, and still gets the CPU the request threads leave.

#include "core/base/result.hpp"

namespace aloft::platform::posix {

// Raises the calling thread's nice value by `increment` (1..19, capped at 19): a lower
// priority, for this thread only (Linux schedules threads by their own nice value). Lowering
// needs no privilege; nothing here raises a priority back.
Status LowerCurrentThreadPriority(int increment);

// The calling thread's nice value (-20..19).
Result<int> CurrentThreadNice();

}  // namespace aloft::platform::posix
