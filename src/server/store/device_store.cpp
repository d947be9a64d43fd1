// The store interfaces are header-only; this file anchors the module's library.
#include "server/store/device_store.hpp"
