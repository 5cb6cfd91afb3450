package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/store"
)

var keySecretField = regexp.MustCompile(`data-testid="key-secret"`)

// TestKeysPageShowsIDNotSecret checks the keys page recognises a key by the
// start of its id and shows no 8 characters of any secret: neither of a
// key made in the console nor of the seeded EASEL_API_KEY.
func TestKeysPageShowsIDNotSecret(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	c, token := consoleClient(t, s)
	if got := login(t, c, s, token, "admin", testenv.AdminPassword); got != http.StatusSeeOther && got != http.StatusFound {
		t.Fatalf("login: got %d, want a redirect", got)
	}
	page := getBody(t, c, s.URL+"/keys")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the keys page")
	}
	res, err := c.PostForm(s.URL+"/keys", url.Values{"_csrf": {m[1]}, "name": {"script"}})
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !keySecretField.Match(created) {
		t.Fatalf("POST /keys: got %d without the new secret: %s", res.StatusCode, created)
	}
	secret := regexp.MustCompile(`value="(esk_[0-9a-f]+)"`).FindSubmatch(created)
	if secret == nil {
		t.Fatalf("POST /keys: no secret in %s", created)
	}
	// The answer shows the secret once, in its box; the new row must not.
	row := string(created[strings.Index(string(created), `<tr id="key-row-`):])
	keys, err := store.ListKeys(t.Context(), s.App.Store.DB(), store.KeyFilter{})
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListKeys = %v, %v; want the seeded key and the new one", keys, err)
	}
	secrets := []string{string(secret[1]), testenv.ServiceKey}
	page = getBody(t, c, s.URL+"/keys")
	for name, body := range map[string]string{"new row": row, "keys page": page} {
		for _, sec := range secrets {
			for i := 0; i+8 <= len(sec); i++ {
				if strings.Contains(body, sec[i:i+8]) {
					t.Errorf("%s shows %q, part of the secret %s", name, sec[i:i+8], sec)
				}
			}
		}
	}
	for _, k := range keys {
		want := `data-testid="key-prefix-` + k.ID.String() + `">` + k.ID.String()[:8] + `</code>`
		if !strings.Contains(page, want) {
			t.Errorf("keys page lacks %s for key %s", want, k.Name)
		}
		if k.Prefix != k.ID.String()[:8] {
			t.Errorf("key %s: prefix %q, want %q", k.Name, k.Prefix, k.ID.String()[:8])
		}
	}
}

func getBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200", u, res.StatusCode)
	}
	return string(b)
}
