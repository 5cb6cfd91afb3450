package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/handlers"
	"easel/policy"
)

// apiRoute is one route of the ESD API under the base path.
type apiRoute struct {
	method, path string
	guard        policy.Guard
	handler      echo.HandlerFunc
	// bodyUser is the body field that names the acting user for a service
	// key when no username/Bearer header does (the 1.4.0 WebUI's calls).
	bodyUser string
	// onBehalf routes list or create on someone's behalf: a service key
	// must assert a user (401 otherwise).
	onBehalf bool
	// bootstrap marks POST /users, where a service key may name the user
	// an {"initial": true} body creates.
	bootstrap bool
}

// apiRoutes is the whole API surface, one line per route.
func (s *Server) apiRoutes(h handlerSet) []apiRoute {
	return []apiRoute{
		{method: http.MethodGet, path: "/", guard: policy.SignedIn, handler: handlers.Root(s.cfg.APIVersion, s.cfg.APIBase+"/api")},
		{method: http.MethodGet, path: "/ping", guard: policy.SignedIn, handler: handlers.Ping},
		{method: http.MethodGet, path: "/api", guard: policy.SignedIn, handler: s.serveAPIDocument},
		{method: http.MethodGet, path: "/roles", guard: policy.Need(policy.RoleList), handler: h.roles.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/roles", guard: policy.Need(policy.RoleCreate), handler: h.roles.CreateAPI, bodyUser: "creator"},
		{method: http.MethodDelete, path: "/roles", guard: policy.Need(policy.RoleCreate), handler: h.roles.DeleteAPI},
		// Everyone may read their own record; the handler narrows the list.
		{method: http.MethodGet, path: "/users", guard: policy.SignedIn, handler: h.users.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/users", guard: policy.Need(policy.UserCreate), handler: h.users.CreateAPI, bodyUser: "creator", bootstrap: true},
		{method: http.MethodDelete, path: "/users", guard: policy.Need(policy.UserCreate), handler: h.users.DeleteAPI},
		{method: http.MethodGet, path: "/checkpoints", guard: policy.Need(policy.CheckpointList), handler: h.checkpoints.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/checkpoints", guard: policy.Need(policy.CheckpointCreate), handler: h.checkpoints.CreateAPI, bodyUser: "params.creator", onBehalf: true},
		{method: http.MethodPut, path: "/checkpoints/{id}", guard: policy.Need(policy.CheckpointCreate), handler: h.checkpoints.UpdateAPI},
		{method: http.MethodDelete, path: "/checkpoints", guard: policy.Need(policy.CheckpointCreate), handler: h.checkpoints.DeleteAPI},
		{method: http.MethodGet, path: "/datasets", guard: policy.Need(policy.TrainList), handler: h.datasets.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/datasets", guard: policy.Need(policy.TrainCreate), handler: h.datasets.CreateAPI, bodyUser: "creator", onBehalf: true},
		{method: http.MethodGet, path: "/datasets/{name}", guard: policy.Need(policy.TrainList), handler: h.datasets.GetAPI},
		{method: http.MethodPut, path: "/datasets/{name}", guard: policy.Need(policy.TrainCreate), handler: h.datasets.UpdateAPI},
		{method: http.MethodDelete, path: "/datasets", guard: policy.Need(policy.TrainCreate), handler: h.datasets.DeleteAPI},
		{method: http.MethodPost, path: "/datasets/{name}/crop", guard: policy.Need(policy.TrainCreate), handler: h.datasets.CropAPI},
		{method: http.MethodGet, path: "/inferences", guard: policy.Need(policy.InferenceList), handler: h.inferences.ListAPI},
		{method: http.MethodPost, path: "/inferences", guard: policy.Need(policy.InferenceCreate), handler: h.inferences.CreateAPI, bodyUser: "user_id"},
		{method: http.MethodGet, path: "/inferences/{id}", guard: policy.Need(policy.InferenceList), handler: h.inferences.GetAPI},
		{method: http.MethodPut, path: "/inferences/{id}/start", guard: policy.Need(policy.InferenceCreate), handler: h.inferences.StartAPI},
		{method: http.MethodPost, path: "/inferences/{id}/cancel", guard: policy.Need(policy.InferenceCreate), handler: h.inferences.CancelAPI},
		{method: http.MethodDelete, path: "/inferences", guard: policy.Need(policy.InferenceList), handler: h.inferences.DeleteAPI},
		{method: http.MethodGet, path: "/endpoints", guard: policy.Need(policy.EndpointList), handler: h.endpoints.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/endpoints", guard: policy.Need(policy.EndpointCreate), handler: h.endpoints.CreateAPI, bodyUser: "creator"},
		{method: http.MethodDelete, path: "/endpoints", guard: policy.Need(policy.EndpointCreate), handler: h.endpoints.DeleteAPI, bodyUser: "username"},
		{method: http.MethodGet, path: "/trainings", guard: policy.Need(policy.TrainList), handler: h.trainings.ListAPI, onBehalf: true},
		{method: http.MethodPost, path: "/trainings", guard: policy.Need(policy.TrainCreate), handler: h.trainings.CreateAPI, onBehalf: true},
		{method: http.MethodGet, path: "/trainings/{id}", guard: policy.Need(policy.TrainList), handler: h.trainings.GetAPI},
		{method: http.MethodDelete, path: "/trainings", guard: policy.Need(policy.TrainCreate), handler: h.trainings.DeleteAPI},
	}
}

// pageRoute is one route of the console.
type pageRoute struct {
	method, path string
	guard        policy.Guard
	handler      echo.HandlerFunc
}

// pageRoutes is the whole console surface, one line per route.
func (s *Server) pageRoutes(h handlerSet) []pageRoute {
	return []pageRoute{
		{http.MethodGet, "/healthz", policy.Public, s.healthz},
		{http.MethodGet, "/login", policy.Public, h.auth.LoginPage},
		{http.MethodPost, "/login", policy.Public, h.auth.Login},
		{http.MethodPost, "/logout", policy.SignedIn, h.auth.Logout},
		{http.MethodGet, "/", policy.SignedIn, h.dashboard.Page},

		{http.MethodGet, "/users", policy.Need(policy.UserList), h.users.Page},
		{http.MethodPost, "/users", policy.Need(policy.UserCreate), h.users.CreatePage},
		{http.MethodGet, "/users/:name/edit", policy.Need(policy.UserCreate), h.users.EditRow},
		{http.MethodGet, "/users/:name/row", policy.Need(policy.UserList), h.users.Row},
		{http.MethodPost, "/users/:name", policy.Need(policy.UserCreate), h.users.UpdatePage},
		{http.MethodDelete, "/users/:name", policy.Need(policy.UserCreate), h.users.DeletePage},

		{http.MethodGet, "/roles", policy.Need(policy.RoleList), h.roles.Page},
		{http.MethodPost, "/roles", policy.Need(policy.RoleCreate), h.roles.CreatePage},
		{http.MethodGet, "/roles/:name/edit", policy.Need(policy.RoleCreate), h.roles.EditRow},
		{http.MethodGet, "/roles/:name/row", policy.Need(policy.RoleList), h.roles.Row},
		{http.MethodPost, "/roles/:name", policy.Need(policy.RoleCreate), h.roles.UpdatePage},
		{http.MethodDelete, "/roles/:name", policy.Need(policy.RoleCreate), h.roles.DeletePage},

		{http.MethodGet, "/models", policy.Need(policy.CheckpointList), h.checkpoints.Page},
		{http.MethodGet, "/models/:id/row", policy.Need(policy.CheckpointList), h.checkpoints.RowPage},
		{http.MethodPost, "/models/uploads", policy.Need(policy.CheckpointCreate), h.checkpoints.UploadStart},
		{http.MethodPost, "/models/:id/complete", policy.Need(policy.CheckpointCreate), h.checkpoints.UploadComplete},
		{http.MethodPost, "/models/imports", policy.Need(policy.CheckpointCreate), h.checkpoints.ImportPage},
		{http.MethodGet, "/models/:id/rename", policy.Need(policy.CheckpointCreate), h.checkpoints.RenameForm},
		{http.MethodPost, "/models/:id/rename", policy.Need(policy.CheckpointCreate), h.checkpoints.RenamePage},
		{http.MethodPost, "/models/:id/status", policy.Need(policy.CheckpointCreate), h.checkpoints.StatusPage},
		{http.MethodGet, "/models/:id/sharing", policy.Need(policy.CheckpointCreate), h.checkpoints.ShareForm},
		{http.MethodPost, "/models/:id/sharing", policy.Need(policy.CheckpointCreate), h.checkpoints.SharePage},
		{http.MethodDelete, "/models/:id", policy.Need(policy.CheckpointCreate), h.checkpoints.DeletePage},

		{http.MethodGet, "/endpoints", policy.Need(policy.EndpointList), h.endpoints.Page},
		{http.MethodPost, "/endpoints", policy.Need(policy.EndpointCreate), h.endpoints.CreatePage},
		{http.MethodGet, "/endpoints/:name", policy.Need(policy.EndpointList), h.endpoints.DetailPage},
		{http.MethodGet, "/endpoints/:name/row", policy.Need(policy.EndpointList), h.endpoints.RowPage},
		{http.MethodDelete, "/endpoints/:name", policy.Need(policy.EndpointCreate), h.endpoints.DeletePage},

		{http.MethodGet, "/gallery", policy.Need(policy.InferenceList), h.inferences.GalleryPage},
		{http.MethodGet, "/gallery/:id", policy.Need(policy.InferenceList), h.inferences.JobPage},
		{http.MethodGet, "/gallery/:id/detail", policy.Need(policy.InferenceList), h.inferences.JobDetailPage},
		{http.MethodPost, "/gallery/:id/cancel", policy.Need(policy.InferenceCreate), h.inferences.CancelPage},
		{http.MethodDelete, "/gallery/:id", policy.Need(policy.InferenceList), h.inferences.DeletePage},
		{http.MethodGet, "/generate", policy.Need(policy.InferenceCreate), h.inferences.GeneratePage},
		{http.MethodPost, "/generate", policy.Need(policy.InferenceCreate), h.inferences.GenerateSubmit},

		{http.MethodGet, "/trainings", policy.Need(policy.TrainList), h.trainings.Page},
		{http.MethodPost, "/trainings", policy.Need(policy.TrainCreate), h.trainings.CreatePage},
		{http.MethodPost, "/trainings/preview", policy.Need(policy.TrainCreate), h.trainings.PreviewPage},
		{http.MethodGet, "/trainings/:id", policy.Need(policy.TrainList), h.trainings.DetailPage},
		{http.MethodGet, "/trainings/:id/detail", policy.Need(policy.TrainList), h.trainings.DetailFragment},
		{http.MethodPost, "/trainings/:id/stop", policy.Need(policy.TrainCreate), h.trainings.StopPage},
		{http.MethodDelete, "/trainings/:id", policy.Need(policy.TrainCreate), h.trainings.DeletePage},

		// Every signed-in user manages their own keys; the handler narrows.
		{http.MethodGet, "/workers", policy.Need(policy.EndpointList), h.workerPages.Page},
		{http.MethodPost, "/workers", policy.Need(policy.EndpointAll), h.workerPages.AddPage},
		{http.MethodGet, "/keys", policy.SignedIn, h.keys.Page},
		{http.MethodPost, "/keys", policy.SignedIn, h.keys.CreatePage},
		{http.MethodDelete, "/keys/:id", policy.SignedIn, h.keys.RevokePage},
	}
}

func (s *Server) serveAPIDocument(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, s.doc.JSON)
}
