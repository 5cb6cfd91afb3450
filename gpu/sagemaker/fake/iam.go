package fake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The read-only calls of the prerequisite check: ECR DescribeImages
// (awsJson1.1), IAM GetRole and SimulatePrincipalPolicy, STS
// GetCallerIdentity (awsQuery: a form in, XML out).

var ecrOps = map[string]jsonOp{"DescribeImages": describeImages}

// imageKey is <account>/<repository>:<tag> of an ECR image URI
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>.
func imageKey(uri string) string {
	host, path, _ := strings.Cut(uri, "/")
	account, _, _ := strings.Cut(host, ".")
	return account + "/" + path
}

func describeImages(s *Server, in json.RawMessage) (any, *apiError) {
	var v struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		ImageIDs       []struct {
			ImageTag string `json:"imageTag"`
		} `json:"imageIds"`
	}
	if err := decode(in, &v); err != nil {
		return nil, err
	}
	registry := v.RegistryID
	if registry == "" {
		registry = Account
	}
	prefix := registry + "/" + v.RepositoryName + ":"
	found := false
	for k := range s.images {
		found = found || strings.HasPrefix(k, prefix)
	}
	if !found {
		return nil, errorf("RepositoryNotFoundException", fmt.Sprintf(
			"The repository with name '%s' does not exist in the registry with id '%s'", v.RepositoryName, registry))
	}
	var details []map[string]any
	for _, id := range v.ImageIDs {
		digest, ok := s.images[prefix+id.ImageTag]
		if !ok {
			return nil, errorf("ImageNotFoundException", fmt.Sprintf(
				"The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
				id.ImageTag, v.RepositoryName, registry))
		}
		details = append(details, map[string]any{"registryId": registry, "repositoryName": v.RepositoryName,
			"imageDigest": digest, "imageTags": []string{id.ImageTag}, "imageSizeInBytes": 15136109518})
	}
	return map[string]any{"imageDetails": details}, nil
}

// serveQuery answers an awsQuery call of IAM or STS.
func (s *Server) serveQuery(w http.ResponseWriter, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := form.Get("Action")
	service, ns := IAM, "https://iam.amazonaws.com/doc/2010-05-08/"
	if form.Get("Version") == "2011-06-15" {
		service, ns = STS, "https://sts.amazonaws.com/doc/2011-06-15/"
	}
	input, _ := json.Marshal(form)
	s.mu.Lock()
	aerr := s.record(service, action, input)
	var result string
	if aerr == nil {
		switch service + "." + action {
		case "STS.GetCallerIdentity":
			result = xmlFields("Arn", s.Caller, "UserId", "AIDAFAKEFAKEFAKEFAKE", "Account", Account)
		case "IAM.GetRole":
			result, aerr = s.getRole(form.Get("RoleName"))
		case "IAM.SimulatePrincipalPolicy":
			result, aerr = s.simulate(form)
		default:
			aerr = &apiError{status: http.StatusBadRequest, code: "InvalidAction",
				msg: "fake: " + service + "." + action + " is not implemented"}
		}
	}
	if aerr != nil {
		s.failed(aerr.code)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if aerr != nil {
		w.WriteHeader(aerr.status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type>%s</Error><RequestId>fake</RequestId></ErrorResponse>`,
			ns, xmlFields("Code", aerr.code, "Message", aerr.msg))
		return
	}
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, action, result, action, action)
}

// getRole answers GetRole for a role AddRole created.
func (s *Server) getRole(name string) (string, *apiError) {
	for arn, trust := range s.roles {
		if strings.Contains(arn, ":role/") && arn[strings.LastIndex(arn, "/")+1:] == name {
			return "<Role>" + xmlFields("Path", "/", "RoleName", name, "RoleId", "AROAFAKEFAKEFAKEFAKE", "Arn", arn,
				"CreateDate", "2024-01-30T07:59:46Z", "AssumeRolePolicyDocument", url.QueryEscape(trust)) + "</Role>", nil
		}
	}
	return "", &apiError{status: http.StatusNotFound, code: "NoSuchEntity",
		msg: "The role with name " + name + " cannot be found."}
}

// simulate answers SimulatePrincipalPolicy: every action on every
// resource is allowed unless Deny said otherwise.
func (s *Server) simulate(form url.Values) (string, *apiError) {
	principal := form.Get("PolicySourceArn")
	if _, ok := s.roles[principal]; !ok && principal != s.Caller {
		return "", &apiError{status: http.StatusNotFound, code: "NoSuchEntity",
			msg: "The specified entity " + principal + " cannot be found."}
	}
	resources := members(form, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var b strings.Builder
	b.WriteString("<EvaluationResults>")
	for _, action := range members(form, "ActionNames") {
		for _, res := range resources {
			decision := "allowed"
			if s.denied[principal+" "+action] {
				decision = "implicitDeny"
			}
			b.WriteString("<member>" + xmlFields("EvalActionName", action, "EvalResourceName", res, "EvalDecision", decision) + "</member>")
		}
	}
	b.WriteString("</EvaluationResults><IsTruncated>false</IsTruncated>")
	return b.String(), nil
}

// members returns the list parameter name.member.1, .2, ...
func members(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[fmt.Sprintf("%s.member.%d", name, i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// xmlFields writes <k>v</k> for each pair, escaping v.
func xmlFields(kv ...string) string {
	var b bytes.Buffer
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("<" + kv[i] + ">")
		_ = xml.EscapeText(&b, []byte(kv[i+1]))
		b.WriteString("</" + kv[i] + ">")
	}
	return b.String()
}

// AddRole creates an IAM role SageMaker may assume (its trust policy
// allows sagemaker.amazonaws.com).
func (s *Server) AddRole(arn string) {
	s.SetRoleTrust(arn, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
}

// SetRoleTrust creates or changes a role with the given trust policy.
func (s *Server) SetRoleTrust(arn, trust string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = trust
}

// AddImage pushes an image to the fake ECR: an
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> URI.
func (s *Server) AddImage(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[imageKey(uri)] = "sha256:" + strings.Repeat("ab", 32)
}

// Deny makes the policy simulation deny action to principal (an IAM
// user or role ARN); everything else is allowed.
func (s *Server) Deny(principal, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[principal+" "+action] = true
}
