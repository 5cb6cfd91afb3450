package policy

// Perm is one permission: an action on a resource ("checkpoint:create").
// Only the values below and ParsePerm make one, so a misspelt permission
// does not compile.
type Perm struct{ resource, action string }

// String returns the "resource:action" form roles store.
func (p Perm) String() string { return p.resource + ":" + p.action }

// The permission vocabulary: each resource with all, create and list.
var (
	UserAll, UserCreate, UserList                   = perms("user")
	RoleAll, RoleCreate, RoleList                   = perms("role")
	CheckpointAll, CheckpointCreate, CheckpointList = perms("checkpoint")
	EndpointAll, EndpointCreate, EndpointList       = perms("sagemaker_endpoint")
	InferenceAll, InferenceCreate, InferenceList    = perms("inference")
	TrainAll, TrainCreate, TrainList                = perms("train")
	// AuditAll and AuditList read the audit log (user:all covers them).
	AuditAll, AuditList = Perm{"audit", ActionAll}, Perm{"audit", "list"}
)

func perms(resource string) (all, create, list Perm) {
	return Perm{resource, ActionAll}, Perm{resource, "create"}, Perm{resource, "list"}
}

// AllPerms returns every permission, resource by resource in the order of
// Resources, actions in the order of Actions (those the resource takes).
func AllPerms() []Perm {
	out := make([]Perm, 0, len(Resources)*len(Actions))
	for _, r := range Resources {
		for _, a := range actionsOf(r) {
			out = append(out, Perm{r, a})
		}
	}
	return out
}

// ParsePerm returns the permission written as s, ok=false when s is not a
// known "resource:action" (CheckPermission says why).
func ParsePerm(s string) (Perm, bool) {
	if CheckPermission(s) != "" {
		return Perm{}, false
	}
	res, act, _ := Split(s)
	return Perm{res, act}, true
}
