#pragma once

#include "platform/sqlite/connection_pool.hpp"
#include "server/store/device_store.hpp"

namespace aloft::server::store::sqlite {

// Devices, enrollment and reports in SQLite. Each call leases one connection from the pool
// for its duration, so calls from several threads run side by side (WAL readers) and
// writers serialise on SQLite's lock. The pool's database must be migrated
// (ServerMigrations) before use.
class SqliteDeviceStore final : public DeviceStore, public EnrollmentStore, public ReportStore {
 public:
  explicit SqliteDeviceStore(platform::sqlite::ConnectionPool& pool) : pool_(pool) {}

  Result<DeviceRow> GetDevice(std::string_view id) override;
  Result<DeviceState> GetDeviceState(std::string_view id) override;
  Status InsertDevice(const DeviceRow& device) override;
  Status SetDeviceStatus(std::string_view id, core::wire::EnrollmentStatus status,
                         Timestamp now) override;
  Status RecordInventory(std::string_view id, const core::wire::Inventory& inventory,
                         Timestamp now) override;
  Status TouchDevice(std::string_view id, Timestamp now) override;
  Status TouchDevices(const std::vector<DeviceSeen>& seen) override;
  Result<std::vector<DeviceRow>> ListDevices(const DeviceFilter& filter) override;
  Result<std::vector<DeviceCount>> CountDevices() override;
  Result<std::int64_t> CountAcceptedNotSeenSince(Timestamp since) override;
  Result<std::vector<std::string>> CommonImages(std::string_view hardware_id,
                                                std::size_t limit) override;

  Status Preauthorize(const PreauthorizedKey& key) override;
  Result<PreauthorizedKey> FindPreauthorized(std::string_view key_id) override;
  Status InsertToken(const EnrollmentToken& token) override;
  Status ConsumeToken(std::string_view token_hash, Timestamp now) override;

  Result<bool> AddReport(std::string_view device_id, const core::wire::Report& report,
                         Timestamp received_at) override;
  Result<std::vector<core::wire::Report>> RecentReports(std::string_view device_id,
                                                        std::size_t limit) override;

 private:
  Result<platform::sqlite::ConnectionPool::Lease> Lease();
  platform::sqlite::ConnectionPool& pool_;
};

}  // namespace aloft::server::store::sqlite
