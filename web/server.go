// Package web is the HTTP shell: the echo server, every route with its
// permission guard, the middleware and the one error handler.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"easel/actions"
	"easel/blob"
	"easel/handlers"
	"easel/policy"
	"easel/static"
	"easel/store"
)

// Config is what the HTTP layer needs from the process configuration.
type Config struct {
	APIBase    string // e.g. /prod
	APIVersion string // x-api-version
	Secret     []byte
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// WorkerPools are the configured pools of `easel worker`s.
	WorkerPools []string
}

// Deps are the services the routes use.
type Deps struct {
	Store   *store.Store
	Policy  *policy.Policy
	Blob    *blob.Client
	Actions *actions.Set
	Log     *slog.Logger
}

// Server holds the echo instance and what the middleware needs.
type Server struct {
	Echo     *echo.Echo
	cfg      Config
	deps     Deps
	doc      *apiDocument
	sessions *pgSessions
	// guards records the guard of every registered route ("METHOD path").
	guards map[string]policy.Guard
	// csp is the console's Content-Security-Policy.
	csp string
}

// New builds the server with every route registered.
func New(cfg Config, d Deps) (*Server, error) {
	doc, err := loadAPIDocument(cfg.APIBase, cfg.APIVersion)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor, e.SchemeExtractor = clientExtractors(cfg.TrustedProxies)
	s := &Server{Echo: e, cfg: cfg, deps: d, doc: doc, sessions: newPGSessions(d.Store, cfg.Secret),
		guards: map[string]policy.Guard{}, csp: contentSecurityPolicy(d.Blob, d.Log)}
	e.HTTPErrorHandler = s.handleError
	e.Pre(s.preflight)
	e.Use(middleware.RequestID(), s.logRequests, middleware.Recover(), s.consoleHeaders, s.limitConsoleBody)

	a := d.Actions
	h := handlerSet{
		users:       handlers.NewUsers(a.Users, d.Store, d.Policy, d.Log),
		roles:       handlers.NewRoles(a.Roles, d.Store, d.Policy, d.Log),
		keys:        handlers.NewKeys(a.Keys, d.Store, d.Policy, d.Log),
		checkpoints: handlers.NewCheckpoints(a.Checkpoints, d.Store, d.Policy, d.Blob, d.Log),
		endpoints:   handlers.NewEndpoints(a.Endpoints, d.Store, d.Policy, d.Log),
	}
	h.inferences = handlers.NewInferences(a.Inferences, d.Store, d.Policy, d.Blob, h.endpoints, d.Log)
	h.workers = handlers.NewWorkers(a.Workers)
	h.trainings = handlers.NewTrainings(a.Trainings, d.Store, d.Policy, d.Log)
	h.datasets = handlers.NewDatasets(a.Datasets, d.Policy)
	h.workerPages = handlers.NewWorkerPages(a.Workers, a.Keys, d.Policy, cfg.WorkerPools)
	h.endpoints.ShowWorkers(h.workerPages)
	h.auth = handlers.NewAuth(d.Store, d.Policy, s.sessions, d.Log)
	h.dashboard = handlers.NewDashboard(d.Store, d.Policy, h.users, h.roles, h.keys, h.checkpoints, h.endpoints, h.inferences)
	for _, r := range s.apiRoutes(h) {
		s.addAPI(r)
	}
	for _, r := range s.pageRoutes(h) {
		s.addPage(r)
	}
	s.workerRoutes(h)
	s.guards["GET /static/*"] = policy.Public
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static.Files)))))
	return s, nil
}

type handlerSet struct {
	users       *handlers.Users
	roles       *handlers.Roles
	keys        *handlers.Keys
	checkpoints *handlers.Checkpoints
	endpoints   *handlers.Endpoints
	inferences  *handlers.Inferences
	auth        *handlers.Auth
	dashboard   *handlers.Dashboard
	workers     *handlers.Workers
	workerPages *handlers.WorkerPages
	trainings   *handlers.Trainings
	datasets    *handlers.Datasets
}

// Guards returns the guard of every registered route, keyed "METHOD path".
func (s *Server) Guards() map[string]policy.Guard { return s.guards }

// APIDocument returns the served OpenAPI document (JSON).
func (s *Server) APIDocument() []byte { return s.doc.JSON }

func (s *Server) isAPI(path string) bool {
	return path == s.cfg.APIBase || strings.HasPrefix(path, s.cfg.APIBase+"/")
}

// HTTPServer wraps the handler with timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{Addr: addr, Handler: s.Echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second, WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second}
}

// healthz reports whether Postgres and S3 answer.
func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	out := map[string]string{"status": "ok", "postgres": "ok", "s3": "ok"}
	status := http.StatusOK
	if err := s.deps.Store.Ping(ctx); err != nil {
		out["postgres"], out["status"], status = "unreachable", "degraded", http.StatusServiceUnavailable
		s.deps.Log.Warn("healthz: postgres", "error", err)
	}
	if err := s.deps.Blob.Ping(ctx); err != nil {
		out["s3"], out["status"], status = "unreachable", "degraded", http.StatusServiceUnavailable
		s.deps.Log.Warn("healthz: s3", "error", err)
	}
	return c.JSON(status, out)
}
