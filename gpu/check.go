package gpu

import "context"

// Finding statuses.
const (
	FindingOK         = "ok"
	FindingMissing    = "missing"    // verified: it is not there or not allowed
	FindingUnverified = "unverified" // could not be checked (Detail says why)
)

// Finding is one result of a backend's prerequisite check.
type Finding struct {
	What   string // what was checked, e.g. "Model data s3://b/data/model.tar.gz"
	Status string // FindingOK, FindingMissing or FindingUnverified
	Detail string // what was found, or why it could not be checked
	Fix    string // how to fix it; empty when OK
}

// Check is a prerequisite check; it never fails, it reports.
type Check func(ctx context.Context) []Finding
