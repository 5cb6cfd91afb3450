package sagemaker

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"easel/blob"
	"easel/gpu"
)

// Bucket is read access to the bucket, for the check (*blob.Client).
type Bucket interface {
	Head(ctx context.Context, key string) (int64, error)
	Folders(ctx context.Context, prefix string) ([]string, error)
}

// autoscalingRole is the service-linked role Application Auto Scaling
// creates for the first SageMaker scalable target of an account.
const autoscalingRole = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

// Check verifies with read-only calls what the ESD inference container
// and Easel need around them: the model data archive and the WebUI
// bundles in the bucket, the image in ECR, the execution role (it exists,
// SageMaker may assume it, it may read and write the bucket and pull the
// image) and Easel's own permissions (iam:PassRole on the role,
// SageMaker, Application Auto Scaling, CloudWatch alarms). bucket may be
// nil when this server cannot read the bucket. What cannot be checked —
// an API that is unavailable or not allowed — is reported as unverified
// with the reason; Check itself never fails.
func (b *Backend) Check(ctx context.Context, bucket Bucket) []gpu.Finding {
	out := []gpu.Finding{b.checkModelData(ctx, bucket)}
	out = append(out, b.checkBundles(ctx, bucket)...)
	out = append(out, b.checkImage(ctx), b.checkRole(ctx))
	caller, account, err := b.caller(ctx)
	out = append(out, b.checkCaller(ctx, caller, account, err), b.checkExecutionRole(ctx))
	return out
}

func unverified(what, format string, args ...any) gpu.Finding {
	return gpu.Finding{What: what, Status: gpu.FindingUnverified, Detail: "could not verify: " + fmt.Sprintf(format, args...)}
}

// errText is an AWS error as "<Code>: <Message>", or the error.
func errText(err error) string {
	if code, msg := apiError(err); code != "" {
		return code + ": " + msg
	}
	return err.Error()
}

func (b *Backend) checkModelData(ctx context.Context, bucket Bucket) gpu.Finding {
	what := "Model data archive " + b.cfg.ModelDataURL
	bkt, key := splitS3(b.cfg.ModelDataURL)
	switch {
	case bucket == nil:
		return unverified(what, "this server cannot read the bucket")
	case bkt != b.cfg.Bucket || key == "":
		return unverified(what, "it is not in the bucket s3://%s/ this server reads", b.cfg.Bucket)
	}
	size, err := bucket.Head(ctx, key)
	switch {
	case blob.IsNotFound(err):
		return gpu.Finding{What: what, Status: gpu.FindingMissing,
			Detail: "there is no such object; SageMaker's CreateModel refuses every endpoint without it",
			Fix: fmt.Sprintf("Copy it from an ESD deployment's bucket: aws s3 cp s3://<ESD bucket>/%s %s "+
				"(or use the ESD bucket itself as EASEL_S3_BUCKET).", key, b.cfg.ModelDataURL)}
	case err != nil:
		return unverified(what, "%v", err)
	}
	return gpu.Finding{What: what, Status: gpu.FindingOK, Detail: fmt.Sprintf("present, %d bytes", size)}
}

// checkBundles looks for the container's WebUI bundles: a <version>-g5/
// folder for ml.g5 instances and a <version>-g4/ one for ml.g4dn.
func (b *Backend) checkBundles(ctx context.Context, bucket Bucket) []gpu.Finding {
	families := []struct{ instances, suffix string }{{"ml.g5", "-g5/"}, {"ml.g4dn", "-g4/"}}
	var out []gpu.Finding
	var folders []string
	var err error
	if bucket != nil {
		folders, err = bucket.Folders(ctx, "")
	}
	for _, f := range families {
		what := fmt.Sprintf("WebUI bundle for %s instances (s3://%s/<version>%s)", f.instances, b.cfg.Bucket, f.suffix)
		switch {
		case bucket == nil:
			out = append(out, unverified(what, "this server cannot read the bucket"))
			continue
		case err != nil:
			out = append(out, unverified(what, "%v", err))
			continue
		}
		i := slices.IndexFunc(folders, func(p string) bool { return strings.HasSuffix(p, f.suffix) })
		if i < 0 {
			out = append(out, gpu.Finding{What: what, Status: gpu.FindingMissing,
				Detail: fmt.Sprintf("no folder ending in %s at the top of the bucket; the container copies its WebUI from there when an %s instance starts, and fails without it", f.suffix, f.instances),
				Fix: fmt.Sprintf("Copy the <version>%s folder from an ESD deployment's bucket: aws s3 sync s3://<ESD bucket>/<version>%s s3://%s/<version>%s "+
					"(or use the ESD bucket itself as EASEL_S3_BUCKET).", strings.TrimSuffix(f.suffix, "/"), f.suffix, b.cfg.Bucket, f.suffix)})
			continue
		}
		out = append(out, gpu.Finding{What: what, Status: gpu.FindingOK, Detail: "found s3://" + b.cfg.Bucket + "/" + folders[i]})
	}
	return out
}

// ecrImage matches <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag>][@<digest>].
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9._-]+))?(?:@(sha256:[0-9a-f]{64}))?$`)

func (b *Backend) checkImage(ctx context.Context) gpu.Finding {
	what := "Inference image " + b.cfg.Image
	m := ecrImage.FindStringSubmatch(b.cfg.Image)
	if m == nil {
		return gpu.Finding{What: what, Status: gpu.FindingMissing,
			Detail: "SageMaker runs model images from Amazon ECR, and this is not an ECR image URI",
			Fix:    "Push the ESD inference image to ECR and set EASEL_SAGEMAKER_IMAGE to <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>."}
	}
	account, region, repo, tag, digest := m[1], m[2], m[3], m[4], m[5]
	id := ecrtypes.ImageIdentifier{}
	switch {
	case digest != "":
		id.ImageDigest = aws.String(digest)
	case tag != "":
		id.ImageTag = aws.String(tag)
	default:
		id.ImageTag = aws.String("latest")
	}
	client := ecr.NewFromConfig(b.aws, func(o *ecr.Options) { o.Region, o.BaseEndpoint = region, b.base })
	out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(account),
		RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{id}})
	if err != nil {
		if code, _ := apiError(err); code == "ImageNotFoundException" || code == "RepositoryNotFoundException" {
			return gpu.Finding{What: what, Status: gpu.FindingMissing, Detail: errText(err),
				Fix: "Push the ESD inference image there, or set EASEL_SAGEMAKER_IMAGE to the image an ESD deployment uses."}
		}
		return unverified(what, "%s (allow ecr:DescribeImages on the repository to check this)", errText(err))
	}
	detail := "present"
	if len(out.ImageDetails) > 0 {
		detail += ", " + aws.ToString(out.ImageDetails[0].ImageDigest)
	}
	return gpu.Finding{What: what, Status: gpu.FindingOK, Detail: detail}
}

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
