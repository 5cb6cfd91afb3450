package web_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"easel/gpu/sagemaker/fake"
	"easel/internal/testenv"
	"easel/store"
)

// uploadModel uploads a checkpoint through the API (POST /checkpoints,
// the presigned part, PUT status Active) and returns its id and S3 folder.
func uploadModel(t *testing.T, s *testenv.Server, typ, name string) (id, folder string) {
	t.Helper()
	return uploadModelBytes(t, s, typ, name, modelBytes(name))
}

// uploadModelBytes is uploadModel with the file's bytes.
func uploadModelBytes(t *testing.T, s *testenv.Server, typ, name string, weights []byte) (id, folder string) {
	t.Helper()
	r := s.MustCall(t, 201, "POST", "/checkpoints", testenv.As("admin"), map[string]any{
		"checkpoint_type": typ, "filenames": []map[string]any{{"filename": name, "parts_number": 1}}, "params": map[string]any{"creator": "admin"}})
	data := r.JSON(t)["data"].(map[string]any)
	ckpt := data["checkpoint"].(map[string]any)
	tags := uploadParts(t, data["s3PresignUrl"].(map[string]any)[name].([]any), [][]byte{weights})
	s.MustCall(t, 200, "PUT", "/checkpoints/"+ckpt["id"].(string), testenv.As("admin"), map[string]any{"status": "Active", "multi_parts_tags": map[string]any{name: tags}})
	return ckpt["id"].(string), ckpt["s3_location"].(string)
}

// containerBodies records every request body the fake container handed
// its WebUI, and answers with answer.
type containerBodies struct {
	mu     sync.Mutex
	bodies []string
	answer func(string, []byte) ([]byte, error)
}

func (c *containerBodies) invoke(endpoint string, body []byte) ([]byte, error) {
	c.mu.Lock()
	c.bodies = append(c.bodies, string(body))
	answer := c.answer
	c.mu.Unlock()
	return answer(endpoint, body)
}

func (c *containerBodies) set(answer func(string, []byte) ([]byte, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = answer
}

func (c *containerBodies) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) == 0 {
		return ""
	}
	return c.bodies[len(c.bodies)-1]
}

// TestSageMakerThreeCallFlow runs ESD's three calls (POST /inferences, PUT
// the parameters, PUT start) on an async and a real-time SageMaker
// endpoint, with models uploaded through the API, and checks the exact
// request the container got; then the container fails the ways it does.
func TestSageMakerThreeCallFlow(t *testing.T) {
	t.Parallel()
	s, f := sageMakerServer(t)
	admin := testenv.As("admin")
	bucket := s.App.Blob.Bucket
	sdID, sdFolder := uploadModel(t, s, "Stable-diffusion", "v1-5-pruned-emaonly.safetensors")
	loraID, loraFolder := uploadModel(t, s, "Lora", "cartoony.safetensors")
	if want := "s3://" + bucket + "/Stable-diffusion/checkpoint/custom/" + sdID; sdFolder != want {
		t.Fatalf("checkpoint s3_location %q, want %q", sdFolder, want)
	}
	for _, ep := range []map[string]any{
		{"endpoint_name": "queue", "endpoint_type": "Async", "instance_type": "ml.g5.2xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}},
		{"endpoint_name": "live", "endpoint_type": "Real-time", "instance_type": "ml.g4dn.2xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"IT Operator"}},
	} {
		s.MustCall(t, 202, "POST", "/endpoints", admin, ep)
	}
	waitEndpoint(t, s, "esd-async-queue", "InService")
	waitEndpoint(t, s, "esd-real-time-live", "InService")
	c := &containerBodies{answer: fake.DefaultInvoke}
	f.Invoke = c.invoke

	// run is the three calls; it returns the job id and the finished job.
	run := func(typ, endpoint string) (string, map[string]any) {
		r := s.MustCall(t, 201, "POST", "/inferences", admin, map[string]any{
			"task_type": "txt2img", "inference_type": typ, "filters": map[string]any{"creator": "sd-webui"},
			"sagemaker_endpoint_name": endpoint,
			"models": map[string]any{"Stable-diffusion": []string{"v1-5-pruned-emaonly.safetensors"},
				"Lora": []string{"cartoony.safetensors"}, "VAE": []string{"Automatic"}}})
		createParams(t, r, map[string]any{"prompt": "a lighthouse <lora:cartoony:1>", "width": 64, "height": 64})
		id := r.JSON(t)["data"].(map[string]any)["inference"].(map[string]any)["id"].(string)
		if typ == "Async" {
			s.MustCall(t, 202, "PUT", "/inferences/"+id+"/start", admin, nil)
		} else {
			s.MustCall(t, 200, "PUT", "/inferences/"+id+"/start", admin, nil)
		}
		return id, waitJob(t, s, id)
	}
	wantBody := func(id string) string {
		return `{"task":"txt2img","username":"admin","param_s3":"s3://` + bucket + `/txt2img/infer_v2/` + id + `/api_param.json",` +
			`"models":{"Lora":[{"id":"` + loraID + `","model_name":"cartoony.safetensors","s3":"` + loraFolder + `","type":"Lora"}],` +
			`"Stable-diffusion":[{"id":"` + sdID + `","model_name":"v1-5-pruned-emaonly.safetensors","s3":"` + sdFolder + `","type":"Stable-diffusion"}],` +
			`"VAE":[{"id":"VAE","model_name":"Automatic","s3":"None","type":"VAE"}],"space_free_size":40000000000.0}}`
	}

	for _, tc := range []struct{ typ, endpoint, op string }{
		{"Async", "esd-async-queue", "InvokeEndpointAsync"}, {"Real-time", "esd-real-time-live", "InvokeEndpoint"},
	} {
		c.set(fake.DefaultInvoke)
		id, job := run(tc.typ, tc.endpoint)
		if job["status"] != "succeed" || len(job["img_presigned_urls"].([]any)) != 1 {
			t.Errorf("%s job = %v", tc.typ, job)
		}
		if got := c.last(); got != wantBody(id) {
			t.Errorf("%s: the container got\n%s\nwant\n%s", tc.typ, got, wantBody(id))
		}
		calls := f.CallsTo(tc.op)
		var in struct{ InferenceId, InvocationTimeoutSeconds, InputLocation string }
		if err := calls[len(calls)-1].Decode(&in); err != nil || in.InferenceId != id {
			t.Errorf("%s input %+v, %v", tc.op, in, err)
		}
		if tc.typ == "Async" {
			if in.InvocationTimeoutSeconds != "3600" || in.InputLocation != "s3://"+bucket+"/async-inputs/"+id+".json" {
				t.Errorf("InvokeEndpointAsync input %+v, want InvocationTimeoutSeconds 3600", in)
			}
			inf, err := store.FindInference(context.Background(), s.App.Store.DB(), uuid.MustParse(id))
			var h struct {
				FailureLocation string `json:"failure_location"`
			}
			if err != nil || json.Unmarshal(inf.AsyncHandle, &h) != nil ||
				!strings.HasPrefix(h.FailureLocation, "s3://"+bucket+"/sagemaker_async_failures/") {
				t.Errorf("stored async handle %s (%v): want the FailureLocation", inf.AsyncHandle, err)
			}
		}

		// A failing container answers 200: null, or the WebUI's error.
		for _, fail := range []struct {
			answer func(string, []byte) ([]byte, error)
			want   string
		}{
			{fake.AnswerNull, "the inference container answered null: it failed and logged why in CloudWatch, log group /aws/sagemaker/Endpoints/" + tc.endpoint},
			{fake.AnswerWebUIError("OutOfMemoryError", "CUDA out of memory. Tried to allocate 2.00 GiB"), "OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"},
		} {
			c.set(fail.answer)
			_, job := run(tc.typ, tc.endpoint)
			if job["status"] != "failed" || job["sagemakerRaw"] != fail.want || len(job["img_presigned_urls"].([]any)) != 0 {
				t.Errorf("%s, failing container: job = %v\nwant failed with %q", tc.typ, job, fail.want)
			}
		}
	}
}

// TestSageMakerEndpointNames: SageMaker's name rules give a 400 before
// anything is recorded or deployed.
func TestSageMakerEndpointNames(t *testing.T) {
	t.Parallel()
	s, f := sageMakerServer(t)
	r := s.MustCall(t, 400, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "mine-",
		"endpoint_type": "Async", "instance_type": "ml.g5.2xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	if msg := r.Message(t); !strings.Contains(msg, "esd-async-mine-") || !strings.Contains(msg, "start and end with a letter or digit") {
		t.Errorf("trailing dash: %q", msg)
	}
	if n := len(endpointsOf(t, s, testenv.As("admin"), "")); n != 0 || len(f.CallsTo("CreateModel")) != 0 {
		t.Errorf("a refused name left %d endpoints and %d CreateModel calls", n, len(f.CallsTo("CreateModel")))
	}
	s.MustCall(t, 202, "POST", "/endpoints", testenv.As("admin"), map[string]any{"endpoint_name": "mine--1",
		"endpoint_type": "Async", "instance_type": "ml.g5.2xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
}

// TestSageMakerNeedsAmazonS3: without Amazon S3 (or a gateway to this
// store) ml.* types are refused with the reason; nothing calls AWS.
func TestSageMakerNeedsAmazonS3(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t,
		testenv.WithEnv("EASEL_SAGEMAKER_ROLE_ARN", smRole), testenv.WithEnv("EASEL_SAGEMAKER_IMAGE", smImage),
		testenv.WithEnv("AWS_ACCESS_KEY_ID", "AKIDTEST"), testenv.WithEnv("AWS_SECRET_ACCESS_KEY", "secret"))
	r := s.MustCall(t, 400, "POST", "/endpoints", testenv.As("admin"), map[string]any{
		"endpoint_type": "Async", "instance_type": "ml.g5.2xlarge", "initial_instance_count": 1, "assign_to_roles": []string{"byoc"}})
	msg := r.Message(t)
	for _, want := range []string{"ml.g5.2xlarge", "reads models, parameters and its WebUI bundle from Amazon S3", "EASEL_S3_ENDPOINT is " + s.App.Config.S3Endpoint} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	page := endpointsPage(t, s)
	if !strings.Contains(page, `data-testid="sagemaker-check"`) || !strings.Contains(page, "Set EASEL_S3_ENDPOINT=aws") {
		t.Errorf("the Endpoints page does not say why:\n%s", page)
	}
}

// TestSageMakerCheckOnEndpointsPage: the page shows the prerequisite
// check, and what is missing with how to fix it.
func TestSageMakerCheckOnEndpointsPage(t *testing.T) {
	t.Parallel()
	s, f := sageMakerServer(t)
	if _, err := s.App.Blob.DeletePrefix(context.Background(), "v1.4.0-g4/"); err != nil {
		t.Fatal(err)
	}
	f.Deny(f.Caller, "iam:PassRole")
	page := endpointsPage(t, s)
	for _, want := range []string{
		`data-testid="sagemaker-check" data-missing="2"`,
		"WebUI bundle for ml.g4dn instances", "aws s3 sync s3://&lt;ESD bucket&gt;/&lt;version&gt;-g4/",
		"do not allow iam:PassRole on " + smRole,
		`data-testid="check-ok"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the Endpoints page lacks %q", want)
		}
	}
}

// endpointsPage is the console's Endpoints page as the administrator.
func endpointsPage(t *testing.T, s *testenv.Server) string {
	t.Helper()
	c, token := consoleClient(t, s)
	if st := login(t, c, s, token, "admin", testenv.AdminPassword); st != 303 && st != 302 {
		t.Fatalf("login: %d", st)
	}
	res, err := c.Get(s.URL + "/endpoints")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET /endpoints: %d %s", res.StatusCode, body)
	}
	return string(body)
}
