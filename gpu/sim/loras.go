package sim

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"easel/modelfile"
)

// loraTag is A1111's extra-networks syntax for a LoRA in a prompt:
// <lora:NAME>, <lora:NAME:weight> or <lora:NAME:te:unet>.
var loraTag = regexp.MustCompile(`<lora:([^:>]+)(?::[^>]*)?>`)

// promptLoras returns the LoRAs the prompts name, each checked to be in
// the simulator's Lora folder and to be a well-formed safetensors file
// (A1111 would log "Networks not found" and go on; the simulator refuses,
// so that tests catch a LoRA the worker did not fetch). NAME is the file
// name without extension, as in A1111.
func (s *server) promptLoras(prompts ...string) ([]*checkpoint, func(http.ResponseWriter)) {
	var out []*checkpoint
	seen := map[string]bool{}
	for _, p := range prompts {
		for _, m := range loraTag.FindAllStringSubmatch(p, -1) {
			name := strings.TrimSpace(m[1])
			if seen[name] {
				continue
			}
			seen[name] = true
			s.mu.Lock()
			var found *checkpoint
			for _, c := range s.models.loras {
				if c.modelName() == name || c.shortName() == name {
					found = c
					break
				}
			}
			s.mu.Unlock()
			if found == nil {
				return nil, func(w http.ResponseWriter) { exception(w, "RuntimeError", "LoRA not found: "+name) }
			}
			if err := checkSafetensors(found.path); err != nil {
				return nil, func(w http.ResponseWriter) {
					exception(w, "RuntimeError", fmt.Sprintf("LoRA %s is not a valid safetensors file: %v", name, err))
				}
			}
			out = append(out, found)
		}
	}
	return out, nil
}

// checkSafetensors reads a .safetensors file's header with the model
// library's reader (modelfile): it must be well formed and hold tensors.
func checkSafetensors(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h, err := modelfile.ReadSafetensors(f, st.Size())
	if err != nil {
		return err
	}
	if len(h.Tensors) == 0 {
		return fmt.Errorf("no tensors")
	}
	return nil
}

// loraHashes is the infotext's part for the LoRAs used: A1111 writes
// `Lora hashes: "name: <first 12 hex of the file's SHA-256>, ..."`.
func loraHashes(loras []*checkpoint) string {
	if len(loras) == 0 {
		return ""
	}
	parts := make([]string, len(loras))
	for i, l := range loras {
		parts[i] = l.shortName() + ": " + l.sha256[:12]
	}
	return `, Lora hashes: "` + strings.Join(parts, ", ") + `"`
}

// used counts a generation's LoRAs in the stats.
func (s *server) used(loras []*checkpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range loras {
		if s.stats.Loras == nil {
			s.stats.Loras = map[string]int{}
		}
		s.stats.Loras[l.name]++
	}
}
