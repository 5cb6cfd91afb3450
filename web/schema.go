package web

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// patterns caches the compiled "pattern" keywords of the document (RE2
// reads the ECMA 262 subset the document uses).
var patterns sync.Map

// patternMatches reports whether s matches the schema pattern p; a pattern
// RE2 cannot compile matches nothing.
func patternMatches(p, s string) bool {
	re, ok := patterns.Load(p)
	if !ok {
		compiled, err := regexp.Compile(p)
		if err != nil {
			return false
		}
		re, _ = patterns.LoadOrStore(p, compiled)
	}
	return re.(*regexp.Regexp).MatchString(s)
}

// validateSchema checks v (decoded with UseNumber) against the subset of
// JSON Schema our request bodies use, and returns API Gateway's wording for
// each failure (ESD clients and tests match on these texts).
func validateSchema(schema map[string]any, v any) []string {
	var errs []string
	if types := schemaTypes(schema); len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return hasType(v, t) }) {
		quoted := make([]string, len(types))
		for i, t := range types {
			quoted[i] = fmt.Sprintf("%q", t)
		}
		return []string{fmt.Sprintf("instance type (%s) does not match any allowed primitive type (allowed: [%s])",
			typeOf(v), strings.Join(quoted, ","))}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return jsonEqual(e, v) }) {
		vals := make([]string, len(enum))
		for i, e := range enum {
			vals[i] = jsonText(e)
		}
		errs = append(errs, fmt.Sprintf("instance value (%s) not found in enum (possible values: [%s])", jsonText(v), strings.Join(vals, ",")))
	}
	switch x := v.(type) {
	case string:
		n := len([]rune(x))
		if min, ok := intKeyword(schema, "minLength"); ok && n < min {
			errs = append(errs, fmt.Sprintf("string %s is too short (length: %d, required minimum: %d)", jsonText(x), n, min))
		}
		if max, ok := intKeyword(schema, "maxLength"); ok && n > max {
			errs = append(errs, fmt.Sprintf("string %s is too long (length: %d, maximum allowed: %d)", jsonText(x), n, max))
		}
		if p, ok := schema["pattern"].(string); ok && !patternMatches(p, x) {
			errs = append(errs, fmt.Sprintf("ECMA 262 regex %s does not match input string %s", jsonText(p), jsonText(x)))
		}
	case json.Number:
		f, _ := new(big.Float).SetString(x.String())
		if min, ok := numKeyword(schema, "minimum"); ok && f != nil && f.Cmp(min) < 0 {
			errs = append(errs, fmt.Sprintf("numeric instance is lower than the required minimum (minimum: %s, found: %s)", min.Text('g', -1), x))
		}
		if max, ok := numKeyword(schema, "maximum"); ok && f != nil && f.Cmp(max) > 0 {
			errs = append(errs, fmt.Sprintf("numeric instance is greater than the required maximum (maximum: %s, found: %s)", max.Text('g', -1), x))
		}
	case []any:
		if min, ok := intKeyword(schema, "minItems"); ok && len(x) < min {
			errs = append(errs, fmt.Sprintf("array is too short (must have at least %d elements but instance has %d elements)", min, len(x)))
		}
		if max, ok := intKeyword(schema, "maxItems"); ok && len(x) > max {
			errs = append(errs, fmt.Sprintf("array is too long (must have at most %d elements but instance has %d elements)", max, len(x)))
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for _, item := range x {
				errs = append(errs, validateSchema(items, item)...)
			}
		}
	case map[string]any:
		var missing []string
		for _, r := range stringList(schema["required"]) {
			if _, ok := x[r]; !ok {
				missing = append(missing, fmt.Sprintf("%q", r))
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			errs = append(errs, fmt.Sprintf("object has missing required properties ([%s])", strings.Join(missing, ",")))
		}
		props, _ := schema["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if val, ok := x[name]; ok {
				if sub, ok := props[name].(map[string]any); ok {
					errs = append(errs, validateSchema(sub, val)...)
				}
			}
		}
		if extra, ok := schema["additionalProperties"].(map[string]any); ok {
			keys := make([]string, 0, len(x))
			for k := range x {
				if _, declared := props[k]; !declared {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				errs = append(errs, validateSchema(extra, x[k])...)
			}
		}
	}
	return errs
}

func schemaTypes(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	}
	return nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func hasType(v any, t string) bool {
	switch t {
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, _, err := big.ParseFloat(n.String(), 10, 128, big.ToNearestEven)
		return err == nil && f.IsInt()
	case "number":
		_, ok := v.(json.Number)
		return ok
	}
	return typeOf(v) == t
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if hasType(x, "integer") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func intKeyword(schema map[string]any, key string) (int, bool) {
	f, ok := schema[key].(float64)
	return int(f), ok
}

func numKeyword(schema map[string]any, key string) (*big.Float, bool) {
	f, ok := schema[key].(float64)
	if !ok {
		return nil, false
	}
	return big.NewFloat(f), true
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

func jsonEqual(a, b any) bool { return jsonText(a) == jsonText(b) }
