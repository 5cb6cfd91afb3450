// Package actions holds what Easel does, free of HTTP: each action
// validates its input, checks the permission and the row rule, and writes
// rows, casbin rules and the audit row in one transaction. The API and page
// handlers, the command line, the start-up bootstrap and background jobs
// all call these same functions, so a rule lives in one place.
package actions

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"easel/blob"
	"easel/gpu"
	"easel/metrics"
	"easel/netguard"
	"easel/policy"
	"easel/secrets"
	"easel/store"
	"easel/trainer"
)

// JobInserter enqueues background jobs inside a transaction (River).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// InsertManyFastTx enqueues many jobs in one statement (a crop's files).
	InsertManyFastTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) (int, error)
}

// Deps are what the actions use. The command line has no object store,
// jobs or GPUs: the actions on users, roles and keys need none of them.
type Deps struct {
	Store  *store.Store
	Policy *policy.Policy
	Sealer *secrets.Sealer
	// RevealPasswords is EASEL_ESD_REVEAL_PASSWORDS.
	RevealPasswords bool
	Blob            *blob.Client
	Jobs            JobInserter
	URLs            netguard.Policy
	GPU             *gpu.Registry
	// WorkerPools are the configured pools of `easel worker`s, and Workers
	// the timings of their lease protocol.
	WorkerPools []string
	Workers     WorkerTimings
	// TrainInstanceType is EASEL_TRAIN_INSTANCE_TYPE; TrainBackends are
	// registered besides the Workers one (Trainings.SetBackend).
	TrainInstanceType string
	TrainBackends     []trainer.Backend
	Log               *slog.Logger
	// Metrics records what the actions see happen (nil: nothing).
	Metrics *metrics.Set
}

// Set is every action of one process.
type Set struct {
	Users       *Users
	Roles       *Roles
	Keys        *Keys
	Checkpoints *Checkpoints
	Endpoints   *Endpoints
	Inferences  *Inferences
	Workers     *Workers
	Webhooks    *Webhooks
	Events      *Events
	Audit       *Audit
	Trainings   *Trainings
	Datasets    *Datasets
}

// New builds the actions over d.
func New(d Deps) *Set {
	s := &Set{
		Users:       NewUsers(d.Store, d.Policy, d.Sealer, d.RevealPasswords, d.Log),
		Roles:       NewRoles(d.Store, d.Policy, d.Log),
		Keys:        NewKeys(d.Store, d.Policy, d.WorkerPools, d.Log),
		Checkpoints: NewCheckpoints(d.Store, d.Policy, d.Blob, d.Jobs, d.URLs, d.Log),
		Endpoints:   NewEndpoints(d.Store, d.Policy, d.GPU, d.Jobs, d.Log),
	}
	s.Inferences = NewInferences(d.Store, d.Policy, d.Blob, d.Jobs, s.Endpoints, d.Log)
	s.Inferences.urls = d.URLs
	s.Webhooks = NewWebhooks(d.Store, d.Policy, d.Sealer, d.Jobs, d.URLs, d.Log)
	s.Events = NewEvents(d.Store, d.Policy, d.Log)
	s.Workers = NewWorkers(d.Store, d.Policy, d.Blob, d.Workers, d.Log)
	s.Workers.metrics = d.Metrics
	s.Audit = NewAudit(d.Store, d.Policy)
	s.Trainings = NewTrainings(d.Store, d.Policy, d.Blob, d.Jobs, d.WorkerPools, d.TrainInstanceType, d.Log)
	for _, b := range d.TrainBackends {
		s.Trainings.SetBackend(b)
	}
	s.Datasets = NewDatasets(d.Store, d.Policy, d.Blob, d.Jobs, d.Log)
	s.Workers.SetTrainings(s.Trainings)
	return s
}
