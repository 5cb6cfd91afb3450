// Package policy decides who may do what: the permission vocabulary, the
// casbin enforcer on our own pgx adapter, and route guards.
package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Resources and actions of ESD's permission vocabulary, and Easel's
// "audit" (read the audit log), which has no create.
var (
	Resources = []string{"user", "role", "checkpoint", "sagemaker_endpoint", "inference", "train", "audit"}
	Actions   = []string{"all", "create", "list"}
)

// narrowActions are the resources that take only some of Actions.
var narrowActions = map[string][]string{"audit": {ActionAll, "list"}}

// actionsOf returns the actions resource takes.
func actionsOf(resource string) []string {
	if a, ok := narrowActions[resource]; ok {
		return a
	}
	return Actions
}

// ActionAll implies every action on its resource.
const ActionAll = "all"

// DefaultPermissions are the six "<resource>:all" strings of the seeded
// roles, in the order ESD's bootstrap writes them.
func DefaultPermissions() []string {
	out := []string{}
	for _, p := range []Perm{TrainAll, CheckpointAll, InferenceAll, EndpointAll, UserAll, RoleAll} {
		out = append(out, p.String())
	}
	return out
}

// Split returns the resource and action of perm, ok=false when perm is not
// of the form "resource:action".
func Split(perm string) (resource, action string, ok bool) {
	resource, action, ok = strings.Cut(perm, ":")
	return resource, action, ok && resource != "" && action != ""
}

// CheckPermission returns a user-facing reason when perm is not a known
// "resource:action" string, "" when it is.
func CheckPermission(perm string) string {
	res, act, ok := Split(perm)
	if !ok {
		return fmt.Sprintf("invalid permission %q: want <resource>:<action>", perm)
	}
	if !slices.Contains(Resources, res) {
		return fmt.Sprintf("invalid permission %q: unknown resource %q (known: %s)", perm, res, strings.Join(Resources, ", "))
	}
	if known := actionsOf(res); !slices.Contains(known, act) {
		return fmt.Sprintf("invalid permission %q: unknown action %q (known: %s)", perm, act, strings.Join(known, ", "))
	}
	return ""
}

// permMatch is casbin's custom matcher: a granted "res:all" covers every
// action on res; otherwise the action must be the same. user:all, which
// sees every user's keys and sessions, also covers reading the audit log.
func permMatch(requested, granted string) bool {
	rr, ra, ok1 := Split(requested)
	gr, ga, ok2 := Split(granted)
	if ok1 && rr == AuditList.resource && granted == UserAll.String() {
		return true
	}
	if !ok1 || !ok2 || rr != gr {
		return false
	}
	return ga == ActionAll || ga == ra
}
