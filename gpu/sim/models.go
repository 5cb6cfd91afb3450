package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The model folders under Options.ModelsDir, as in A1111's models folder.
const (
	CheckpointDir = "Stable-diffusion"
	LoraDir       = "Lora"
	VAEDir        = "VAE"
)

// modelExts are the file extensions the simulator takes for model files.
var modelExts = []string{".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft"}

// checkpoint is one model file (checkpoint, VAE or LoRA).
type checkpoint struct {
	name   string // relative to its folder, with extension, '/'-separated
	path   string // absolute; empty for the built-in model
	sha256 string
}

func (c *checkpoint) hash10() string { return c.sha256[:10] }

// title is A1111's "name [hash10]".
func (c *checkpoint) title() string {
	if c.path == "" {
		return ModelTitle
	}
	return c.name + " [" + c.hash10() + "]"
}

// modelName is A1111's model_name: the name without extension, folders
// joined with '_'.
func (c *checkpoint) modelName() string {
	n := strings.ReplaceAll(c.name, "/", "_")
	return strings.TrimSuffix(n, path.Ext(n))
}

// shortName is the name A1111 reports in info.sd_model_name and the
// infotext's "Model:": the file's base name without extension.
func (c *checkpoint) shortName() string {
	b := path.Base(c.name)
	return strings.TrimSuffix(b, path.Ext(b))
}

var builtin = &checkpoint{name: ModelName, sha256: ModelSHA256}

// catalogue is what a scan of the models folder found, sorted by name.
type catalogue struct {
	checkpoints, vaes, loras []*checkpoint
}

// fileHash caches a file's SHA-256 while its size and mtime stay.
type fileHash struct {
	size   int64
	mtime  time.Time
	sha256 string
}

// rescan lists the model folders again, hashing only new or changed
// files. Without a models folder the catalogue is the built-in model.
func (s *server) rescan() error {
	if s.opts.ModelsDir == "" {
		s.mu.Lock()
		s.models = catalogue{checkpoints: []*checkpoint{builtin}}
		s.dflt = builtin.name
		if s.loaded == nil {
			s.loaded = builtin
		}
		s.mu.Unlock()
		return nil
	}
	s.scanMu.Lock() // the hash cache is the scan's
	defer s.scanMu.Unlock()
	s.mu.Lock()
	cache := s.hashes
	s.mu.Unlock()
	var c catalogue
	var errs []error
	for _, d := range []struct {
		dir  string
		list *[]*checkpoint
	}{{CheckpointDir, &c.checkpoints}, {VAEDir, &c.vaes}, {LoraDir, &c.loras}} {
		list, err := scanDir(filepath.Join(s.opts.ModelsDir, d.dir), cache)
		if err != nil {
			errs = append(errs, err)
		}
		*d.list = list
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = c
	if s.findLocked(c.checkpoints, s.dflt) == nil {
		s.dflt = ""
		if len(c.checkpoints) > 0 {
			s.dflt = c.checkpoints[0].name
		}
	}
	if s.loaded == nil && s.dflt != "" {
		s.loaded = s.findLocked(c.checkpoints, s.dflt) // loaded at start, like A1111
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// scanDir lists the model files under dir (a missing dir has none).
func scanDir(dir string, cache map[string]fileHash) ([]*checkpoint, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var out []*checkpoint
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == abs && os.IsNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !slices.Contains(modelExts, strings.ToLower(filepath.Ext(p))) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, ok := cache[p]
		if !ok || h.size != info.Size() || !h.mtime.Equal(info.ModTime()) {
			sum, err := hashFile(p)
			if err != nil {
				return err
			}
			h = fileHash{size: info.Size(), mtime: info.ModTime(), sha256: sum}
			cache[p] = h
		}
		rel, _ := filepath.Rel(abs, p)
		out = append(out, &checkpoint{name: filepath.ToSlash(rel), path: p, sha256: h.sha256})
		return nil
	})
	slices.SortFunc(out, func(a, b *checkpoint) int { return strings.Compare(a.name, b.name) })
	return out, err
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// findLocked returns the model whose name or title is v, or nil. The
// built-in model also answers to its bare name.
func (s *server) findLocked(list []*checkpoint, v string) *checkpoint {
	for _, c := range list {
		if v == c.name || v == c.title() {
			return c
		}
	}
	return nil
}
