#include "server/releases/release.hpp"

#include "core/uptane/target_custom.hpp"

namespace aloft::server::releases {

Result<Release> ReleaseFromTarget(const std::string& name,
                                  const core::metadata::TargetFile& target) {
  auto sha = target.hashes.find("sha256");
  if (sha == target.hashes.end()) {
    return Fail(Errc::kInvalidArgument, "target '" + name + "' has no sha256 hash");
  }
  auto custom = core::uptane::ParseImageCustom(target.custom);
  if (!custom) return Fail(custom.error().WithContext("target '" + name + "'"));
  Release release;
  release.name = name;
  release.version = custom->version;
  release.hardware_ids = custom->hardware_ids;
  release.security_counter = custom->security_counter;
  if (const auto* notes = target.custom.Find("notes"); notes != nullptr && notes->IsString()) {
    release.notes = notes->AsString();
  }
  release.target = target;
  release.sha256 = sha->second;
  return release;
}

core::codec::Json ToJson(const Release& release) {
  core::codec::Json::Array hardware;
  for (const auto& id : release.hardware_ids) hardware.emplace_back(id);
  return core::codec::Json::Object{{"name", release.name},
                                   {"version", release.version},
                                   {"hardware_ids", std::move(hardware)},
                                   {"security_counter", release.security_counter},
                                   {"length", release.target.length},
                                   {"sha256", release.sha256},
                                   {"notes", release.notes}};
}

}  // namespace aloft::server::releases
