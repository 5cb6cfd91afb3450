package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"easel/store"
)

// auditRounds is how many times the audit origin is built per measure.
const auditRounds = 1_000_000

// auditOriginCost prints what the audit trail adds to a request that
// writes nothing, such as GET /prod/users: only the origin the request
// middleware puts on the context (client address, request id, way in;
// web/logging.go), since audit rows are written only by writes. It is
// timed on a real echo context against the same loop without the origin,
// and set against cpuPerRequest, the CPU time of one whole request.
func auditOriginCost(cpuPerRequest time.Duration) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, "/prod/users", nil)
	req.RemoteAddr = "192.0.2.7:51234"
	id := "6f1c2b9e0d4a4e3f8b7a6c5d4e3f2a1b"
	var sink context.Context
	base := timeRounds(func() {
		c := e.NewContext(req, nil)
		sink = c.Request().Context()
	})
	with := timeRounds(func() {
		c := e.NewContext(req, nil)
		o := &store.Origin{Via: store.ViaAPI, Address: c.RealIP(), RequestID: id[:min(len(id), 128)]}
		c.SetRequest(c.Request().WithContext(store.WithOrigin(c.Request().Context(), o)))
		sink = c.Request().Context()
	})
	_ = sink
	cost := max(with-base, 0)
	fmt.Printf("\nCost of the audit trail on the same request (it writes nothing, so only the origin is built)\n")
	fmt.Printf("  origin per request: %d ns (%d ns with it, %d ns without, %d rounds)\n",
		cost.Nanoseconds(), with.Nanoseconds(), base.Nanoseconds(), auditRounds)
	if cpuPerRequest > 0 {
		fmt.Printf("  share of a request's CPU time (%d µs): %.2f%% (target <= 5%%)\n",
			cpuPerRequest.Microseconds(), 100*float64(cost)/float64(cpuPerRequest))
	}
}

// timeRounds returns the mean time of f over auditRounds calls.
func timeRounds(f func()) time.Duration {
	start := time.Now()
	for range auditRounds {
		f()
	}
	return time.Since(start) / auditRounds
}
