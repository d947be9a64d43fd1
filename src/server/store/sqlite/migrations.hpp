#pragma once

#include <span>

#include "platform/sqlite/migrator.hpp"

namespace aloft::server::store::sqlite {

// aloftd's schema, in order. A shipped migration is never edited (the migrator refuses a
// database whose recorded checksum differs); changes come as new migrations.
std::span<const platform::sqlite::Migration> ServerMigrations();

}  // namespace aloft::server::store::sqlite
