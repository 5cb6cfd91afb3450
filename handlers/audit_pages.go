package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
	"easel/views"
)

// auditPageSize is how many entries one page of the console shows.
const auditPageSize = 50

// Page is GET /audit: the filter form and one page of entries, newest
// first, with a link to the older ones (keyset: exclusive_start_key).
func (h *Audit) Page(c echo.Context) error {
	q := c.QueryParams()
	p := views.AuditPage{Base: pageBase(c, h.policy, "Audit", "audit"), Rows: []views.Change{},
		Filter: views.AuditFilter{User: q.Get("user"), Action: q.Get("action"), Target: q.Get("target"),
			Since: q.Get("since"), Until: q.Get("until")}}
	filter := auditFilterQuery(p.Filter)
	p.CSV = "/audit.csv?" + filter.Encode()
	paged := url.Values{}
	for k, v := range q {
		paged[k] = v
	}
	paged.Set("limit", strconv.Itoa(auditPageSize))
	f, err := actions.ParseAuditQuery(paged, true)
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		p.Errors = errs
		return Render(c, status, views.Audit(p))
	}
	var entries []store.AuditEntry
	err = h.List(c.Request().Context(), actor(c), f, func(a store.AuditEntry) error {
		entries = append(entries, a)
		return nil
	})
	if err != nil {
		return err
	}
	if p.Rows, err = (changeNamer{h.store}).changes(c.Request().Context(), entries, p.Can); err != nil {
		return err
	}
	if len(entries) == auditPageSize {
		older := auditFilterQuery(p.Filter)
		older.Set("exclusive_start_key", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		p.Older = "/audit?" + older.Encode()
	}
	if f.BeforeID > 0 {
		p.Newest = "/audit?" + filter.Encode()
	}
	return Render(c, http.StatusOK, views.Audit(p))
}

// auditFilterQuery is the query string of the filters set in f.
func auditFilterQuery(f views.AuditFilter) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"user": f.User, "action": f.Action, "target": f.Target, "since": f.Since, "until": f.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditCSVHeader names the columns of the CSV export.
var auditCSVHeader = []string{"id", "at", "user", "action", "target", "detail", "via", "key_id", "address", "request_id", "before", "after"}

// CSV is GET /audit.csv: every entry the filters match, newest first,
// streamed. The header row goes out with the first entry (or at the end),
// so a failure before it is still a proper error answer.
func (h *Audit) CSV(c echo.Context) error {
	f, err := actions.ParseAuditQuery(c.QueryParams(), false)
	if err != nil {
		return err
	}
	var w *csv.Writer
	var buf *bufio.Writer
	start := func() error {
		if w != nil {
			return nil
		}
		res := c.Response()
		res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="easel-audit.csv"`)
		res.WriteHeader(http.StatusOK)
		buf = bufio.NewWriterSize(res, 32<<10)
		w = csv.NewWriter(buf)
		return w.Write(auditCSVHeader)
	}
	err = h.List(c.Request().Context(), actor(c), f, func(a store.AuditEntry) error {
		if err := start(); err != nil {
			return err
		}
		it := auditItemOf(a)
		key := ""
		if it.KeyID != nil {
			key = *it.KeyID
		}
		return w.Write(csvSafe([]string{it.ID, a.At.UTC().Format(time.RFC3339), it.User, it.Action, it.Target, it.Detail,
			it.Via, key, it.Address, it.RequestID, string(a.Before), string(a.After)}))
	})
	if err != nil {
		if w == nil {
			return err
		}
		// Rows went out already: the answer can only be cut short.
		return fmt.Errorf("audit csv broken after the header: %w", err)
	}
	if err := start(); err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return buf.Flush()
}

// csvSafe defuses cells a spreadsheet would read as a formula (CSV
// injection): one starting with = + - @ (or a tab or carriage return)
// gets a leading apostrophe.
func csvSafe(cells []string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}
