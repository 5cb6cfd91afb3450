package webui_test

import (
	"strings"
	"testing"

	"easel/gpu/webui"
)

func TestParsePools(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    string // "name=host,host;..." or the error substring
		wantErr bool
	}{
		{"", "", false},
		{"  ", "", false},
		{"studio=http://gpu1:7860,http://gpu2:7860;lab=http://user:pass@gpu3:7860",
			"studio=gpu1:7860,gpu2:7860;lab=gpu3:7860", false},
		{" a-1 = https://h/sd/ , ;; b=http://h2 ;", "a-1=h/sd;b=h2", false},
		{"studio", "want name=URL", true},
		{"Studio=http://h", "lowercase", true},
		{"st_udio=http://h", "lowercase", true},
		{"=http://h", "lowercase", true},
		{"a=http://h;a=http://h2", "defined twice", true},
		{"a=", "no members", true},
		{"a= , ", "no members", true},
		{"a=ftp://h", "scheme must be http or https", true},
		{"a=gpu1:7860", "scheme", true},
		{"a=http://", "no host", true},
		{"a=http://h?x=1", "query", true},
		{"a=http://h;b=http://h", "listed twice", true},
		{"a=http://u:secret@h:bad", "invalid URL", true},
		{"a=http://:secret@h", "empty user name", true},
	} {
		pools, err := webui.ParsePools(tc.spec)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParsePools(%q) error = %v, want %q", tc.spec, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParsePools(%q) error shows the password: %v", tc.spec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePools(%q): %v", tc.spec, err)
			continue
		}
		var got []string
		for _, p := range pools {
			var hosts []string
			for _, m := range p.Members {
				hosts = append(hosts, webui.Display(m))
			}
			got = append(got, p.Name+"="+strings.Join(hosts, ","))
		}
		if s := strings.Join(got, ";"); s != tc.want {
			t.Errorf("ParsePools(%q) = %q, want %q", tc.spec, s, tc.want)
		}
	}
	pools, _ := webui.ParsePools("lab=http://user:pass@gpu3:7860")
	if u := pools[0].Members[0].User; u == nil || u.Username() != "user" {
		t.Fatalf("credentials lost: %v", u)
	}
}
