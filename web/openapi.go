package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

//go:embed openapi.yaml
var openapiYAML []byte

// apiDocument is the parsed OpenAPI document: served as JSON and used to
// validate request bodies.
type apiDocument struct {
	JSON []byte
	// bodies maps "METHOD /path" (OpenAPI path) to the request body schema.
	bodies map[string]map[string]any
	// operations maps "METHOD /path" to the operationId.
	operations map[string]string
}

func loadAPIDocument(base, version string) (*apiDocument, error) {
	raw, err := yaml.YAMLToJSON(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc["servers"] = []any{map[string]any{"url": base}}
	doc["info"].(map[string]any)["version"] = version
	d := &apiDocument{bodies: map[string]map[string]any{}, operations: map[string]string{}}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			opMap := op.(map[string]any)
			key := strings.ToUpper(method) + " " + path
			d.operations[key], _ = opMap["operationId"].(string)
			ref := digString(opMap, "requestBody", "content", "application/json", "schema", "$ref")
			if ref == "" {
				continue
			}
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			schema, ok := schemas[name].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("openapi.yaml: %s refers to missing schema %s", key, name)
			}
			d.bodies[key] = schema
		}
	}
	if d.JSON, err = json.Marshal(doc); err != nil {
		return nil, err
	}
	return d, nil
}

func digString(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}
