package worker

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"easel/modelfile"
)

// simDim is the rank of the simulator's LoRAs (kohya's network_dim).
const simDim = 4

// loraModule is one module a LoRA adapts: kohya names it by its path in
// the model with '.' replaced by '_', under lora_unet_ or lora_te_.
type loraModule struct {
	name    string
	in, out int64
	conv    bool // a 1x1 convolution (SD 1.5's proj_in/proj_out)
}

// sd15Modules are the modules of a kohya networks.lora for SD 1.5 that
// the simulator writes: the text encoder's attention projections and, in
// each of the UNet's 16 transformer blocks, proj_in/proj_out and both
// attentions (the feed-forward layers are left out to keep the file small).
func sd15Modules() []loraModule {
	var out []loraModule
	for l := range 12 {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			out = append(out, loraModule{name: fmt.Sprintf("lora_te_text_model_encoder_layers_%d_self_attn_%s", l, p), in: 768, out: 768})
		}
	}
	blocks := []struct {
		name string
		ch   int64
	}{}
	for i, ch := range []int64{320, 640, 1280} {
		for a := range 2 {
			blocks = append(blocks, struct {
				name string
				ch   int64
			}{fmt.Sprintf("down_blocks_%d_attentions_%d", i, a), ch})
		}
	}
	blocks = append(blocks, struct {
		name string
		ch   int64
	}{"mid_block_attentions_0", 1280})
	for i, ch := range []int64{1280, 640, 320} {
		for a := range 3 {
			blocks = append(blocks, struct {
				name string
				ch   int64
			}{fmt.Sprintf("up_blocks_%d_attentions_%d", i+1, a), ch})
		}
	}
	for _, b := range blocks {
		out = append(out, transformerModules("lora_unet_"+b.name, b.ch, 768, true)...)
	}
	return out
}

// sdxlModules are a subset for SDXL (kohya names its UNet in the original
// layout): both text encoders' first attention layers and the first
// transformer of an input, the middle and an output block.
func sdxlModules() []loraModule {
	var out []loraModule
	for _, te := range []struct {
		prefix string
		dim    int64
	}{{"lora_te1", 768}, {"lora_te2", 1280}} {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			out = append(out, loraModule{name: fmt.Sprintf("%s_text_model_encoder_layers_0_self_attn_%s", te.prefix, p), in: te.dim, out: te.dim})
		}
	}
	for _, b := range []struct {
		name string
		ch   int64
	}{{"input_blocks_4_1", 640}, {"middle_block_1", 1280}, {"output_blocks_3_1", 640}} {
		out = append(out, transformerModules("lora_unet_"+b.name, b.ch, 2048, false)...)
	}
	return out
}

// transformerModules are proj_in/proj_out and the two attentions of the
// first transformer block of a Transformer2DModel with ch channels.
func transformerModules(prefix string, ch, context int64, conv bool) []loraModule {
	t := prefix + "_transformer_blocks_0_"
	return []loraModule{
		{name: prefix + "_proj_in", in: ch, out: ch, conv: conv},
		{name: prefix + "_proj_out", in: ch, out: ch, conv: conv},
		{name: t + "attn1_to_q", in: ch, out: ch}, {name: t + "attn1_to_k", in: ch, out: ch},
		{name: t + "attn1_to_v", in: ch, out: ch}, {name: t + "attn1_to_out_0", in: ch, out: ch},
		{name: t + "attn2_to_q", in: ch, out: ch}, {name: t + "attn2_to_k", in: context, out: ch},
		{name: t + "attn2_to_v", in: context, out: ch}, {name: t + "attn2_to_out_0", in: ch, out: ch},
	}
}

// writeSimLoRA writes the simulator's LoRA: kohya's tensor names and
// shapes for network_dim 4 (lora_down [4, in(,1,1)], lora_up [out, 4(,1,1)],
// alpha a scalar), small random F16 weights, and kohya's ss_* metadata
// naming the base model, the dataset and the settings — with
// easel_simulator "true" and a training comment saying it is synthetic.
func writeSimLoRA(path string, s *trainSpec, epoch, steps int, started time.Time) error {
	modules, version := sd15Modules(), "sd_v1"
	if s.fmType == "sd_xl" {
		modules, version = sdxlModules(), "sdxl_base_v1-0"
	}
	alpha := float32(simDim)
	if a, d := setting(s.settings, "network_alpha"), setting(s.settings, "network_dim"); a > 0 && d > 0 {
		alpha = float32(a / d * simDim) // the trained network's scale, alpha/dim
	}
	h := fnv.New64a()
	h.Write([]byte(s.outputName))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(epoch)))
	var tensors []modelfile.TensorData
	for _, m := range modules {
		down, up := []int64{simDim, m.in}, []int64{m.out, simDim}
		if m.conv {
			down, up = append(down, 1, 1), append(up, 1, 1)
		}
		tensors = append(tensors,
			f16Tensor(m.name+".alpha", nil, func() float32 { return alpha }),
			f16Tensor(m.name+".lora_down.weight", down, func() float32 { return float32(rng.Float64()-0.5) * 0.04 }),
			f16Tensor(m.name+".lora_up.weight", up, func() float32 { return float32(rng.Float64()-0.5) * 0.004 }))
	}
	images, dirs := 0, map[string]any{}
	for _, sub := range s.subsets {
		images += sub.images * sub.repeats
		name := sub.name
		if name == "" {
			name = "train"
		}
		dirs[name] = map[string]int{"n_repeats": sub.repeats, "img_count": sub.images}
	}
	dirsJSON, _ := json.Marshal(dirs)
	meta := map[string]string{
		"easel_simulator":            "true",
		"ss_training_comment":        "synthetic LoRA written by the Easel training simulator; it was not trained and changes almost nothing",
		"ss_sd_scripts_commit_hash":  "easel-simulator",
		"ss_session_id":              strconv.FormatUint(rng.Uint64()%1e9, 10),
		"ss_training_started_at":     strconv.FormatFloat(float64(started.UnixNano())/1e9, 'f', 6, 64),
		"ss_training_finished_at":    strconv.FormatFloat(float64(time.Now().UnixNano())/1e9, 'f', 6, 64),
		"ss_output_name":             s.outputName,
		"ss_sd_model_name":           s.modelName,
		"ss_sd_model_hash":           s.modelLegacy,
		"ss_new_sd_model_hash":       s.modelSHA256,
		"ss_base_model_version":      version,
		"ss_v2":                      "False",
		"ss_network_module":          "networks.lora",
		"ss_network_dim":             strconv.Itoa(simDim),
		"ss_network_alpha":           strconv.FormatFloat(float64(alpha), 'g', -1, 32),
		"ss_num_train_images":        strconv.Itoa(images),
		"ss_num_reg_images":          "0",
		"ss_dataset_dirs":            string(dirsJSON),
		"ss_tag_frequency":           "{}",
		"ss_num_epochs":              strconv.Itoa(max(s.epochs, 1)),
		"ss_epoch":                   strconv.Itoa(epoch),
		"ss_steps":                   strconv.Itoa(steps),
		"ss_max_train_steps":         strconv.Itoa(steps * max(s.epochs, 1) / max(epoch, 1)),
		"ss_batch_size_per_device":   settingText(s.settings, "train_batch_size", "1"),
		"ss_learning_rate":           settingText(s.settings, "learning_rate", settingText(s.settings, "unet_lr", "0.0001")),
		"ss_unet_lr":                 settingText(s.settings, "unet_lr", "None"),
		"ss_text_encoder_lr":         settingText(s.settings, "text_encoder_lr", "None"),
		"ss_lr_scheduler":            settingText(s.settings, "lr_scheduler", "constant"),
		"ss_optimizer":               settingText(s.settings, "optimizer_type", "AdamW"),
		"ss_mixed_precision":         settingText(s.settings, "mixed_precision", "fp16"),
		"ss_resolution":              settingText(s.settings, "resolution", "512,512"),
		"ss_clip_skip":               settingText(s.settings, "clip_skip", "None"),
		"ss_seed":                    settingText(s.settings, "seed", "None"),
		"ss_caption_dropout_rate":    "0.0",
		"modelspec.sai_model_spec":   "1.0.0",
		"modelspec.architecture":     map[string]string{"sd_v1": "stable-diffusion-v1/lora", "sdxl_base_v1-0": "stable-diffusion-xl-v1-base/lora"}[version],
		"modelspec.implementation":   "https://github.com/Stability-AI/generative-models",
		"modelspec.title":            s.outputName,
		"modelspec.description":      "synthetic LoRA from the Easel training simulator (untrained)",
		"modelspec.resolution":       settingText(s.settings, "resolution", "512,512"),
		"ss_training_simulated_by":   "easel worker --sd-scripts sim",
		"ss_network_train_unet_only": "False",
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := bufio.NewWriter(f)
	if err := modelfile.WriteSafetensors(buf, meta, tensors); err != nil {
		f.Close()
		return err
	}
	if err := buf.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// f16Tensor makes an F16 tensor of shape with values from next.
func f16Tensor(name string, shape []int64, next func() float32) modelfile.TensorData {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	data := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(data[2*i:], modelfile.F16Bits(next()))
	}
	return modelfile.TensorData{Name: name, DType: "F16", Shape: shape, Data: data}
}

// setting reads a number of the [training] table; 0 when absent.
func setting(t map[string]any, key string) float64 {
	switch v := t[key].(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// settingText renders a setting as kohya writes it into metadata.
func settingText(t map[string]any, key, dflt string) string {
	switch v := t[key].(type) {
	case nil:
		return dflt
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	default:
		return fmt.Sprint(v)
	}
}
