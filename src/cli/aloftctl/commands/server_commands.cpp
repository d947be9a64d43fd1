#include "cli/aloftctl/commands/server_commands.hpp"

#include <set>

#include "cli/aloftctl/client/credentials.hpp"
#include "cli/aloftctl/client/login.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/keys/online_keys.hpp"
#include "cli/aloftctl/output/progress.hpp"
#include "cli/aloftctl/output/json_cell.hpp"
#include "cli/aloftctl/output/table.hpp"
#include "cli/aloftctl/repo/signing.hpp"
#include "core/base/percent_encode.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"
#include "core/metadata/verify.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

namespace md = core::metadata;
using client::Segment;
using core::codec::Json;

using output::Cell;

const Json::Array& Items(const Json& body, std::string_view key) {
  static const Json::Array kEmpty;
  const Json* items = body.Find(key);
  return items != nullptr && items->IsArray() ? items->AsArray() : kEmpty;
}

std::string Short(const std::string& text, std::size_t n = 16) { return text.substr(0, n); }

// Prints an object as "key: value" lines, in the order given, then any other scalar members.
void PrintFields(std::ostream& out, const Json& object, const std::vector<std::string>& order) {
  std::set<std::string> done;
  for (const auto& key : order) {
    if (object.Find(key) == nullptr) continue;
    out << key << ": " << output::Printable(Cell(object, key)) << "\n";
    done.insert(key);
  }
  if (!object.IsObject()) return;
  for (const auto& [key, value] : object.AsObject()) {
    if (done.contains(key) || value.IsObject() ||
        (value.IsArray() && !value.AsArray().empty() && value.AsArray()[0].IsObject())) {
      continue;
    }
    out << key << ": " << output::Printable(Cell(&value)) << "\n";
  }
}

// Streams a body to a std::ostream (audit export to stdout).
class StreamWriter final : public core::io::Writer {
 public:
  explicit StreamWriter(std::ostream& out) : out_(out) {}
  Status Write(ByteView data) override {
    out_.write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
    if (!out_) return Fail(Errc::kIo, "cannot write to standard output");
    return Ok();
  }

 private:
  std::ostream& out_;
};

// Uploads root versions 1..latest in order; aloftd takes each only as the next link of its
// chain and refuses the ones it has (409 rollback), which are skipped.
Result<std::vector<std::int64_t>> UploadRoots(Context& ctx, client::ApiClient& api,
                                              const repo::OfflineRepo& repo) {
  auto latest = repo.LatestVersion(md::kRoot);
  if (!latest) return Fail(latest.error());
  std::vector<std::int64_t> uploaded;
  for (std::int64_t v = 1; v <= *latest; ++v) {
    auto bytes = repo.ReadMetadata(md::kRoot, v);
    if (!bytes) return Fail(bytes.error());
    auto put = api.PutBytes("/api/v1/image-repo/root", ToString(*bytes), "application/json");
    if (put) {
      uploaded.push_back(v);
      if (!ctx.global.json) ctx.out() << "uploaded root v" << v << "\n";
      continue;
    }
    const auto& refusal = api.refusal();
    if (refusal && refusal->status == 409 && refusal->code == "rollback") continue;
    return Fail(put.error());
  }
  return uploaded;
}

Status VerifyRootLocally(Context& ctx, const repo::OfflineRepo& repo) {
  if (Status s = repo::VerifyRootChain(repo, ctx.Now()); !s) {
    return Fail(std::move(s).error().WithContext(
        "the staged root does not verify (aloftctl release status shows what is missing)"));
  }
  return Ok();
}

}  // namespace

int Login(Context& ctx, const LoginArgs& args) {
  auto server = ctx.ServerUrl();
  if (!server) return ctx.Failed(server.error());
  auto path = ctx.CredentialsPath();
  if (!path) return ctx.Failed(path.error());
  client::LoginRequest request;
  request.username = args.username;
  if (!args.password_file.empty()) {
    auto text = platform::posix::ReadPrivateKeyFile(args.password_file);
    if (!text) return ctx.Failed(std::move(text).error().WithContext("--password-file"));
    request.password = text->substr(0, text->find('\n'));
    keys::Wipe(*text);
  } else if (auto env = ctx.Getenv("ALOFT_PASSWORD"); env && !env->empty()) {
    request.password = *env;
  } else {
    if (!ctx.env().prompt) return ctx.Failed(Error(Errc::kInvalidArgument, "no terminal"));
    auto typed = ctx.env().prompt("Password for " + args.username + ": ", true);
    if (!typed) {
      return ctx.Failed(Error(Errc::kInvalidArgument,
                              "no password: use --password-file FILE or ALOFT_PASSWORD (" +
                                  typed.error().message() + ")"));
    }
    request.password = std::move(*typed);
  }
  if (!args.totp.empty()) request.totp = args.totp;
  if (!args.token_name.empty()) request.token_name = args.token_name;
  if (!args.token_role.empty()) request.token_role = args.token_role;
  request.token_days = args.token_days;

  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  auto issued = client::Login(**api, request, [&ctx]() -> Result<std::string> {
    if (!ctx.env().prompt) return Fail(Errc::kInvalidArgument, "a TOTP code is required: --totp");
    auto code = ctx.env().prompt("TOTP code: ", false);
    if (!code) return Fail(Errc::kInvalidArgument, "a TOTP code is required: use --totp CODE");
    return code;
  }, [&ctx, &args]() -> Result<std::string> {
    if (!args.new_password_file.empty()) {
      auto text = platform::posix::ReadPrivateKeyFile(args.new_password_file);
      if (!text) return Fail(std::move(text).error().WithContext("--new-password-file"));
      std::string line = text->substr(0, text->find('\n'));
      keys::Wipe(*text);
      return line;
    }
    if (auto env = ctx.Getenv("ALOFT_NEW_PASSWORD"); env && !env->empty()) return *env;
    if (!ctx.env().prompt) {
      return Fail(Errc::kInvalidArgument,
                  "the one-time password must be changed: use --new-password-file FILE");
    }
    auto typed = ctx.env().prompt("New password (at least 12 characters): ", true);
    if (!typed) {
      return Fail(Errc::kInvalidArgument,
                  "the one-time password must be changed: use --new-password-file FILE");
    }
    return typed;
  });
  keys::Wipe(request.password);
  if (!issued) return ctx.Failed(issued.error());

  auto creds = client::Credentials::Load(*path);
  if (!creds) return ctx.Failed(creds.error());
  // An absolute CA path, so later commands find it from any directory.
  std::string ca_file;
  if (const auto& ca = (*api)->options().ca_file) {
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(*ca, ec);
    ca_file = ec ? ca->string() : absolute.string();
  }
  client::ServerCredentials entry{issued->token, issued->id, issued->username, issued->expires,
                                  ca_file};
  if (Status s = creds->Set(*server, std::move(entry)); !s) return ctx.Failed(s.error());
  if (Status s = creds->Save(*path); !s) return ctx.Failed(s.error());
  if (ctx.global.json) {
    // Never the token itself: it is in the credentials file, readable by this user only.
    ctx.PrintJson(Json::Object{{"server", *server},
                               {"username", issued->username},
                               {"role", issued->role},
                               {"token_id", issued->id},
                               {"expires", issued->expires},
                               {"credentials", path->string()}});
    return kExitOk;
  }
  ctx.out() << "Logged in to " << *server << " as " << output::Printable(issued->username) << " ("
            << output::Printable(issued->role) << "); token " << output::Printable(issued->id)
            << " expires " << output::Printable(issued->expires) << ", stored in " << path->string()
            << "\n";
  return kExitOk;
}

int OnlineKeys(Context& ctx, const std::string& output_file, bool rotate) {
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  // --rotate: the server stages a new pair (or returns the one staged) and answers
  // {"next": pair}; the pair is what `keys rotate --role online` puts into the next root.
  auto body = rotate ? (*api)->Post("/api/v1/online-keys/rotate", core::codec::Json::Object{})
                     : (*api)->Get("/api/v1/online-keys");
  if (!body) return ctx.Failed(body.error());
  core::codec::Json keys = *body;
  if (rotate) {
    auto next = core::codec::GetObject(*body, "next");
    if (!next) return ctx.Failed(next.error().WithContext("the server's answer"));
    keys = **next;
  }
  // Checked here so a broken answer fails now, not at keys init on the offline machine.
  if (auto parsed = keys::ParseOnlineKeys(keys); !parsed) return ctx.Failed(parsed.error());
  const std::string text = core::codec::DumpJson(keys, true) + "\n";
  if (!output_file.empty()) {
    if (Status s = platform::posix::AtomicWriteFile(output_file, AsBytes(text), 0644); !s) {
      return ctx.Failed(s.error());
    }
    if (!ctx.global.json) {
      ctx.out() << "wrote " << output_file
                << (rotate ? " (the staged pair: for `aloftctl keys rotate --role online "
                             "--online-keys`, then `release upload`)\n"
                           : " (for `aloftctl keys init --online-keys`)\n");
      return kExitOk;
    }
  }
  ctx.out() << text;
  return kExitOk;
}

int RepoDirectorRoot(Context& ctx, const std::string& output_file) {
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  auto body = (*api)->Get("/api/v1/director-repo/root");
  if (!body) return ctx.Failed(body.error());
  // The same checks a device applies to its anchor: a root, signed by its own threshold.
  const std::string text = core::codec::DumpJson(*body);
  auto root = core::metadata::ParseRoot(AsBytes(text));
  if (!root) return ctx.Failed(root.error().WithContext("the Director root"));
  const auto role = root->content.roles.find(core::metadata::kRoot);
  if (role == root->content.roles.end()) {
    return ctx.Failed(Error(Errc::kVerificationFailed, "the Director root has no root role"));
  }
  if (Status s = core::metadata::VerifyThreshold("director root", *root, root->content.keys,
                                                 role->second);
      !s) {
    return ctx.Failed(s.error().WithContext("the Director root"));
  }
  if (!output_file.empty()) {
    if (Status s = platform::posix::AtomicWriteFile(output_file, AsBytes(text), 0644); !s) {
      return ctx.Failed(s.error());
    }
    if (!ctx.global.json) {
      ctx.out() << "wrote " << output_file << " (the Director trust anchor for devices: "
                << "agent.toml director_root)\n";
      return kExitOk;
    }
  }
  ctx.out() << text << "\n";
  return kExitOk;
}

int RepoUploadRoot(Context& ctx) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  if (Status s = VerifyRootLocally(ctx, *repo); !s) return ctx.Failed(s.error());
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  auto uploaded = UploadRoots(ctx, **api, *repo);
  if (!uploaded) return ctx.Failed(uploaded.error());
  auto latest = repo->LatestVersion(md::kRoot);
  if (!latest) return ctx.Failed(latest.error());
  if (ctx.global.json) {
    Json::Array versions;
    for (auto v : *uploaded) versions.emplace_back(v);
    ctx.PrintJson(Json::Object{{"uploaded", std::move(versions)}, {"root_version", *latest}});
  } else if (uploaded->empty()) {
    ctx.out() << "aloftd already has root v" << *latest << " (or newer); nothing uploaded\n";
  }
  return kExitOk;
}

int ReleaseUpload(Context& ctx, bool skip_artifacts) {
  auto repo = ctx.OpenRepo();
  if (!repo) return ctx.Failed(repo.error());
  if (Status s = VerifyRootLocally(ctx, *repo); !s) return ctx.Failed(s.error());
  if (Status s = repo::VerifyLatestTargets(*repo, ctx.Now()); !s) {
    return ctx.Failed(std::move(s).error().WithContext(
        "the staged targets do not verify (aloftctl release status shows what is missing)"));
  }
  auto targets = repo::LoadLatestTargets(*repo);
  if (!targets || !*targets) {
    return ctx.Failed(targets ? Error(Errc::kNotFound, "no targets staged") : targets.error());
  }
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());

  Json::Array artifacts_json;
  if (!skip_artifacts) {
    // What the server lists already needs no second upload.
    auto listed = (*api)->Get("/api/v1/releases");
    if (!listed) return ctx.Failed(listed.error());
    std::set<std::string> known;
    for (const Json& r : Items(*listed, "releases")) known.insert(Cell(r, "sha256"));
    for (const auto& [name, file] : (*targets)->parsed.content.targets) {
      const auto sha = file.hashes.find("sha256");
      if (sha == file.hashes.end() || known.contains(sha->second)) continue;
      const auto path = repo->ArtifactPath(sha->second);
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        return ctx.Failed(
            Error(Errc::kNotFound, "the artifact of '" + name + "' is not in this repository (" +
                                       path.string() +
                                       "); copy it from the machine that ran release create"));
      }
      output::ProgressBar bar(ctx.err(), "upload " + name, ctx.env().progress && !ctx.global.json);
      auto put = (*api)->PutFile(
          "/api/v1/artifacts/" + sha->second, path,
          [&bar](std::uint64_t sent, std::uint64_t total) { bar.Update(sent, total); });
      bar.Finish();
      if (!put) return ctx.Failed(put.error());
      artifacts_json.push_back(Json::Object{{"name", name}, {"sha256", sha->second}});
      if (!ctx.global.json) {
        ctx.out() << "uploaded " << output::Printable(name) << " ("
                  << output::HumanBytes(static_cast<std::uint64_t>(file.length)) << ")\n";
      }
    }
  }

  auto roots = UploadRoots(ctx, **api, *repo);
  if (!roots) return ctx.Failed(roots.error());
  auto put = (*api)->PutBytes("/api/v1/image-repo/targets", ToString((*targets)->bytes),
                              "application/json");
  if (!put) {
    const auto& refusal = (*api)->refusal();
    if (refusal && refusal->code == "missing_artifact") {
      return ctx.Failed(
          put.error().WithContext("upload the artifacts first (without --skip-artifacts)"));
    }
    return ctx.Failed(put.error());
  }
  if (ctx.global.json) {
    Json::Array root_versions;
    for (auto v : *roots) root_versions.emplace_back(v);
    ctx.PrintJson(Json::Object{{"artifacts", std::move(artifacts_json)},
                               {"roots", std::move(root_versions)},
                               {"targets_version", (*targets)->version},
                               {"server", *put}});
    return kExitOk;
  }
  ctx.out() << "published targets v" << (*targets)->version << " ("
            << (*targets)->parsed.content.targets.size() << " release(s))\n";
  return kExitOk;
}

int ReleaseList(Context& ctx) {
  return CallApi(
      ctx, [](client::ApiClient& api) { return api.Get("/api/v1/releases"); },
      [&ctx](const Json& body) {
        output::Table table({"NAME", "VERSION", "HARDWARE", "COUNTER", "SIZE", "SHA256"});
        for (const Json& r : Items(body, "releases")) {
          const Json* length = r.Find("length");
          table.AddRow({Cell(r, "name"), Cell(r, "version"), Cell(r, "hardware_ids"),
                        Cell(r, "security_counter"),
                        length != nullptr && length->IsInt() && length->AsInt() >= 0
                            ? output::HumanBytes(static_cast<std::uint64_t>(length->AsInt()))
                            : "-",
                        Short(Cell(r, "sha256"))});
        }
        table.Render(ctx.out());
      });
}

int ReleaseDeltas(Context& ctx) {
  return CallApi(
      ctx, [](client::ApiClient& api) { return api.Get("/api/v1/deltas"); },
      [&ctx](const Json& body) {
        output::Table table({"RELEASE", "FROM", "STATE", "SIZE", "FROM RELEASE", "UPDATED"});
        for (const Json& d : Items(body, "deltas")) {
          const Json* length = d.Find("artifact_length");
          const std::string state = Cell(d, "state");
          table.AddRow({Cell(d, "release"), Short(Cell(d, "from_sha256")),
                        state == "failed" ? "failed: " + Cell(d, "error") : state,
                        length != nullptr && length->IsInt() && length->AsInt() >= 0
                            ? output::HumanBytes(static_cast<std::uint64_t>(length->AsInt()))
                            : "-",
                        d.Find("source_release") != nullptr ? Cell(d, "source_release") : "-",
                        Cell(d, "updated_at")});
        }
        table.Render(ctx.out());
      });
}

int ReleaseShow(Context& ctx, const std::string& name) {
  return CallApi(
      ctx, [&name](client::ApiClient& api) { return api.Get("/api/v1/releases/" + Segment(name)); },
      [&ctx](const Json& body) {
        PrintFields(
            ctx.out(), body,
            {"name", "version", "hardware_ids", "security_counter", "length", "sha256", "notes"});
      });
}

int DeviceList(Context& ctx, const DeviceListArgs& args) {
  std::string query;
  const auto add = [&query](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + PercentEncode(value);
  };
  // "revoked" is what `device revoke` does; the API calls that state "decommissioned".
  add("status", args.status == "revoked" ? std::string("decommissioned") : args.status);
  add("hardware_id", args.hardware);
  add("tag", args.tag);
  add("after", args.after);
  if (args.limit > 0) add("limit", std::to_string(args.limit));
  return CallApi(
      ctx, [&query](client::ApiClient& api) { return api.Get("/api/v1/devices" + query); },
      [&ctx](const Json& body) {
        output::Table table(
            {"ID", "HARDWARE", "STATUS", "VERSION", "LAST SEEN", "DEPLOYMENT", "STATE"});
        for (const Json& d : Items(body, "devices")) {
          const Json* dep = d.Find("deployment");
          table.AddRow({Cell(d, "id"), Cell(d, "hardware_id"), Cell(d, "status"),
                        Cell(d, "image_version"), Cell(d, "last_seen"),
                        dep != nullptr ? Cell(*dep, "id") : "-",
                        dep != nullptr ? Cell(*dep, "state") : "-"});
        }
        table.Render(ctx.out());
        if (const Json* next = body.Find("next_after");
            next != nullptr && !next->IsNull() && Cell(next) != "-") {
          ctx.out() << "(more: --after " << output::Printable(Cell(next)) << ")\n";
        }
      });
}

int DeviceShow(Context& ctx, const std::string& id) {
  return CallApi(
      ctx, [&id](client::ApiClient& api) { return api.Get("/api/v1/devices/" + Segment(id)); },
      [&ctx](const Json& body) {
        PrintFields(ctx.out(), body,
                    {"id", "hardware_id", "status", "image_version", "image_sha256",
                     "security_counter", "agent_version", "last_seen"});
        if (const Json* dep = body.Find("deployment"); dep != nullptr && dep->IsObject()) {
          ctx.out() << "deployment: " << output::Printable(Cell(*dep, "id")) << " ("
                    << output::Printable(Cell(*dep, "state")) << ")\n";
        }
        if (const Json* attrs = body.Find("attributes"); attrs != nullptr && attrs->IsObject()) {
          for (const auto& [key, value] : attrs->AsObject()) {
            ctx.out() << "attribute " << output::Printable(key) << ": "
                      << output::Printable(Cell(&value)) << "\n";
          }
        }
        const auto& reports = Items(body, "reports");
        ctx.out() << "reports (" << reports.size() << "):\n";
        for (const Json& report : reports) {
          ctx.out() << "  " << output::Printable(core::codec::DumpJson(report)) << "\n";
        }
      });
}

int DeviceDecide(Context& ctx, const std::string& id, const std::string& action) {
  return CallApi(
      ctx,
      [&](client::ApiClient& api) {
        return api.Post("/api/v1/devices/" + Segment(id) + "/" + action, Json::Object{});
      },
      [&](const Json& body) {
        ctx.out() << "device " << output::Printable(id) << ": "
                  << output::Printable(Cell(body, "status")) << "\n";
      });
}

int DevicePreauthorize(Context& ctx, const std::string& id, const std::string& hardware,
                       const std::string& public_key_file) {
  auto text = platform::posix::ReadFile(public_key_file, 64 * 1024);
  if (!text) return ctx.Failed(std::move(text).error().WithContext("--public-key"));
  auto key_json = core::codec::ParseJson(AsChars(*text));
  if (!key_json) return ctx.Failed(std::move(key_json).error().WithContext(public_key_file));
  // Checked locally: a typo should not need a round trip to find.
  auto key = core::crypto::PublicKey::FromTufJson(*key_json);
  if (!key) {
    return ctx.Failed(std::move(key).error().WithContext(public_key_file + " (a TUF key JSON)"));
  }
  const Json body =
      Json::Object{{"device_id", id}, {"hardware_id", hardware}, {"public_key", key->ToTufJson()}};
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/devices/preauthorize", body); },
      [&](const Json&) {
        ctx.out() << "device " << output::Printable(id) << " preauthorized with key "
                  << key->ComputeKeyId().substr(0, 16) << "\n";
      });
}

int EnrollTokenCreate(Context& ctx, int uses, int valid_hours) {
  const Json body = Json::Object{{"uses", uses}, {"valid_hours", valid_hours}};
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/enrollment-tokens", body); },
      [&](const Json& answer) {
        ctx.out() << Cell(answer, "token") << "\n";
        ctx.err() << "(valid for " << Cell(answer, "uses") << " enrollment(s) until "
                  << output::Printable(Cell(answer, "expires")) << ")\n";
      });
}

int DeployCreate(Context& ctx, const DeployCreateArgs& args) {
  auto wait = ParseDuration(args.phase_wait);
  if (!wait) return ctx.Usage("--phase-wait: " + wait.error().message());
  auto phases = ParsePhases(args.phases, *wait);
  if (!phases) return ctx.Usage(phases.error().message());
  auto deadline = ParseDuration(args.deadline);
  if (!deadline) return ctx.Usage("--deadline: " + deadline.error().message());
  auto selector = MakeSelector(args.selector);
  if (!selector) return ctx.Usage(selector.error().message());
  Json body = Json::Object{{"release", args.release},
                           {"selector", std::move(*selector)},
                           {"phases", std::move(*phases)},
                           {"failure_threshold_percent", args.failure_threshold},
                           {"min_devices_for_threshold", args.min_devices},
                           {"phase_deadline_seconds", *deadline}};
  if (!args.window.empty()) {
    auto window = ParseWindow(args.window);
    if (!window) return ctx.Usage(window.error().message());
    body["maintenance_window"] = std::move(*window);
  }
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/deployments", body); },
      [&](const Json& answer) {
        ctx.out() << "created deployment " << output::Printable(Cell(answer, "id")) << " of "
                  << output::Printable(args.release) << " ("
                  << output::Printable(Cell(answer, "state"))
                  << "); follow it with `aloftctl deploy status " << Cell(answer, "id") << "`\n";
      });
}

int DeployList(Context& ctx, const std::string& state) {
  const std::string path =
      "/api/v1/deployments" + (state.empty() ? std::string() : "?state=" + PercentEncode(state));
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        output::Table table({"ID", "RELEASE", "STATE", "PHASE", "SUCCEEDED", "FAILED", "CREATED"});
        for (const Json& d : Items(body, "deployments")) {
          const Json* counts = d.Find("counts");
          table.AddRow({Cell(d, "id"), Cell(d, "release"), Cell(d, "state"),
                        Cell(d, "current_phase"),
                        counts != nullptr ? Cell(*counts, "succeeded") : "-",
                        counts != nullptr ? Cell(*counts, "failed") : "-", Cell(d, "created")});
        }
        table.Render(ctx.out());
      });
}

int DeployStatus(Context& ctx, const std::string& id) {
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Get("/api/v1/deployments/" + Segment(id)); },
      [&](const Json& d) {
        PrintFields(ctx.out(), d,
                    {"id", "release", "state", "paused_reason", "current_phase",
                     "failure_threshold_percent", "created", "created_by"});
        output::Table phases({"PHASE", "PERCENT", "WAIT", "STARTED"});
        int n = 0;
        for (const Json& p : Items(d, "phases")) {
          phases.AddRow({std::to_string(n++), Cell(p, "percent") + "%",
                         Cell(p, "wait_seconds") + "s", Cell(p, "started")});
        }
        ctx.out() << "\n";
        phases.Render(ctx.out());
        if (const Json* counts = d.Find("counts"); counts != nullptr && counts->IsObject()) {
          ctx.out() << "\n";
          output::Table table({"PENDING", "DOWNLOADING", "INSTALLING", "REBOOTING", "SUCCEEDED",
                               "FAILED", "ROLLED BACK"});
          table.AddRow({Cell(*counts, "pending"), Cell(*counts, "downloading"),
                        Cell(*counts, "installing"), Cell(*counts, "rebooting"),
                        Cell(*counts, "succeeded"), Cell(*counts, "failed"),
                        Cell(*counts, "rolled_back")});
          table.Render(ctx.out());
        }
        const auto& devices = Items(d, "devices");
        if (!devices.empty()) {
          ctx.out() << "\n";
          output::Table table({"DEVICE", "STATE", "PHASE", "UPDATED", "MESSAGE"});
          for (const Json& dev : devices) {
            table.AddRow({Cell(dev, "device_id"), Cell(dev, "state"), Cell(dev, "phase"),
                          Cell(dev, "updated"), Cell(dev, "message")});
          }
          table.Render(ctx.out());
        }
      });
}

int DeployAction(Context& ctx, const std::string& id, const std::string& action,
                 const std::string& reason) {
  Json body = Json::Object{};
  if (!reason.empty()) body["reason"] = reason;
  return CallApi(
      ctx,
      [&](client::ApiClient& api) {
        return api.Post("/api/v1/deployments/" + Segment(id) + "/" + action, body);
      },
      [&](const Json& d) {
        ctx.out() << "deployment " << output::Printable(id) << ": "
                  << output::Printable(Cell(d, "state")) << "\n";
      });
}

int DeployPauseAll(Context& ctx, const std::string& reason) {
  const Json body = Json::Object{{"reason", reason}};
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/deployments/pause-all", body); },
      [&](const Json& answer) {
        ctx.out() << "paused " << Cell(answer, "paused") << " deployment(s)\n";
      });
}

int AuditList(Context& ctx, std::int64_t after, int limit) {
  std::string path = "/api/v1/audit?limit=" + std::to_string(limit);
  if (after > 0) path += "&after=" + std::to_string(after);
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        output::Table table({"SEQ", "AT", "ACTOR", "ACTION", "TARGET", "OUTCOME"});
        for (const Json& r : Items(body, "records")) {
          table.AddRow({Cell(r, "seq"), Cell(r, "at"), Cell(r, "actor"), Cell(r, "action"),
                        Cell(r, "target"), Cell(r, "outcome")});
        }
        table.Render(ctx.out());
        if (const Json* next = body.Find("next_after"); next != nullptr && !next->IsNull()) {
          ctx.out() << "(more: --after " << output::Printable(Cell(next)) << ")\n";
        }
      });
}

int AuditVerify(Context& ctx) {
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  auto body = (*api)->Get("/api/v1/audit/verify");
  if (!body) return ctx.Failed(body.error());
  const Json* ok = body->Find("ok");
  const bool intact = ok != nullptr && ok->IsBool() && ok->AsBool();
  if (ctx.global.json) {
    ctx.PrintJson(*body);
  } else if (intact) {
    ctx.out() << "audit chain intact: " << Cell(*body, "records") << " records, head "
              << output::Printable(Cell(*body, "head_hash")) << "\n";
  } else {
    ctx.out() << "audit chain BROKEN at record " << output::Printable(Cell(*body, "first_bad_seq"))
              << ": " << output::Printable(Cell(*body, "problem")) << "\n";
  }
  // A broken chain is a verification failure, whatever the output format.
  return intact ? kExitOk : kExitVerification;
}

int AuditExport(Context& ctx, const std::string& output_file) {
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  if (output_file.empty()) {
    StreamWriter sink(ctx.out());
    if (Status s = (*api)->Download("/api/v1/audit/export", sink); !s) return ctx.Failed(s.error());
    return kExitOk;
  }
  // The trail names people and devices: private file, complete or absent.
  auto file = platform::posix::AtomicFileWriter::Create(output_file, 0600);
  if (!file) return ctx.Failed(file.error());
  if (Status s = (*api)->Download("/api/v1/audit/export", *file); !s) return ctx.Failed(s.error());
  if (Status s = file->Commit(); !s) return ctx.Failed(s.error());
  if (!ctx.global.json) ctx.out() << "wrote " << output_file << "\n";
  return kExitOk;
}

int UserAdd(Context& ctx, const std::string& name, const std::string& role) {
  const Json body = Json::Object{{"username", name}, {"role", role}};
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/users", body); },
      [&](const Json& answer) {
        ctx.out() << "created " << output::Printable(Cell(answer, "username")) << " ("
                  << output::Printable(Cell(answer, "role")) << "); one-time password:\n"
                  << Cell(answer, "one_time_password") << "\n";
        ctx.err() << "(shown once: hand it over securely)\n";
      });
}

int UserList(Context& ctx) {
  return CallApi(
      ctx, [](client::ApiClient& api) { return api.Get("/api/v1/users"); },
      [&](const Json& body) {
        output::Table table({"USERNAME", "ROLE", "TOTP", "CREATED"});
        for (const Json& u : Items(body, "users")) {
          table.AddRow({Cell(u, "username"), Cell(u, "role"), Cell(u, "totp"), Cell(u, "created")});
        }
        table.Render(ctx.out());
      });
}

int UserRole(Context& ctx, const std::string& name, const std::string& role) {
  const Json body = Json::Object{{"role", role}};
  return CallApi(
      ctx,
      [&](client::ApiClient& api) {
        return api.Put("/api/v1/users/" + Segment(name) + "/role", body);
      },
      [&](const Json& answer) {
        ctx.out() << output::Printable(Cell(answer, "username")) << " is now "
                  << output::Printable(Cell(answer, "role")) << "\n";
      });
}

}  // namespace aloft::cli::aloftctl::commands
