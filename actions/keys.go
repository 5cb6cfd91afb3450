package actions

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// Keys manages API keys: the actions shared by the console and the CLI.
type Keys struct {
	store  *store.Store
	policy *policy.Policy
	pools  []string // the configured worker pools
	log    *slog.Logger
}

// NewKeys returns the keys actions.
func NewKeys(s *store.Store, p *policy.Policy, pools []string, log *slog.Logger) *Keys {
	return &Keys{store: s, policy: p, pools: pools, log: log}
}

// KeyInput asks for a new key.
type KeyInput struct {
	Name string
	// Owner is the user a user key acts as; empty means the actor.
	Owner string
	// Service asks for a service key (may assert users; needs every
	// permission).
	Service bool
	// Pool asks for a worker key of this worker pool (needs
	// sagemaker_endpoint:all): it serves the pool and can do nothing else.
	Pool string
}

// Create makes a key and returns its secret, which is never shown again.
func (h *Keys) Create(ctx context.Context, actor policy.Principal, in KeyInput) (string, store.APIKey, error) {
	return h.create(ctx, actor, in, secrets.NewAPIKey())
}

// Seed makes a service key with a given secret (EASEL_API_KEY) unless a
// key with that secret exists already.
func (h *Keys) Seed(ctx context.Context, secret string) error {
	if _, err := store.FindKeyByHash(ctx, h.store.DB(), secrets.HashKey(secret)); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, _, err := h.create(ctx, policy.Principal{Service: true}, KeyInput{Name: "EASEL_API_KEY", Service: true}, secret)
	return err
}

func (h *Keys) create(ctx context.Context, actor policy.Principal, in KeyInput, secret string) (string, store.APIKey, error) {
	if in.Name == "" {
		in.Name = "API key"
	}
	if len(in.Name) > 100 {
		return "", store.APIKey{}, store.FieldError("name", "key name is too long (at most 100 characters)")
	}
	switch {
	case in.Pool != "":
		if err := h.mayMakeWorkerKey(actor, in); err != nil {
			return "", store.APIKey{}, err
		}
		in.Owner = ""
	case in.Service:
		if !h.MayMakeServiceKey(actor) {
			return "", store.APIKey{}, store.Errorf(store.EForbidden, "Only a user holding every permission (%s) may create a service key: it can act as any user.", strings.Join(policy.DefaultPermissions(), ", "))
		}
		in.Owner = ""
	default:
		if in.Owner == "" {
			in.Owner = actor.Username
		}
		if in.Owner == "" {
			return "", store.APIKey{}, store.FieldError("user", "a user key needs a user")
		}
		if in.Owner != actor.Name() {
			if err := h.policy.Require(actor, policy.UserAll); err != nil {
				return "", store.APIKey{}, err
			}
		}
	}
	id := uuid.New()
	k := store.APIKey{ID: id, Name: in.Name, Prefix: store.KeyPrefix(id), Pool: in.Pool,
		Username: in.Owner, Service: in.Service, CreatedBy: actor.Name(), CreatedAt: h.store.Now()}
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		if k.Username != "" {
			owner, err := store.FindUser(ctx, tx, k.Username)
			if errors.Is(err, store.ErrNotFound) {
				return store.FieldError("user", "user %q does not exist", k.Username)
			} else if err != nil {
				return err
			}
			// A key acting as someone else never lends more than its maker holds.
			if owner.Username != actor.Name() && !h.policy.CanGrantAll(actor, h.policy.PermissionsOf(owner.Roles)) {
				return store.Errorf(store.EForbidden, "%s cannot make a key for %s, who holds permissions %s does not", actor.Name(), owner.Username, actor.Name())
			}
		}
		if err := store.CreateKey(ctx, tx, k, secrets.HashKey(secret)); err != nil {
			return err
		}
		if err := policy.Changed(ctx, tx); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "key.create", k.ID.String(), k.Name)
	})
	if err != nil {
		return "", k, err
	}
	return secret, k, h.policy.Reload(ctx)
}

// MayMakeServiceKey reports whether actor holds every permission, which a
// service key (able to act as any user) needs.
func (h *Keys) MayMakeServiceKey(actor policy.Principal) bool {
	return h.policy.CanGrantAll(actor, policy.DefaultPermissions())
}

// List returns the keys actor may see: all with user:all, else its own.
func (h *Keys) List(ctx context.Context, actor policy.Principal) ([]store.APIKey, error) {
	if h.policy.Can(actor, policy.UserAll) {
		return store.ListKeys(ctx, h.store.DB(), store.KeyFilter{})
	}
	return store.ListKeys(ctx, h.store.DB(), store.KeyFilter{Owner: actor.Name()})
}

// Revoke revokes a key: the owner's own, or any with user:all.
func (h *Keys) Revoke(ctx context.Context, actor policy.Principal, id uuid.UUID) error {
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		k, err := store.FindKey(ctx, tx, id)
		if err != nil {
			return err
		}
		if !h.mayRevoke(actor, k) {
			return store.ErrNotFound
		}
		if err := store.RevokeKey(ctx, tx, id, h.store.Now()); err != nil {
			return err
		}
		if err := policy.Changed(ctx, tx); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "key.revoke", id.String(), k.Name)
	})
	if err != nil {
		return err
	}
	return h.policy.Reload(ctx)
}

// mayMakeWorkerKey fails unless actor may make a worker key for in.Pool:
// a configured pool, and sagemaker_endpoint:all (a worker gets the pool's
// prompts and models).
func (h *Keys) mayMakeWorkerKey(actor policy.Principal, in KeyInput) error {
	if in.Service || (in.Owner != "" && in.Owner != actor.Username) {
		return store.FieldError("pool", "a worker key serves a pool only: it cannot also be a service or user key")
	}
	if !slices.Contains(h.pools, in.Pool) {
		if len(h.pools) == 0 {
			return store.FieldError("pool", "no worker pools are configured: set EASEL_WORKER_POOLS")
		}
		return store.FieldError("pool", "unknown worker pool %q (configured: %s)", in.Pool, strings.Join(h.pools, ", "))
	}
	return h.policy.Require(actor, policy.EndpointAll)
}

// mayRevoke reports whether actor may revoke k: its own user key; a worker
// key with sagemaker_endpoint:all; any key with user:all.
func (h *Keys) mayRevoke(actor policy.Principal, k store.APIKey) bool {
	switch {
	case h.policy.Can(actor, policy.UserAll):
		return true
	case k.Pool != "":
		return h.policy.Can(actor, policy.EndpointAll)
	}
	return !k.Service && k.Username == actor.Name()
}
