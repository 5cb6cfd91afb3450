package actions

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLossCurveBounded: the curve never grows past maxLossPoints, keeps
// its first and latest point and stays in step order.
func TestLossCurveBounded(t *testing.T) {
	var curve json.RawMessage
	last := 2*maxLossPoints + 7
	for step := 1; step <= last; step++ {
		curve = appendLoss(curve, float64(step), 1/float64(step))
		if step%97 != 0 && step != last {
			continue
		}
		var points [][2]float64
		if err := json.Unmarshal(curve, &points); err != nil {
			t.Fatal(err)
		}
		if len(points) > maxLossPoints || points[0][0] != 1 || points[len(points)-1][0] != float64(step) {
			t.Fatalf("after step %d: %d points, first %v, last %v", step, len(points), points[0], points[len(points)-1])
		}
		if step == last {
			for i := 1; i < len(points); i++ {
				if points[i][0] <= points[i-1][0] {
					t.Fatalf("out of order at %d: %v %v", i, points[i-1], points[i])
				}
			}
			if len(points) < maxLossPoints/2 {
				t.Errorf("thinned to %d points", len(points))
			}
		}
	}
}

// TestMergeKohyaArrays: arrays keep their element types, arrays of
// objects become arrays of tables.
func TestMergeKohyaArrays(t *testing.T) {
	out, err := MergeKohyaConfig("sd_1_5", map[string]any{
		"network_args": []any{"conv_dim=4", "conv_alpha=1"},
		"sizes":        []any{json.Number("1"), json.Number("2.5")},
		"blocks":       []any{map[string]any{"name": "a"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`network_args = ["conv_dim=4", "conv_alpha=1"]`, `sizes = [1, 2.5]`, `[[training.blocks]]`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("merged TOML lacks %s:\n%s", want, out)
		}
	}
}
