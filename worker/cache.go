package worker

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"easel/workerproto"
)

// IndexFile is the cache index, in the models folder.
const IndexFile = ".easel-worker-cache.json"

// partSuffix ends the temporary files downloads write to.
const partSuffix = ".easel-part"

// entry is a model file the worker knows in the models folder.
type entry struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Downloaded files are the worker's: they count against the cache
	// size and may be evicted. Others (found in place with the right
	// hash) are never touched.
	Downloaded bool      `json:"downloaded"`
	LastUsed   time.Time `json:"last_used"`
}

func (e *entry) key() string { return e.Type + "/" + e.Name }

func modelKey(m workerproto.Model) string { return m.Type + "/" + m.Name }

// cache is the LRU index of the model files. Only the job goroutine uses
// it, one job at a time.
type cache struct {
	dir     string // the models folder
	limit   int64
	folder  func(modelType string) (string, error)
	entries map[string]*entry
	now     func() time.Time
}

// openCache reads the index in dir, forgets files that are gone or have
// changed size, and removes downloads a crash left behind.
func openCache(dir string, limit int64, folder func(string) (string, error)) (*cache, error) {
	c := &cache{dir: dir, limit: limit, folder: folder, entries: map[string]*entry{}, now: time.Now}
	raw, err := os.ReadFile(filepath.Join(dir, IndexFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var list []*entry
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("reading %s: %w", IndexFile, err)
		}
		for _, e := range list {
			p, err := c.path(e.Type, e.Name)
			if err != nil {
				continue
			}
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() == e.Size {
				c.entries[e.key()] = e
			}
		}
	}
	for _, t := range modelTypes {
		if d, err := c.folderPath(t); err == nil {
			parts, _ := filepath.Glob(filepath.Join(d, ".*"+partSuffix))
			for _, p := range parts {
				os.Remove(p)
			}
		}
	}
	return c, c.save()
}

// modelTypes are the library's model types.
var modelTypes = []string{"Stable-diffusion", "Lora", "VAE", "ControlNet", "embeddings", "hypernetworks"}

func (c *cache) folderPath(modelType string) (string, error) {
	rel, err := c.folder(modelType)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.dir, rel), nil
}

// path returns where a model file lives; an error for a name that is not
// a plain file name (it must not reach outside its folder).
func (c *cache) path(modelType, name string) (string, error) {
	if name == "" || name != filepath.Base(name) || !filepath.IsLocal(name) ||
		strings.HasPrefix(name, ".") || strings.ContainsAny(name, `/\`+"\x00") {
		return "", fmt.Errorf("model name %q is not a plain file name", name)
	}
	d, err := c.folderPath(modelType)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}

// lookup returns the entry for m when the file there has m's hash.
func (c *cache) lookup(m workerproto.Model) (*entry, bool) {
	e, ok := c.entries[modelKey(m)]
	return e, ok && strings.EqualFold(e.SHA256, m.SHA256)
}

// models lists what the index holds.
func (c *cache) models() []workerproto.Model {
	out := make([]workerproto.Model, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, workerproto.Model{Type: e.Type, Name: e.Name, SHA256: e.SHA256, Size: e.Size})
	}
	slices.SortFunc(out, func(a, b workerproto.Model) int { return cmp.Compare(modelKey(a), modelKey(b)) })
	return out
}

// used is the size of the downloaded files.
func (c *cache) used() int64 {
	var n int64
	for _, e := range c.entries {
		if e.Downloaded {
			n += e.Size
		}
	}
	return n
}

// makeRoom evicts the least recently used downloaded files not in inUse
// until need more bytes fit the limit. It evicts nothing when they cannot
// fit, and says so.
func (c *cache) makeRoom(need int64, inUse map[string]bool) error {
	var victims []*entry
	for _, e := range c.entries {
		if e.Downloaded && !inUse[e.key()] {
			victims = append(victims, e)
		}
	}
	slices.SortFunc(victims, func(a, b *entry) int { return a.LastUsed.Compare(b.LastUsed) })
	free := c.limit - c.used()
	var evictable int64
	for _, e := range victims {
		evictable += e.Size
	}
	if need > free+evictable {
		return fmt.Errorf("the job's models need %d bytes more than --cache-size %d leaves for them", need-free-evictable, c.limit)
	}
	for _, e := range victims {
		if need <= free {
			break
		}
		if p, err := c.path(e.Type, e.Name); err == nil {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("evicting %s: %w", e.key(), err)
			}
		}
		delete(c.entries, e.key())
		free += e.Size
	}
	return c.save()
}

// add records a file now in place.
func (c *cache) add(m workerproto.Model, size int64, downloaded bool) error {
	c.entries[modelKey(m)] = &entry{Type: m.Type, Name: m.Name, SHA256: strings.ToLower(m.SHA256),
		Size: size, Downloaded: downloaded, LastUsed: c.now()}
	return c.save()
}

// touch marks the models used now.
func (c *cache) touch(models []workerproto.Model) error {
	for _, m := range models {
		if e, ok := c.entries[modelKey(m)]; ok {
			e.LastUsed = c.now()
		}
	}
	return c.save()
}

// save writes the index atomically.
func (c *cache) save() error {
	list := make([]*entry, 0, len(c.entries))
	for _, e := range c.entries {
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b *entry) int { return cmp.Compare(a.key(), b.key()) })
	raw, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, IndexFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(c.dir, IndexFile))
}
