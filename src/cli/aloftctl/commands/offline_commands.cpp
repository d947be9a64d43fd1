#include "cli/aloftctl/commands/offline_commands.hpp"

#include "cli/aloftctl/keys/ceremony.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/output/progress.hpp"
#include "cli/aloftctl/output/table.hpp"
#include "cli/aloftctl/release/artifact.hpp"
#include "cli/aloftctl/release/delta.hpp"
#include "cli/aloftctl/release/staging.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/crypto/hash.hpp"
#include "core/uptane/target_custom.hpp"
#include "platform/posix/files.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

namespace md = core::metadata;
using core::codec::Json;

Json StringArray(const std::vector<std::string>& items) {
  Json::Array out;
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

Json DeltasJson(const std::vector<release::StagedDelta>& deltas) {
  Json::Array out;
  for (const auto& d : deltas) {
    out.push_back(Json::Object{{"name", d.name},
                               {"length", d.artifact.length},
                               {"sha256", d.artifact.sha256},
                               {"delta", *d.target.custom.Find("delta")}});
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep = ",") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

std::string Short(std::string_view id) { return std::string(id.substr(0, 16)); }

Json KeyFilesJson(const std::vector<keys::KeyFile>& files) {
  Json::Array out;
  for (const auto& f : files) {
    out.push_back(Json::Object{{"role", f.role}, {"keyid", f.keyid}, {"file", f.path.string()}});
  }
  return out;
}

void PrintKeyFiles(std::ostream& out, const std::vector<keys::KeyFile>& files) {
  output::Table table({"ROLE", "KEY ID", "FILE"});
  for (const auto& f : files) table.AddRow({f.role, Short(f.keyid), f.path.string()});
  table.Render(out);
}

Json StateJson(const repo::SigningState& state) {
  Json::Array reqs;
  for (const auto& r : state.requirements) {
    reqs.push_back(Json::Object{{"keys", r.label},
                                {"threshold", r.threshold},
                                {"keyids", StringArray(r.keyids)},
                                {"signed_by", StringArray(r.signed_by)}});
  }
  return Json::Object{{"role", state.role},
                      {"version", state.version},
                      {"expires", FormatTimestamp(state.expires)},
                      {"complete", state.complete},
                      {"requirements", std::move(reqs)}};
}

void AddStateRows(output::Table& table, const repo::SigningState& state) {
  for (const auto& r : state.requirements) {
    std::vector<std::string> missing;
    for (const auto& id : r.keyids) {
      if (std::find(r.signed_by.begin(), r.signed_by.end(), id) == r.signed_by.end()) {
        missing.push_back(Short(id));
      }
    }
    table.AddRow({state.role + " v" + std::to_string(state.version), r.label,
                  std::to_string(r.signed_by.size()) + "/" + std::to_string(r.threshold),
                  r.met() ? "yes" : "no", Join(missing, " ")});
  }
}

// "complete" or what is missing, for one line of human output.
std::string Verdict(const repo::SigningState& state) {
  if (state.complete) return "complete";
  std::string missing;
  for (const auto& r : state.requirements) {
    if (r.met()) continue;
    const auto need = r.threshold - static_cast<std::int64_t>(r.signed_by.size());
    missing += (missing.empty() ? "" : ", ") + std::to_string(need) + " more of " + r.label;
  }
  return "needs " + (missing.empty() ? std::string("valid signatures") : missing);
}

Result<keys::OnlinePublicKeys> ReadOnlineKeys(const std::string& file) {
  auto text = platform::posix::ReadFile(file, 1024 * 1024);
  if (!text) return Fail(std::move(text).error().WithContext("--online-keys"));
  return keys::ParseOnlineKeysText(AsChars(*text));
}

Result<core::crypto::KeyType> ParseKeyType(const std::string& name) {
  if (name == "ed25519") return core::crypto::KeyType::kEd25519;
  if (name == "ecdsa") return core::crypto::KeyType::kEcdsaP256;
  if (name == "rsa") return core::crypto::KeyType::kRsa;
  return Fail(Errc::kInvalidArgument, "--key-type must be ed25519, ecdsa or rsa");
}

}  // namespace

int KeysInit(Context& ctx, const KeysInitArgs& args) {
  auto online = ReadOnlineKeys(args.online_keys);
  if (!online) return ctx.Failed(online.error());
  auto type = ParseKeyType(args.key_type);
  if (!type) return ctx.Usage(type.error().message());
  keys::InitOptions options;
  options.root = {args.root_keys, args.root_threshold};
  options.targets = {args.targets_keys, args.targets_threshold};
  options.root_expiry = std::chrono::days(args.expires_days);
  options.key_type = *type;
  for (const auto& [role, spec] : {std::pair{"root", options.root}, {"targets", options.targets}}) {
    if (Status s = keys::CheckRoleSpec(role, spec); !s) return ctx.Usage(s.error().message());
  }
  auto passphrase = ctx.Passphrase("the new keys", true);
  if (!passphrase) return ctx.Failed(passphrase.error());
  const Timestamp now = ctx.Now();
  auto init = keys::InitRepository(ctx.global.repo, options, *online, *passphrase, now);
  keys::Wipe(*passphrase);
  if (!init) return ctx.Failed(init.error());
  const Timestamp expires = now + options.root_expiry;
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"repo", ctx.global.repo},
                               {"root_version", init->root_version},
                               {"root_expires", FormatTimestamp(expires)},
                               {"keys", KeyFilesJson(init->keys)}});
    return kExitOk;
  }
  ctx.out() << "Created the offline repository " << ctx.global.repo << ": root v1 (expires "
            << FormatTimestamp(expires) << "), signed by all " << args.root_keys
            << " root keys\n\n";
  PrintKeyFiles(ctx.out(), init->keys);
  ctx.out() << "\nNext: give each key file to its holder, then `aloftctl repo upload-root` and "
               "ship metadata/1.root.json with your devices.\n";
  return kExitOk;
}

int KeysShow(Context& ctx) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  auto root = repo::LoadLatestRoot(*repo);
  if (!root) return ctx.Failed(root.error());
  auto state = repo::RootSigningState(*repo);
  if (!state) return ctx.Failed(state.error());
  const md::RootMetadata& content = root->parsed.content;
  if (ctx.global.json) {
    Json::Object roles;
    for (const auto& [name, rk] : content.roles) {
      Json::Array listed;
      for (const auto& id : rk.keyids) {
        auto file = keys::FindKeyFile(repo->keys_dir(), id);
        listed.push_back(Json::Object{{"keyid", id}, {"file", file ? file->string() : ""}});
      }
      roles.emplace(name, Json::Object{{"threshold", rk.threshold}, {"keys", std::move(listed)}});
    }
    ctx.PrintJson(Json::Object{{"root_version", root->version},
                               {"expires", FormatTimestamp(content.common.expires)},
                               {"consistent_snapshot", content.consistent_snapshot},
                               {"complete", state->complete},
                               {"roles", std::move(roles)}});
    return kExitOk;
  }
  ctx.out() << "root v" << root->version << ", expires " << FormatTimestamp(content.common.expires)
            << ", " << Verdict(*state) << "\n\n";
  output::Table table({"ROLE", "THRESHOLD", "KEY ID", "KEY FILE"});
  for (std::string_view role : {md::kRoot, md::kTargets, md::kSnapshot, md::kTimestamp}) {
    auto rk = content.roles.find(role);
    if (rk == content.roles.end()) continue;
    for (const auto& id : rk->second.keyids) {
      auto file = keys::FindKeyFile(repo->keys_dir(), id);
      table.AddRow(
          {std::string(role),
           std::to_string(rk->second.threshold) + "/" + std::to_string(rk->second.keyids.size()),
           Short(id),
           file ? file->string()
                : (role == md::kSnapshot || role == md::kTimestamp ? "(online, on aloftd)"
                                                                   : "(not here)")});
    }
  }
  table.Render(ctx.out());
  return kExitOk;
}

int KeysRotate(Context& ctx, const KeysRotateArgs& args) {
  auto role = keys::ParseRotatedRole(args.role);
  if (!role) return ctx.Usage(role.error().message());
  if (*role == keys::RotatedRole::kOnline && args.online_keys.empty()) {
    return ctx.Usage("--role online needs --online-keys FILE (from `aloftctl online-keys`)");
  }
  if ((args.keys == 0) != (args.threshold == 0)) {
    return ctx.Usage("give --keys and --threshold together");
  }
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  keys::RotateOptions options;
  options.role = *role;
  if (args.keys != 0) options.spec = keys::RoleSpec{args.keys, args.threshold};
  options.root_expiry = std::chrono::days(args.expires_days);
  options.targets_expiry = std::chrono::days(args.targets_expires_days);
  if (!args.online_keys.empty()) {
    auto online = ReadOnlineKeys(args.online_keys);
    if (!online) return ctx.Failed(online.error());
    options.online = std::move(*online);
  }
  const bool new_keys = *role != keys::RotatedRole::kOnline;
  std::string passphrase;
  if (new_keys || !args.sign_with.empty()) {
    auto p = ctx.Passphrase(
        new_keys ? "the new keys (and the keys signing now)" : "the signing keys", new_keys);
    if (!p) return ctx.Failed(p.error());
    passphrase = std::move(*p);
  }
  for (const auto& file : args.sign_with) {
    auto key = keys::LoadKey(file, passphrase);
    if (!key) {
      keys::Wipe(passphrase);
      return ctx.Failed(key.error());
    }
    options.signers.push_back(std::move(*key));
  }
  auto rotated = keys::RotateKeys(*repo, options, passphrase, ctx.Now());
  keys::Wipe(passphrase);
  if (!rotated) return ctx.Failed(rotated.error());
  auto state = repo::RootSigningState(*repo);
  if (!state) return ctx.Failed(state.error());
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"root_version", rotated->root_version},
                               {"new_keys", KeyFilesJson(rotated->new_keys)},
                               {"restaged_targets_version", rotated->restaged_targets_version},
                               {"root", StateJson(*state)}});
    return kExitOk;
  }
  ctx.out() << "Staged root v" << rotated->root_version << " (" << args.role
            << " keys rotated): " << Verdict(*state) << "\n";
  if (!rotated->new_keys.empty()) {
    ctx.out() << "\n";
    PrintKeyFiles(ctx.out(), rotated->new_keys);
  }
  if (rotated->restaged_targets_version != 0) {
    ctx.out() << "\nRe-staged the releases as targets v" << rotated->restaged_targets_version
              << " for the new targets keys to sign.\n";
  }
  if (!state->complete) {
    ctx.out() << "\nCollect the signatures with `aloftctl release sign --key FILE`, then "
                 "`aloftctl repo upload-root`.\n";
  }
  return kExitOk;
}

int ReleaseCreate(Context& ctx, const ReleaseCreateArgs& args) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  release::ReleaseSpec spec;
  spec.name = args.name.empty() ? release::DefaultReleaseName(args.image, args.version) : args.name;
  spec.version = args.version;
  spec.hardware_ids = args.hardware;
  spec.security_counter = args.security_counter;
  spec.notes = args.notes;
  // Checked before the (possibly long) compression.
  if (Status s = release::CheckReleaseSpec(spec); !s) return ctx.Usage(s.error().message());
  if (args.zstd_level < release::kMinZstdLevel || args.zstd_level > release::kMaxZstdLevel) {
    return ctx.Usage("--zstd-level must be 1..19");
  }
  if (args.zstd_window_log < release::kMinZstdWindowLog ||
      args.zstd_window_log > release::kMaxZstdWindowLog) {
    return ctx.Usage("--zstd-window-log must be 10..27");
  }
  auto staged = release::StagedReleases(*repo);
  if (!staged) return ctx.Failed(staged.error());
  if (staged->contains(spec.name)) {
    return ctx.Failed(
        Error(Errc::kAlreadyExists,
              "a release named '" + spec.name + "' is staged already; choose another --name"));
  }

  output::ProgressBar bar(ctx.err(), "compress " + spec.name,
                          ctx.env().progress && !ctx.global.json);
  auto artifact = release::CompressImage(
      args.image, repo->artifacts_dir(), {args.zstd_level, args.zstd_window_log},
      [&bar](std::uint64_t done, std::uint64_t total) { bar.Update(done, total); });
  bar.Finish();
  if (!artifact) return ctx.Failed(artifact.error());
  std::vector<release::StagedDelta> deltas;
  if (!args.delta_from.empty()) {
    // Both images are held in memory while each patch is computed (offline only).
    auto image = platform::posix::ReadFile(args.image, release::kMaxDeltaImageBytes);
    if (!image) return ctx.Failed(image.error());
    if (core::crypto::Sha256Hex(*image) != artifact->image_sha256) {
      return ctx.Failed(
          Error(Errc::kVerificationFailed, args.image + " changed while it was being compressed"));
    }
    for (const std::string& from : args.delta_from) {
      auto source = release::LoadDeltaSource(*repo, from);
      if (!source) return ctx.Failed(source.error());
      output::ProgressBar delta_bar(ctx.err(), "delta from " + source->label,
                                    ctx.env().progress && !ctx.global.json);
      auto delta =
          release::MakeDelta(*repo, spec, *source, *image, artifact->image_sha256, args.zstd_level);
      delta_bar.Finish();
      if (!delta) return ctx.Failed(delta.error());
      deltas.push_back(std::move(*delta));
    }
  }
  std::vector<release::ExtraTarget> extra;
  for (const auto& d : deltas) extra.push_back({d.name, d.target});
  auto targets = release::StageRelease(*repo, spec, *artifact, std::chrono::days(args.expires_days),
                                       ctx.Now(), extra);
  if (!targets) return ctx.Failed(targets.error());
  auto state = repo::TargetsSigningState(*repo);
  if (!state || !*state) {
    return ctx.Failed(state ? Error(Errc::kInternal, "no staged targets") : state.error());
  }
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{
        {"name", spec.name},
        {"version", spec.version},
        {"hardware_ids", StringArray(spec.hardware_ids)},
        {"security_counter", spec.security_counter},
        {"targets_version", targets->version},
        {"dropped_signatures", static_cast<std::int64_t>(targets->dropped_signatures)},
        {"artifact", Json::Object{{"path", artifact->path.string()},
                                  {"length", artifact->length},
                                  {"sha256", artifact->sha256}}},
        {"image",
         Json::Object{{"length", artifact->image_length}, {"sha256", artifact->image_sha256}}},
        {"deltas", DeltasJson(deltas)},
        {"targets", StateJson(**state)}});
    return kExitOk;
  }
  ctx.out() << "Staged release " << output::Printable(spec.name) << " (version "
            << output::Printable(spec.version) << ", hardware " << Join(spec.hardware_ids)
            << ", security counter " << spec.security_counter << ") in targets v"
            << targets->version << "\n"
            << "  image     "
            << output::HumanBytes(static_cast<std::uint64_t>(artifact->image_length)) << "  sha256 "
            << artifact->image_sha256 << "\n"
            << "  artifact  " << output::HumanBytes(static_cast<std::uint64_t>(artifact->length))
            << "  sha256 " << artifact->sha256 << "\n";
  for (const auto& d : deltas) {
    ctx.out() << "  delta     " << output::HumanBytes(static_cast<std::uint64_t>(d.artifact.length))
              << "  " << output::Printable(d.name) << "\n";
  }
  if (targets->dropped_signatures > 0) {
    ctx.out() << "  (" << targets->dropped_signatures << " signature(s) on the unfinished targets v"
              << targets->version << " no longer cover it and were dropped)\n";
  }
  ctx.out() << "targets v" << targets->version << ": " << Verdict(**state)
            << "; sign with `aloftctl release sign --key FILE`\n";
  return kExitOk;
}

int ReleaseSign(Context& ctx, const ReleaseSignArgs& args) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  auto passphrase = ctx.Passphrase(args.key, false);
  if (!passphrase) return ctx.Failed(passphrase.error());
  auto key = keys::LoadKey(args.key, *passphrase);
  keys::Wipe(*passphrase);
  if (!key) return ctx.Failed(key.error());
  std::optional<std::string> role;
  if (!args.role.empty()) role = args.role;
  auto signed_files = repo::SignStaged(*repo, *key, role);
  if (!signed_files) return ctx.Failed(signed_files.error());
  if (ctx.global.json) {
    Json::Array list;
    for (const auto& f : *signed_files) {
      list.push_back(
          Json::Object{{"role", f.role}, {"version", f.version}, {"complete", f.complete}});
    }
    ctx.PrintJson(Json::Object{{"keyid", key->KeyId()}, {"signed", std::move(list)}});
    return kExitOk;
  }
  for (const auto& f : *signed_files) {
    ctx.out() << "Signed " << f.role << " v" << f.version << " with key " << Short(key->KeyId())
              << ": " << (f.complete ? "complete, ready to upload" : "more signatures needed")
              << "\n";
  }
  return kExitOk;
}

int ReleaseStatus(Context& ctx) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  auto root = repo::RootSigningState(*repo);
  if (!root) return ctx.Failed(root.error());
  auto targets = repo::TargetsSigningState(*repo);
  if (!targets) return ctx.Failed(targets.error());
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"root", StateJson(*root)},
                               {"targets", *targets ? StateJson(**targets) : Json()}});
    return kExitOk;
  }
  output::Table table({"METADATA", "KEYS", "SIGNED", "MET", "MISSING"});
  AddStateRows(table, *root);
  if (*targets) AddStateRows(table, **targets);
  table.Render(ctx.out());
  ctx.out() << "\nroot v" << root->version << " (expires " << FormatTimestamp(root->expires)
            << "): " << Verdict(*root) << "\n";
  if (*targets) {
    ctx.out() << "targets v" << (*targets)->version << " (expires "
              << FormatTimestamp((*targets)->expires) << "): " << Verdict(**targets) << "\n";
  } else {
    ctx.out() << "no targets staged yet (aloftctl release create)\n";
  }
  return kExitOk;
}

int ReleaseRevoke(Context& ctx, const std::string& name, int expires_days) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  auto staged = release::RevokeRelease(*repo, name, std::chrono::days(expires_days), ctx.Now());
  if (!staged) return ctx.Failed(staged.error());
  auto state = repo::TargetsSigningState(*repo);
  if (!state || !*state) {
    return ctx.Failed(state ? Error(Errc::kInternal, "no staged targets") : state.error());
  }
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{
        {"revoked", name}, {"targets_version", staged->version}, {"targets", StateJson(**state)}});
    return kExitOk;
  }
  ctx.out() << "Staged targets v" << staged->version << " without " << output::Printable(name)
            << ": " << Verdict(**state)
            << "; sign it, then `aloftctl release upload` to withdraw the release\n";
  return kExitOk;
}

int ReleaseListStaged(Context& ctx) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  auto releases = release::StagedReleases(*repo);
  if (!releases) return ctx.Failed(releases.error());
  Json::Array list;
  output::Table table({"NAME", "VERSION", "HARDWARE", "COUNTER", "SIZE", "SHA256"});
  for (const auto& [name, file] : *releases) {
    auto custom = core::uptane::ParseImageCustom(file.custom);
    const std::string sha = file.hashes.contains("sha256") ? file.hashes.at("sha256") : "";
    const Json* notes = file.custom.Find("notes");
    list.push_back(
        Json::Object{{"name", name},
                     {"version", custom ? custom->version : ""},
                     {"hardware_ids", custom ? StringArray(custom->hardware_ids) : Json::Array{}},
                     {"security_counter", custom ? custom->security_counter : 0},
                     {"length", file.length},
                     {"sha256", sha},
                     {"notes", notes != nullptr && notes->IsString() ? notes->AsString() : ""}});
    table.AddRow({name, custom ? custom->version : "?", custom ? Join(custom->hardware_ids) : "?",
                  custom ? std::to_string(custom->security_counter) : "?",
                  output::HumanBytes(static_cast<std::uint64_t>(file.length)), Short(sha)});
  }
  if (ctx.global.json) {
    ctx.PrintJson(Json::Object{{"releases", std::move(list)}});
    return kExitOk;
  }
  table.Render(ctx.out());
  return kExitOk;
}

}  // namespace aloft::cli::aloftctl::commands
