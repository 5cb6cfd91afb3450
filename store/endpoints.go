package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Endpoint is a place where inference runs: a SageMaker endpoint or a
// WebUI pool.
type Endpoint struct {
	ID           uuid.UUID // ESD's EndpointDeploymentJobId
	Name         string
	Type         string // Async or Real-time
	InstanceType string
	Backend      string // sagemaker or webui
	InitialCount int
	MaxInstances int
	// MaxInstanceRaw is initial_instance_count as the client sent it.
	MaxInstanceRaw        string
	Autoscaling           bool
	AutoscalingRegistered bool
	CustomImage           string
	Status                string
	CurrentCount          *int
	Roles                 []string // ESD's owner_group_or_role
	Creator               string
	Error                 string
	Simulator             bool
	StartTime             time.Time
	EndTime               *time.Time
}

// EndpointFilter narrows ListEndpoints.
type EndpointFilter struct {
	// VisibleTo applies ESD's visibility rule; nil sees all.
	VisibleTo *Viewer
	// After continues a listing after this endpoint (keyset pagination).
	After *uuid.UUID
	Limit int
	// Statuses keeps these statuses; Types these types.
	Statuses []string
	Types    []string
}

const endpointColumns = `e.id, e.name, e.type, e.instance_type, e.backend, e.initial_count, e.max_instances,
	e.max_instance_raw, e.autoscaling, e.autoscaling_registered, e.custom_image, e.status, e.current_count,
	e.roles, e.creator, e.error, e.simulator, e.start_time, e.end_time`

func scanEndpoint(row interface{ Scan(...any) error }) (Endpoint, error) {
	var e Endpoint
	err := row.Scan(&e.ID, &e.Name, &e.Type, &e.InstanceType, &e.Backend, &e.InitialCount, &e.MaxInstances,
		&e.MaxInstanceRaw, &e.Autoscaling, &e.AutoscalingRegistered, &e.CustomImage, &e.Status, &e.CurrentCount,
		&e.Roles, &e.Creator, &e.Error, &e.Simulator, &e.StartTime, &e.EndTime)
	return e, err
}

func collectEndpoints(rows pgx.Rows) ([]Endpoint, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Endpoint, error) { return scanEndpoint(r) })
	if out == nil {
		out = []Endpoint{}
	}
	return out, err
}

// ListEndpoints returns the endpoints matching f, newest first.
func ListEndpoints(ctx context.Context, db DBTX, f EndpointFilter) ([]Endpoint, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := db.Query(ctx, `
		SELECT `+endpointColumns+` FROM endpoints e
		WHERE `+visibleTo("e.roles")+`
		  AND ($4::uuid IS NULL OR (e.start_time, e.id) <
		       (SELECT start_time, id FROM endpoints WHERE id = $4))
		  AND (cardinality($6::text[]) = 0 OR e.status = ANY ($6))
		  AND (cardinality($7::text[]) = 0 OR e.type = ANY ($7))
		ORDER BY e.start_time DESC, e.id DESC
		LIMIT $5`, append(viewerArgs(f.VisibleTo), f.After, limit, nonNil(f.Statuses), nonNil(f.Types))...)
	if err != nil {
		return nil, translate("list endpoints", err)
	}
	out, err := collectEndpoints(rows)
	return out, translate("list endpoints", err)
}

// FindEndpointByName returns the endpoint called name, or ErrNotFound.
func FindEndpointByName(ctx context.Context, db DBTX, name string) (Endpoint, error) {
	e, err := scanEndpoint(db.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints e WHERE e.name = $1`, name))
	return e, translate("find endpoint", err)
}

// FindVisibleEndpoint returns the endpoint called name if v may see it (nil
// sees all); one it may not see is ErrNotFound, like a missing one.
func FindVisibleEndpoint(ctx context.Context, db DBTX, v *Viewer, name string) (Endpoint, error) {
	e, err := scanEndpoint(db.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints e
		WHERE `+visibleTo("e.roles")+` AND e.name = $4`, append(viewerArgs(v), name)...))
	return e, translate("find endpoint", err)
}

// FindEndpoint returns the endpoint with id, or ErrNotFound.
func FindEndpoint(ctx context.Context, db DBTX, id uuid.UUID) (Endpoint, error) {
	e, err := scanEndpoint(db.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints e WHERE e.id = $1`, id))
	return e, translate("find endpoint", err)
}

// EndpointsHoldingRoles returns the endpoints owned by any of roles.
func EndpointsHoldingRoles(ctx context.Context, db DBTX, roles []string) ([]Endpoint, error) {
	rows, err := db.Query(ctx, `SELECT `+endpointColumns+` FROM endpoints e WHERE e.roles && $1::text[]`, roles)
	if err != nil {
		return nil, translate("endpoints of roles", err)
	}
	out, err := collectEndpoints(rows)
	return out, translate("endpoints of roles", err)
}

// LockEndpoints serialises endpoint creation (one live endpoint per role).
func LockEndpoints(ctx context.Context, db DBTX) error {
	_, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock(7470003)`)
	return translate("lock endpoints", err)
}

// CreateEndpoint inserts e.
func CreateEndpoint(ctx context.Context, db DBTX, e Endpoint) error {
	_, err := db.Exec(ctx, `
		INSERT INTO endpoints (id, name, type, instance_type, backend, initial_count, max_instances,
			max_instance_raw, autoscaling, custom_image, status, current_count, roles, creator, start_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		e.ID, e.Name, e.Type, e.InstanceType, e.Backend, e.InitialCount, e.MaxInstances, e.MaxInstanceRaw,
		e.Autoscaling, e.CustomImage, e.Status, e.CurrentCount, nonNil(e.Roles), e.Creator, e.StartTime)
	if ErrorCode(translate("", err)) == EConflict {
		return Errorf(EInvalid, "endpoint %s already exists", e.Name)
	}
	return translate("create endpoint", err)
}

// EndpointState is what the reconciler learns from a backend.
type EndpointState struct {
	Status       string
	CurrentCount *int
	Error        string
	Simulator    bool
	// InServiceAt sets end_time the first time the endpoint is InService.
	InServiceAt *time.Time
}

// UpdateEndpointState records the backend's view of an endpoint.
func UpdateEndpointState(ctx context.Context, db DBTX, id uuid.UUID, st EndpointState) error {
	_, err := db.Exec(ctx, `
		UPDATE endpoints SET status = $2, current_count = COALESCE($3, current_count), error = $4,
			simulator = $5, end_time = COALESCE(end_time, $6)
		WHERE id = $1`, id, st.Status, st.CurrentCount, st.Error, st.Simulator, st.InServiceAt)
	return translate("update endpoint", err)
}

// MarkAutoscalingRegistered records that autoscaling was set up.
func MarkAutoscalingRegistered(ctx context.Context, db DBTX, id uuid.UUID) error {
	_, err := db.Exec(ctx, `UPDATE endpoints SET autoscaling_registered = true WHERE id = $1`, id)
	return translate("mark autoscaling", err)
}

// DeleteEndpoints removes the named endpoints and returns them.
func DeleteEndpoints(ctx context.Context, db DBTX, names []string) ([]Endpoint, error) {
	rows, err := db.Query(ctx, `DELETE FROM endpoints e WHERE e.name = ANY ($1) RETURNING `+endpointColumns, names)
	if err != nil {
		return nil, translate("delete endpoints", err)
	}
	out, err := collectEndpoints(rows)
	return out, translate("delete endpoints", err)
}

// AllEndpoints returns every endpoint (for the reconciler and start-up).
func AllEndpoints(ctx context.Context, db DBTX) ([]Endpoint, error) {
	return ListEndpoints(ctx, db, EndpointFilter{})
}
