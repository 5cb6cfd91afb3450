package gpu

import (
	"context"
	"strings"
)

// Backend kinds, as stored on endpoints.
const (
	KindSageMaker = "sagemaker"
	KindWebUI     = "webui"
	KindWorkers   = "workers"
)

// SageMakerInstanceTypes are the GPU instances the ESD WebUI offers.
var SageMakerInstanceTypes = []string{
	"ml.g4dn.2xlarge", "ml.g4dn.4xlarge", "ml.g4dn.8xlarge", "ml.g4dn.12xlarge",
	"ml.g5.2xlarge", "ml.g5.4xlarge", "ml.g5.8xlarge", "ml.g5.12xlarge", "ml.g5.24xlarge",
}

// InstanceType is one entry of the catalogue an endpoint is created from.
type InstanceType struct {
	Name  string // ml.g5.2xlarge, or a pool name
	Kind  string // KindSageMaker or KindWebUI
	Label string // what the console shows
}

// Registry maps instance types to the backends that serve them.
type Registry struct {
	backends map[string]Backend
	types    []InstanceType
	refused  map[string]string // instance type → why it is not offered
	check    Check
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{backends: map[string]Backend{}, refused: map[string]string{}}
}

// Refuse records instance types that are configured but not offered, and
// why (a sentence).
func (r *Registry) Refuse(types []string, reason string) {
	for _, t := range types {
		r.refused[t] = reason
	}
}

// Refused returns why instanceType is not offered, or "" when it is not
// refused.
func (r *Registry) Refused(instanceType string) string { return r.refused[instanceType] }

// SetCheck installs the prerequisite check the Endpoints page shows.
func (r *Registry) SetCheck(c Check) { r.check = c }

// Check runs the prerequisite check; nil when none is installed.
func (r *Registry) Check(ctx context.Context) []Finding {
	if r.check == nil {
		return nil
	}
	return r.check(ctx)
}

// AddSageMaker serves the ml.* instance types with b.
func (r *Registry) AddSageMaker(b Backend) {
	r.backends[KindSageMaker] = b
	for _, t := range SageMakerInstanceTypes {
		r.types = append(r.types, InstanceType{Name: t, Kind: KindSageMaker, Label: t + " (SageMaker)"})
	}
}

// AddPools serves each named WebUI pool with b.
func (r *Registry) AddPools(b Backend, names []string) {
	r.backends[KindWebUI] = b
	for _, n := range names {
		r.types = append(r.types, InstanceType{Name: n, Kind: KindWebUI, Label: n + " (WebUI pool)"})
	}
}

// AddWorkerPools serves each named pool of `easel worker`s with b.
func (r *Registry) AddWorkerPools(b Backend, names []string) {
	r.backends[KindWorkers] = b
	for _, n := range names {
		r.types = append(r.types, InstanceType{Name: n, Kind: KindWorkers, Label: n + " (workers)"})
	}
}

// WorkerPools returns the names of the worker pools.
func (r *Registry) WorkerPools() []string {
	var out []string
	for _, t := range r.types {
		if t.Kind == KindWorkers {
			out = append(out, t.Name)
		}
	}
	return out
}

// Types returns the catalogue, SageMaker types first.
func (r *Registry) Types() []InstanceType { return r.types }

// Resolve returns the kind and backend serving instanceType.
func (r *Registry) Resolve(instanceType string) (string, Backend, bool) {
	for _, t := range r.types {
		if t.Name == instanceType {
			return t.Kind, r.backends[t.Kind], true
		}
	}
	return "", nil, false
}

// Backend returns the backend of a kind.
func (r *Registry) Backend(kind string) (Backend, bool) {
	b, ok := r.backends[kind]
	return b, ok
}

// TypeNames lists the catalogue's names, for error messages.
func (r *Registry) TypeNames() string {
	names := make([]string, len(r.types))
	for i, t := range r.types {
		names[i] = t.Name
	}
	if len(names) == 0 {
		return "(none: configure EASEL_WORKER_POOLS, EASEL_WEBUI_POOLS or EASEL_SAGEMAKER_ROLE_ARN)"
	}
	return strings.Join(names, ", ")
}
