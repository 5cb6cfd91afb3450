package sagemaker

import (
	"errors"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"easel/gpu"
)

// Error is a failed AWS call: the operation and the AWS error text
// ("<Code>: <Message>", as ESD reports it), wrapping the SDK error.
type Error struct {
	Op   string // e.g. "CreateEndpoint esd-async-1a2b3c4"
	Text string
	Err  error
}

func (e *Error) Error() string { return e.Op + ": " + e.Text }
func (e *Error) Unwrap() error { return e.Err }

// wrap turns an SDK error into an *Error, marked gpu.TransientError when
// worth retrying (throttling, 5xx).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if code, msg := apiError(err); code != "" {
		text = code + ": " + msg
	}
	e := &Error{Op: op, Text: text, Err: err}
	if transient(err) {
		return gpu.TransientError{Err: e}
	}
	return e
}

// apiError returns the AWS error code and message of err, if it has one.
func apiError(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

var transientCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "ThrottledException": true,
	"RequestLimitExceeded": true, "TooManyRequestsException": true, "RequestThrottled": true,
	"ServiceUnavailable": true, "ServiceUnavailableException": true, "InternalFailure": true,
	"InternalServerError": true, "InternalServiceException": true, "InternalDependencyException": true,
	"ModelNotReadyException": true, "ConcurrentUpdateException": true,
}

// transient reports whether err is throttling, a 5xx or a timeout.
func transient(err error) bool {
	if code, _ := apiError(err); transientCodes[code] {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s >= 500 || s == http.StatusTooManyRequests
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// notFound reports whether err is AWS saying the resource does not exist:
// SageMaker's ValidationException "Could not find ...", Application Auto
// Scaling's ObjectNotFoundException, CloudWatch's ResourceNotFound.
func notFound(err error) bool {
	code, msg := apiError(err)
	switch code {
	case "ObjectNotFoundException", "ResourceNotFound", "ResourceNotFoundException":
		return true
	case "ValidationException":
		return strings.Contains(msg, "Could not find")
	}
	return false
}
