package sagemaker

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Scaling policy names, as ESD names them.
const (
	TargetTrackingPolicy = "Invocations-ScalingPolicy"
	StepPolicy           = "HasBacklogWithoutCapacity-ScalingPolicy"
)

// EnableAutoscaling sets up ESD's autoscaling of an async endpoint: a
// scalable target of 0 to maxInstances instances (below 1 counts as 1), target
// tracking on ApproximateBacklogSizePerInstance (target 5, scale-in
// cooldown 180 s, scale-out 60 s), and a step policy adding one instance
// (cooldown 180 s) when the CloudWatch alarm AlarmName(name) sees
// HasBacklogWithoutCapacity ≥ 1 for 2 of 2 one-minute periods, which is
// how an endpoint at 0 instances wakes up. Easel calls it the first time
// such an endpoint is InService. Calling it again updates everything in
// place.
func (b *Backend) EnableAutoscaling(ctx context.Context, name string, maxInstances int) error {
	maxInstances = max(maxInstances, 1)
	res := aws.String(resourceID(name))
	ns := aastypes.ServiceNamespaceSagemaker
	dim := aastypes.ScalableDimensionSageMakerVariantDesiredInstanceCount
	_, err := b.scaling.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: ns, ResourceId: res, ScalableDimension: dim,
		MinCapacity: aws.Int32(0), MaxCapacity: aws.Int32(int32(maxInstances)),
	})
	if err != nil {
		return wrap("RegisterScalableTarget "+name, err)
	}
	_, err = b.scaling.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
		PolicyName: aws.String(TargetTrackingPolicy), ServiceNamespace: ns, ResourceId: res, ScalableDimension: dim,
		PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(5),
			CustomizedMetricSpecification: &aastypes.CustomizedMetricSpecification{
				MetricName: aws.String("ApproximateBacklogSizePerInstance"),
				Namespace:  aws.String("AWS/SageMaker"),
				Dimensions: []aastypes.MetricDimension{{Name: aws.String("EndpointName"), Value: &name}},
				Statistic:  aastypes.MetricStatisticAverage,
			},
			ScaleInCooldown:  aws.Int32(180),
			ScaleOutCooldown: aws.Int32(60),
		},
	})
	if err != nil {
		return wrap("PutScalingPolicy "+TargetTrackingPolicy, err)
	}
	step, err := b.scaling.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
		PolicyName: aws.String(StepPolicy), ServiceNamespace: ns, ResourceId: res, ScalableDimension: dim,
		PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{
			AdjustmentType:        aastypes.AdjustmentTypeChangeInCapacity,
			MetricAggregationType: aastypes.MetricAggregationTypeAverage,
			Cooldown:              aws.Int32(180),
			StepAdjustments: []aastypes.StepAdjustment{{
				MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1),
			}},
		},
	})
	if err != nil {
		return wrap("PutScalingPolicy "+StepPolicy, err)
	}
	_, err = b.alarms.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(AlarmName(name)),
		MetricName:         aws.String("HasBacklogWithoutCapacity"),
		Namespace:          aws.String("AWS/SageMaker"),
		Statistic:          cwtypes.StatisticAverage,
		EvaluationPeriods:  aws.Int32(2),
		DatapointsToAlarm:  aws.Int32(2),
		Threshold:          aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData:   aws.String("missing"),
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("EndpointName"), Value: &name}},
		Period:             aws.Int32(60),
		AlarmActions:       []string{aws.ToString(step.PolicyARN)},
	})
	return wrap("PutMetricAlarm "+AlarmName(name), err)
}
