package views

import (
	"strconv"

	"easel/gpu"
	"easel/store"
)

// EndpointsPage lists endpoints and offers the create form.
type EndpointsPage struct {
	Base
	Rows      []EndpointRow
	CanCreate bool
	Form      EndpointForm
	// Checks is the SageMaker prerequisite check, shown to those who may
	// create endpoints when SageMaker is configured.
	Checks []gpu.Finding
}

// EndpointRow is one endpoint in the table.
type EndpointRow struct {
	Endpoint  store.Endpoint
	CanDelete bool
}

// EndpointForm creates an endpoint.
type EndpointForm struct {
	Name, Type, InstanceType, Count string
	Autoscaling                     bool
	Roles                           []string
	Catalogue                       []gpu.InstanceType
	RoleChoices                     []string
	Errors                          FormErrors
}

// EndpointPage is one endpoint's detail.
type EndpointPage struct {
	Base
	Endpoint  store.Endpoint
	CanDelete bool
	History   []store.AuditEntry
	Jobs      []store.Inference
	// Workers are the pool's workers, for an endpoint on a worker pool.
	Workers []WorkerRow
}

// endpointNamePreview says the name an endpoint will get (static/app.js
// says the same while the user types).
func endpointNamePreview(typ, name string) string {
	prefix := "esd-async-"
	if typ == "Real-time" {
		prefix = "esd-real-time-"
	}
	if name == "" {
		return "Left empty, the name will be " + prefix + " followed by 7 random characters."
	}
	return "It will be called " + prefix + name + "."
}

func endpointsEmpty(canCreate bool) string {
	if canCreate {
		return "No endpoints yet. Create one with New endpoint above."
	}
	return "No endpoints you may use yet. Ask an administrator to create one for one of your roles."
}

func endpointStatusClass(status string) string { return badgeClass(status, gpu.InService, gpu.Failed) }

// badgeClass colours a status badge: good, bad, or anything in between.
func badgeClass(status, good, bad string) string {
	switch status {
	case good:
		return "badge ok"
	case bad:
		return "badge danger"
	}
	return "badge warn"
}

func countOf(e store.Endpoint) string {
	if e.CurrentCount == nil {
		return "—"
	}
	return strconv.Itoa(*e.CurrentCount)
}

// refreshEvery is how often a row re-reads its endpoint: fast while it
// changes, slowly once settled (to notice an endpoint going unhealthy).
func refreshEvery(e store.Endpoint) string {
	if e.Status == gpu.InService || e.Status == gpu.Failed {
		return "every 15s"
	}
	return "every 2s"
}
