package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/daemon"
	"tinycrm.dev/tinycrm/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// A client that stops reading an export must not keep the daemon from
// stopping: what still runs when the drain ends is cut off, and the rest
// (queued writes, the pool) stops after it.
func TestShutdownCutsOffAStalledExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := daemon.Start(ctx, daemon.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	token, err := d.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	var project struct{ Key string }
	post(t, d.URL+"/v1/projects", token, `{"name":"App"}`, &project)
	// Enough customers that the export fills the socket buffers of a
	// client that reads nothing (~10 MB of JSON Lines).
	for b := range 20 {
		var items []string
		for i := range 1000 {
			items = append(items, fmt.Sprintf(`{"email":"u%d-%d@example.com","name":"%s"}`, b, i, strings.Repeat("n", 200)))
		}
		post(t, d.URL+"/v1/batch", project.Key, `{"items":[`+strings.Join(items, ",")+`]}`, nil)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(d.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /v1/export?format=jsonl HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", token)
	if _, err := io.ReadFull(conn, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the export runs until the buffers are full

	shut, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Shutdown(shut) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "cut off") {
			t.Fatalf("Shutdown = %v, want it to say a request was cut off", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown still waiting for a client that stopped reading, 29 s after its drain ended")
	}
}

func post(t *testing.T, url, token, body string, out any) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}
