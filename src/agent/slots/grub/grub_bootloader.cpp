#include "agent/slots/grub/grub_bootloader.hpp"

#include <string>
#include <vector>

#include "agent/slots/grub/run_command.hpp"

namespace aloft::agent::slots::grub {
namespace {

Status CheckVar(const std::string& name, const std::string& value) {
  const bool name_ok =
      !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_") == std::string::npos;
  if (!name_ok) return Fail(Errc::kInvalidArgument, "bad grubenv variable name '" + name + "'");
  if (value.find_first_of("\n\\") != std::string::npos) {
    return Fail(Errc::kInvalidArgument, "grubenv value of " + name + " holds a newline or '\\'");
  }
  return Ok();
}

// Runs grub-editenv with `args` after the file name; a non-zero exit is kIo with its output.
Result<std::string> Editenv(const GrubOptions& options, std::vector<std::string> args) {
  std::vector<std::string> argv{options.editenv.string(), options.env_file.string()};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  auto run = RunCommand(argv, options.timeout);
  if (!run) return Fail(std::move(run).error().WithContext("grub-editenv"));
  if (run->exit_code != 0) {
    std::string output = run->output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return Fail(Errc::kIo, "grub-editenv " + options.env_file.string() + " " + argv[2] +
                               ": exit " + std::to_string(run->exit_code) + ": " + output);
  }
  return std::move(run->output);
}

Status Set(const GrubOptions& options, const EnvVars& vars) {
  if (vars.empty()) return Ok();
  std::vector<std::string> args{"set"};
  for (const auto& [name, value] : vars) {
    if (auto ok = CheckVar(name, value); !ok) return ok;
    args.push_back(name + "=" + value);
  }
  auto out = Editenv(options, std::move(args));
  if (!out) return Fail(std::move(out).error());
  return Ok();
}

}  // namespace

Result<EnvVars> GrubEnv::Load() {
  auto out = Editenv(options_, {"list"});
  if (!out) return Fail(std::move(out).error());
  EnvVars vars;
  std::size_t pos = 0;
  const std::string& text = *out;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(Errc::kCorrupt, "grubenv " + options_.env_file.string() + ": line '" + line +
                                      "' is not NAME=VALUE");
    }
    vars.insert_or_assign(line.substr(0, eq), line.substr(eq + 1));
  }
  return vars;
}

Status GrubEnv::Store(const EnvVars& changes) { return Set(options_, changes); }

Result<std::unique_ptr<Bootloader>> CreateGrubBootloader(GrubOptions options) {
  BootedSlotProbe probe =
      options.booted ? std::move(options.booted) : ProcCmdlineProbe("aloft.slot", options.scheme);
  EnvScheme scheme = options.scheme;
  auto bootloader =
      EnvBootloader::Create(std::make_unique<GrubEnv>(std::move(options)), std::move(scheme),
                            std::move(probe));
  if (!bootloader) return Fail(std::move(bootloader).error());
  return std::unique_ptr<Bootloader>(std::move(*bootloader));
}

Status InitializeGrubEnv(const GrubOptions& options, const EnvVars& vars) {
  std::error_code ec;
  std::filesystem::remove(options.env_file, ec);  // `create` keeps an existing file as it is
  auto created = Editenv(options, {"create"});
  if (!created) return Fail(std::move(created).error());
  return Set(options, vars);
}

}  // namespace aloft::agent::slots::grub
