package worker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// simTrainer is the training simulator (`easel worker --sd-scripts sim`):
// it stands in for kohya sd-scripts, printing what train_network.py prints
// (so the same parser reads its progress) over its duration, with a
// plausible, decreasing, noisy loss, and writes a small synthetic LoRA
// that says it was not trained (writeSimLoRA). It trains nothing.
type simTrainer struct {
	duration time.Duration
}

// simMaxSteps bounds the steps a simulated training prints.
const simMaxSteps = 400

func (s *simTrainer) tag(ctx context.Context, spec *trainSpec, out *trainOutput) error {
	fmt.Fprintln(out, "easel training SIMULATOR: WD14 tagging is simulated; images without a caption get one")
	ext := spec.captionExtension()
	n := 0
	for _, sub := range spec.subsets {
		entries, err := os.ReadDir(sub.dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !isImage(e.Name()) {
				continue
			}
			caption := filepath.Join(sub.dir, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))+ext)
			if _, err := os.Stat(caption); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(caption, []byte("simulated tag, "+sub.concept+"\n"), 0o644); err != nil {
					return err
				}
			}
			n++
		}
	}
	fmt.Fprintf(out, "found %d images.\ndone!\n", n)
	return ctx.Err()
}

func (s *simTrainer) train(ctx context.Context, spec *trainSpec, out *trainOutput) error {
	fmt.Fprintln(out, "easel training SIMULATOR: this is not kohya sd-scripts; the LoRA it writes is synthetic and untrained")
	if st, err := os.Stat(spec.modelPath); err != nil || st.Size() == 0 {
		return fmt.Errorf("the base model %s is missing", spec.modelName)
	}
	perEpoch := 0
	for _, sub := range spec.subsets {
		perEpoch += sub.images * sub.repeats
	}
	if perEpoch == 0 {
		return errors.New("no images found")
	}
	epochs := max(spec.epochs, 1)
	perEpoch = min(perEpoch, max(simMaxSteps/epochs, 1))
	total := perEpoch * epochs
	tick := s.duration / time.Duration(total)
	h := fnv.New64a()
	h.Write([]byte(spec.outputName))
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	started := time.Now()
	avr, step := 0.0, 0
	for epoch := 1; epoch <= epochs; epoch++ {
		fmt.Fprintf(out, "\nepoch %d/%d\n", epoch, epochs)
		for range perEpoch {
			if err := sleep(ctx, tick); err != nil {
				return err
			}
			step++
			loss := 0.06 + 0.09*math.Exp(-3*float64(step)/float64(total)) + 0.02*(rng.Float64()-0.5)
			if avr == 0 {
				avr = loss
			}
			avr = 0.8*avr + 0.2*loss
			fmt.Fprintf(out, "steps: %3d%%|%s| %d/%d [%s<00:00, %.2fit/s, avr_loss=%.4g]\r",
				step*100/total, strings.Repeat("#", step*10/total)+strings.Repeat(" ", 10-step*10/total),
				step, total, time.Since(started).Round(time.Second), 1/max(tick.Seconds(), 0.001), avr)
		}
		if spec.saveEvery > 0 && epoch%spec.saveEvery == 0 && epoch < epochs {
			name := fmt.Sprintf("%s-%06d.safetensors", spec.outputName, epoch)
			fmt.Fprintf(out, "\nsaving checkpoint: %s\n", filepath.Join(spec.outputDir, name))
			if err := writeSimLoRA(filepath.Join(spec.outputDir, name), spec, epoch, step, started); err != nil {
				return err
			}
		}
	}
	name := spec.outputName + ".safetensors"
	fmt.Fprintf(out, "\nsaving checkpoint: %s\nmodel saved.\n", filepath.Join(spec.outputDir, name))
	return writeSimLoRA(filepath.Join(spec.outputDir, name), spec, epochs, step, started)
}
