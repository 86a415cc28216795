package server

import "testing"

func TestIsColor(t *testing.T) {
	for s, want := range map[string]bool{
		"#3b82f6": true, "#ABCDEF": true, "#000000": true,
		"": false, "#": false, "3b82f6": false, "#3b82f": false, "#3b82f60": false, "#3b82fg": false, "red": false, "#ｆｆｆｆｆｆ": false,
	} {
		if got := isColor(s); got != want {
			t.Errorf("isColor(%q) = %v, want %v", s, got, want)
		}
	}
}
