package main

import (
	"encoding/json"
	"testing"
)

// TestScalar: --param and import values become JSON numbers and booleans
// only when they are exactly that in JSON; anything else stays text.
func TestScalar(t *testing.T) {
	for in, want := range map[string]any{
		"0": json.Number("0"), "-0": json.Number("-0"), "42": json.Number("42"), "19.5": json.Number("19.5"),
		"-3.25e-2": json.Number("-3.25e-2"), "1E9": json.Number("1E9"),
		"true": true, "false": false,
		"007": "007", "1.": "1.", ".5": ".5", "+1": "+1", "1e": "1e", " 1": " 1", "1 ": "1 ", "0x1f": "0x1f",
		"NaN": "NaN", "Infinity": "Infinity", "1_000": "1_000", "": "", "-": "-", "True": "True", "null": "null", "[1]": "[1]",
	} {
		if got := scalar(in); got != want {
			t.Errorf("scalar(%q) = %#v, want %#v", in, got, want)
		}
	}
}
