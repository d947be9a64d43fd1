#include "cli/aloftctl/commands/group_commands.hpp"

#include "cli/aloftctl/output/json_cell.hpp"
#include "cli/aloftctl/output/table.hpp"
#include "core/base/percent_encode.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

using client::Segment;
using core::codec::Json;

using output::Cell;

std::string PageQuery(const GroupListArgs& page) {
  std::string query;
  if (!page.after.empty()) query += "?after=" + PercentEncode(page.after);
  if (page.limit > 0)
    query += (query.empty() ? "?" : "&") + ("limit=" + std::to_string(page.limit));
  return query;
}

void PrintMore(Context& ctx, const Json& body) {
  const Json* next = body.Find("next_after");
  if (next != nullptr && next->IsString() && !next->AsString().empty()) {
    ctx.out() << "(more: --after " << output::Printable(next->AsString()) << ")\n";
  }
}

}  // namespace

int GroupList(Context& ctx, const GroupListArgs& args) {
  const std::string path = "/api/v1/groups" + PageQuery(args);
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        output::Table table({"NAME", "MEMBERS", "CREATED", "BY"});
        if (const Json* groups = body.Find("groups"); groups != nullptr && groups->IsArray()) {
          for (const Json& g : groups->AsArray()) {
            table.AddRow({Cell(g, "name"), Cell(g, "members"), Cell(g, "created_at"),
                          Cell(g, "created_by")});
          }
        }
        table.Render(ctx.out());
        PrintMore(ctx, body);
      });
}

int GroupShow(Context& ctx, const std::string& name, const GroupListArgs& page) {
  const std::string path = "/api/v1/groups/" + Segment(name) + PageQuery(page);
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Get(path); },
      [&](const Json& body) {
        for (const char* key : {"name", "members", "created_at", "created_by"}) {
          ctx.out() << key << ": " << output::Printable(Cell(body, key)) << "\n";
        }
        if (const Json* devices = body.Find("devices"); devices != nullptr && devices->IsArray()) {
          for (const Json& id : devices->AsArray()) {
            if (id.IsString()) ctx.out() << "  " << output::Printable(id.AsString()) << "\n";
          }
        }
        PrintMore(ctx, body);
      });
}

int GroupCreate(Context& ctx, const std::string& name) {
  const Json body = Json::Object{{"name", name}};
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post("/api/v1/groups", body); },
      [&](const Json&) {
        ctx.out() << "created group " << output::Printable(name)
                  << "; add devices with `aloftctl groups add " << output::Printable(name)
                  << " DEVICE...`\n";
      });
}

int GroupDelete(Context& ctx, const std::string& name) {
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Delete("/api/v1/groups/" + Segment(name)); },
      [&](const Json&) { ctx.out() << "deleted group " << output::Printable(name) << "\n"; });
}

int GroupMembers(Context& ctx, const std::string& name, const std::vector<std::string>& devices,
                 bool add) {
  Json::Array ids;
  for (const std::string& id : devices) ids.emplace_back(id);
  const Json body = Json::Object{{"devices", std::move(ids)}};
  const std::string path =
      "/api/v1/groups/" + Segment(name) + (add ? "/members" : "/members/remove");
  return CallApi(
      ctx, [&](client::ApiClient& api) { return api.Post(path, body); },
      [&](const Json& answer) {
        ctx.out() << "group " << output::Printable(name) << ": "
                  << output::Printable(Cell(answer, add ? "added" : "removed"))
                  << (add ? " added" : " removed") << ", "
                  << output::Printable(Cell(answer, "members")) << " member(s)\n";
      });
}

}  // namespace aloft::cli::aloftctl::commands
