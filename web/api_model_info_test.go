package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"easel/internal/testenv"
	"easel/modelfile"
)

// tinyLora is a valid safetensors file shaped like a kohya SD 1.x LoRA
// (two tensors, zero-filled) with training metadata.
func tinyLora(t *testing.T) []byte {
	t.Helper()
	header, err := json.Marshal(map[string]any{
		"__metadata__": map[string]string{"ss_base_model_version": "sd_v1", "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors", "ss_network_dim": "4", "ss_num_epochs": "3"},
		"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": map[string]any{"dtype": "F16", "shape": []int{4, 320, 1, 1}, "data_offsets": []int{0, 2560}},
		"lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight":   map[string]any{"dtype": "F16", "shape": []int{320, 4, 1, 1}, "data_offsets": []int{2560, 5120}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), make([]byte, 5120)...)
}

// evilCkpt is a torch zip whose data.pkl runs os.system("echo pwned").
func evilCkpt(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("archive/data.pkl")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("cos\nsystem\n(S'echo pwned'\ntR."))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadWhole uploads body as one file of a new Lora checkpoint and
// completes it; it returns the checkpoint id.
func uploadWhole(t *testing.T, s *testenv.Server, name string, body []byte) string {
	t.Helper()
	admin := testenv.As("admin")
	id, urls := startUpload(t, s, admin, name, 1)
	tags := uploadParts(t, urls, [][]byte{body})
	s.MustCall(t, 200, "PUT", "/checkpoints/"+id, admin, map[string]any{"status": "Active", "multi_parts_tags": map[string]any{name: tags}})
	return id
}

// modelInfoOf waits for the checkpoint's model info and returns it.
func modelInfoOf(t *testing.T, s *testenv.Server, id string) modelfile.Info {
	t.Helper()
	var raw []byte
	waitFor(t, "model info of "+id, func() bool {
		err := s.App.Store.DB().QueryRow(t.Context(), `SELECT model_info FROM checkpoints WHERE id = $1`, id).Scan(&raw)
		return err == nil && raw != nil
	})
	var info modelfile.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// TestModelLibraryReadsFiles: uploads and imports are read once complete
// (header or pickle opcodes), the API flags unsafe pickles, and the
// console shows kind, base model, training details and the warning.
func TestModelLibraryReadsFiles(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t, testenv.WithEnv("EASEL_ALLOW_PRIVATE_URLS", "1"))
	admin := testenv.As("admin")

	lora := uploadWhole(t, s, "tiny.safetensors", tinyLora(t))
	info := modelInfoOf(t, s, lora)
	if info.Kind != "Lora" || info.Base != modelfile.SD1 || info.Tensors != 2 || info.Metadata["ss_network_dim"] != "4" {
		t.Errorf("LoRA info = %+v, want a Lora for SD 1.x with 2 tensors and its metadata", info)
	}
	hostile := binary.LittleEndian.AppendUint64(nil, 1<<40)
	broken := uploadWhole(t, s, "broken.safetensors", append(hostile, "{}"...))
	if info := modelInfoOf(t, s, broken); !strings.Contains(info.Error, "over the limit") || info.Tensors != 0 {
		t.Errorf("hostile header info = %+v, want the reason and nothing else", info)
	}

	srv := modelServer(t, evilCkpt(t))
	importURL(t, s, "Stable-diffusion", srv.URL+"/files/evil.ckpt")
	waitImported(t, s, "evil.ckpt")
	var evil map[string]any
	waitFor(t, "evil.ckpt flagged", func() bool {
		for _, c := range checkpointsOf(t, s, admin, "?per_page=100") {
			if c["name"].([]any)[0] == "evil.ckpt" && c["unsafe"] == true {
				evil = c
				return true
			}
		}
		return false
	})
	if g, _ := evil["unsafe_globals"].([]any); len(g) != 1 || g[0] != "os.system" {
		t.Errorf("unsafe_globals = %v, want [os.system]", evil["unsafe_globals"])
	}
	for _, c := range checkpointsOf(t, s, admin, "?per_page=100") {
		name := c["name"].([]any)[0].(string)
		if name != "evil.ckpt" && (c["unsafe"] != false || c["unsafe_globals"] != nil) {
			t.Errorf("%s: unsafe %v %v, want false and no globals", name, c["unsafe"], c["unsafe_globals"])
		}
	}

	c := signIn(t, s, "admin", testenv.AdminPassword)
	page := getPage(t, c, s.URL+"/models")
	for _, want := range []string{"LoRA · for SD 1.x · 2 tensors (F16)", "Training details", "Network dim", "v1-5-pruned-emaonly.safetensors",
		`data-testid="model-unsafe"`, "<code>os.system</code>", "Could not read the file: the header claims " + strconv.Itoa(1<<40)} {
		if !strings.Contains(page, want) {
			t.Errorf("the model library lacks %q", want)
		}
	}
	if n := strings.Count(page, `data-testid="model-unsafe"`); n != 1 {
		t.Errorf("got %d unsafe warnings, want 1 (evil.ckpt only)", n)
	}
}
