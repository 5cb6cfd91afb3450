package blob_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"testing"

	"easel/blob"
	"easel/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopGateway()
	os.Exit(code)
}

// newClient returns a client for a fresh bucket on the test gateway.
func newClient(t *testing.T) *blob.Client {
	t.Helper()
	env := testenv.NewS3(t)
	c, err := blob.New(t.Context(), blob.Config{
		Endpoint: env.Endpoint, AccessKey: env.AccessKey, SecretKey: env.SecretKey, Bucket: env.Bucket,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// httpDo sends a plain request (as a browser would, no SDK) and returns
// the response with its body read, failing the test on a transport error.
func httpDo(t *testing.T, method, url string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got
}

// presignedPut PUTs body to a presigned URL and returns the ETag header.
func presignedPut(t *testing.T, url string, body []byte) string {
	t.Helper()
	resp, msg := httpDo(t, http.MethodPut, url, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s: %s", url, resp.Status, msg)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("PUT %s: no ETag header", url)
	}
	return etag
}

// getAll downloads key through a presigned GET URL.
func getAll(t *testing.T, c *blob.Client, key string) []byte {
	t.Helper()
	url, err := c.PresignGet(t.Context(), key, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := httpDo(t, http.MethodGet, url, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", key, resp.Status, body)
	}
	return body
}
