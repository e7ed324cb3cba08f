#include "sidecar/client_roles.h"

#include "absl/strings/str_cat.h"

namespace routing::sidecar {
namespace {

constexpr ClientRole kRolesInOrder[] = {ClientRole::kRoute, ClientRole::kAgents,
                                        ClientRole::kAdmin};

std::string_view RequestTypeName(wire::RequestBody type) {
  const int index = static_cast<int>(type);
  if (index < static_cast<int>(wire::RequestBody::MIN) ||
      index > static_cast<int>(wire::RequestBody::MAX)) {
    return "an unknown request type";
  }
  return wire::EnumNameRequestBody(type);
}

}  // namespace

std::optional<ClientRole> ParseClientRole(std::string_view name) {
  for (ClientRole role : kRolesInOrder) {
    if (name == ClientRoleName(role)) return role;
  }
  return std::nullopt;
}

std::string_view ClientRoleName(ClientRole role) {
  switch (role) {
    case ClientRole::kRoute:
      return "route";
    case ClientRole::kAgents:
      return "agents";
    case ClientRole::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string RoleSet::ToString() const {
  if (empty()) return "none";
  std::string text;
  for (ClientRole role : kRolesInOrder) {
    if (!Has(role)) continue;
    absl::StrAppend(&text, text.empty() ? "" : ",",
                    std::string(ClientRoleName(role)));
  }
  return text;
}

RoleSet RolesPermitting(wire::RequestBody type) {
  const RoleSet admin = RoleSet::Of(ClientRole::kAdmin);
  switch (type) {
    case wire::RequestBody::RouteContact:
    case wire::RequestBody::RequeueContact:
    case wire::RequestBody::CancelContact:
    case wire::RequestBody::ReleaseContact:
    // The platform that routes contacts answers their offers.
    case wire::RequestBody::AcceptOffer:
    case wire::RequestBody::RejectOffer:
      return admin.With(ClientRole::kRoute);
    case wire::RequestBody::AddAgent:
    case wire::RequestBody::UpdateAgent:
    case wire::RequestBody::RemoveAgent:
    case wire::RequestBody::SetAgentState:
      return admin.With(ClientRole::kAgents);
    // Read-only: a roster sync (agents) reconciles against ListAgents, and
    // every client may check health, statistics and the waiting contacts.
    case wire::RequestBody::ListAgents:
    case wire::RequestBody::GetStats:
    case wire::RequestBody::Health:
    case wire::RequestBody::GetContact:
    case wire::RequestBody::ListContacts:
      return RoleSet::All();
    case wire::RequestBody::ReloadRules:
      return admin;
    default:
      // NONE, and request types added after this table: admin until placed.
      return admin;
  }
}

std::string PermissionDeniedMessage(wire::RequestBody type, RoleSet roles) {
  const RoleSet permitting = RolesPermitting(type);
  std::string needs;
  if (permitting == RoleSet::All()) {
    needs = "any role";
  } else {
    // Admin opens everything; name it only when nothing else would do.
    const RoleSet besides_admin = RoleSet::FromBits(
        permitting.bits() & ~static_cast<uint8_t>(ClientRole::kAdmin));
    const RoleSet named = besides_admin.empty() ? permitting : besides_admin;
    for (ClientRole role : kRolesInOrder) {
      if (!named.Has(role)) continue;
      absl::StrAppend(&needs, needs.empty() ? "the " : " or ",
                      std::string(ClientRoleName(role)));
    }
    absl::StrAppend(&needs, " role");
  }
  return absl::StrCat(std::string(RequestTypeName(type)), " needs ", needs,
                      "; this client's key has ",
                      roles.empty() ? "no role" : roles.ToString());
}

std::string ZapUserId(std::string_view z85_public_key, RoleSet roles) {
  return absl::StrCat(std::string(z85_public_key), " ", roles.ToString());
}

RoleSet RolesFromZapUserId(std::string_view user_id) {
  const size_t space = user_id.rfind(' ');
  if (space == std::string_view::npos) return RoleSet();
  // Runs for every request with CURVE: a plain scan, no allocation.
  std::string_view names = user_id.substr(space + 1);
  RoleSet roles;
  while (true) {
    const size_t comma = names.find(',');
    std::optional<ClientRole> role = ParseClientRole(names.substr(0, comma));
    if (!role.has_value()) return RoleSet();
    roles = roles.With(*role);
    if (comma == std::string_view::npos) return roles;
    names.remove_prefix(comma + 1);
  }
}

}  // namespace routing::sidecar
