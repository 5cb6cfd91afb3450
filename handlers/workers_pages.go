package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/views"
)

// WorkerPages is the console's Workers page.
type WorkerPages struct {
	workers *actions.Workers
	keys    *actions.Keys
	policy  *policy.Policy
	pools   []string
}

// NewWorkerPages returns the Workers page handler for the pools given.
func NewWorkerPages(w *actions.Workers, k *actions.Keys, p *policy.Policy, pools []string) *WorkerPages {
	return &WorkerPages{workers: w, keys: k, policy: p, pools: pools}
}

// Page is GET /workers.
func (h *WorkerPages) Page(c echo.Context) error {
	rows, err := h.rows(c, h.pools)
	if err != nil {
		return err
	}
	who := actor(c)
	return Render(c, http.StatusOK, views.Workers(views.WorkersPage{
		Base:  BaseView(c, h.policy, "Workers", "workers"),
		Pools: h.pools, Workers: rows, CanAdd: h.policy.Can(who, policy.EndpointAll),
		Form: h.form(c, "", ""),
	}))
}

// AddPage is POST /workers: a worker key for a pool, and the command to
// run with it.
func (h *WorkerPages) AddPage(c echo.Context) error {
	pool, name := c.FormValue("pool"), c.FormValue("name")
	f := h.form(c, pool, name)
	in := actions.KeyInput{Name: "worker " + name, Pool: pool}
	if name == "" {
		in.Name = "worker"
	}
	secret, _, err := h.keys.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		f.Errors = errs
		return Render(c, status, views.WorkerAdd(f))
	}
	f.Key = secret
	f.Command = fmt.Sprintf("EASEL_WORKER_KEY=%s easel worker --server %s --webui http://127.0.0.1:7860 --models-dir /path/to/webui/models",
		secret, c.Scheme()+"://"+c.Request().Host)
	if name != "" {
		f.Command += " --name " + name
	}
	return Render(c, http.StatusOK, views.WorkerAdd(f))
}

func (h *WorkerPages) form(c echo.Context, pool, name string) views.WorkerAddForm {
	return views.WorkerAddForm{CSRF: CSRFToken(c), Pools: h.pools, Pool: pool, Name: name, Errors: views.FormErrors{}}
}

// rows are the workers of pools as the console shows them.
func (h *WorkerPages) rows(c echo.Context, pools []string) ([]views.WorkerRow, error) {
	list, err := h.workers.List(c.Request().Context(), actor(c), pools)
	if err != nil {
		return nil, err
	}
	now := h.workers.Now()
	rows := make([]views.WorkerRow, len(list))
	for i, w := range list {
		rows[i] = views.WorkerRow{Worker: w.Worker, Online: w.Online, Seen: views.SinceText(w.LastSeen, now)}
	}
	return rows, nil
}
