package jobs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// Infotext is A1111's generation-parameters text of image index of a
// result: the answer's own infotexts[index] when it has one (A1111 and the
// simulator send them), else the text A1111's create_infotext would write
// for params, with the seed and model the answer reports:
//
//	<prompt>
//	Negative prompt: <negative prompt>
//	Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: …, Model: …
//
// Keys keep A1111's order and absent ones are left out; a value holding a
// comma, a colon or a line break is JSON-quoted, as A1111's quote does.
func Infotext(params json.RawMessage, info string, index int) string {
	var in struct {
		Infotexts []string `json:"infotexts"`
		AllSeeds  []int64  `json:"all_seeds"`
		ModelHash string   `json:"sd_model_hash"`
		ModelName string   `json:"sd_model_name"`
	}
	_ = json.Unmarshal([]byte(info), &in)
	if index < len(in.Infotexts) && in.Infotexts[index] != "" {
		return in.Infotexts[index]
	}
	p := map[string]json.RawMessage{}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	_ = dec.Decode(&p)
	str := func(key, def string) string {
		var s string
		if json.Unmarshal(p[key], &s) == nil && s != "" {
			return s
		}
		if v := strings.TrimSpace(string(p[key])); v != "" && v != "null" && v[0] != '"' {
			return v
		}
		return def
	}
	seed := str("seed", "-1")
	if index < len(in.AllSeeds) {
		seed = strconv.FormatInt(in.AllSeeds[index], 10)
	}
	fields := [][2]string{
		{"Steps", str("steps", "20")},
		{"Sampler", str("sampler_name", str("sampler_index", "Euler a"))},
		{"CFG scale", str("cfg_scale", "7")},
		{"Seed", seed},
		{"Size", str("width", "512") + "x" + str("height", "512")},
		{"Model hash", in.ModelHash},
		{"Model", in.ModelName},
		{"Denoising strength", str("denoising_strength", "")},
	}
	if p["init_images"] == nil {
		fields[len(fields)-1][1] = "" // txt2img has none
	}
	var kv []string
	for _, f := range fields {
		if f[1] != "" {
			kv = append(kv, f[0]+": "+infotextQuote(f[1]))
		}
	}
	text := str("prompt", "")
	if neg := str("negative_prompt", ""); neg != "" {
		text += "\nNegative prompt: " + neg
	}
	return strings.TrimSpace(text + "\n" + strings.Join(kv, ", "))
}

// infotextQuote is A1111's quote: values with a comma, a colon or a line
// break become JSON strings (non-ASCII kept as it is).
func infotextQuote(v string) string {
	if !strings.ContainsAny(v, ",:\n") {
		return v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// WithParameters returns png with the text chunk "parameters" holding
// text, as A1111 writes it (PIL: tEXt when the text is Latin-1, else an
// uncompressed iTXt), placed right after IHDR. A PNG that already has a
// "parameters" chunk (a real A1111's) is returned unchanged.
func WithParameters(png []byte, text string) ([]byte, error) {
	if !bytes.HasPrefix(png, []byte(pngSignature)) {
		return nil, errors.New("not a PNG file")
	}
	afterIHDR := 0
	for off := len(pngSignature); off+8 <= len(png); {
		n := int(binary.BigEndian.Uint32(png[off:]))
		typ := string(png[off+4 : off+8])
		end := off + 12 + n
		if n < 0 || end > len(png) {
			return nil, fmt.Errorf("PNG chunk %q runs past the end of the file", typ)
		}
		data := png[off+8 : off+8+n]
		if (typ == "tEXt" || typ == "iTXt" || typ == "zTXt") && bytes.HasPrefix(data, []byte("parameters\x00")) {
			return png, nil
		}
		if typ == "IHDR" {
			afterIHDR = end
		}
		if typ == "IEND" {
			break
		}
		off = end
	}
	if afterIHDR == 0 {
		return nil, errors.New("PNG file without IHDR")
	}
	chunk := textChunk("parameters", text)
	out := make([]byte, 0, len(png)+len(chunk))
	out = append(out, png[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, png[afterIHDR:]...), nil
}

// textChunk encodes a tEXt chunk, or an iTXt one when text is not Latin-1.
func textChunk(keyword, text string) []byte {
	typ, data := "tEXt", []byte(keyword+"\x00")
	latin1 := true
	for _, r := range text {
		if r > 0xff {
			latin1 = false
			break
		}
	}
	if latin1 {
		for _, r := range text {
			data = append(data, byte(r))
		}
	} else {
		// compression flag 0, method 0, no language tag, no translated keyword
		typ = "iTXt"
		data = append(data, 0, 0, 0, 0)
		data = append(data, text...)
	}
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	return binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
}
