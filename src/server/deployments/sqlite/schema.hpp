#pragma once

#include <string_view>

namespace aloft::server::deployments::sqlite {

// The deployment tables, as one migration for store/sqlite's list (it must run after the
// migrations creating the devices tables; it references none of them). Like every shipped
// migration it must never be edited once released: changes come as new migrations.
//
//   deployments         one row per deployment; selector, phases, target and hardware ids
//                       as JSON; seq gives creation order.
//   deployment_devices  one row per admitted device, PRIMARY KEY (deployment_id, device_id);
//                       indexed for per-phase counts, per-device history, the one assigned
//                       row per device, and the deadline sweep.
std::string_view DeploymentsSchemaSql();

}  // namespace aloft::server::deployments::sqlite
