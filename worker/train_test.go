package worker

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"easel/workerproto"
)

func TestTrainOutputReadsKohyaProgress(t *testing.T) {
	st := &jobState{}
	out, err := newTrainOutput(st, filepath.Join(t.TempDir(), "out.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.close()
	for _, chunk := range []string{
		"running training / 学習開始\n\nepoch 2/10\n",
		"steps:  10%|█         | 10/100 [00:05<00:45,  2.00it/s, avr_loss=0.1",
		"23]\rsteps:  11%|█         | 11/100 [00:05<00:44,  2.00it/s, avr_loss=0.121]\r",
		"validation steps:  50%|█████     | 2/4 [00:01<00:01, val_avg_loss=9.5]\r",
	} {
		if _, err := out.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	got := st.trainingProgress()
	want := workerproto.TrainingProgress{Status: workerproto.TrainingTraining, Epoch: 2, Epochs: 10, Step: 11, Steps: 100, Loss: 0.121}
	if got != want {
		t.Errorf("progress = %+v, want %+v", got, want)
	}
	if last := out.lastLines(); !strings.Contains(last, "11/100") || strings.Contains(last, "10/100") {
		t.Errorf("last lines keep only the latest bar: %q", last)
	}
	raw, _ := os.ReadFile(filepath.Join(filepath.Dir(out.file.Name()), "out.log"))
	if !strings.Contains(string(raw), "epoch 2/10") {
		t.Errorf("the output log lacks the output: %q", raw)
	}
}

func testSpec(t *testing.T) *trainSpec {
	t.Helper()
	dir := t.TempDir()
	s := &trainSpec{fmType: "sd_1_5", outputName: "lighthouse_lora", modelName: "base.safetensors",
		modelPath: filepath.Join(dir, "base.safetensors"), modelSHA256: strings.Repeat("ab", 32),
		trainDir: filepath.Join(dir, "train"), outputDir: filepath.Join(dir, "output"), logsDir: filepath.Join(dir, "logs"),
		configPath: filepath.Join(dir, "training.toml"), datasetPath: filepath.Join(dir, "dataset.toml"), epochs: 2, saveEvery: 1}
	for _, f := range []string{"train/10_technic/1.png", "train/10_technic/1.txt", "train/10_technic/2.jpg", "train/loose.png"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{s.outputDir, s.logsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.modelPath, []byte("base weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigsForKohya(t *testing.T) {
	s := testSpec(t)
	template := `[training]
pretrained_model_name_or_path = "./sd-models/v1-5-pruned-emaonly.safetensors"
train_data_dir = "./train/input"
output_dir = "output"
logging_dir = "./logs"
output_name = "output_name"
reg_data_dir = "/etc"
network_dim = 32
network_alpha = 16
caption_extension = ".caption"
`
	if err := s.writeConfig([]byte(template)); err != nil {
		t.Fatal(err)
	}
	var got struct{ Training map[string]any }
	if _, err := toml.DecodeFile(s.configPath, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"pretrained_model_name_or_path": s.modelPath, "train_data_dir": s.trainDir,
		"output_dir": s.outputDir, "logging_dir": s.logsDir, "output_name": "lighthouse_lora", "save_model_as": "safetensors",
		"network_dim": int64(32), "max_train_epochs": int64(2)} {
		if got.Training[k] != want {
			t.Errorf("%s = %v, want %v", k, got.Training[k], want)
		}
	}
	if _, ok := got.Training["reg_data_dir"]; ok {
		t.Error("reg_data_dir (a path of the box) was kept")
	}
	if err := s.findSubsets(); err != nil {
		t.Fatal(err)
	}
	if err := s.writeDatasetConfig(); err != nil {
		t.Fatal(err)
	}
	var ds struct {
		General  map[string]any
		Datasets []struct {
			Subsets []struct {
				ImageDir    string `toml:"image_dir"`
				NumRepeats  int    `toml:"num_repeats"`
				ClassTokens string `toml:"class_tokens"`
			}
		}
	}
	if _, err := toml.DecodeFile(s.datasetPath, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.General["caption_extension"] != ".caption" || len(ds.Datasets) != 1 || len(ds.Datasets[0].Subsets) != 2 {
		t.Fatalf("dataset config = %+v", ds)
	}
	sub := ds.Datasets[0].Subsets[0]
	if sub.ImageDir != filepath.Join(s.trainDir, "10_technic") || sub.NumRepeats != 10 || sub.ClassTokens != "technic" {
		t.Errorf("subset = %+v", sub)
	}
	if top := ds.Datasets[0].Subsets[1]; top.ImageDir != s.trainDir || top.NumRepeats != 1 {
		t.Errorf("top subset = %+v", top)
	}
}

// TestSimLoRAIsValid: the simulator's LoRA is a well-formed safetensors
// file with kohya's names and shapes for SD 1.5 and network_dim 4, and
// metadata naming the base model, the dataset and the settings.
func TestSimLoRAIsValid(t *testing.T) {
	s := testSpec(t)
	s.settings = map[string]any{"network_dim": int64(32), "network_alpha": int64(16), "learning_rate": 0.0001}
	s.modelLegacy = "e3b0c442"
	if err := s.findSubsets(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.outputDir, "lighthouse_lora.safetensors")
	if err := writeSimLoRA(path, s, 2, 40, time.Now()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int64  `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	covered := int64(0)
	shapes := map[string][]int64{}
	for name, v := range header {
		if name == "__metadata__" {
			continue
		}
		var e entry
		if err := json.Unmarshal(v, &e); err != nil || e.DType != "F16" {
			t.Fatalf("%s: %s (%v)", name, v, err)
		}
		shapes[name] = e.Shape
		covered += e.Offsets[1] - e.Offsets[0]
	}
	if data := int64(len(raw)) - 8 - int64(n); covered != data {
		t.Errorf("tensors cover %d bytes of %d", covered, data)
	}
	for name, want := range map[string][]int64{
		"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight":                         {4, 320, 1, 1},
		"lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight":                           {320, 4, 1, 1},
		"lora_unet_down_blocks_0_attentions_0_proj_in.alpha":                                    {},
		"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight":     {4, 768},
		"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight":       {1280, 4},
		"lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn1_to_out_0.lora_up.weight": {320, 4},
		"lora_te_text_model_encoder_layers_11_self_attn_q_proj.lora_down.weight":                {4, 768},
		"lora_te_text_model_encoder_layers_0_self_attn_out_proj.lora_up.weight":                 {768, 4},
	} {
		got, ok := shapes[name]
		if !ok || len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
			t.Errorf("%s: shape %v (present %v), want %v", name, got, ok, want)
		}
	}
	for k, want := range map[string]string{"ss_sd_model_name": "base.safetensors", "ss_new_sd_model_hash": s.modelSHA256,
		"ss_sd_model_hash": "e3b0c442", "ss_network_dim": "4", "ss_network_alpha": "2", "ss_network_module": "networks.lora",
		"ss_num_train_images": "21", "ss_num_epochs": "2", "ss_output_name": "lighthouse_lora", "ss_learning_rate": "0.0001",
		"easel_simulator": "true"} {
		if meta[k] != want {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], want)
		}
	}
	if !strings.Contains(meta["ss_dataset_dirs"], `"10_technic":{"img_count":2,"n_repeats":10}`) {
		t.Errorf("ss_dataset_dirs = %s", meta["ss_dataset_dirs"])
	}
}
