package sagemaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/google/uuid"

	"easel/blob"
	"easel/gpu"
)

const jsonType = "application/json"

// Invoke runs a real-time inference: the ESD container request
// {task, username, param_s3, models} in, A1111's JSON out. A failure of
// the model (ModelError) is a plain error carrying the model's message;
// throttling and 5xx are gpu.TransientError.
func (b *Backend) Invoke(ctx context.Context, name string, req gpu.Request) (gpu.Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return gpu.Result{}, fmt.Errorf("sagemaker: encode request: %w", err)
	}
	in := &sagemakerruntime.InvokeEndpointInput{
		EndpointName: &name, Body: body, ContentType: aws.String(jsonType), Accept: aws.String(jsonType),
	}
	if req.InferenceID != "" {
		in.InferenceId = &req.InferenceID
	}
	out, err := b.runtime.InvokeEndpoint(ctx, in)
	if err != nil {
		return gpu.Result{}, invokeError("InvokeEndpoint "+name, err)
	}
	return decodeResult(name, out.Body)
}

// invokeError reports a ModelError with the model's own message.
func invokeError(op string, err error) error {
	var me *rttypes.ModelError
	if errors.As(err, &me) {
		msg := aws.ToString(me.OriginalMessage)
		if msg == "" {
			msg = aws.ToString(me.Message)
		}
		return &Error{Op: op, Text: "ModelError: " + msg, Err: err}
	}
	return wrap(op, err)
}

// decodeResult reads the container's answer (see gpu.ParseResult). The
// ESD container answers null when it caught an error of its own; the
// failure then says where its log is.
func decodeResult(endpoint string, body []byte) (gpu.Result, error) {
	res, err := gpu.ParseResult(body)
	if err != nil {
		return res, fmt.Errorf("sagemaker: %s: %w", endpoint, err)
	}
	if res.Failure != "" && strings.TrimSpace(string(body)) == "null" {
		if endpoint == "" {
			endpoint = "<endpoint name>"
		}
		res.Failure = "the inference container answered null: it failed and logged why in CloudWatch, log group " +
			"/aws/sagemaker/Endpoints/" + endpoint
	}
	return res, nil
}

// AsyncInvocationTimeout is how long SageMaker lets an async inference
// run, in seconds (ESD's value and SageMaker's maximum; the default of
// 900 is too short when the container first downloads a checkpoint).
const AsyncInvocationTimeout = 3600

// InvokeAsync stages the request JSON at async-inputs/<inference id>.json
// in the bucket and submits it to the async endpoint. The handle's
// OutputLocation is where SageMaker will write the result.
func (b *Backend) InvokeAsync(ctx context.Context, name string, req gpu.Request) (gpu.AsyncHandle, error) {
	if b.store == nil {
		return gpu.AsyncHandle{}, errors.New("sagemaker: async inference needs an object store")
	}
	id := req.InferenceID
	if id == "" {
		id = uuid.NewString()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return gpu.AsyncHandle{}, fmt.Errorf("sagemaker: encode request: %w", err)
	}
	key := InputPrefix + id + ".json"
	if err := b.store.Put(ctx, key, body, jsonType); err != nil {
		return gpu.AsyncHandle{}, gpu.TransientError{Err: fmt.Errorf("sagemaker: stage async input: %w", err)}
	}
	out, err := b.runtime.InvokeEndpointAsync(ctx, &sagemakerruntime.InvokeEndpointAsyncInput{
		EndpointName: &name, InputLocation: aws.String(b.s3URI(key)), InferenceId: &id,
		ContentType: aws.String(jsonType), Accept: aws.String(jsonType),
		InvocationTimeoutSeconds: aws.Int32(AsyncInvocationTimeout),
	})
	if err != nil {
		return gpu.AsyncHandle{}, invokeError("InvokeEndpointAsync "+name, err)
	}
	if got := aws.ToString(out.InferenceId); got != "" {
		id = got
	}
	return gpu.AsyncHandle{Endpoint: name, InferenceID: id, OutputLocation: aws.ToString(out.OutputLocation),
		FailureLocation: aws.ToString(out.FailureLocation)}, nil
}

// FetchAsync looks for the result of an async inference. Not there yet:
// done=false, err=nil. The result: done=true (a container's null or error
// answer is a result with Failure set). The failure object SageMaker
// writes at the handle's FailureLocation: done=true and an error with its
// content. A store error: done=false and a gpu.TransientError.
func (b *Backend) FetchAsync(ctx context.Context, h gpu.AsyncHandle) (gpu.Result, bool, error) {
	if b.store == nil {
		return gpu.Result{}, false, errors.New("sagemaker: async inference needs an object store")
	}
	key, err := b.keyOf(h.OutputLocation)
	if err != nil {
		return gpu.Result{}, false, err
	}
	body, found, err := b.read(ctx, key)
	if err != nil || found {
		if err != nil {
			return gpu.Result{}, false, err
		}
		res, err := decodeResult(h.Endpoint, body)
		return res, true, err
	}
	fkey := failureKey(key)
	if h.FailureLocation != "" {
		if fkey, err = b.keyOf(h.FailureLocation); err != nil {
			return gpu.Result{}, false, err
		}
	}
	if fkey == "" {
		return gpu.Result{}, false, nil
	}
	body, found, err = b.read(ctx, fkey)
	if err != nil || !found {
		return gpu.Result{}, false, err
	}
	return gpu.Result{}, true, fmt.Errorf("sagemaker: async inference %s failed: %s", h.InferenceID, strings.TrimSpace(string(body)))
}

// keyOf returns the key of an s3:// location in the bucket.
func (b *Backend) keyOf(location string) (string, error) {
	bucket, key := splitS3(location)
	if bucket != b.cfg.Bucket || key == "" {
		return "", fmt.Errorf("sagemaker: location %q is not in bucket %s", location, b.cfg.Bucket)
	}
	return key, nil
}

// read returns an object's content; found=false when it does not exist.
func (b *Backend) read(ctx context.Context, key string) ([]byte, bool, error) {
	rc, err := b.store.Get(ctx, key)
	if err != nil {
		if blob.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, gpu.TransientError{Err: fmt.Errorf("sagemaker: read %s: %w", key, err)}
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return nil, false, gpu.TransientError{Err: fmt.Errorf("sagemaker: read %s: %w", key, err)}
	}
	return body, true, nil
}

// splitS3 splits s3://bucket/key.
func splitS3(uri string) (bucket, key string) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", ""
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key
}

// failureKey guesses where SageMaker puts the failure of the output key
// sagemaker_output/<uuid>.out (sagemaker_async_failures/<uuid>-error.out),
// for handles stored before they recorded the FailureLocation.
func failureKey(outputKey string) string {
	base := path.Base(outputKey)
	if !strings.HasPrefix(outputKey, OutputPrefix) || !strings.HasSuffix(base, ".out") {
		return ""
	}
	return FailurePrefix + strings.TrimSuffix(base, ".out") + "-error.out"
}
