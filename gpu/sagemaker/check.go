package sagemaker

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"easel/blob"
	"easel/gpu"
)

// Bucket is read access to the bucket, for the check (*blob.Client).
type Bucket interface {
	Head(ctx context.Context, key string) (int64, error)
	Folders(ctx context.Context, prefix string) ([]string, error)
}

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
