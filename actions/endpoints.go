package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// maxInstanceCount bounds initial_instance_count.
const maxInstanceCount = 100

// EndpointInput is ESD's POST /endpoints body.
type EndpointInput struct {
	Name         string          `json:"endpoint_name"`
	Type         string          `json:"endpoint_type"`
	InstanceType string          `json:"instance_type"`
	Count        json.RawMessage `json:"initial_instance_count"`
	Autoscaling  bool            `json:"autoscaling_enabled"`
	Roles        []string        `json:"assign_to_roles"`
	CustomImage  string          `json:"custom_docker_image_uri"`
}

var (
	endpointNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,19}$`)
	ecrImagePattern     = regexp.MustCompile(`^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9._/-]+:[A-Za-z0-9._-]+$`)
)

// instanceCount reads a number or a numeric string ("1", 1, 1.0) that must
// be a whole number from 1 to maxInstanceCount.
func instanceCount(raw json.RawMessage) (int, error) {
	text := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || f < 1 || f > maxInstanceCount {
		return 0, store.FieldError("initial_instance_count", "initial_instance_count must be a whole number from 1 to %d, not %s", maxInstanceCount, string(raw))
	}
	return int(f), nil
}

// Create validates in, records the endpoint as Creating and enqueues its
// deployment. Nothing reaches a backend unless every check passed.
func (h *Endpoints) Create(ctx context.Context, actor policy.Principal, in EndpointInput) (store.Endpoint, error) {
	switch in.Type {
	case "Serverless":
		return store.Endpoint{}, store.Errorf(store.EInvalid, "Serverless endpoint is not supported yet")
	case gpu.RealTime:
		if in.Autoscaling {
			return store.Endpoint{}, store.Errorf(store.EInvalid, "Autoscaling is not supported for real-time endpoint")
		}
	case gpu.Async:
	default:
		return store.Endpoint{}, store.FieldError("endpoint_type", "endpoint_type must be Async or Real-time, not %q", in.Type)
	}
	if err := h.policy.Require(actor, policy.EndpointCreate); err != nil {
		return store.Endpoint{}, err
	}
	count, err := instanceCount(in.Count)
	if err != nil {
		return store.Endpoint{}, err
	}
	kind, backend, ok := h.gpu.Resolve(in.InstanceType)
	if !ok {
		if why := h.gpu.Refused(in.InstanceType); why != "" {
			return store.Endpoint{}, store.FieldError("instance_type", "instance_type %s: %s", in.InstanceType, why)
		}
		return store.Endpoint{}, store.FieldError("instance_type", "unknown instance_type %q; valid types: %s", in.InstanceType, h.gpu.TypeNames())
	}
	if in.CustomImage != "" {
		if kind != gpu.KindSageMaker {
			return store.Endpoint{}, store.FieldError("custom_docker_image_uri", "a custom image applies to SageMaker endpoints only")
		}
		if !ecrImagePattern.MatchString(in.CustomImage) {
			return store.Endpoint{}, store.FieldError("custom_docker_image_uri", "Invalid docker image uri %s", in.CustomImage)
		}
	}
	id := uuid.New()
	short := id.String()[:7]
	if in.Name != "" {
		if !endpointNamePattern.MatchString(in.Name) {
			return store.Endpoint{}, store.FieldError("endpoint_name", "endpoint_name %q must be 1 to 20 letters, digits or dashes, starting with a letter or digit", in.Name)
		}
		short = in.Name
	}
	name := fmt.Sprintf("esd-%s-%s", strings.ToLower(in.Type), short)
	if err := backendNameRules(backend, name); err != nil {
		return store.Endpoint{}, err
	}
	roles := dedupe(in.Roles)
	e := store.Endpoint{ID: id, Name: name, Type: in.Type,
		InstanceType: in.InstanceType, Backend: kind, InitialCount: count, MaxInstances: count,
		MaxInstanceRaw: strings.TrimSpace(string(in.Count)), Autoscaling: in.Autoscaling, CustomImage: in.CustomImage,
		Status: gpu.Creating, Roles: roles, Creator: actor.Name(), StartTime: h.store.Now()}
	zero := 0
	e.CurrentCount = &zero
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		missing, err := store.MissingRoles(ctx, tx, roles)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return store.FieldError("assign_to_roles", "role %q does not exist", missing[0])
		}
		if err := store.LockEndpoints(ctx, tx); err != nil {
			return err
		}
		taken, err := store.EndpointsHoldingRoles(ctx, tx, roles)
		if err != nil {
			return err
		}
		for _, other := range taken {
			for _, r := range roles {
				if slices.Contains(other.Roles, r) {
					return store.Errorf(store.EInvalid, "role [%s] has a valid endpoint already, not allow to have another one", r)
				}
			}
		}
		if err := h.mayAssign(ctx, tx, actor, roles); err != nil {
			return err
		}
		if err := store.CreateEndpoint(ctx, tx, e); err != nil {
			return err
		}
		if _, err := h.jobs.InsertTx(ctx, tx, jobs.DeployArgs{EndpointID: id}, nil); err != nil {
			return fmt.Errorf("enqueue deploy: %w", err)
		}
		return store.Audit(ctx, tx, actor.Name(), "endpoint.create", e.Name, in.InstanceType)
	})
	return e, err
}

// backendNameRules applies the backend's own rules for endpoint names
// (SageMaker's pattern and length, for every name derived from it).
func backendNameRules(b gpu.Backend, name string) error {
	v, ok := b.(gpu.NameValidator)
	if !ok {
		return nil
	}
	if err := v.ValidateName(name); err != nil {
		return store.FieldError("endpoint_name", "endpoint name %s is not accepted: %v", name, err)
	}
	return nil
}

// mayAssign fails unless actor holds each of roles, or holds
// sagemaker_endpoint:all: an endpoint assigned to a role takes that role's
// jobs (and their prompts) and blocks its own endpoint.
func (h *Endpoints) mayAssign(ctx context.Context, tx pgx.Tx, actor policy.Principal, roles []string) error {
	if actor.Service || len(roles) == 0 || h.policy.Can(actor, policy.EndpointAll) {
		return nil
	}
	u, err := store.FindUser(ctx, tx, actor.Username)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if !slices.Contains(u.Roles, r) {
			return store.Errorf(store.EForbidden, "%s does not hold role %q: only holders of sagemaker_endpoint:all may assign an endpoint to a role they do not hold", actor.Name(), r)
		}
	}
	return nil
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
