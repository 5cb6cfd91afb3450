package sagemaker

import (
	"fmt"
	"regexp"
)

// MaxNameLength is the longest name SageMaker accepts for a model, an
// endpoint config or an endpoint.
const MaxNameLength = 63

// namePattern is SageMaker's pattern for those names:
// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`)

// CheckName reports whether SageMaker accepts name for a model, an
// endpoint config or an endpoint: 1 to 63 letters, digits and dashes,
// starting and ending with a letter or digit. The error is a sentence
// naming the problem.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a SageMaker name must not be empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("SageMaker name %q is %d characters long; SageMaker allows at most %d", name, len(name), MaxNameLength)
	case !namePattern.MatchString(name):
		return fmt.Errorf("SageMaker name %q must consist of letters, digits and dashes and start and end with a letter or digit", name)
	}
	return nil
}

// CheckEndpointName reports whether SageMaker accepts the endpoint name
// and the model and endpoint config names derived from it (NamesFor), the
// longest of which is esd-config-<type>-<short>.
func CheckEndpointName(endpoint string) error {
	n := NamesFor(endpoint)
	for _, name := range []string{n.Endpoint, n.Model, n.Config} {
		if err := CheckName(name); err != nil {
			return err
		}
	}
	return nil
}

// ValidateName is CheckEndpointName: Easel checks an endpoint's name with
// it before recording the endpoint (gpu.NameValidator).
func (b *Backend) ValidateName(endpoint string) error { return CheckEndpointName(endpoint) }
