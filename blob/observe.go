package blob

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallObserver receives the duration of every request the client sends
// to the store (the metrics).
type CallObserver interface {
	Enabled() bool
	ObserveS3(operation string, d time.Duration)
}

// observeCalls times each request by its S3 operation. It sits last in the
// deserialize step, around the HTTP round trip: each retry counts apart,
// and presigning, which stops before sending, counts nothing.
func observeCalls(obs CallObserver) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("EaselObserveCalls",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				if !obs.Enabled() {
					return next.HandleDeserialize(ctx, in)
				}
				start := time.Now()
				out, md, err := next.HandleDeserialize(ctx, in)
				obs.ObserveS3(awsmiddleware.GetOperationName(ctx), time.Since(start))
				return out, md, err
			}), middleware.After)
	}
}
