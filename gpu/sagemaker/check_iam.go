package sagemaker

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"easel/gpu"
)

// autoscalingRole is the service-linked role Application Auto Scaling
// creates for the first SageMaker scalable target of an account.
const autoscalingRole = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

func (b *Backend) iam() *iam.Client {
	return iam.NewFromConfig(b.aws, func(o *iam.Options) { o.BaseEndpoint = b.base })
}

// roleName is the name of a role ARN (the part after the last /).
func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func (b *Backend) checkRole(ctx context.Context) gpu.Finding {
	what := "Execution role " + b.cfg.RoleARN
	if !strings.Contains(b.cfg.RoleARN, ":role/") {
		return gpu.Finding{What: what, Status: gpu.FindingMissing, Detail: "this is not an IAM role ARN",
			Fix: "Set EASEL_SAGEMAKER_ROLE_ARN to arn:aws:iam::<account>:role/<name>, e.g. ESD's ESDRoleForEndpoint-<region>."}
	}
	out, err := b.iam().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName(b.cfg.RoleARN))})
	if err != nil {
		if code, _ := apiError(err); code == "NoSuchEntity" {
			return gpu.Finding{What: what, Status: gpu.FindingMissing, Detail: errText(err),
				Fix: "Create the role (trusting sagemaker.amazonaws.com) or reuse ESD's ESDRoleForEndpoint-<region>."}
		}
		return unverified(what, "%s (allow iam:GetRole on it to check this)", errText(err))
	}
	trust, err := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		trust = aws.ToString(out.Role.AssumeRolePolicyDocument)
	}
	if !strings.Contains(trust, "sagemaker.amazonaws.com") {
		return gpu.Finding{What: what, Status: gpu.FindingMissing,
			Detail: "its trust policy does not let sagemaker.amazonaws.com assume it",
			Fix:    "Add sagemaker.amazonaws.com as a trusted service principal of the role."}
	}
	return gpu.Finding{What: what, Status: gpu.FindingOK, Detail: "exists and trusts sagemaker.amazonaws.com"}
}

// caller returns the IAM principal Easel calls AWS as (an assumed role's
// session becomes the role) and its account.
func (b *Backend) caller(ctx context.Context) (string, string, error) {
	client := sts.NewFromConfig(b.aws, func(o *sts.Options) { o.BaseEndpoint = b.base })
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", err
	}
	arn := aws.ToString(out.Arn)
	// arn:aws:sts::<account>:assumed-role/<role>/<session> → arn:aws:iam::<account>:role/<role>
	if head, rest, ok := strings.Cut(arn, ":assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		arn = strings.Replace(head, ":sts:", ":iam:", 1) + ":role/" + role
	}
	return arn, aws.ToString(out.Account), nil
}

// partition is the ARN partition of the execution role (aws, aws-cn, ...).
func (b *Backend) partition() string {
	if p := strings.Split(b.cfg.RoleARN, ":"); len(p) > 1 && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// need is an action on a resource that a principal must be allowed.
type need struct{ action, resource string }

// simulate returns the needs the principal's policies do not allow.
func (b *Backend) simulate(ctx context.Context, principal string, needs []need) ([]need, error) {
	byResource := map[string][]string{}
	var order []string
	for _, n := range needs {
		if _, ok := byResource[n.resource]; !ok {
			order = append(order, n.resource)
		}
		byResource[n.resource] = append(byResource[n.resource], n.action)
	}
	var denied []need
	for _, res := range order {
		out, err := b.iam().SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(principal),
			ActionNames: byResource[res], ResourceArns: []string{res}})
		if err != nil {
			return nil, err
		}
		for _, r := range out.EvaluationResults {
			if r.EvalDecision != "allowed" {
				denied = append(denied, need{aws.ToString(r.EvalActionName), res})
			}
		}
	}
	return denied, nil
}

func describe(denied []need) string {
	parts := make([]string, len(denied))
	for i, d := range denied {
		parts[i] = d.action + " on " + d.resource
	}
	return strings.Join(parts, ", ")
}

func (b *Backend) checkCaller(ctx context.Context, principal, account string, err error) gpu.Finding {
	what := "Easel's AWS identity"
	if err != nil {
		return unverified(what, "%s (allow sts:GetCallerIdentity to check this)", errText(err))
	}
	what += " " + principal
	needs := []need{{"iam:PassRole", b.cfg.RoleARN}}
	// The service-linked role is created on the first autoscaling target
	// of an account; once it exists nobody needs to create it.
	if _, err := b.iam().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(autoscalingRole)}); err != nil {
		needs = append(needs, need{"iam:CreateServiceLinkedRole", fmt.Sprintf(
			"arn:%s:iam::%s:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/%s", b.partition(), account, autoscalingRole)})
	}
	for _, a := range []string{"sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
		"sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:UpdateEndpointWeightsAndCapacities",
		"sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel",
		"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync",
		"application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy",
		"application-autoscaling:DeregisterScalableTarget", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"} {
		needs = append(needs, need{a, "*"})
	}
	denied, err := b.simulate(ctx, principal, needs)
	if err != nil {
		return unverified(what, "%s (allow iam:SimulatePrincipalPolicy on this identity to check this)", errText(err))
	}
	if len(denied) > 0 {
		return gpu.Finding{What: what, Status: gpu.FindingMissing, Detail: "its policies do not allow " + describe(denied),
			Fix: "Attach a policy allowing these actions to " + principal + " (docs/SAGEMAKER.md has one)."}
	}
	return gpu.Finding{What: what, Status: gpu.FindingOK,
		Detail: "may pass the execution role and call SageMaker, Application Auto Scaling and CloudWatch alarms"}
}

func (b *Backend) checkExecutionRole(ctx context.Context) gpu.Finding {
	what := "Execution role permissions"
	p := b.partition()
	needs := []need{
		{"s3:GetObject", fmt.Sprintf("arn:%s:s3:::%s/*", p, b.cfg.Bucket)},
		{"s3:PutObject", fmt.Sprintf("arn:%s:s3:::%s/*", p, b.cfg.Bucket)},
		{"s3:ListBucket", fmt.Sprintf("arn:%s:s3:::%s", p, b.cfg.Bucket)},
		{"ecr:GetAuthorizationToken", "*"},
	}
	if m := ecrImage.FindStringSubmatch(b.cfg.Image); m != nil {
		repo := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", p, m[2], m[1], m[3])
		needs = append(needs, need{"ecr:BatchGetImage", repo}, need{"ecr:GetDownloadUrlForLayer", repo})
	}
	denied, err := b.simulate(ctx, b.cfg.RoleARN, needs)
	if err != nil {
		return unverified(what, "%s (allow iam:SimulatePrincipalPolicy on the role to check this)", errText(err))
	}
	if len(denied) > 0 {
		return gpu.Finding{What: what, Status: gpu.FindingMissing, Detail: "the role's policies do not allow " + describe(denied),
			Fix: "Attach a policy allowing these actions to " + b.cfg.RoleARN + " (docs/SAGEMAKER.md has one)."}
	}
	return gpu.Finding{What: what, Status: gpu.FindingOK, Detail: "may read and write s3://" + b.cfg.Bucket + "/ and pull the image"}
}
