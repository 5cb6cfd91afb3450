package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"easel/gpu"
	"easel/store"
)

// timestampLayout is ESD's time format, passed to containers.
const timestampLayout = "2006-01-02 15:04:05.000000"

// Autoscaler is a backend that can register autoscaling (SageMaker).
type Autoscaler interface {
	EnableAutoscaling(ctx context.Context, name string, max int) error
}

// DeployArgs asks the endpoint's backend to create it.
type DeployArgs struct {
	EndpointID uuid.UUID `json:"endpoint_id"`
}

// Kind names the job in River.
func (DeployArgs) Kind() string { return "endpoint_deploy" }

type deployWorker struct {
	river.WorkerDefaults[DeployArgs]
	d Deps
}

func (w *deployWorker) Work(ctx context.Context, job *river.Job[DeployArgs]) error {
	e, err := store.FindEndpoint(ctx, w.d.Store.DB(), job.Args.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted before it was deployed
	}
	if err != nil {
		return err
	}
	b, ok := backendOf(w.d, e)
	if !ok {
		return w.failEndpoint(ctx, e, fmt.Errorf("the %s backend is not configured on this server", e.Backend))
	}
	if job.Attempt > 1 {
		// A replica killed after its attempt reached the backend: do not
		// create the endpoint twice (SageMaker refuses), follow it.
		if _, err := b.Status(ctx, e.Name); err == nil {
			return reconcileOne(ctx, w.d, e)
		}
	}
	spec := gpu.Spec{Name: e.Name, ID: e.ID.String(), Type: e.Type, InstanceType: e.InstanceType,
		InstanceCount: e.InitialCount, Autoscaling: e.Autoscaling, MaxInstances: e.MaxInstances,
		CustomImage: e.CustomImage, CreatedAt: e.StartTime.UTC().Format(timestampLayout)}
	if err := b.Deploy(ctx, spec); err != nil {
		if gpu.IsTransient(err) && job.Attempt < job.MaxAttempts {
			return err
		}
		return w.failEndpoint(ctx, e, err)
	}
	return reconcileOne(ctx, w.d, e)
}

func (w *deployWorker) failEndpoint(ctx context.Context, e store.Endpoint, cause error) error {
	w.d.Log.Warn("endpoint deploy failed", "endpoint", e.Name, "error", cause)
	err := saveEndpointState(ctx, w.d, e, store.EndpointState{Status: gpu.Failed, Error: cause.Error()})
	if err != nil {
		return err
	}
	return river.JobCancel(cause)
}

// TeardownArgs removes a deleted endpoint's backend resources.
type TeardownArgs struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
}

// Kind names the job in River.
func (TeardownArgs) Kind() string { return "endpoint_teardown" }

type teardownWorker struct {
	river.WorkerDefaults[TeardownArgs]
	d Deps
}

func (w *teardownWorker) Work(ctx context.Context, job *river.Job[TeardownArgs]) error {
	b, ok := w.d.GPU.Backend(job.Args.Backend)
	if !ok {
		return river.JobCancel(fmt.Errorf("the %s backend is not configured", job.Args.Backend))
	}
	return b.Delete(ctx, job.Args.Name)
}

// ReconcileArgs is the periodic check of every endpoint's state.
type ReconcileArgs struct{}

// Kind names the job in River.
func (ReconcileArgs) Kind() string { return "endpoint_reconcile" }

// InsertOpts: one pending reconcile at a time is enough.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Second}}
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	d Deps
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	return Reconcile(ctx, w.d)
}

// Reconcile asks each endpoint's backend for its state and records it:
// Creating → InService | Failed, endpoints that disappeared or became
// unhealthy, and autoscaling once an endpoint first serves.
func Reconcile(ctx context.Context, d Deps) error {
	all, err := store.AllEndpoints(ctx, d.Store.DB())
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range all {
		errs = append(errs, reconcileOne(ctx, d, e))
	}
	return errors.Join(errs...)
}

func reconcileOne(ctx context.Context, d Deps, e store.Endpoint) error {
	b, ok := backendOf(d, e)
	if !ok {
		return nil
	}
	st, err := b.Status(ctx, e.Name)
	next := store.EndpointState{Status: st.State, Error: st.FailureReason, Simulator: st.Simulator}
	switch {
	case errors.Is(err, gpu.ErrNotFound):
		if e.Status == gpu.Creating {
			return nil // the deploy job has not reached the backend yet
		}
		next = store.EndpointState{Status: gpu.Failed, Error: "the endpoint no longer exists in its backend"}
	case err != nil:
		if gpu.IsTransient(err) {
			return nil // try again next round
		}
		return fmt.Errorf("status of %s: %w", e.Name, err)
	default:
		n := st.InstanceCount
		next.CurrentCount = &n
	}
	if next.Status == gpu.InService {
		now := d.Store.Now()
		next.InServiceAt = &now
	}
	if err := saveEndpointState(ctx, d, e, next); err != nil {
		return err
	}
	if next.Status == gpu.InService && e.Autoscaling && !e.AutoscalingRegistered {
		if a, ok := b.(Autoscaler); ok {
			if err := a.EnableAutoscaling(ctx, e.Name, e.MaxInstances); err != nil {
				return fmt.Errorf("autoscaling of %s: %w", e.Name, err)
			}
		}
		return store.MarkAutoscalingRegistered(ctx, d.Store.DB(), e.ID)
	}
	return nil
}

// backendOf returns e's backend, e attached to it first when the backend
// keeps its endpoints in this process's memory (WebUI and worker pools):
// an endpoint another replica created after this one started is served
// here too. An endpoint whose pool is not configured here stays unknown
// to the backend (its Status says so).
func backendOf(d Deps, e store.Endpoint) (gpu.Backend, bool) {
	b, ok := d.GPU.Backend(e.Backend)
	switch a := b.(type) {
	case interface{ Attach(name, pool string) error }:
		_ = a.Attach(e.Name, e.InstanceType)
	case interface{ Attach(name, pool string) }:
		a.Attach(e.Name, e.InstanceType)
	}
	return b, ok
}

// saveEndpointState records e's new state; a change of status is audited
// in the same transaction (the periodic refreshes that change nothing
// else are not).
func saveEndpointState(ctx context.Context, d Deps, e store.Endpoint, next store.EndpointState) error {
	if next.Status == e.Status {
		return store.UpdateEndpointState(ctx, d.Store.DB(), e.ID, next)
	}
	return d.Store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.UpdateEndpointState(ctx, tx, e.ID, next); err != nil {
			return err
		}
		return store.AuditChange(ctx, tx, store.AuditRecord{Actor: store.SystemActor, Action: "endpoint.status",
			Target: e.Name, Detail: next.Error,
			Before: map[string]string{"status": e.Status}, After: map[string]string{"status": next.Status}})
	})
}
