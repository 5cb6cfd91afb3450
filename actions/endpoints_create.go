package actions

import (
	"context"
	"encoding/json"
	"fmt"
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
