package sagemaker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"easel/blob"
	"easel/gpu"
	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
)

// s3Fake returns a backend whose async traffic goes through a real bucket,
// with the fake reading from and writing to it.
func s3Fake(t *testing.T) (*fake.Server, *blob.Client, *sagemaker.Backend) {
	t.Helper()
	ctx := context.Background()
	s := testenv.NewS3(t)
	store, err := blob.New(ctx, blob.Config{Endpoint: s.Endpoint, Bucket: s.Bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	f, b := newBackend(t, s.Bucket, store)
	f.AsyncDelay = 200 * time.Millisecond
	f.ReadObject = func(key string) ([]byte, error) {
		rc, err := store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	f.WriteObject = func(key string, body []byte) error { return store.Put(ctx, key, body, "application/json") }
	if err := store.Put(ctx, "data/model.tar.gz", []byte("ESD model data"), "application/gzip"); err != nil {
		t.Fatal(err)
	}
	return f, store, b
}

func blobPut(store *blob.Client) func(string, []byte) error {
	return func(key string, body []byte) error {
		return store.Put(context.Background(), key, body, "application/octet-stream")
	}
}

func TestInvokeAsync(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0001")
	deployed(t, b, spec)
	seedJob(t, blobPut(store), "inf-async-1")
	bodies := recordBodies(f)
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-1"))
	if err != nil {
		t.Fatal(err)
	}
	if h.InferenceID != "inf-async-1" || h.Endpoint != spec.Name ||
		!strings.HasPrefix(h.OutputLocation, "s3://"+store.Bucket+"/sagemaker_output/") ||
		!strings.HasPrefix(h.FailureLocation, "s3://"+store.Bucket+"/sagemaker_async_failures/") {
		t.Fatalf("handle = %+v", h)
	}
	var in struct{ InputLocation, ContentType, InvocationTimeoutSeconds string }
	decodeCall(t, f, "InvokeEndpointAsync", &in)
	if in.InputLocation != "s3://"+store.Bucket+"/async-inputs/inf-async-1.json" || in.ContentType != "application/json" ||
		in.InvocationTimeoutSeconds != fmt.Sprint(sagemaker.AsyncInvocationTimeout) {
		t.Errorf("InvokeEndpointAsync input = %+v, want InvocationTimeoutSeconds 3600", in)
	}
	if _, done, err := b.FetchAsync(ctx, h); done || err != nil {
		t.Fatalf("FetchAsync right away: done=%v err=%v", done, err)
	}
	res, err := waitAsync(t, b, h)
	if err != nil || len(res.Images) != 1 || res.Images[0] != fake.TinyPNG {
		t.Errorf("result = %+v, %v", res, err)
	}
	if got := bodies(); len(got) != 1 || got[0] != wantBody(store.Bucket, "inf-async-1") {
		t.Errorf("container got %q,\nwant %q", got, wantBody(store.Bucket, "inf-async-1"))
	}
}

// TestInvokeAsyncFailures: a crash is read from the FailureLocation
// SageMaker named (the fake names it so that no guess finds it); a null
// answer is an output, and no result.
func TestInvokeAsyncFailures(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	spec := asyncSpec("asy0002")
	deployed(t, b, spec)
	seedJob(t, blobPut(store), "inf-async-2")

	f.Invoke = func(string, []byte) ([]byte, error) { return nil, errors.New("model exploded") }
	h, err := b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitAsync(t, b, h); err == nil || !strings.Contains(err.Error(), "model exploded") {
		t.Errorf("crashed container: err = %v, want the failure object's text", err)
	}

	f.Invoke = fake.AnswerNull
	h, err = b.InvokeAsync(ctx, spec.Name, testRequest(store.Bucket, "inf-async-2"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := waitAsync(t, b, h)
	if err != nil || !strings.Contains(res.Failure, "answered null") || !strings.Contains(res.Failure, spec.Name) {
		t.Errorf("null answer: %+v, %v; want a Failure naming the log group", res, err)
	}
}

// waitAsync polls FetchAsync until it is done.
func waitAsync(t *testing.T, b gpu.AsyncBackend, h gpu.AsyncHandle) (gpu.Result, error) {
	t.Helper()
	for range 200 {
		res, done, err := b.FetchAsync(context.Background(), h)
		if done {
			return res, err
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("async result never arrived")
	return gpu.Result{}, nil
}
