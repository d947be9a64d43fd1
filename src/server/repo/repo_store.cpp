#include "server/repo/repo_store.hpp"

namespace aloft::server::repo {

std::string DirectorDeviceRepo(std::string_view device_id) {
  return std::string(kDirectorRepo) + "/" + std::string(device_id);
}

}  // namespace aloft::server::repo
