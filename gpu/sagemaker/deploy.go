package sagemaker

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"easel/gpu"
)

// Deploy creates the model, endpoint config and endpoint of spec, named as
// ESD names them. When a step fails, what this call created is deleted
// again and the AWS error is returned.
func (b *Backend) Deploy(ctx context.Context, spec gpu.Spec) error {
	if spec.Type != gpu.Async && spec.Type != gpu.RealTime {
		return fmt.Errorf("sagemaker: unsupported endpoint type %q", spec.Type)
	}
	if err := CheckEndpointName(spec.Name); err != nil {
		return fmt.Errorf("sagemaker: %w", err)
	}
	if spec.InstanceCount < 1 {
		return fmt.Errorf("sagemaker: instance count %d: at least 1 is required", spec.InstanceCount)
	}
	n := NamesFor(spec.Name)
	image := spec.CustomImage
	if image == "" {
		image = b.cfg.Image
	}
	_, err := b.sm.CreateModel(ctx, &sagemaker.CreateModelInput{
		ModelName: &n.Model,
		PrimaryContainer: &types.ContainerDefinition{
			Image:        &image,
			ModelDataUrl: &b.cfg.ModelDataURL,
			Environment: map[string]string{
				"EndpointID":    spec.ID,
				"LOG_LEVEL":     "INFO",
				"BUCKET_NAME":   b.cfg.Bucket,
				"INSTANCE_TYPE": spec.InstanceType,
				"ENDPOINT_NAME": spec.Name,
				"ENDPOINT_ID":   spec.ID,
				"CREATED_AT":    spec.CreatedAt,
			},
		},
		ExecutionRoleArn: &b.cfg.RoleARN,
	})
	if err != nil {
		return wrap("CreateModel "+n.Model, err)
	}
	cfgIn := &sagemaker.CreateEndpointConfigInput{
		EndpointConfigName: &n.Config,
		ProductionVariants: []types.ProductionVariant{{
			VariantName:          aws.String(Variant),
			ModelName:            &n.Model,
			InstanceType:         types.ProductionVariantInstanceType(spec.InstanceType),
			InitialInstanceCount: aws.Int32(int32(spec.InstanceCount)),
			InitialVariantWeight: aws.Float32(1),
		}},
	}
	if spec.Type == gpu.Async {
		cfgIn.AsyncInferenceConfig = &types.AsyncInferenceConfig{
			OutputConfig: &types.AsyncInferenceOutputConfig{
				S3OutputPath:  aws.String(b.s3URI(OutputPrefix)),
				S3FailurePath: aws.String(b.s3URI(FailurePrefix)),
			},
			ClientConfig: &types.AsyncInferenceClientConfig{MaxConcurrentInvocationsPerInstance: aws.Int32(1)},
		}
	}
	if _, err := b.sm.CreateEndpointConfig(ctx, cfgIn); err != nil {
		err = wrap("CreateEndpointConfig "+n.Config, err)
		return errors.Join(err, b.deleteModel(ctx, n.Model))
	}
	_, err = b.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: &n.Endpoint, EndpointConfigName: &n.Config})
	if err != nil {
		err = wrap("CreateEndpoint "+n.Endpoint, err)
		return errors.Join(err, b.deleteConfig(ctx, n.Config), b.deleteModel(ctx, n.Model))
	}
	return nil
}

// Status describes the endpoint; gpu.ErrNotFound when SageMaker has none.
func (b *Backend) Status(ctx context.Context, name string) (gpu.Status, error) {
	out, err := b.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: &name})
	if err != nil {
		if notFound(err) {
			return gpu.Status{}, gpu.ErrNotFound
		}
		return gpu.Status{}, wrap("DescribeEndpoint "+name, err)
	}
	st := gpu.Status{State: mapState(out.EndpointStatus), FailureReason: aws.ToString(out.FailureReason)}
	if len(out.ProductionVariants) > 0 {
		st.InstanceCount = int(aws.ToInt32(out.ProductionVariants[0].CurrentInstanceCount))
	}
	return st, nil
}

// mapState maps a SageMaker endpoint status to Easel's.
func mapState(s types.EndpointStatus) string {
	switch s {
	case types.EndpointStatusInService:
		return gpu.InService
	case types.EndpointStatusCreating:
		return gpu.Creating
	case types.EndpointStatusUpdating, types.EndpointStatusSystemUpdating, types.EndpointStatusRollingBack:
		return gpu.Updating
	case types.EndpointStatusDeleting:
		return gpu.Deleting
	case types.EndpointStatusFailed, types.EndpointStatusOutOfService:
		return gpu.Failed
	}
	return string(s)
}

// Scale sets the desired instance count of the endpoint's variant.
func (b *Backend) Scale(ctx context.Context, name string, count int) error {
	_, err := b.sm.UpdateEndpointWeightsAndCapacities(ctx, &sagemaker.UpdateEndpointWeightsAndCapacitiesInput{
		EndpointName: &name,
		DesiredWeightsAndCapacities: []types.DesiredWeightAndCapacity{{
			VariantName: aws.String(Variant), DesiredInstanceCount: aws.Int32(int32(count)),
		}},
	})
	return wrap("UpdateEndpointWeightsAndCapacities "+name, err)
}

// Delete removes the endpoint's scalable target (and so its policies), its
// alarm, the endpoint, its endpoint config and the config's models. What
// is already gone is skipped.
func (b *Backend) Delete(ctx context.Context, name string) error {
	n := NamesFor(name)
	_, err := b.scaling.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
		ServiceNamespace:  aastypes.ServiceNamespaceSagemaker,
		ResourceId:        aws.String(resourceID(name)),
		ScalableDimension: aastypes.ScalableDimensionSageMakerVariantDesiredInstanceCount,
	})
	if err != nil && !notFound(err) {
		return wrap("DeregisterScalableTarget "+name, err)
	}
	_, err = b.alarms.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{AlarmName(name)}})
	if err != nil && !notFound(err) {
		return wrap("DeleteAlarms "+AlarmName(name), err)
	}
	// Learn the config and models from SageMaker, as ESD does; fall back
	// to the derived names.
	models := []string{n.Model}
	if ep, err := b.sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: &name}); err == nil {
		n.Config = aws.ToString(ep.EndpointConfigName)
	}
	if c, err := b.sm.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: &n.Config}); err == nil {
		models = models[:0]
		for _, pv := range c.ProductionVariants {
			models = append(models, aws.ToString(pv.ModelName))
		}
	}
	_, err = b.sm.DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: &name})
	if err != nil && !notFound(err) {
		return wrap("DeleteEndpoint "+name, err)
	}
	if err := b.deleteConfig(ctx, n.Config); err != nil {
		return err
	}
	var errs []error
	for _, m := range models {
		errs = append(errs, b.deleteModel(ctx, m))
	}
	return errors.Join(errs...)
}

func (b *Backend) deleteConfig(ctx context.Context, name string) error {
	_, err := b.sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: &name})
	if err != nil && !notFound(err) {
		return wrap("DeleteEndpointConfig "+name, err)
	}
	return nil
}

func (b *Backend) deleteModel(ctx context.Context, name string) error {
	_, err := b.sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: &name})
	if err != nil && !notFound(err) {
		return wrap("DeleteModel "+name, err)
	}
	return nil
}
