#include "cli/aloftctl/commands/delta_commands.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "cli/aloftctl/output/progress.hpp"
#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/unique_fd.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

namespace posix = platform::posix;
using core::codec::Json;

// A whole file mapped read-only: images are read in place, never copied into the heap (the
// applier's memory bound is on top of this mapping, which the kernel pages in and out).
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::string& path) {
    posix::UniqueFd fd(posix::OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Fail(posix::ErrnoError(errno, "open", path));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Fail(posix::ErrnoError(errno, "stat", path));
    if (!S_ISREG(st.st_mode)) return Fail(Errc::kInvalidArgument, path + " is not a regular file");
    MappedFile file;
    file.size_ = static_cast<std::size_t>(st.st_size);
    if (file.size_ == 0) return file;
    void* data = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (data == MAP_FAILED) return Fail(posix::ErrnoError(errno, "map", path));
    (void)::madvise(data, file.size_, MADV_WILLNEED);
    file.data_ = static_cast<const std::uint8_t*>(data);
    return file;
  }
  MappedFile(MappedFile&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
  }
  ByteView bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Counts the bytes that pass through to another writer.
class CountingWriter final : public core::io::Writer {
 public:
  explicit CountingWriter(core::io::Writer& next) : next_(next) {}
  Status Write(ByteView data) override {
    count += data.size();
    return next_.Write(data);
  }
  std::uint64_t count = 0;

 private:
  core::io::Writer& next_;
};

}  // namespace

int DeltaCreate(Context& ctx, const DeltaCreateArgs& args) {
  auto source = MappedFile::Open(args.source);
  if (!source) return ctx.Failed(source.error());
  auto target = MappedFile::Open(args.target);
  if (!target) return ctx.Failed(target.error());
  auto file = posix::AtomicFileWriter::Create(args.patch);
  if (!file) return ctx.Failed(file.error());
  CountingWriter counted(*file);
  core::delta::CreateOptions options;
  options.level = args.level;
  options.prefix_window = static_cast<std::uint64_t>(args.prefix_window_mib) << 20;
  if (Status s = core::delta::CreatePatch(source->bytes(), target->bytes(), counted, options); !s) {
    return ctx.Failed(s.error());
  }
  if (Status s = file->Commit(); !s) return ctx.Failed(s.error());
  const double ratio = target->bytes().empty()
                           ? 0.0
                           : static_cast<double>(counted.count) / static_cast<double>(target->bytes().size());
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"patch", args.patch},
                               {"patch_size", static_cast<std::int64_t>(counted.count)},
                               {"source_size", static_cast<std::int64_t>(source->bytes().size())},
                               {"target_size", static_cast<std::int64_t>(target->bytes().size())},
                               {"target_sha256", core::crypto::Sha256Hex(target->bytes())}});
    return kExitOk;
  }
  char percent[32];
  std::snprintf(percent, sizeof percent, "%.2f", ratio * 100);
  ctx.out() << "Wrote " << args.patch << ": " << counted.count << " bytes (" << percent << " % of "
            << args.target << ", " << target->bytes().size() << " bytes)\n";
  return kExitOk;
}

int DeltaApply(Context& ctx, const DeltaApplyArgs& args) {
  auto source = MappedFile::Open(args.source);
  if (!source) return ctx.Failed(source.error());
  posix::UniqueFd patch(posix::OpenRetrying(args.patch.c_str(), O_RDONLY | O_CLOEXEC));
  if (!patch.valid()) return ctx.Failed(posix::ErrnoError(errno, "open", args.patch));
  struct stat st {};
  if (::fstat(patch.get(), &st) != 0) return ctx.Failed(posix::ErrnoError(errno, "stat", args.patch));
  const auto patch_size = static_cast<std::uint64_t>(st.st_size);

  auto file = posix::AtomicFileWriter::Create(args.output);
  if (!file) return ctx.Failed(file.error());
  CountingWriter counted(*file);
  core::delta::PatchApplier applier(source->bytes(), counted);
  output::ProgressBar bar(ctx.err(), "apply " + args.patch, ctx.env().progress && !ctx.global.json);
  // The patch streams through a fixed buffer, as it would from the network.
  Bytes buffer(1u << 20);
  std::uint64_t read_total = 0;
  for (;;) {
    const ssize_t n = ::read(patch.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ctx.Failed(posix::ErrnoError(errno, "read", args.patch));
    if (n == 0) break;
    read_total += static_cast<std::uint64_t>(n);
    if (Status s = applier.Write(ByteView(buffer).first(static_cast<std::size_t>(n))); !s) {
      return ctx.Failed(std::move(s).error().WithContext(args.patch));
    }
    bar.Update(read_total, patch_size);
  }
  if (Status s = applier.Finish(); !s) return ctx.Failed(std::move(s).error().WithContext(args.patch));
  bar.Finish();
  // Only a verified result replaces OUT; on any error above the temporary file is removed.
  if (Status s = file->Commit(); !s) return ctx.Failed(s.error());
  const core::delta::PatchHeader* header = applier.header();
  const std::string sha256 = header == nullptr ? "" : HexEncode(header->target_sha256);
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"output", args.output},
                               {"size", static_cast<std::int64_t>(counted.count)},
                               {"sha256", sha256},
                               {"patch_size", static_cast<std::int64_t>(read_total)}});
    return kExitOk;
  }
  ctx.out() << "Wrote " << args.output << ": " << counted.count << " bytes, sha256 " << sha256
            << " (verified)\n";
  return kExitOk;
}

}  // namespace aloft::cli::aloftctl::commands
