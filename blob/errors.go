package blob

import (
	"errors"

	"github.com/aws/smithy-go"
)

// IsNotFound reports whether err (or an error it wraps) is S3 saying the
// object or multipart upload does not exist: NoSuchKey, NotFound (what
// HEAD returns, as it has no body) or NoSuchUpload.
func IsNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return true
	}
	return false
}

// IsInvalidPart reports whether err (or an error it wraps) is S3 rejecting
// the part list of a CompleteMultipartUpload: an unknown part or wrong
// ETag (InvalidPart), parts out of order (InvalidPartOrder), a part other
// than the last under 5 MiB (EntityTooSmall) or an unusable list
// (MalformedXML). These are the client's fault; callers map them to 400.
func IsInvalidPart(err error) bool {
	switch errorCode(err) {
	case "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML":
		return true
	}
	return false
}

// errorCode returns the S3 error code in err's chain, or "" when err is
// not an API error (network failure, context cancelled, nil).
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
