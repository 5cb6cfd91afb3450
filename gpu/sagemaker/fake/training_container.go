package fake

import (
	"encoding/binary"
	"encoding/json"
	"path"
	"sort"
	"strings"
)

// The ESD training container, as far as Easel can see it: it reads the
// parameter file named by the s3_location hyperparameter, downloads the
// base model and the dataset (failing the job when either is missing, as
// its download step does), trains, and uploads <output_name>.safetensors
// to s3-output-path and its logs under kohya/train/<id>/logs/.

// trainingParams is the part of the parameter file the container reads.
type trainingParams struct {
	ID     string `json:"id"`
	Output string `json:"s3-output-path"`
	Params struct {
		TrainingParams struct {
			Model string `json:"s3_model_path"`
			Data  string `json:"s3_data_path"`
		} `json:"training_params"`
		ConfigParams struct {
			OutputName string `json:"output_name"`
		} `json:"config_params"`
	} `json:"params"`
}

func algorithmError(msg string) string {
	return "AlgorithmError: ExecuteUserScriptError: " + msg
}

// containerReads is the container's download step; it returns why the
// job fails, or "".
func (s *Server) containerReads(j *trainingJob) string {
	loc := j.in.HyperParameters["s3_location"]
	if loc == "" {
		return algorithmError("KeyError: 's3_location' (no parameter file named)")
	}
	body, err := s.readS3Locked(loc)
	if err != nil {
		return algorithmError("cannot read the parameter file " + loc + ": " + err.Error())
	}
	p, err := parseTrainingParams(body)
	if err != nil {
		return algorithmError("the parameter file " + loc + " is not valid: " + err.Error())
	}
	if _, err := s.readS3Locked(p.Params.TrainingParams.Model); err != nil {
		return algorithmError("cannot download the model " + p.Params.TrainingParams.Model + ": " + err.Error())
	}
	data := p.Params.TrainingParams.Data
	_, key, _ := strings.Cut(strings.TrimPrefix(data, "s3://"), "/")
	keys, err := s.listLocked(strings.TrimSuffix(key, "/") + "/")
	if err != nil || len(keys) == 0 {
		return algorithmError("no training data under " + data)
	}
	return ""
}

func parseTrainingParams(body []byte) (trainingParams, error) {
	var p trainingParams
	err := json.Unmarshal(body, &p)
	return p, err
}

// containerWrites is the container's upload step: the LoRA and a log.
func (s *Server) containerWrites(j *trainingJob) string {
	body, err := s.readS3Locked(j.in.HyperParameters["s3_location"])
	if err != nil {
		return algorithmError("cannot read the parameter file again: " + err.Error())
	}
	p, _ := parseTrainingParams(body)
	_, outKey, _ := strings.Cut(strings.TrimPrefix(p.Output, "s3://"), "/")
	name := p.Params.ConfigParams.OutputName + ".safetensors"
	if err := s.writeS3Locked(strings.TrimSuffix(outKey, "/")+"/"+name, fakeLora(p)); err != nil {
		return "ClientError: Please ensure that the output path is writable: " + err.Error()
	}
	log := "fake ESD training container: trained " + name + " on " + path.Base(p.Params.TrainingParams.Model) + "\n"
	if err := s.writeS3Locked("kohya/train/"+p.ID+"/logs/"+p.Params.ConfigParams.OutputName+".log", []byte(log)); err != nil {
		return "ClientError: cannot upload the logs: " + err.Error()
	}
	return ""
}

// fakeLora is a small valid safetensors file naming its base model, one
// LoRA alpha tensor, so that the library reads it as a LoRA; its
// metadata says it was not trained.
func fakeLora(p trainingParams) []byte {
	header, _ := json.Marshal(map[string]any{
		"__metadata__": map[string]string{"ss_output_name": p.Params.ConfigParams.OutputName,
			"ss_sd_model_name": path.Base(p.Params.TrainingParams.Model), "ss_training_comment": "written by the SageMaker fake, not trained"},
		"lora_unet_down_blocks_0_attentions_0_proj_in.alpha": map[string]any{"dtype": "F16", "shape": []int{}, "data_offsets": []int{0, 2}},
	})
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), 0, 0x3c)
}

// writeS3Locked writes an object by key with s.mu held.
func (s *Server) writeS3Locked(key string, body []byte) error {
	if s.WriteObject != nil {
		return s.WriteObject(key, body)
	}
	s.objects[key] = body
	return nil
}

// listLocked lists the keys under prefix with s.mu held.
func (s *Server) listLocked(prefix string) ([]string, error) {
	if s.ListObjects != nil {
		return s.ListObjects(prefix)
	}
	var out []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}
