package webui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"easel/gpu"
)

// Library model types, as gpu.Models keys them.
const (
	checkpointType = "Stable-diffusion"
	vaeType        = "VAE"
)

// chosen returns the checkpoint and VAE file names the inference was
// created with (empty: none chosen; the VAE may be "Automatic" or "None").
func chosen(m gpu.Models) (checkpoint, vae string) {
	if l := m.ByType[checkpointType]; len(l) > 0 {
		checkpoint = l[0].Name
	}
	if l := m.ByType[vaeType]; len(l) > 0 {
		vae = l[0].Name
	}
	return checkpoint, vae
}

// MissingModelError says that a member lacks a model file a job chose.
// A pool does not fetch models: someone copies them onto its servers.
type MissingModelError struct {
	Member string
	Type   string // checkpoint or VAE
	Name   string
}

func (e *MissingModelError) Error() string {
	return fmt.Sprintf("webui member %s does not have %s %s; copy it there or use Easel workers, which fetch models themselves",
		e.Member, e.Type, e.Name)
}

// modelList is the part of sd-models and sd-vae entries used here.
type modelList []struct {
	Title     string  `json:"title"`      // sd-models: "name [hash10]" or "name"
	ModelName string  `json:"model_name"` // sd-vae: the name
	Hash      *string `json:"hash"`       // null until the server hashed the file
}

// find returns the index of the entry A1111 selects by name, or -1.
func (l modelList) find(name string, vae bool) int {
	for i, e := range l {
		if vae && e.ModelName == name ||
			!vae && (e.Title == name || strings.HasPrefix(e.Title, name+" [") && strings.HasSuffix(e.Title, "]")) {
			return i
		}
	}
	return -1
}

// ensureModels checks that m has the checkpoint and VAE chosen, asking it
// to rescan its folders once when one is missing. It returns the first 10
// hex digits of the checkpoint's SHA-256 as m reports it ("" when m has
// not hashed it), a *MissingModelError, or m's failure to answer.
func (b *Backend) ensureModels(ctx context.Context, m *member, checkpoint, vae string) (hash10 string, err error) {
	if checkpoint != "" {
		if hash10, err = b.ensure(ctx, m, "checkpoint", checkpoint, "/sdapi/v1/sd-models", "/sdapi/v1/refresh-checkpoints"); err != nil {
			return "", err
		}
	}
	if vae != "" && vae != "Automatic" && vae != "None" {
		if _, err = b.ensure(ctx, m, "VAE", vae, "/sdapi/v1/sd-vae", "/sdapi/v1/refresh-vae"); err != nil {
			return "", err
		}
	}
	return hash10, nil
}

func (b *Backend) ensure(ctx context.Context, m *member, typ, name, list, refresh string) (string, error) {
	for attempt := range 2 {
		if attempt == 1 {
			if _, err := b.call(ctx, m, http.MethodPost, refresh); err != nil {
				return "", err
			}
		}
		body, err := b.call(ctx, m, http.MethodGet, list)
		if err != nil {
			return "", err
		}
		var l modelList
		if err := json.Unmarshal(body, &l); err != nil {
			return "", fmt.Errorf("webui member %s: %s is not a JSON list of models", m.name, list)
		}
		if i := l.find(name, typ == "VAE"); i >= 0 {
			if h := l[i].Hash; h != nil {
				return *h, nil
			}
			return "", nil
		}
	}
	return "", &MissingModelError{Member: m.name, Type: typ, Name: name}
}

// call sends a bodiless request to m, bounded by HealthTimeout, and
// returns the body of a 2xx answer.
func (b *Backend) call(ctx context.Context, m *member, method, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.HealthTimeout)
	defer cancel()
	req, err := b.newRequest(ctx, m, method, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("webui member %s: %s: %w", m.name, path, causeOf(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("webui member %s: %s: %w", m.name, path, causeOf(err))
	}
	if resp.StatusCode/100 != 2 {
		return nil, &HTTPError{Member: m.name, StatusCode: resp.StatusCode, Message: errorText(body), body: body}
	}
	return body, nil
}
