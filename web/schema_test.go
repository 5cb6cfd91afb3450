package web

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidateSchemaWording(t *testing.T) {
	schema := map[string]any{}
	if err := json.Unmarshal([]byte(`{
		"type":"object","required":["name","kind","items","count"],
		"properties":{
			"name":{"type":"string","minLength":1,"maxLength":3},
			"kind":{"type":"string","enum":["Async","Real-time"]},
			"items":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string","minLength":1}},
			"count":{"type":["number","string"],"minimum":1,"maximum":10},
			"flag":{"type":"boolean"}
		}}`), &schema); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		body string
		want []string
	}{
		{`{"name":"ab","kind":"Async","items":["x"],"count":3}`, nil},
		{`{}`, []string{`object has missing required properties (["count","items","kind","name"])`}},
		{`{"name":"","kind":"Async","items":["x"],"count":3}`, []string{`string "" is too short (length: 0, required minimum: 1)`}},
		{`{"name":"abcd","kind":"Async","items":["x"],"count":3}`, []string{`string "abcd" is too long (length: 4, maximum allowed: 3)`}},
		{`{"name":"a","kind":"x","items":["x"],"count":3}`, []string{`instance value ("x") not found in enum (possible values: ["Async","Real-time"])`}},
		{`{"name":"a","kind":"Async","items":[],"count":3}`, []string{`array is too short (must have at least 1 elements but instance has 0 elements)`}},
		{`{"name":"a","kind":"Async","items":["a","b","c"],"count":3}`, []string{`array is too long (must have at most 2 elements but instance has 3 elements)`}},
		{`{"name":"a","kind":"Async","items":[""],"count":0}`, []string{`numeric instance is lower than the required minimum (minimum: 1, found: 0)`, `string "" is too short (length: 0, required minimum: 1)`}},
		{`{"name":"a","kind":"Async","items":["x"],"count":11.5}`, []string{`numeric instance is greater than the required maximum (maximum: 10, found: 11.5)`}},
		{`{"name":"a","kind":"Async","items":["x"],"count":true,"flag":"no"}`, []string{
			`instance type (boolean) does not match any allowed primitive type (allowed: ["number","string"])`,
			`instance type (string) does not match any allowed primitive type (allowed: ["boolean"])`}},
	}
	for _, tc := range cases {
		v, err := decodeJSON([]byte(tc.body))
		if err != nil {
			t.Fatalf("decode %s: %v", tc.body, err)
		}
		got := validateSchema(schema, v)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("validate %s:\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
}
