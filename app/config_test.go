package app

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestEverySettingIsInTheREADME keeps the README's configuration table in
// step with what LoadConfig reads.
func TestEverySettingIsInTheREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		for _, name := range strings.Split(s.Name, " / ") {
			if !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("README.md has no row for %s", name)
			}
		}
	}
}

func TestLoadConfigDefaultsAndErrors(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	c, err := LoadConfig(get)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.APIBase != "/prod" || c.APIVersion != "1.4.0" || c.JobTimeout != time.Hour ||
		c.UploadTTL != 168*time.Hour || c.MaxModelBytes != 50<<30 || c.S3Bucket != "easel" {
		t.Errorf("defaults = %+v", c)
	}
	for name, value := range map[string]string{
		"EASEL_API_BASE": "/", "EASEL_LOG_FORMAT": "xml", "EASEL_SECRET": "short", "EASEL_MAX_MODEL_BYTES": "lots",
		"EASEL_UPLOAD_TTL": "-1h", "EASEL_JOB_TIMEOUT": "0s", "EASEL_RECONCILE_INTERVAL": "1ms",
		"EASEL_SAGEMAKER_ROLE_ARN": "arn:aws:iam::1:role/x", "EASEL_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal",
		"EASEL_METRICS_TOKEN": "short",
	} {
		env = map[string]string{name: value}
		if _, err := LoadConfig(get); err == nil || !strings.Contains(err.Error(), "EASEL_") {
			t.Errorf("%s=%q: error %v, want one naming the setting", name, value, err)
		}
	}
}

func TestLoadConfigTrustedProxies(t *testing.T) {
	c, err := LoadConfig(func(k string) string {
		return map[string]string{"EASEL_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range c.TrustedProxies {
		got = append(got, n.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("EASEL_TRUSTED_PROXIES: got %v, want %v", got, want)
	}
	if c, _ := LoadConfig(func(string) string { return "" }); len(c.TrustedProxies) != 0 {
		t.Errorf("default trusted proxies: got %v, want none", c.TrustedProxies)
	}
}

func TestLoadConfigAuditRetention(t *testing.T) {
	for value, want := range map[string]time.Duration{
		"": 365 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "2160h": 2160 * time.Hour, "1h": time.Hour,
	} {
		c, err := LoadConfig(func(k string) string { return map[string]string{"EASEL_AUDIT_RETENTION": value}[k] })
		if err != nil || c.AuditRetention != want {
			t.Errorf("EASEL_AUDIT_RETENTION=%q: got %v (%v), want %v", value, c.AuditRetention, err, want)
		}
	}
	for _, value := range []string{"forever", "10m", "-5d", "1.5d", "0d"} {
		_, err := LoadConfig(func(k string) string { return map[string]string{"EASEL_AUDIT_RETENTION": value}[k] })
		if err == nil || !strings.Contains(err.Error(), "EASEL_AUDIT_RETENTION") {
			t.Errorf("EASEL_AUDIT_RETENTION=%q: error %v, want one naming the setting", value, err)
		}
	}
}
