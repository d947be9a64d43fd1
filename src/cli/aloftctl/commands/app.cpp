// The only file that includes CLI11: the command tree, option by option, and the dispatch to
// the command functions. Everything else takes plain argument structs.

#include "cli/aloftctl/commands/app.hpp"

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <utility>

#include "cli/aloftctl/commands/delta_commands.hpp"
#include "cli/aloftctl/commands/group_commands.hpp"
#include "cli/aloftctl/commands/offline_commands.hpp"
#include "cli/aloftctl/commands/server_commands.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

constexpr const char* kFooter = R"(
Offline (no server; the key/repository directory is --repo, default ./aloft-repo):
  keys init|show|rotate, release create|sign|status|revoke, release list --staged,
  delta create|apply
Online (aloftd over HTTPS: --server URL or $ALOFT_SERVER, --ca FILE or $ALOFT_CA, the token
from `aloftctl login` or $ALOFT_TOKEN):
  login, online-keys, repo upload-root, release upload|list|show, device ..., enroll-token create,
  groups list|show|create|delete|add|remove, deploy ..., audit ..., user ...
Key passphrases: --passphrase-file FILE, $ALOFT_PASSPHRASE, or asked on the terminal.
--json (anywhere on the line) prints machine-readable output.

Exit codes:
  0  success
  1  error (files, network, invalid data)
  2  usage: the command line is wrong
  3  verification: a signature, threshold, hash or expiry check failed (also a broken audit chain)
  4  aloftd refused the request (HTTP 4xx: not logged in, no permission, conflict, not found))";

class Builder {
 public:
  Builder(CLI::App& app, Context& ctx) : app_(app), ctx_(ctx) {}

  // A subcommand that also accepts the global options after its name.
  CLI::App* Sub(CLI::App* parent, const std::string& name, const std::string& description) {
    CLI::App* sub = parent->add_subcommand(name, description);
    sub->fallthrough();
    return sub;
  }
  // A command that runs `action` when it is the one chosen.
  CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& description,
                 std::function<int()> action) {
    CLI::App* sub = Sub(parent, name, description);
    actions_.emplace_back(sub, std::move(action));
    return sub;
  }
  // A group of commands: one of them must follow.
  CLI::App* Group(CLI::App* parent, const std::string& name, const std::string& description) {
    CLI::App* sub = Sub(parent, name, description);
    sub->require_subcommand(1);
    return sub;
  }

  // The action of the deepest parsed subcommand.
  std::function<int()>* Chosen() {
    for (auto& [sub, action] : actions_) {
      if (sub->parsed()) return &action;
    }
    return nullptr;
  }

  void AddAll();

 private:
  void AddKeys();
  void AddRelease();
  void AddServer();
  void AddDevices();
  void AddGroups();
  void AddDeploy();
  void AddDelta();

  CLI::App& app_;
  Context& ctx_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions_;

  // Storage for option values; lives as long as the builder.
  KeysInitArgs keys_init_;
  KeysRotateArgs keys_rotate_;
  ReleaseCreateArgs release_create_;
  ReleaseSignArgs release_sign_;
  std::string name_, id_, role_, reason_, output_, state_, hardware_, public_key_;
  int expires_days_ = 365;
  bool staged_ = false, skip_artifacts_ = false, rotate_online_ = false;
  LoginArgs login_;
  DeviceListArgs device_list_;
  int uses_ = 1, valid_hours_ = 24, limit_ = 100;
  std::int64_t after_ = 0;
  DeployCreateArgs deploy_;
  GroupListArgs group_page_;
  std::vector<std::string> group_devices_;
  DeltaCreateArgs delta_create_;
  DeltaApplyArgs delta_apply_;
};

void Builder::AddAll() {
  GlobalOptions& g = ctx_.global;
  app_.add_flag("--json", g.json, "machine-readable JSON output");
  app_.add_option("--repo", g.repo, "offline key/repository directory")->capture_default_str();
  app_.add_option("--server", g.server, "aloftd URL, e.g. https://ota.example:8443");
  app_.add_option("--ca", g.ca, "CA certificate (PEM) that signed aloftd's TLS certificate");
  app_.add_option("--passphrase-file", g.passphrase_file,
                  "file whose first line is the key passphrase (mode 0600)");
  // For tests and a server on this machine: plain http, loopback addresses only.
  app_.add_flag("--allow-http-loopback", g.allow_http_loopback)->group("");
  AddKeys();
  AddRelease();
  AddServer();
  AddDevices();
  AddGroups();
  AddDeploy();
  AddDelta();
}

void Builder::AddDelta() {
  CLI::App* delta = Group(&app_, "delta", "binary deltas between two images (offline)");
  CLI::App* create = Leaf(delta, "create", "write a patch that turns OLD into NEW",
                          [this] { return DeltaCreate(ctx_, delta_create_); });
  create->add_option("OLD", delta_create_.source, "the image devices run now")->required();
  create->add_option("NEW", delta_create_.target, "the image they should run")->required();
  create->add_option("PATCH", delta_create_.patch, "the patch file to write")->required();
  create
      ->add_option("--level", delta_create_.level,
                   "zstd level of the control streams and whole-source frames")
      ->check(CLI::Range(1, 22))
      ->capture_default_str();
  create
      ->add_option("--prefix-window-mib", delta_create_.prefix_window_mib,
                   "largest source (MiB) whose blocks are also tried as one stream over it "
                   "(LZMA2 up to 16 MiB, zstd beyond; more: smaller for mid-sized images, "
                   "slower to create)")
      ->check(CLI::Range(1, 2048))
      ->capture_default_str();
  CLI::App* apply = Leaf(delta, "apply", "apply PATCH to OLD, verify, and write OUT",
                         [this] { return DeltaApply(ctx_, delta_apply_); });
  apply->add_option("OLD", delta_apply_.source, "the image the patch was made from")->required();
  apply->add_option("PATCH", delta_apply_.patch, "the patch file (read as a stream)")->required();
  apply->add_option("OUT", delta_apply_.output, "the file to write (replaced only when verified)")
      ->required();
}

void Builder::AddKeys() {
  CLI::App* keys =
      Group(&app_, "keys", "offline root and targets keys (run on an offline machine)");
  CLI::App* init = Leaf(keys, "init", "generate keys and a signed root v1",
                        [this] { return KeysInit(ctx_, keys_init_); });
  init->add_option("--root-keys", keys_init_.root_keys, "number of root keys")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  init->add_option("--root-threshold", keys_init_.root_threshold, "root signatures required")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  init->add_option("--targets-keys", keys_init_.targets_keys, "number of targets keys")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  init->add_option("--targets-threshold", keys_init_.targets_threshold,
                   "targets signatures required")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  init->add_option("--online-keys", keys_init_.online_keys,
                   "the server's online keys (from `aloftctl online-keys`)")
      ->required();
  init->add_option("--expires-days", keys_init_.expires_days, "root lifetime")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();
  init->add_option("--key-type", keys_init_.key_type, "ed25519, ecdsa or rsa")
      ->check(CLI::IsMember({"ed25519", "ecdsa", "rsa"}))
      ->capture_default_str();

  Leaf(keys, "show", "key ids, roles, thresholds and expiry of the staged root",
       [this] { return KeysShow(ctx_); });

  CLI::App* rotate = Leaf(keys, "rotate", "new root version with a role's keys replaced",
                          [this] { return KeysRotate(ctx_, keys_rotate_); });
  rotate->add_option("--role", keys_rotate_.role, "root, targets or online")
      ->required()
      ->check(CLI::IsMember({"root", "targets", "online"}));
  rotate->add_option("--keys", keys_rotate_.keys, "new number of keys (default: as before)")
      ->check(CLI::Range(1, 32));
  rotate->add_option("--threshold", keys_rotate_.threshold, "new threshold (default: as before)")
      ->check(CLI::Range(1, 32));
  rotate->add_option("--online-keys", keys_rotate_.online_keys,
                     "--role online: the server's new online keys");
  rotate
      ->add_option("--key", keys_rotate_.sign_with,
                   "key file that signs the new root now (repeatable; old root keys)")
      ->allow_extra_args(false);
  rotate->add_option("--expires-days", keys_rotate_.expires_days, "new root lifetime")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();
  rotate
      ->add_option("--targets-expires-days", keys_rotate_.targets_expires_days,
                   "lifetime of targets re-staged for new targets keys")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();
}

void Builder::AddRelease() {
  CLI::App* release = Group(&app_, "release", "releases: create, sign and upload");
  CLI::App* create = Leaf(release, "create", "compress an image and stage it as a release",
                          [this] { return ReleaseCreate(ctx_, release_create_); });
  create->add_option("IMAGE", release_create_.image, "the image file for a slot")->required();
  create->add_option("--version", release_create_.version, "release version")->required();
  create->add_option("--hardware", release_create_.hardware, "hardware id (repeatable)")
      ->required()
      ->allow_extra_args(false);
  create
      ->add_option("--security-counter", release_create_.security_counter, "anti-rollback counter")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  create->add_option("--notes", release_create_.notes, "release notes (signed)");
  create->add_option("--name", release_create_.name,
                     "target name (default: <image>-<version><ext>.zst)");
  create
      ->add_option("--delta-from", release_create_.delta_from,
                   "also stage deltas from these older images (release names, versions or files)")
      ->delimiter(',');
  create->add_option("--zstd-level", release_create_.zstd_level, "compression level 1..19")
      ->check(CLI::Range(1, 19))
      ->capture_default_str();
  create
      ->add_option("--zstd-window-log", release_create_.zstd_window_log,
                   "devices decode with a 2^N-byte window in memory (10..27)")
      ->check(CLI::Range(10, 27))
      ->capture_default_str();
  create->add_option("--expires-days", release_create_.expires_days, "targets lifetime")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();

  CLI::App* sign = Leaf(release, "sign", "add one key holder's signature to the staged metadata",
                        [this] { return ReleaseSign(ctx_, release_sign_); });
  sign->add_option("--key", release_sign_.key, "your key file")->required();
  sign->add_option("--role", release_sign_.role, "sign only root or only targets")
      ->check(CLI::IsMember({"root", "targets"}));

  Leaf(release, "status", "signatures present vs threshold for the staged root and targets",
       [this] { return ReleaseStatus(ctx_); });

  CLI::App* revoke = Leaf(release, "revoke", "stage targets without a release",
                          [this] { return ReleaseRevoke(ctx_, name_, expires_days_); });
  revoke->add_option("NAME", name_, "release (target) name")->required();
  revoke->add_option("--expires-days", expires_days_, "targets lifetime")
      ->check(CLI::Range(1, 3660))
      ->capture_default_str();

  CLI::App* upload =
      Leaf(release, "upload", "upload new artifacts, then the root if newer, then the targets",
           [this] { return ReleaseUpload(ctx_, skip_artifacts_); });
  upload->add_flag("--skip-artifacts", skip_artifacts_, "upload metadata only");

  CLI::App* list = Leaf(release, "list", "releases on the server (or staged here with --staged)",
                        [this] { return staged_ ? ReleaseListStaged(ctx_) : ReleaseList(ctx_); });
  list->add_flag("--staged", staged_, "list the offline repository's staged releases");

  CLI::App* show = Leaf(release, "show", "one release on the server",
                        [this] { return ReleaseShow(ctx_, name_); });
  show->add_option("NAME", name_, "release (target) name")->required();

  Leaf(release, "deltas",
       "deltas the server built itself for releases uploaded without one (queued, ready, failed)",
       [this] { return ReleaseDeltas(ctx_); });
}

void Builder::AddServer() {
  CLI::App* login = Leaf(&app_, "login", "create an API token and store it (0600)",
                         [this] { return Login(ctx_, login_); });
  login->add_option("--username", login_.username, "your user name")->required();
  login->add_option("--password-file", login_.password_file,
                    "file whose first line is the password (else $ALOFT_PASSWORD or a prompt)");
  login->add_option("--new-password-file", login_.new_password_file,
                    "first login: file with the password replacing the one-time password (else "
                    "$ALOFT_NEW_PASSWORD or a prompt)");
  login->add_option("--totp", login_.totp, "TOTP code (asked for when required)");
  login->add_option("--token-name", login_.token_name, "name of the API token");
  login->add_option("--token-role", login_.token_role, "a role at most your own");
  login->add_option("--token-days", login_.token_days, "token lifetime")
      ->check(CLI::Range(1, 365))
      ->capture_default_str();

  CLI::App* online =
      Leaf(&app_, "online-keys", "the server's online keys, for keys init --online-keys",
           [this] { return OnlineKeys(ctx_, output_, rotate_online_); });
  online->add_option("--output", output_, "also write them to this file");
  online->add_flag(
      "--rotate", rotate_online_,
      "stage a new pair on the server (or show the staged one) for the next root "
      "to name: then `keys rotate --role online --online-keys FILE`, `release upload`");

  CLI::App* repo = Group(&app_, "repo", "the Image repository on the server");
  Leaf(repo, "upload-root", "upload the signed root versions the server does not have",
       [this] { return RepoUploadRoot(ctx_); });
  CLI::App* director_root =
      Leaf(repo, "director-root", "the Director's root.json, to provision into devices",
           [this] { return RepoDirectorRoot(ctx_, output_); });
  director_root->add_option("--output", output_, "write it to this file");

  CLI::App* audit = Group(&app_, "audit", "the tamper-evident audit trail");
  CLI::App* list =
      Leaf(audit, "list", "audit records", [this] { return AuditList(ctx_, after_, limit_); });
  list->add_option("--after", after_, "records after this sequence number");
  list->add_option("--limit", limit_, "at most this many")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  Leaf(audit, "verify", "verify the hash chain (exit 3 when broken)",
       [this] { return AuditVerify(ctx_); });
  CLI::App* exp = Leaf(audit, "export", "every record as NDJSON",
                       [this] { return AuditExport(ctx_, output_); });
  exp->add_option("--output", output_, "file (0600) instead of stdout");

  CLI::App* user = Group(&app_, "user", "operator accounts");
  CLI::App* add = Leaf(user, "add", "create a user; prints the one-time password",
                       [this] { return UserAdd(ctx_, name_, role_); });
  add->add_option("NAME", name_, "user name")->required();
  add->add_option("--role", role_, "admin, release-manager, operator, viewer or auditor")
      ->required();
  Leaf(user, "list", "users and roles", [this] { return UserList(ctx_); });
  CLI::App* role =
      Leaf(user, "role", "change a user's role", [this] { return UserRole(ctx_, name_, role_); });
  role->add_option("NAME", name_, "user name")->required();
  role->add_option("ROLE", role_, "new role")->required();
}

void Builder::AddDevices() {
  CLI::App* device = Group(&app_, "device", "the fleet");
  CLI::App* list =
      Leaf(device, "list", "devices", [this] { return DeviceList(ctx_, device_list_); });
  list->add_option("--status", device_list_.status, "pending, accepted, rejected, revoked");
  list->add_option("--hardware", device_list_.hardware, "hardware id");
  list->add_option("--tag", device_list_.tag, "tag");
  list->add_option("--limit", device_list_.limit, "page size")->check(CLI::Range(1, 1000));
  list->add_option("--after", device_list_.after, "page cursor (from the previous page)");
  CLI::App* show = Leaf(device, "show", "one device and its last reports",
                        [this] { return DeviceShow(ctx_, id_); });
  show->add_option("ID", id_, "device id")->required();
  for (const char* action : {"accept", "reject", "revoke"}) {
    CLI::App* decide = Leaf(device, action, std::string(action) + " a device",
                            [this, action] { return DeviceDecide(ctx_, id_, action); });
    decide->add_option("ID", id_, "device id")->required();
  }
  CLI::App* pre = Leaf(device, "preauthorize", "register a device key before it enrolls",
                       [this] { return DevicePreauthorize(ctx_, id_, hardware_, public_key_); });
  pre->add_option("ID", id_, "device id")->required();
  pre->add_option("--hardware", hardware_, "hardware id")->required();
  pre->add_option("--public-key", public_key_, "the device's public key (TUF key JSON file)")
      ->required();

  CLI::App* token = Group(&app_, "enroll-token", "fleet enrollment tokens");
  CLI::App* create = Leaf(token, "create", "create a token (printed once)",
                          [this] { return EnrollTokenCreate(ctx_, uses_, valid_hours_); });
  create->add_option("--uses", uses_, "devices that may enroll with it")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  create->add_option("--valid-hours", valid_hours_, "validity")
      ->check(CLI::Range(1, 24 * 365))
      ->capture_default_str();
}

void Builder::AddGroups() {
  CLI::App* groups = Group(&app_, "groups", "static device groups (deploy --group NAME)");
  groups->alias("group");
  CLI::App* list = Leaf(groups, "list", "groups and member counts",
                        [this] { return GroupList(ctx_, group_page_); });
  CLI::App* show = Leaf(groups, "show", "one group and its members",
                        [this] { return GroupShow(ctx_, name_, group_page_); });
  show->add_option("NAME", name_, "group name")->required();
  for (CLI::App* paged : {list, show}) {
    paged->add_option("--limit", group_page_.limit, "page size")->check(CLI::Range(1, 1000));
    paged->add_option("--after", group_page_.after, "page cursor (from the previous page)");
  }
  Leaf(groups, "create", "create an empty group", [this] { return GroupCreate(ctx_, name_); })
      ->add_option("NAME", name_, "group name: a-z, 0-9, . _ - (up to 64)")
      ->required();
  Leaf(groups, "delete", "delete a group (refused while a deployment targets it)",
       [this] { return GroupDelete(ctx_, name_); })
      ->add_option("NAME", name_, "group name")
      ->required();
  for (const bool add : {true, false}) {
    CLI::App* change = Leaf(groups, add ? "add" : "remove",
                            add ? "add devices to a group" : "remove devices from a group",
                            [this, add] { return GroupMembers(ctx_, name_, group_devices_, add); });
    change->add_option("NAME", name_, "group name")->required();
    change->add_option("DEVICE", group_devices_, "device ids (up to 1000)")->required();
  }
}

void Builder::AddDeploy() {
  CLI::App* deploy = Group(&app_, "deploy", "phased deployments");
  CLI::App* create = Leaf(deploy, "create", "roll a release out in phases",
                          [this] { return DeployCreate(ctx_, deploy_); });
  create->add_option("RELEASE", deploy_.release, "release (target) name")->required();
  // Greedy: `--to-device a b c` (RELEASE comes first).
  create->add_option("--to-device", deploy_.selector.devices, "device ids");
  create->add_option("--to-tag", deploy_.selector.tags, "tags");
  create->add_option("--group,--to-group", deploy_.selector.group,
                     "a static group; its members join when they check in");
  create->add_option("--to-hardware", deploy_.selector.hardware_id, "hardware id");
  create->add_option("--attribute", deploy_.selector.attributes, "key=value (repeatable)")
      ->allow_extra_args(false);
  create->add_option("--image-version", deploy_.selector.image_version,
                     "only devices running this version");
  create->add_option("--phases", deploy_.phases, "e.g. 1%,10%,100% or 1%:10m,10%:1h,100%")
      ->capture_default_str();
  create->add_option("--phase-wait", deploy_.phase_wait, "wait between phases (e.g. 10m)")
      ->capture_default_str();
  create
      ->add_option("--failure-threshold", deploy_.failure_threshold,
                   "pause when this percent of a phase fails")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  create
      ->add_option("--min-devices", deploy_.min_devices,
                   "devices that must report before the threshold applies")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  create->add_option("--deadline", deploy_.deadline, "time a phase may take (e.g. 1h)")
      ->capture_default_str();
  create->add_option("--window", deploy_.window, "maintenance window HH:MM-HH:MM (UTC)");

  CLI::App* list = Leaf(deploy, "list", "deployments", [this] { return DeployList(ctx_, state_); });
  list->add_option("--state", state_, "active, paused, completed or cancelled");
  CLI::App* status = Leaf(deploy, "status", "phases, counts and devices of a deployment",
                          [this] { return DeployStatus(ctx_, id_); });
  status->add_option("ID", id_, "deployment id")->required();
  for (const char* action : {"pause", "resume", "cancel"}) {
    CLI::App* act = Leaf(deploy, action, std::string(action) + " a deployment",
                         [this, action] { return DeployAction(ctx_, id_, action, reason_); });
    act->add_option("ID", id_, "deployment id")->required();
    if (std::string_view(action) == "pause") act->add_option("--reason", reason_, "why");
  }
  CLI::App* all = Leaf(deploy, "pause-all", "pause every active deployment (incident kill switch)",
                       [this] { return DeployPauseAll(ctx_, reason_); });
  all->add_option("--reason", reason_, "why (recorded in the audit trail)")->required();
}

}  // namespace

int Run(const std::vector<std::string>& args, Environment& env) {
  Context ctx(env);
  CLI::App app{"aloftctl: the Aloft operator's tool (offline keys and releases; aloftd's API)",
               "aloftctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  Builder builder(app, ctx);
  try {
    builder.AddAll();
    // CLI11 wants the arguments reversed and without the program name.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    if (!reversed.empty()) reversed.pop_back();
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, *env.out, *env.err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  std::function<int()>* action = builder.Chosen();
  if (action == nullptr) return ctx.Usage("choose a command");
  try {
    return (*action)();
  } catch (const std::exception& e) {
    *env.err << "aloftctl: internal error: " << e.what() << "\n";
  }
  return kExitError;
}

}  // namespace aloft::cli::aloftctl::commands
