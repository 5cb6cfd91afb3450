package views

import (
	"fmt"

	"easel/gpu"
)

func missingCount(checks []gpu.Finding) int {
	n := 0
	for _, c := range checks {
		if c.Status == gpu.FindingMissing {
			n++
		}
	}
	return n
}

func checkSummary(checks []gpu.Finding) string {
	unverified := 0
	for _, c := range checks {
		if c.Status == gpu.FindingUnverified {
			unverified++
		}
	}
	if m := missingCount(checks); m > 0 {
		return fmt.Sprintf("%d missing, %d not verified", m, unverified)
	}
	if unverified > 0 {
		return fmt.Sprintf("nothing missing, %d not verified", unverified)
	}
	return "all in place"
}

func findingClass(status string) string {
	switch status {
	case gpu.FindingOK:
		return "badge ok"
	case gpu.FindingMissing:
		return "badge danger"
	}
	return "badge warn"
}

func findingLabel(status string) string {
	switch status {
	case gpu.FindingOK:
		return "ok"
	case gpu.FindingMissing:
		return "missing"
	}
	return "not verified"
}
