package worker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"easel/workerproto"
)

// trainSpec is a training laid out in its work folder as kohya expects:
//
//	<dir>/train/<prefix>/<files>   the dataset (train_data_dir = <dir>/train)
//	<dir>/config/<config>.toml     the merged TOML, paths rewritten
//	<dir>/config/dataset.toml      the generated dataset config
//	<dir>/output/                  output_dir: <output_name>[-NNNNNN].safetensors
//	<dir>/logs/                    logging_dir, and the run's output log
type trainSpec struct {
	fmType, outputName       string
	modelPath, modelName     string
	modelSHA256, modelLegacy string // legacy: kohya's 8-hex model_hash
	trainDir                 string
	subsets                  []subset
	configPath, datasetPath  string
	outputDir, logsDir       string
	outputLog                string
	epochs, saveEvery        int
	wd14                     *workerproto.WD14
	// settings is the [training] table as written (for the simulator's
	// metadata).
	settings map[string]any
}

// subset is one image folder of the dataset (kohya's DreamBooth subset).
type subset struct {
	dir     string // absolute
	name    string // its folder name ("" for the top)
	repeats int
	concept string
	images  int
}

// outputLogName is the file in the logs folder that keeps the output of
// the programs a training runs.
const outputLogName = "easel-train-output.log"

// imageExts are the image files kohya reads.
var imageExts = []string{".png", ".jpg", ".jpeg", ".webp", ".bmp"}

// prepareTraining fetches the base model (through the model cache, SHA-256
// verified) and the dataset into dir, and writes both TOMLs.
func (w *Worker) prepareTraining(ctx context.Context, dir string, t *workerproto.Training, st *jobState) (*trainSpec, error) {
	if t.Model.Type != "Stable-diffusion" {
		return nil, &jobError{reason: fmt.Sprintf("the base model %s is a %s, not a checkpoint", t.Model.Name, t.Model.Type)}
	}
	if !plainName(t.OutputName) || t.OutputName != strings.TrimSpace(t.OutputName) {
		return nil, &jobError{reason: fmt.Sprintf("output name %q is not a plain file name", t.OutputName)}
	}
	s := &trainSpec{fmType: t.FMType, outputName: t.OutputName, modelName: t.Model.Name, modelSHA256: t.Model.SHA256,
		trainDir: filepath.Join(dir, "train"), outputDir: filepath.Join(dir, "output"), logsDir: filepath.Join(dir, "logs"),
		configPath: filepath.Join(dir, "config", "training.toml"), datasetPath: filepath.Join(dir, "config", "dataset.toml"),
		epochs: t.MaxTrainEpochs, saveEvery: t.SaveEveryNEpochs, wd14: t.WD14}
	s.outputLog = filepath.Join(s.logsDir, outputLogName)
	for _, d := range []string{s.trainDir, s.outputDir, s.logsDir, filepath.Dir(s.configPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if _, err := w.ensureModels(ctx, &workerproto.Job{ID: "training", Models: []workerproto.Model{t.Model}}, st); err != nil {
		return nil, err
	}
	var err error
	if s.modelPath, err = w.cache.path(t.Model.Type, t.Model.Name); err != nil {
		return nil, &jobError{reason: err.Error()}
	}
	if s.modelLegacy, err = legacyModelHash(s.modelPath); err != nil {
		return nil, err
	}
	if err := w.fetchDataset(ctx, s, t, st); err != nil {
		return nil, err
	}
	raw, err := w.fetchSmall(ctx, t.Config)
	if err != nil {
		return nil, &jobError{reason: fmt.Sprintf("fetching the training's TOML: %v", err), transient: true}
	}
	if err := s.writeConfig(raw); err != nil {
		return nil, &jobError{reason: err.Error()}
	}
	if err := s.findSubsets(); err != nil {
		return nil, err
	}
	if err := s.writeDatasetConfig(); err != nil {
		return nil, err
	}
	return s, nil
}

// fetchDataset downloads every dataset file under the train folder,
// verified by size and SHA-256 where Easel knows them. Files missing from
// the store are skipped; none at all fails the training.
func (w *Worker) fetchDataset(ctx context.Context, s *trainSpec, t *workerproto.Training, st *jobState) error {
	missing := 0
	for i, f := range t.Files {
		rel := path.Clean(f.Path)
		if rel != f.Path || !filepath.IsLocal(filepath.FromSlash(rel)) || strings.ContainsAny(rel, "\\\x00") {
			return &jobError{reason: fmt.Sprintf("dataset file %q is not a plain relative path", f.Path)}
		}
		dst := filepath.Join(s.trainDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		m := workerproto.Model{Name: rel, SHA256: f.SHA256, Size: f.Size, URL: f.URL}
		_, err := w.download(ctx, m, dst, nil)
		if se := (*statusError)(nil); asStatus(err, &se) && (se.status == http.StatusNotFound || se.status == http.StatusForbidden) {
			w.log.Warn("a dataset file is missing from the store; training without it", "file", rel)
			missing++
			continue
		}
		if err != nil {
			return &jobError{reason: fmt.Sprintf("downloading dataset file %s: %v", rel, err), transient: true}
		}
		st.set(stageDownloading, float64(i+1)/float64(len(t.Files)), i+1, len(t.Files))
	}
	if missing == len(t.Files) {
		return &jobError{reason: fmt.Sprintf("none of the %d files of dataset %s is in the object store", len(t.Files), t.Dataset)}
	}
	return nil
}

// fetchSmall GETs a small object (a TOML).
func (w *Worker) fetchSmall(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.cfg.HTTP.Do(req)
	if err != nil {
		return nil, redact(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{path: "GET", status: resp.StatusCode}
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// findSubsets lists the image folders of the train folder: each folder
// (kohya's <repeats>_<concept>), and the top when files lie there.
func (s *trainSpec) findSubsets() error {
	entries, err := os.ReadDir(s.trainDir)
	if err != nil {
		return err
	}
	top := subset{dir: s.trainDir, repeats: 1}
	for _, e := range entries {
		switch {
		case e.IsDir():
			sub := subset{dir: filepath.Join(s.trainDir, e.Name()), name: e.Name(), repeats: 1, concept: e.Name()}
			if n, concept, ok := strings.Cut(e.Name(), "_"); ok {
				if r, err := strconv.Atoi(n); err == nil && r > 0 {
					sub.repeats, sub.concept = r, concept
				}
			}
			if sub.images = countImages(sub.dir); sub.images > 0 {
				s.subsets = append(s.subsets, sub)
			}
		case isImage(e.Name()):
			top.images++
		}
	}
	if top.images > 0 {
		s.subsets = append(s.subsets, top)
	}
	if len(s.subsets) == 0 {
		return &jobError{reason: "the dataset has no images (.png, .jpg, .jpeg, .webp, .bmp)"}
	}
	return nil
}

func isImage(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

func countImages(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && isImage(d.Name()) {
			n++
		}
		return nil
	})
	return n
}

// results lists the LoRA files the run left in the output folder, the
// final <output_name>.safetensors first; nil without it.
func (s *trainSpec) results() ([]string, error) {
	entries, err := os.ReadDir(s.outputDir)
	if err != nil {
		return nil, err
	}
	main := s.outputName + ".safetensors"
	var out []string
	for _, e := range entries {
		name := e.Name()
		stem, ok := strings.CutSuffix(name, ".safetensors")
		n, epoch := strings.CutPrefix(stem, s.outputName+"-")
		if e.Type().IsRegular() && ok && epoch && len(n) == 6 && strings.Trim(n, "0123456789") == "" {
			out = append(out, name)
		}
	}
	if st, err := os.Stat(filepath.Join(s.outputDir, main)); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return nil, nil
	}
	return append([]string{main}, out...), nil
}

// logFiles lists the files under the logs folder, '/'-separated.
func (s *trainSpec) logFiles() ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.logsDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(s.logsDir, p)
		if err == nil && len(out) < workerproto.MaxUploadFiles {
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	return out, err
}
