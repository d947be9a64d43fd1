#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/groups/group_store.hpp"

namespace aloft::server::groups::sqlite {

// Static groups in aloftd's SQLite database (migration 7: device_groups,
// device_group_members, with foreign keys to devices that cascade on delete). Each call leases
// one connection for its duration; membership changes run in one BEGIN IMMEDIATE transaction.
// Only bound parameters reach SQL. The pool must outlive the store and its database must be
// migrated (store::sqlite::ServerMigrations).
class SqliteGroupStore final : public GroupStore {
 public:
  explicit SqliteGroupStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Status InsertGroup(const Group& group) override;
  Result<Group> GetGroup(std::string_view name) override;
  Result<std::vector<Group>> ListGroups(std::string_view after_name, std::size_t limit) override;
  Status DeleteGroup(std::string_view name) override;
  Result<std::vector<std::string>> ListMembers(std::string_view name,
                                               std::string_view after_device_id,
                                               std::size_t limit) override;
  Result<MembershipChange> AddMembers(std::string_view name,
                                      std::span<const std::string> device_ids,
                                      Timestamp now) override;
  Result<MembershipChange> RemoveMembers(std::string_view name,
                                         std::span<const std::string> device_ids) override;
  Result<std::vector<std::string>> GroupsOf(std::string_view device_id) override;

 private:
  Result<MembershipChange> ChangeMembers(std::string_view name,
                                         std::span<const std::string> device_ids, bool add,
                                         Timestamp now);

  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::groups::sqlite
