package sagemaker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"easel/gpu"
)

// findings indexes a check's findings by the start of What.
func findings(t *testing.T, got []gpu.Finding, prefixes ...string) []gpu.Finding {
	t.Helper()
	var out []gpu.Finding
	for _, p := range prefixes {
		found := false
		for _, f := range got {
			if strings.HasPrefix(f.What, p) {
				out, found = append(out, f), true
				break
			}
		}
		if !found {
			t.Fatalf("no finding %q in %+v", p, got)
		}
	}
	return out
}

func TestCheckAllPresent(t *testing.T) {
	f, store, b := s3Fake(t)
	for _, key := range []string{"v1.4.0-g5/webui.tar", "v1.4.0-g4/webui.tar"} {
		if err := store.Put(context.Background(), key, []byte("bundle"), ""); err != nil {
			t.Fatal(err)
		}
	}
	got := b.Check(context.Background(), store)
	if len(got) != 7 {
		t.Errorf("got %d findings, want 7: %+v", len(got), got)
	}
	for _, fd := range got {
		if fd.Status != gpu.FindingOK {
			t.Errorf("%s: %s %s, want ok", fd.What, fd.Status, fd.Detail)
		}
	}
	// Every call was read-only.
	for _, c := range f.Calls() {
		if !strings.HasPrefix(c.Op, "Get") && !strings.HasPrefix(c.Op, "Describe") && c.Op != "SimulatePrincipalPolicy" {
			t.Errorf("the check called %s.%s", c.Service, c.Op)
		}
	}
}

func TestCheckReportsWhatIsMissing(t *testing.T) {
	f, store, b := s3Fake(t)
	ctx := context.Background()
	if _, err := store.DeletePrefix(ctx, "data/"); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "v1.4.0-g5/webui.tar", []byte("bundle"), ""); err != nil {
		t.Fatal(err)
	}
	f.SetRoleTrust(testRole, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}`)
	f.Deny(f.Caller, "iam:PassRole")
	f.Deny(testRole, "s3:PutObject")
	got := findings(t, b.Check(ctx, store), "Model data", "WebUI bundle for ml.g5", "WebUI bundle for ml.g4dn",
		"Inference image", "Execution role arn", "Easel's AWS identity", "Execution role permissions")
	want := []struct{ status, detail, fix string }{
		{gpu.FindingMissing, "no such object", "aws s3 cp s3://<ESD bucket>/data/model.tar.gz"},
		{gpu.FindingOK, "v1.4.0-g5/", ""},
		{gpu.FindingMissing, "no folder ending in -g4/", "aws s3 sync s3://<ESD bucket>/<version>-g4/"},
		{gpu.FindingOK, "present", ""},
		{gpu.FindingMissing, "does not let sagemaker.amazonaws.com assume it", "trusted service principal"},
		{gpu.FindingMissing, "do not allow iam:PassRole on " + testRole, "Attach a policy"},
		{gpu.FindingMissing, "do not allow s3:PutObject on arn:aws:s3:::" + store.Bucket + "/*", "Attach a policy"},
	}
	for i, w := range want {
		g := got[i]
		if g.Status != w.status || !strings.Contains(g.Detail, w.detail) || !strings.Contains(g.Fix, w.fix) {
			t.Errorf("%s = %s %q fix %q; want %s %q fix %q", g.What, g.Status, g.Detail, g.Fix, w.status, w.detail, w.fix)
		}
	}
}

// TestCheckDegrades: an API that is unavailable or not allowed is
// reported as unverified with the reason, never as present or missing.
func TestCheckDegrades(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	f.FailNext("SimulatePrincipalPolicy", 10, http.StatusForbidden, "AccessDenied", "not authorized to perform: iam:SimulatePrincipalPolicy")
	f.FailNext("DescribeImages", 1, http.StatusBadRequest, "AccessDeniedException", "not authorized to perform: ecr:DescribeImages")
	got := findings(t, b.Check(context.Background(), nil), "Model data", "Inference image", "Easel's AWS identity", "Execution role permissions")
	for _, g := range got {
		if g.Status != gpu.FindingUnverified || !strings.HasPrefix(g.Detail, "could not verify: ") {
			t.Errorf("%s = %s %q, want unverified", g.What, g.Status, g.Detail)
		}
	}
	if !strings.Contains(got[1].Detail, "AccessDeniedException") || !strings.Contains(got[2].Detail, "AccessDenied: not authorized") {
		t.Errorf("reasons: %q, %q", got[1].Detail, got[2].Detail)
	}
}
