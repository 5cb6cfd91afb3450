package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"easel/internal/logx"
	"easel/worker"
	"easel/worker/webui"
)

// workerCommand runs `easel worker` beside a GPU's WebUI (docs/WORKERS.md).
func workerCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	server := fs.String("server", "", "Easel's URL")
	key := fs.String("key", "", "the worker key (better: EASEL_WORKER_KEY, which ps does not show)")
	webuiURL := fs.String("webui", "http://127.0.0.1:7860", "the WebUI's URL (http://user:pass@host:port with --api-auth)")
	modelsDir := fs.String("models-dir", "", "the WebUI's models folder (holds Stable-diffusion, Lora, VAE, ...)")
	name := fs.String("name", "", "how the console shows this worker (default: the host name)")
	cacheSize := fs.String("cache-size", "200GiB", "the most the downloaded models may take")
	grace := fs.Duration("grace", worker.DefaultGrace, "how long a running job may finish after SIGTERM")
	sdScripts := fs.String("sd-scripts", "", "the kohya sd-scripts folder to train LoRAs with, or \"sim\" for the training SIMULATOR (default: take no trainings)")
	trainDir := fs.String("train-dir", "", "where trainings are prepared and run (default: easel-train in the temporary folder)")
	simTrainTime := fs.Duration("sim-train-time", 20*time.Second, "how long a simulated training takes (--sd-scripts sim)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		*key = getenv("EASEL_WORKER_KEY")
	}
	if *name == "" {
		*name, _ = os.Hostname()
	}
	if *sdScripts == worker.SimulatorSDScripts {
		fmt.Fprintln(stdout, "easel worker: trainings are SIMULATED (--sd-scripts sim): the LoRAs it writes are synthetic and untrained")
	}
	size, err := worker.ParseSize(*cacheSize)
	if err != nil {
		return err
	}
	backend, err := webui.New(*webuiURL)
	if err != nil {
		return err
	}
	w, err := worker.New(worker.Config{Server: *server, Key: *key, Name: *name, ModelsDir: *modelsDir,
		CacheSize: size, Backend: backend, Grace: *grace, Log: logx.New(getenv("EASEL_LOG_FORMAT"), stdout),
		SDScripts: *sdScripts, TrainDir: *trainDir, SimTrainTime: *simTrainTime})
	if err != nil {
		return err
	}
	return w.Run(ctx)
}
