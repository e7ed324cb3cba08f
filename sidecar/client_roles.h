// File: sidecar/client_roles.h
//
// What each CURVE client may ask routingd to do. The operator gives every
// client key one or more roles in the allowed-clients file
// (allowed_clients.h); each request type needs one of a set of roles:
//
//   route   RouteContact, RequeueContact, CancelContact, ReleaseContact
//   agents  AddAgent, UpdateAgent, RemoveAgent, SetAgentState
//   admin   ReloadRules, and everything else
//   any     ListAgents, GetStats, Health, GetContact, ListContacts
//           (read-only)
//
// A request type this table does not know (a union member added later)
// needs admin until it is placed, so a new request is never open by
// accident.
//
// The ZAP handler writes a client's roles into the ZAP User-Id of its
// connection ("<Z85 public key> route,agents"); libzmq attaches that to every
// message from the client, and the daemon reads the roles back per request:
//
//   RoleSet roles = RolesFromZapUserId(zmq_msg_gets(&msg, "User-Id"));
//   if (!Permits(roles, request.body_type()))
//     refuse with PermissionDeniedMessage(request.body_type(), roles);
//
// Without CURVE there are no roles: the daemon passes RoleSet::All().
// Thread-safety: values and pure functions; call from any thread.
#ifndef SIDECAR_CLIENT_ROLES_H_
#define SIDECAR_CLIENT_ROLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/routing_generated.h"

namespace routing::sidecar {

enum class ClientRole : uint8_t {
  kRoute = 1 << 0,
  kAgents = 1 << 1,
  kAdmin = 1 << 2,
};

// "route", "agents", "admin"; nullopt for anything else (case matters).
std::optional<ClientRole> ParseClientRole(std::string_view name);
std::string_view ClientRoleName(ClientRole role);

// A set of roles, one bit each. It fits one byte, which is how the frontend
// hands a request's roles to the worker that executes it.
class RoleSet {
 public:
  constexpr RoleSet() = default;
  static constexpr RoleSet All() { return RoleSet(kAllBits); }
  static constexpr RoleSet Of(ClientRole role) {
    return RoleSet(static_cast<uint8_t>(role));
  }
  // Bits outside the known roles are dropped.
  static constexpr RoleSet FromBits(uint8_t bits) {
    return RoleSet(bits & kAllBits);
  }

  constexpr uint8_t bits() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool Has(ClientRole role) const {
    return (bits_ & static_cast<uint8_t>(role)) != 0;
  }
  constexpr bool Intersects(RoleSet other) const {
    return (bits_ & other.bits_) != 0;
  }
  constexpr RoleSet With(ClientRole role) const {
    return RoleSet(bits_ | static_cast<uint8_t>(role));
  }
  constexpr bool operator==(const RoleSet& other) const = default;

  // "route,agents" in the order route, agents, admin; "none" when empty.
  std::string ToString() const;

 private:
  static constexpr uint8_t kAllBits = 0b111;
  constexpr explicit RoleSet(uint8_t bits) : bits_(bits) {}
  uint8_t bits_ = 0;
};

// The roles any one of which lets a client send `type` (admin always does).
RoleSet RolesPermitting(wire::RequestBody type);
inline bool Permits(RoleSet roles, wire::RequestBody type) {
  return roles.Intersects(RolesPermitting(type));
}
// The message of a PermissionDenied reply: names the request type, the role
// it needs and the roles the client has, e.g. "ReloadRules needs the admin
// role; this client's key has route".
std::string PermissionDeniedMessage(wire::RequestBody type, RoleSet roles);

// The ZAP User-Id for a client key (Z85) and its roles:
// "<key> <roles>", e.g. "rq2x...(40 characters) route,agents". Space and
// comma are not Z85 characters, so the form reads back unambiguously.
std::string ZapUserId(std::string_view z85_public_key, RoleSet roles);
// The roles in a ZapUserId; empty (nothing permitted) for anything that is
// not one, so a connection whose roles cannot be read is refused everything.
RoleSet RolesFromZapUserId(std::string_view user_id);

}  // namespace routing::sidecar

#endif  // SIDECAR_CLIENT_ROLES_H_
