package jobs

import (
	"context"
	"encoding/json"
	"time"

	"easel/blob"
	"easel/store"
)

// ESDTimeLayout is ESD's time format: UTC with six fractional digits.
const ESDTimeLayout = "2006-01-02 15:04:05.000000"

// InferenceParams is the params object of ESD's inference row.
type InferenceParams struct {
	InputS3      string                       `json:"input_body_s3"`
	EndpointID   string                       `json:"sagemaker_inference_endpoint_id"`
	InstanceType string                       `json:"sagemaker_inference_instance_type"`
	EndpointName string                       `json:"sagemaker_inference_endpoint_name"`
	UsedModels   map[string][]store.UsedModel `json:"used_models,omitempty"`
	OutputPath   string                       `json:"output_path,omitempty"`
}

// InferenceRow is ESD's list row: 12 keys in order, null when unset. It is
// here, not with the API adapters, because webhook deliveries carry the
// same view of a job as GET /inferences/{id}.
type InferenceRow struct {
	ID           string          `json:"InferenceJobId"`
	Status       string          `json:"status"`
	TaskType     string          `json:"taskType"`
	Owners       []string        `json:"owner_group_or_role"`
	InfoName     *string         `json:"inference_info_name"`
	StartTime    string          `json:"startTime"`
	CreateTime   string          `json:"createTime"`
	ImageNames   []string        `json:"image_names"`
	SageMakerRaw *string         `json:"sagemakerRaw"`
	CompleteTime *string         `json:"completeTime"`
	Params       InferenceParams `json:"params"`
	Type         string          `json:"inference_type"`
}

// RowOf returns job's list row; bucket is the store's bucket.
func RowOf(bucket string, job store.Inference) InferenceRow {
	s3 := func(key string) string { return "s3://" + bucket + "/" + key }
	r := InferenceRow{ID: job.ID.String(), Status: job.Status, TaskType: job.TaskType, Owners: []string{job.Owner},
		StartTime: esdTime(job.StartTime), CreateTime: esdTime(job.CreateTime), ImageNames: job.ImageNames, Type: job.InferenceType,
		Params: InferenceParams{InputS3: s3(job.ParamsKey), EndpointID: job.EndpointID.String(),
			InstanceType: job.EndpointInstanceType, EndpointName: job.EndpointName, UsedModels: job.UsedModels}}
	if r.ImageNames == nil {
		r.ImageNames = []string{}
	}
	if job.SageMakerRaw != "" {
		r.SageMakerRaw = &job.SageMakerRaw
	}
	if job.CompleteTime != nil {
		s := esdTime(*job.CompleteTime)
		r.CompleteTime = &s
	}
	if job.Status != store.InferenceCreated {
		r.Params.OutputPath = s3(ParamFileKey(job.ID))
	}
	return r
}

func esdTime(t time.Time) string { return t.UTC().Format(ESDTimeLayout) }

// DetailOf is GET /inferences/{id}'s data: the row plus URLs presigned for
// ttl; it fails when presigning does.
func DetailOf(ctx context.Context, b *blob.Client, job store.Inference, ttl time.Duration) (map[string]any, error) {
	row, _ := json.Marshal(RowOf(b.Bucket, job))
	var out map[string]any
	_ = json.Unmarshal(row, &out)
	urls := []string{}
	for _, n := range job.ImageNames {
		u, err := b.PresignGet(ctx, ResultPrefix(job.ID)+n, ttl)
		if err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	param, err := b.PresignGet(ctx, ParamFileKey(job.ID), ttl)
	if err != nil {
		return nil, err
	}
	out["img_presigned_urls"] = urls
	out["output_presigned_urls"] = []string{param}
	delete(out, "inference_info_name")
	return out, nil
}
