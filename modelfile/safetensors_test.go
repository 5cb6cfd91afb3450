package modelfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestReadSafetensorsLora(t *testing.T) {
	meta := map[string]string{"ss_base_model_version": "sd_v1", "ss_sd_model_name": "v1-5-pruned-emaonly.safetensors",
		"ss_network_dim": "4", "ss_output_name": "cartoony", "ss_tag_frequency": strings.Repeat("x", 5000)}
	file := stFile(t, loraTensors(), meta)
	info, err := Inspect(bytes.NewReader(file), int64(len(file)), "cartoony.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if info.Error != "" {
		t.Fatalf("got error %q for a valid LoRA", info.Error)
	}
	if info.Format != FormatSafetensors || info.Kind != "Lora" || info.Base != SD1 || info.BaseName != "v1-5-pruned-emaonly.safetensors" {
		t.Errorf("got format %q kind %q base %q base name %q, want safetensors Lora SD 1.x v1-5-pruned-emaonly.safetensors",
			info.Format, info.Kind, info.Base, info.BaseName)
	}
	if info.Tensors != 6 || !slices.Equal(info.DTypes, []string{"F16"}) {
		t.Errorf("got %d tensors of %v, want 6 of [F16]", info.Tensors, info.DTypes)
	}
	if info.Metadata["ss_network_dim"] != "4" || len(info.Metadata["ss_tag_frequency"]) > MaxMetadataValue+len("…") {
		t.Errorf("metadata not kept or not cut: dim %q, tag frequency %d bytes", info.Metadata["ss_network_dim"], len(info.Metadata["ss_tag_frequency"]))
	}
	if info.IsUnsafe() {
		t.Error("a safetensors file is reported unsafe")
	}
}

func TestSafetensorsKinds(t *testing.T) {
	one := []uint64{1}
	cases := []struct {
		name       string
		tensors    []string
		meta       map[string]string
		kind, base string
	}{
		{"sd15", []string{"model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.transformer.text_model.embeddings.position_ids", "first_stage_model.encoder.conv_in.weight"}, nil, "Stable-diffusion", SD1},
		{"sd2", []string{"model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.model.token_embedding.weight"}, nil, "Stable-diffusion", SD2},
		{"sdxl", []string{"model.diffusion_model.input_blocks.0.0.weight", "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", "conditioner.embedders.1.model.ln_final.weight"}, nil, "Stable-diffusion", SDXL},
		{"sdxl lora", []string{"lora_te1_text_model_encoder_layers_0_mlp_fc1.alpha", "lora_te2_text_model_encoder_layers_0_mlp_fc1.alpha", "lora_unet_input_blocks_4_1_proj_in.alpha"}, nil, "Lora", SDXL},
		{"lora by metadata", []string{"lora_unet_down_blocks_0_attentions_0_proj_in.alpha"}, map[string]string{"ss_base_model_version": "sdxl_base_v1-0"}, "Lora", SDXL},
		{"vae", []string{"encoder.down.0.block.0.conv1.weight", "decoder.up.0.block.0.conv1.weight"}, nil, "VAE", ""},
		{"embedding", []string{"emb_params"}, nil, "embeddings", ""},
		{"sdxl embedding", []string{"clip_g", "clip_l"}, nil, "embeddings", SDXL},
		{"controlnet", []string{"control_model.input_hint_block.0.weight", "control_model.zero_convs.0.0.weight"}, nil, "ControlNet", ""},
		{"unknown", []string{"weight", "bias"}, nil, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ts []stTensor
			for _, n := range c.tensors {
				ts = append(ts, stTensor{n, "F32", one})
			}
			file := stFile(t, ts, c.meta)
			h, err := ReadSafetensors(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				t.Fatal(err)
			}
			info := h.Info()
			if info.Kind != c.kind || info.Base != c.base {
				t.Errorf("got kind %q base %q, want %q %q", info.Kind, info.Base, c.kind, c.base)
			}
		})
	}
}

func TestSafetensorsHostileHeaders(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	huge := binary.LittleEndian.AppendUint64(nil, 1<<20)
	overCap := binary.LittleEndian.AppendUint64(nil, MaxHeaderBytes+1)
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"short file", "too short", []byte{1, 2, 3}},
		{"length beyond the file", "only", append(huge, ok...)},
		{"length over the cap", "over the limit", append(overCap, make([]byte, 64)...)},
		{"not json", "not JSON", stRaw([]byte(`{1:2}`), 8)},
		{"cut tensor", "tensor \"a\"", stRaw([]byte(`{"a":{"dtype"`), 8)},
		{"not an object", "start with {", stRaw([]byte(`["a"]`), 0)},
		{"duplicate name", "twice", stRaw([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), 8)},
		{"overlapping", "overlaps", stRaw([]byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), 8)},
		{"gap", "belong to no tensor", stRaw([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), 8)},
		{"past the data", "the file has", stRaw([]byte(ok), 4)},
		{"data left over", "the file has", stRaw([]byte(ok), 12)},
		{"unknown dtype", "unknown dtype", stRaw([]byte(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`), 16)},
		{"shape does not fill", "does not fill", stRaw([]byte(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), 8)},
		{"shape overflows", "too large", stRaw([]byte(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}`), 8)},
		{"null shape", "no valid shape", stRaw([]byte(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`), 4)},
		{"negative offset", "data_offsets", stRaw([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`), 4)},
		{"reversed offsets", "data_offsets", stRaw([]byte(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`), 8)},
		{"three offsets", "data_offsets", stRaw([]byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`), 8)},
		{"metadata not strings", "__metadata__", stRaw([]byte(`{"__metadata__":{"ss_epoch":1}}`), 0)},
		{"trailing data", "after its JSON", stRaw([]byte(ok+`   x`), 8)},
		{"deep shape", "no valid shape", stRaw([]byte(`{"a":{"dtype":"U8","shape":[`+strings.Repeat("1,", MaxRank)+`1],"data_offsets":[0,1]}}`), 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadSafetensors(bytes.NewReader(c.file), int64(len(c.file)))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FormatError", err)
			}
			if !strings.Contains(fe.Reason, c.want) {
				t.Errorf("got %q, want it to mention %q", fe.Reason, c.want)
			}
			info, err := Inspect(bytes.NewReader(c.file), int64(len(c.file)), "x.safetensors")
			if err != nil || info.Error == "" || info.Tensors != 0 {
				t.Errorf("Inspect: got %+v, %v; want the reason and no tensors", info, err)
			}
		})
	}
}

func TestSafetensorsTooManyTensors(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxTensors + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"t%d":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, i)
	}
	b.WriteString("}")
	file := stRaw([]byte(b.String()), 0)
	_, err := ReadSafetensors(bytes.NewReader(file), int64(len(file)))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("got %v, want a refusal of more than %d tensors", err, MaxTensors)
	}
}

func TestSafetensorsPaddedHeaderAndEmptyTensors(t *testing.T) {
	// Spaces after the JSON are the format's padding; zero-sized tensors
	// share an offset.
	h := `{"a":{"dtype":"F16","shape":[0,3],"data_offsets":[0,0]},"b":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}    `
	file := stRaw([]byte(h), 4)
	got, err := ReadSafetensors(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != 2 {
		t.Errorf("got %d tensors, want 2", len(got.Tensors))
	}
}
