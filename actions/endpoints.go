package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/gpu"
	"easel/jobs"
	"easel/policy"
	"easel/store"
)

// Endpoints manages GPU endpoints: the actions shared by the API and the
// console.
type Endpoints struct {
	store  *store.Store
	policy *policy.Policy
	gpu    *gpu.Registry
	jobs   JobInserter
	log    *slog.Logger
}

// NewEndpoints returns the endpoints actions.
func NewEndpoints(s *store.Store, p *policy.Policy, g *gpu.Registry, j JobInserter, log *slog.Logger) *Endpoints {
	return &Endpoints{store: s, policy: p, gpu: g, jobs: j, log: log}
}

// Viewer returns whose visibility applies: nil (all) for the service
// principal and holders of sagemaker_endpoint:all.
func (h *Endpoints) Viewer(ctx context.Context, who policy.Principal) (*store.Viewer, error) {
	if who.Service || h.policy.Can(who, policy.EndpointAll) {
		return nil, nil
	}
	u, err := store.FindUser(ctx, h.store.DB(), who.Username)
	if err != nil {
		return nil, err
	}
	return &store.Viewer{Username: u.Username, Roles: u.Roles}, nil
}

// EndpointQuery filters and pages List.
type EndpointQuery struct {
	Username string
	After    string
	Limit    int
	Statuses []string
	Types    []string
}

// List returns the endpoints actor (or the named user) may see, newest
// first, one page when Limit is set.
func (h *Endpoints) List(ctx context.Context, actor policy.Principal, q EndpointQuery) ([]store.Endpoint, error) {
	whose := actor
	if q.Username != "" && q.Username != actor.Name() {
		if !h.policy.UserExists(q.Username) {
			return nil, store.Errorf(store.EInvalid, "user: %q not exist", q.Username)
		}
		if err := h.policy.Require(actor, policy.EndpointAll); err != nil {
			return nil, err
		}
		whose = policy.User(q.Username)
	}
	v, err := h.Viewer(ctx, whose)
	if err != nil {
		return nil, err
	}
	f := store.EndpointFilter{VisibleTo: v, Limit: q.Limit, Statuses: q.Statuses, Types: q.Types}
	if q.After != "" {
		id, err := uuid.Parse(q.After)
		if err != nil {
			return nil, store.Errorf(store.EInvalid, "exclusive_start_key %q is not a key this API returned", q.After)
		}
		f.After = &id
	}
	return store.ListEndpoints(ctx, h.store.DB(), f)
}

// Delete removes endpoints, all or none: the rows at once, the backend
// resources by a job. Unknown names are skipped; without
// sagemaker_endpoint:all actor may delete only endpoints it created or
// that belong to one of its roles.
func (h *Endpoints) Delete(ctx context.Context, actor policy.Principal, names []string) error {
	if err := h.policy.Require(actor, policy.EndpointCreate); err != nil {
		return err
	}
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return err
	}
	names = dedupe(names)
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		for _, n := range names {
			e, err := store.FindEndpointByName(ctx, tx, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !h.MayDelete(actor, v, e) {
				return policy.Denied(actor, policy.EndpointAll)
			}
		}
		deleted, err := store.DeleteEndpoints(ctx, tx, names)
		if err != nil {
			return err
		}
		for _, e := range deleted {
			if _, err := h.jobs.InsertTx(ctx, tx, jobs.TeardownArgs{Name: e.Name, Backend: e.Backend}, nil); err != nil {
				return fmt.Errorf("enqueue teardown: %w", err)
			}
			if err := store.Audit(ctx, tx, actor.Name(), "endpoint.delete", e.Name, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// MayDelete reports whether actor, seeing endpoints as v (Viewer), may
// delete e: with sagemaker_endpoint:create, its creator or a holder of one
// of its roles; or anyone seeing everything. The console shows the delete
// button by the same rule.
func (h *Endpoints) MayDelete(actor policy.Principal, v *store.Viewer, e store.Endpoint) bool {
	if !h.policy.Can(actor, policy.EndpointCreate) {
		return false
	}
	return v == nil || e.Creator == actor.Name() || slices.ContainsFunc(e.Roles, func(r string) bool { return slices.Contains(v.Roles, r) })
}

// Visible returns the endpoint called name if actor may see it (else
// ErrNotFound), with the viewer it was judged as.
func (h *Endpoints) Visible(ctx context.Context, actor policy.Principal, name string) (store.Endpoint, *store.Viewer, error) {
	v, err := h.Viewer(ctx, actor)
	if err != nil {
		return store.Endpoint{}, nil, err
	}
	e, err := store.FindVisibleEndpoint(ctx, h.store.DB(), v, name)
	return e, v, err
}

// Prerequisites returns what the backends found missing or unverified
// for running endpoints (SageMaker's bucket, image and role).
func (h *Endpoints) Prerequisites(ctx context.Context) []gpu.Finding { return h.gpu.Check(ctx) }

// Catalogue returns the instance types endpoints can be created on.
func (h *Endpoints) Catalogue() []gpu.InstanceType { return h.gpu.Types() }
