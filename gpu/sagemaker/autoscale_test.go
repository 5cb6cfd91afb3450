package sagemaker_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"easel/gpu/sagemaker"
	"easel/gpu/sagemaker/fake"
)

func TestEnableAutoscaling(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("aut0001")
	deployed(t, b, spec)
	if err := b.EnableAutoscaling(context.Background(), spec.Name, 3); err != nil {
		t.Fatal(err)
	}
	resource := "endpoint/esd-async-aut0001/variant/prod"

	var target applicationautoscaling.RegisterScalableTargetInput
	decodeCall(t, f, "RegisterScalableTarget", &target)
	if target.ServiceNamespace != "sagemaker" || aws.ToString(target.ResourceId) != resource ||
		target.ScalableDimension != "sagemaker:variant:DesiredInstanceCount" ||
		aws.ToInt32(target.MinCapacity) != 0 || aws.ToInt32(target.MaxCapacity) != 3 {
		t.Errorf("scalable target = %+v", target)
	}

	policies := f.CallsTo("PutScalingPolicy")
	if len(policies) != 2 {
		t.Fatalf("PutScalingPolicy calls = %d", len(policies))
	}
	var tracking, step applicationautoscaling.PutScalingPolicyInput
	if err := policies[0].Decode(&tracking); err != nil {
		t.Fatal(err)
	}
	if err := policies[1].Decode(&step); err != nil {
		t.Fatal(err)
	}
	tt := tracking.TargetTrackingScalingPolicyConfiguration
	if tracking.PolicyType != aastypes.PolicyTypeTargetTrackingScaling || aws.ToString(tracking.ResourceId) != resource ||
		tt == nil || aws.ToFloat64(tt.TargetValue) != 5 || aws.ToInt32(tt.ScaleInCooldown) != 180 || aws.ToInt32(tt.ScaleOutCooldown) != 60 {
		t.Fatalf("target tracking policy = %+v / %+v", tracking, tt)
	}
	wantMetric := &aastypes.CustomizedMetricSpecification{
		MetricName: aws.String("ApproximateBacklogSizePerInstance"), Namespace: aws.String("AWS/SageMaker"),
		Dimensions: []aastypes.MetricDimension{{Name: aws.String("EndpointName"), Value: aws.String(spec.Name)}},
		Statistic:  "Average",
	}
	if d := cmp.Diff(wantMetric, tt.CustomizedMetricSpecification, cmpopts.IgnoreUnexported(
		aastypes.CustomizedMetricSpecification{}, aastypes.MetricDimension{})); d != "" {
		t.Errorf("customized metric (-want +got):\n%s", d)
	}
	sc := step.StepScalingPolicyConfiguration
	if aws.ToString(step.PolicyName) != "HasBacklogWithoutCapacity-ScalingPolicy" || step.PolicyType != aastypes.PolicyTypeStepScaling ||
		sc == nil || sc.AdjustmentType != "ChangeInCapacity" || aws.ToInt32(sc.Cooldown) != 180 || sc.MetricAggregationType != "Average" ||
		len(sc.StepAdjustments) != 1 || aws.ToInt32(sc.StepAdjustments[0].ScalingAdjustment) != 1 ||
		aws.ToFloat64(sc.StepAdjustments[0].MetricIntervalLowerBound) != 0 {
		t.Errorf("step policy = %+v / %+v", step, sc)
	}

	var alarm cloudwatch.PutMetricAlarmInput
	decodeCall(t, f, "PutMetricAlarm", &alarm)
	if aws.ToString(alarm.AlarmName) != "esd-async-aut0001-hasbacklogwithoutcapacity-alarm" ||
		aws.ToString(alarm.MetricName) != "HasBacklogWithoutCapacity" || aws.ToString(alarm.Namespace) != "AWS/SageMaker" ||
		alarm.Statistic != "Average" || aws.ToInt32(alarm.EvaluationPeriods) != 2 || aws.ToInt32(alarm.DatapointsToAlarm) != 2 ||
		aws.ToFloat64(alarm.Threshold) != 1 || alarm.ComparisonOperator != "GreaterThanOrEqualToThreshold" ||
		aws.ToInt32(alarm.Period) != 60 || len(alarm.Dimensions) != 1 || aws.ToString(alarm.Dimensions[0].Value) != spec.Name {
		t.Errorf("alarm = %+v", alarm)
	}
	if len(alarm.AlarmActions) != 1 || alarm.AlarmActions[0] == "" {
		t.Errorf("alarm actions = %v, want the step policy ARN", alarm.AlarmActions)
	}

	want := fake.State{
		Models: []string{"esd-model-async-aut0001"}, EndpointConfigs: []string{"esd-config-async-aut0001"},
		Endpoints: []string{spec.Name}, ScalableTargets: []string{resource},
		ScalingPolicies: []string{resource + "/" + sagemaker.StepPolicy, resource + "/" + sagemaker.TargetTrackingPolicy},
		Alarms:          []string{sagemaker.AlarmName(spec.Name)},
	}
	if d := cmp.Diff(want, f.State()); d != "" {
		t.Errorf("state (-want +got):\n%s", d)
	}
}

func TestEnableAutoscalingMaxAtLeastOne(t *testing.T) {
	f, b := newBackend(t, testBucket, nil)
	spec := asyncSpec("aut0002")
	deployed(t, b, spec)
	if err := b.EnableAutoscaling(context.Background(), spec.Name, 0); err != nil {
		t.Fatal(err)
	}
	var target applicationautoscaling.RegisterScalableTargetInput
	decodeCall(t, f, "RegisterScalableTarget", &target)
	if aws.ToInt32(target.MaxCapacity) != 1 {
		t.Errorf("MaxCapacity = %d, want 1", aws.ToInt32(target.MaxCapacity))
	}
}
