package policy

import "easel/store"

// ServiceName is how the service principal appears in records and
// messages; no user or role can take this name (store.CheckPrincipalName).
const ServiceName = store.ServicePrincipal

// Principal is who a request acts as: a user, or a service key's own
// principal (no user asserted), which holds every permission.
type Principal struct {
	Username string
	Service  bool
}

// Name returns the user name, or ServiceName for the service principal.
func (p Principal) Name() string {
	if p.Username == "" && p.Service {
		return ServiceName
	}
	return p.Username
}

// User returns the principal acting as the named user.
func User(name string) Principal { return Principal{Username: name} }

// Guard is the access rule of one route.
type Guard struct {
	kind guardKind
	// Perm is the permission a Need guard requires.
	Perm Perm
}

type guardKind int

const (
	guardNone guardKind = iota
	guardPublic
	guardSignedIn
	guardPerm
	guardWorker
)

// Public routes need no identity (ping, login, static files).
var Public = Guard{kind: guardPublic}

// SignedIn routes need an identity but no permission; the handler narrows
// what it shows (e.g. every user may read their own record).
var SignedIn = Guard{kind: guardSignedIn}

// WorkerKey routes serve the lease protocol: only a worker key may call
// them (checked by the web layer), and a worker key may call nothing else.
var WorkerKey = Guard{kind: guardWorker}

// Need requires perm.
func Need(perm Perm) Guard { return Guard{kind: guardPerm, Perm: perm} }

// IsSet reports whether the guard was declared (the zero Guard is not).
func (g Guard) IsSet() bool { return g.kind != guardNone }

// IsPublic reports whether the route needs no identity.
func (g Guard) IsPublic() bool { return g.kind == guardPublic }

// Check returns nil when pr passes the guard.
func (p *Policy) Check(g Guard, pr Principal) error {
	switch g.kind {
	case guardPublic, guardSignedIn:
		return nil
	case guardPerm:
		return p.Require(pr, g.Perm)
	}
	return store.Errorf(store.EForbidden, "User %s has no permissions: [undeclared route]", pr.Name())
}
