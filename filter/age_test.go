package filter

import (
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "7d", want: 7 * day},
		{in: "30d", want: 30 * day},
		{in: "2w", want: 14 * day},
		{in: "12h", want: 12 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "45s", want: 45 * time.Second},
		{in: "36500d", want: MaxAge},
		{in: "", wantErr: "not an age"},
		{in: "d", wantErr: "not an age"},
		{in: "7", wantErr: "not an age"},
		{in: "7x", wantErr: "not an age"},
		{in: "7D", wantErr: "not an age"},
		{in: "1.5d", wantErr: "not an age"},
		{in: " 7d", wantErr: "not an age"},
		{in: "-7d", wantErr: "not an age"},
		{in: "0d", wantErr: "greater than zero"},
		{in: "0s", wantErr: "greater than zero"},
		{in: "-1h", wantErr: "greater than zero"},
		{in: "36501d", wantErr: "at most 36500d"},
		{in: "5300w", wantErr: "at most 36500d"},
		{in: "99999999999999999999d", wantErr: "at most 36500d"},
		{in: "900000h", wantErr: "at most 36500d"},
		{in: "9999999999999999999h", wantErr: "not an age"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAge(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAge(%q) = %v, %v; want error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{7 * day, "7d"},
		{14 * day, "14d"},
		{12 * time.Hour, "12h"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "90m"},
		{90 * time.Second, "1m30s"},
		{1500 * time.Millisecond, "1.5s"},
		{MaxAge, "36500d"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			got := FormatAge(tt.in)
			if got != tt.want {
				t.Fatalf("FormatAge(%v) = %q, want %q", tt.in, got, tt.want)
			}
			back, err := ParseAge(got)
			if err != nil || back != tt.in {
				t.Errorf("ParseAge(%q) = %v, %v; want %v", got, back, err, tt.in)
			}
		})
	}
}
