package modelfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// stTensor is one tensor of a test safetensors file.
type stTensor struct {
	name  string
	dtype string
	shape []uint64
}

var stBytesPer = map[string]uint64{"F16": 2, "F32": 4, "BF16": 2, "I64": 8, "U8": 1}

// stFile builds a valid safetensors file (zero-filled data) with the
// tensors in order and the metadata.
func stFile(t testing.TB, tensors []stTensor, meta map[string]string) []byte {
	t.Helper()
	header := map[string]any{}
	if meta != nil {
		header["__metadata__"] = meta
	}
	var at uint64
	for _, ts := range tensors {
		n := stBytesPer[ts.dtype]
		for _, d := range ts.shape {
			n *= d
		}
		header[ts.name] = map[string]any{"dtype": ts.dtype, "shape": ts.shape, "data_offsets": []uint64{at, at + n}}
		at += n
	}
	js, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	return stRaw(js, int(at))
}

// stRaw frames a header text and dataLen zero bytes as a safetensors file.
func stRaw(header []byte, dataLen int) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, make([]byte, dataLen)...)
}

// loraTensors are the first tensors of a kohya SD 1.x LoRA (network_dim 4).
func loraTensors() []stTensor {
	return []stTensor{
		{"lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", "F16", []uint64{}},
		{"lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", []uint64{4, 768}},
		{"lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", "F16", []uint64{3072, 4}},
		{"lora_unet_down_blocks_0_attentions_0_proj_in.alpha", "F16", []uint64{}},
		{"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", "F16", []uint64{4, 320, 1, 1}},
		{"lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", "F16", []uint64{320, 4, 1, 1}},
	}
}

// Hand-assembled pickles (checked with Python's pickletools).
var (
	// benignPickle is protocol 2: an OrderedDict with one torch tensor
	// rebuilt from a persistent storage, as torch.save writes it.
	benignPickle = []byte("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02" +
		"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05" +
		"X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x04tq\x08QK\x00K\x04\x85q\tK\x01\x85q\n\x89h\x00)Rq\x0btq\x0cRq\rs.")
	// osSystemPickle runs os.system("echo pwned") when loaded (protocol 0).
	osSystemPickle = []byte("cos\nsystem\n(S'echo pwned'\ntR.")
	// stackGlobalPickle imports builtins.eval through STACK_GLOBAL with
	// both names fetched back from the memo (protocol 4).
	stackGlobalPickle = []byte("\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94h\x00h\x01\x93\x94\x8c\x011\x94\x85R.")
)

// torchZip builds a torch.save-style zip archive with the pickle as
// archive/data.pkl and one storage entry.
func torchZip(t testing.TB, pickle []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range map[string][]byte{"archive/data.pkl": pickle, "archive/data/0": make([]byte, 16), "archive/version": []byte("3\n")} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
