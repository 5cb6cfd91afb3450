package web_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"easel/internal/testenv"
)

var fuzzClient = &http.Client{Timeout: 10 * time.Second}

// FuzzAPIRequest throws arbitrary bodies and identity headers at every API
// write route: whatever arrives, the answer is never a 5xx.
// Run longer with: go test ./web -run '^$' -fuzz FuzzAPIRequest -fuzztime 60s
func FuzzAPIRequest(f *testing.F) {
	s := testenv.NewServer(f)
	routes := [][2]string{{"POST", "/roles"}, {"DELETE", "/roles"}, {"POST", "/users"}, {"DELETE", "/users"}, {"GET", "/users"}, {"GET", "/roles"}}
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"role_name":"r","creator":"admin","permissions":["user:list"]}`,
		`{"username":"u","creator":"admin","roles":["IT Operator"],"initial":true}`,
		`{"user_name_list":["admin"]}`, `{"role_name_list":["IT Operator"]}`, `{"role_name":{"a":1}}`,
		`{"permissions":[1,2,3],"role_name":"r","creator":"c"}`, `{"username":"\u0000","creator":"\ud800"}`,
		"\xff\xfe", `{"a":1e400}`, `{"initial":true,"username":"a","creator":"a","roles":[]}`,
	}
	for i, b := range seeds {
		f.Add(uint8(i), []byte(b), "admin", "")
	}
	f.Add(uint8(2), []byte(`{"username":"x","creator":"x","initial":true}`), "", "Bearer 78")
	f.Fuzz(func(t *testing.T, route uint8, body []byte, user, authorization string) {
		rt := routes[int(route)%len(routes)]
		req, err := http.NewRequest(rt[0], s.URL+"/prod"+rt[1], bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("x-api-key", testenv.ServiceKey)
		if user != "" {
			req.Header.Set("username", user)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		res, err := fuzzClient.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) && ue.Timeout() {
				t.Fatalf("%s %s body %q user %q auth %q: no answer: %v", rt[0], rt[1], body, user, authorization, err)
			}
			return // the client refused to send it (e.g. invalid header bytes)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s body %q user %q auth %q: status %d %s", rt[0], rt[1], body, user, authorization, res.StatusCode, out)
		}
	})
}
