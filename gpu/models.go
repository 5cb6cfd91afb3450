package gpu

import (
	"encoding/json"
	"strconv"
)

// SpaceFreeSize is the disk space, in bytes, the ESD container keeps free
// when it caches models (ESD sends 4e10).
const SpaceFreeSize = 4e10

// Model is one entry of the ESD container's model list: a checkpoint (its
// id, file name, S3 folder and type) or a built-in VAE choice ("Automatic"
// or "None", with ID "VAE" and S3 "None"). The container fetches the file
// from "<S3>/<Name>".
type Model struct {
	ID   string `json:"id"`
	Name string `json:"model_name"`
	S3   string `json:"s3"`
	Type string `json:"type"`
}

// BuiltInS3 is the S3 of the built-in VAE choices: nothing to fetch.
const BuiltInS3 = "None"

// Models is the ESD container's model list: the free space to keep and,
// per model type, the models to load. Without models it is sent as {},
// as ESD does.
type Models struct {
	SpaceFreeSize float64
	ByType        map[string][]Model
}

// MarshalJSON writes {"space_free_size": 40000000000.0, "<type>": [...]}.
func (m Models) MarshalJSON() ([]byte, error) {
	if len(m.ByType) == 0 {
		return []byte("{}"), nil
	}
	out := make(map[string]any, len(m.ByType)+1)
	for t, list := range m.ByType {
		out[t] = list
	}
	// Python's json.dumps writes the float as 40000000000.0; so do we.
	out["space_free_size"] = json.RawMessage(strconv.FormatFloat(m.SpaceFreeSize, 'f', 1, 64))
	return json.Marshal(out)
}
