#pragma once

// `aloftctl groups ...`: aloftd's static device groups (GET/POST /api/v1/groups, ...).
// Each returns an exit code; with --json it prints the server's answer as it came.

#include <string>
#include <vector>

#include "cli/aloftctl/commands/context.hpp"

namespace aloft::cli::aloftctl::commands {

struct GroupListArgs {
  std::string after;  // page cursor
  int limit = 0;      // 0: the server's default
};

int GroupList(Context& ctx, const GroupListArgs& args);
// The group and a page of its members.
int GroupShow(Context& ctx, const std::string& name, const GroupListArgs& page);
int GroupCreate(Context& ctx, const std::string& name);
int GroupDelete(Context& ctx, const std::string& name);
// Adds or removes `devices` (all or nothing: unknown ids are refused by aloftd, exit 4).
int GroupMembers(Context& ctx, const std::string& name, const std::vector<std::string>& devices,
                 bool add);

}  // namespace aloft::cli::aloftctl::commands
