package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"easel/internal/testenv"
	"easel/trainer"
)

// TestBrowserTrainings: a training is created through the console form
// on a worker pool (the advanced view shows the merged TOML), its page
// draws the reported loss as SVG, it stops and is deleted; a trained
// LoRA shows its lineage in the model library.
func TestBrowserTrainings(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	b := newBrowser(t, 90*time.Second)
	dialogs := acceptDialogs(b.ctx)
	b.login(s.URL, "admin", testenv.AdminPassword)
	b.do("open the trainings page", chromedp.Click(tid("nav-trainings")), chromedp.WaitVisible(tid("trainings-table")),
		openPanel("training-create-toggle"), settled("training-create-form"))
	b.do("fill the form",
		chromedp.SendKeys(tid("training-output-name"), "browser-lora"),
		chromedp.SetValue(tid("training-max_train_epochs"), "2"),
		chromedp.SetValue(tid("training-network_dim"), "8"),
		chromedp.Click(tid("training-tagger")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="training-advanced"]').open = true`),
		chromedp.Click(tid("training-preview")),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="training-toml"]').value.includes("browser-lora")`),
	)
	toml := run(b, "read the merged TOML", chromedp.Value(tid("training-toml")))
	for _, want := range []string{`output_name = "browser-lora"`, "max_train_epochs = 2", "network_dim = 8", "seed = 1337", "[training]"} {
		if !strings.Contains(toml, want) {
			t.Errorf("merged TOML lacks %q:\n%s", want, toml)
		}
	}
	b.do("start the training", chromedp.Click(tid("training-create-submit")), chromedp.WaitVisible(tid("training-detail")))
	id := run(b, "training id", chromedp.Text(tid("training-id")))
	if got := run(b, "status", chromedp.Text(tid("training-status"))); got != "Waiting for a GPU" {
		t.Errorf("status = %q", got)
	}
	got := getTraining(t, s, testenv.As("admin"), id)
	cp := got["params"].(map[string]any)["config_params"].(map[string]any)
	if cp["network_dim"] != "8" || cp["max_train_epochs"] != "2" || got["params"].(map[string]any)["enable_wd14_tagger"] != true {
		t.Errorf("created params = %v", got["params"])
	}
	b.do("no loss yet", chromedp.WaitVisible(tid("loss-chart-empty")))

	rep := s.App.Actions.Trainings
	for step := 1; step <= 4; step++ {
		if err := rep.Progress(t.Context(), id, trainer.Progress{Status: trainer.Training, Epoch: 1, Epochs: 2, Step: step, Steps: 8, Loss: 1 / float64(step)}); err != nil {
			t.Fatal(err)
		}
	}
	b.do("see the loss chart", chromedp.WaitVisible(tid("loss-line")))
	if pts := run(b, "loss points", chromedp.AttributeValue(tid("loss-line"), "points")).Value; len(strings.Fields(pts)) != 4 {
		t.Errorf("loss line points = %q, want 4", pts)
	}
	if got := run(b, "progress", chromedp.Text(tid("training-progress"))); !strings.Contains(got, "epoch 1 of 2, step 4 of 8") {
		t.Errorf("progress = %q", got)
	}

	b.do("stop it", chromedp.Click(tid("training-stop")), chromedp.WaitVisible(`[data-testid="training-detail"][data-status="Stopped"]`))
	if got := run(b, "stop reason", chromedp.Text(tid("training-error"))); !strings.Contains(got, "stopped by admin") {
		t.Errorf("stop reason = %q", got)
	}
	b.do("delete it", chromedp.Click(tid("training-delete")), chromedp.WaitVisible(tid("trainings-table")))
	<-dialogs
	s.MustCall(t, 404, "GET", "/trainings/"+id, testenv.As("admin"), nil)

	// A trained LoRA names its training, data set and base model.
	done := createTraining(t, s, testenv.As("admin"), trainingBody("shown"))
	putObject(t, s, "Stable-diffusion/checkpoint/custom/"+done+"/shown.safetensors", "weights")
	if err := rep.Finish(t.Context(), done, trainer.Outcome{Status: trainer.Completed}); err != nil {
		t.Fatal(err)
	}
	b.do("open the model library", chromedp.Navigate(s.URL+"/models"), chromedp.WaitVisible(tid("model-row-shown.safetensors")))
	lineage := run(b, "lineage", chromedp.Evaluate[string](`document.querySelector('[data-testid="model-row-shown.safetensors"] [data-testid="model-lineage"]').textContent`))
	for _, want := range []string{"shown", "cats", "base.safetensors", "SD 1.5"} {
		if !strings.Contains(lineage, want) {
			t.Errorf("lineage %q lacks %q", lineage, want)
		}
	}
	b.do("follow it to the training", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="model-lineage-training"]').click()`),
		chromedp.WaitVisible(tid("training-lora")))
	if got := run(b, "status", chromedp.Text(tid("training-status"))); got != "Finished" {
		t.Errorf("finished training status = %q", got)
	}
}
