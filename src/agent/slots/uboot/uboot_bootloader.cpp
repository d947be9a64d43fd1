#include "agent/slots/uboot/uboot_bootloader.hpp"

// libuboot.h uses size_t without including its definition.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <libuboot.h>

#include <cerrno>
#include <string>

namespace aloft::agent::slots::uboot {
namespace {

Error LibError(int rc, std::string_view what, const std::filesystem::path& config) {
  return Error(Errc::kIo, std::string(what) + " (" + config.string() +
                              "): " + std::strerror(-rc));
}

// One libubootenv context: configured and opened on creation, closed and freed on scope exit.
class Context {
 public:
  // `allow_invalid`: a CRC-less environment opens empty instead of failing (for initialising).
  static Result<Context> Open(const std::filesystem::path& config, bool allow_invalid) {
    Context ctx;
    if (const int rc = libuboot_initialize(&ctx.ctx_, nullptr); rc < 0) {
      return Fail(LibError(rc, "libuboot_initialize", config));
    }
    if (const int rc = libuboot_read_config(ctx.ctx_, config.c_str()); rc < 0) {
      return Fail(LibError(rc, "reading U-Boot env config", config));
    }
    const int rc = libuboot_open(ctx.ctx_);
    ctx.opened_ = true;
    if (rc == -ENODATA) {
      if (!allow_invalid) {
        return Fail(Errc::kCorrupt, "U-Boot environment (" + config.string() +
                                        ") has no valid copy (bad CRC)");
      }
    } else if (rc < 0) {
      return Fail(LibError(rc, "opening U-Boot environment", config));
    }
    return ctx;
  }
  Context(Context&& other) noexcept
      : ctx_(std::exchange(other.ctx_, nullptr)), opened_(std::exchange(other.opened_, false)) {}
  Context& operator=(Context&&) = delete;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() {
    if (ctx_ == nullptr) return;
    if (opened_) libuboot_close(ctx_);
    libuboot_exit(ctx_);
  }
  uboot_ctx* get() const noexcept { return ctx_; }

 private:
  Context() = default;
  uboot_ctx* ctx_ = nullptr;
  bool opened_ = false;
};

Status SetAndStore(Context& ctx, const EnvVars& vars, const std::filesystem::path& config) {
  for (const auto& [name, value] : vars) {
    if (const int rc = libuboot_set_env(ctx.get(), name.c_str(), value.c_str()); rc < 0) {
      return Fail(LibError(rc, "setting " + name, config));
    }
  }
  if (const int rc = libuboot_env_store(ctx.get()); rc < 0) {
    return Fail(LibError(rc, "storing U-Boot environment", config));
  }
  return Ok();
}

}  // namespace

Result<EnvVars> UbootEnv::Load() {
  auto ctx = Context::Open(config_, /*allow_invalid=*/false);
  if (!ctx) return Fail(std::move(ctx).error());
  EnvVars vars;
  for (void* entry = libuboot_iterator(ctx->get(), nullptr); entry != nullptr;
       entry = libuboot_iterator(ctx->get(), entry)) {
    const char* name = libuboot_getname(entry);
    const char* value = libuboot_getvalue(entry);
    if (name != nullptr) vars.emplace(name, value != nullptr ? value : "");
  }
  return vars;
}

Status UbootEnv::Store(const EnvVars& changes) {
  auto ctx = Context::Open(config_, /*allow_invalid=*/false);
  if (!ctx) return Fail(std::move(ctx).error());
  return SetAndStore(*ctx, changes, config_);
}

Result<std::unique_ptr<Bootloader>> CreateUbootBootloader(UbootOptions options) {
  BootedSlotProbe probe =
      options.booted ? std::move(options.booted) : ProcCmdlineProbe("aloft.slot", options.scheme);
  auto bootloader = EnvBootloader::Create(std::make_unique<UbootEnv>(std::move(options.config)),
                                          std::move(options.scheme), std::move(probe));
  if (!bootloader) return Fail(std::move(bootloader).error());
  return std::unique_ptr<Bootloader>(std::move(*bootloader));
}

Status InitializeUbootEnv(const std::filesystem::path& config, const EnvVars& vars) {
  auto ctx = Context::Open(config, /*allow_invalid=*/true);
  if (!ctx) return Fail(std::move(ctx).error());
  // Start from nothing: drop whatever a valid old environment held.
  EnvVars old;
  for (void* entry = libuboot_iterator(ctx->get(), nullptr); entry != nullptr;
       entry = libuboot_iterator(ctx->get(), entry)) {
    if (const char* name = libuboot_getname(entry); name != nullptr) old.emplace(name, "");
  }
  for (const auto& [name, unused] : old) {
    if (vars.count(name) == 0) {
      if (const int rc = libuboot_set_env(ctx->get(), name.c_str(), nullptr); rc < 0) {
        return Fail(LibError(rc, "dropping " + name, config));
      }
    }
  }
  return SetAndStore(*ctx, vars, config);
}

}  // namespace aloft::agent::slots::uboot
