package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// importCSV has good rows, bad rows (bad email, bad status, bad timestamp,
// wrong field count), a duplicate row, quoting and a field with a line
// break, so line numbers must follow the file, not the records.
const importCSV = `email,name,status,plan,mrr,created_at,beta,zip
ann@example.com,Ann Lee,paid,pro,9,2026-01-05,true,02134
bob@example.com,Bob,free,,,2026-02-01T10:00:00Z,false,
not-an-email,X,free,,,,,
ann@example.com,Ann Lee,paid,pro,9,2026-01-05,true,02134
cat@example.com,Cat,Paid!,,,,,
dan@example.com,Dan,free,,,yesterday,,
"eve@example.com","Eve, ""The"" Best",trialing,starter,,,,
fay@example.com,Fay,free
"gil@example.com",Gil,free,"two
lines",,,,

h@,H,free,,,,,
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dbState is a fingerprint of what the database holds.
func (e *env) dbState() string {
	e.t.Helper()
	return fmt.Sprintf("customers=%d memberships=%d events=%d message_ids=%d",
		e.count(`SELECT count(*) FROM customers`), e.count(`SELECT count(*) FROM memberships`),
		e.count(`SELECT count(*) FROM events`), e.count(`SELECT count(*) FROM message_ids`))
}

func TestImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "users.csv", importCSV)

	r := e.run("import", "users.csv", "--project", "app-a")
	if r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	const summary = "imported 5 rows (1 duplicate), rejected 5: line 4: email: "
	if !strings.HasPrefix(r.stdout, summary) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("summary %q, want it to start with %q", r.stdout, summary)
	}
	for _, want := range []string{"line 4: email: ", "line 6: status: ", "line 7: timestamp: \"yesterday\" is not a time",
		"line 9: has 3 fields; the header has 8", "line 13: email: "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "\n"); n != 5 {
		t.Errorf("%d lines of rejections, want 5:\n%s", n, r.stderr)
	}
	before := e.dbState()
	if before != "customers=4 memberships=4 events=8 message_ids=4" {
		t.Errorf("after import: %s", before)
	}
	ann := e.run("customer", "ann@example.com", "--json").ok(t)
	for _, want := range []string{`"beta": true`, `"mrr": 9`, `"plan": "pro"`, `"zip": "02134"`, `"first_seen": "2026-01-05T00:00:00Z"`} {
		if !strings.Contains(ann.stdout, want) {
			t.Errorf("ann lacks %s:\n%s", want, ann.stdout)
		}
	}
	bob := e.run("customer", "bob@example.com", "--json").ok(t)
	if !strings.Contains(bob.stdout, `"params": {
        "beta": false
      }`) {
		t.Errorf("bob: empty cells must be left out:\n%s", bob.stdout)
	}
	eve := e.run("customers", "--search", "eve").ok(t)
	if !strings.Contains(eve.stdout, `Eve, "The" Best`) {
		t.Errorf("eve: %q", eve.stdout)
	}

	// Running the same file again changes nothing.
	r = e.run("import", "users.csv", "--project", "app-a").ok(t)
	if !strings.HasPrefix(r.stdout, "imported 5 rows (5 duplicates), rejected 5: ") {
		t.Errorf("re-run: %q", r.stdout)
	}
	if after := e.dbState(); after != before {
		t.Errorf("re-run changed the database: %s, was %s", after, before)
	}

	// --dry-run has the server check every row, and stores nothing.
	e.project("App B", "app-b", "#56b4e9")
	r = e.run("import", "users.csv", "--project", "app-b", "--dry-run").ok(t)
	if !strings.HasPrefix(r.stdout, "would import 5 rows (dry run: nothing stored), rejected 5: line 4: email: ") {
		t.Errorf("dry run: %q\n%s", r.stdout, r.stderr)
	}
	if after := e.dbState(); after != before {
		t.Errorf("dry run changed the database: %s", after)
	}

	// Every row rejected: exit 1.
	writeFile(t, e.home, "bad.csv", "email\nnope\nstill-nope\n")
	writeFile(t, e.home, "nomail.csv", "name,plan\nAnn,pro\n")
	r = e.run("import", "nomail.csv", "--project", "app-b")
	if r.code != 1 || !strings.Contains(r.stderr, "no email column") {
		t.Errorf("no email column: %+v", r)
	}
	r = e.run("import", "bad.csv", "--project", "app-b")
	if r.code != 1 || r.stdout != "imported 0 rows, rejected 2: line 2: email: missing @; line 3: email: missing @\n" {
		t.Errorf("all rejected: %+v", r)
	}
	// A header only: nothing to do, exit 0.
	writeFile(t, e.home, "header.csv", "email,name\n")
	if r = e.run("import", "header.csv", "--project", "app-b").ok(t); r.stdout != "imported 0 rows\n" {
		t.Errorf("header only: %q", r.stdout)
	}
	// stdin.
	r = e.runWith(runOpts{stdin: "email\nzed@example.com\n"}, "import", "-", "--project", "app-b").ok(t)
	if r.stdout != "imported 1 row\n" {
		t.Errorf("stdin: %q", r.stdout)
	}
}

func TestImportMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "crm.csv", "\ufeffE-mail,Full Name,Plan Name,notes,Signed Up\nann@example.com,Ann Lee,pro,call her,1767225600\n")

	r := e.run("import", "crm.csv", "--project", "app-a", "--map", "e-mail=email")
	if r.code != 1 || !strings.Contains(r.stderr, `column "Full Name" cannot be a param name`) || !strings.Contains(r.stderr, `--map 'Full Name=param:full_name'`) {
		t.Errorf("invalid param column: %+v", r)
	}
	r = e.run("import", "crm.csv", "--project", "app-a", "--map", "E-mail=email", "--map", "Full Name=name",
		"--map", "Plan Name=param:plan", "--map", "notes=-", "--map", "Signed Up=timestamp").ok(t)
	if r.stdout != "imported 1 row\n" {
		t.Errorf("import: %q %q", r.stdout, r.stderr)
	}
	d := e.run("customer", "ann@example.com", "--json").ok(t)
	var c struct {
		Name      string `json:"name"`
		FirstSeen string `json:"first_seen"`
		Projects  []struct {
			Params map[string]any `json:"params"`
		} `json:"projects"`
	}
	if err := json.Unmarshal([]byte(d.stdout), &c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ann Lee" || c.FirstSeen != "2026-01-01T00:00:00Z" || len(c.Projects[0].Params) != 1 || c.Projects[0].Params["plan"] != "pro" {
		t.Errorf("mapped customer: %+v", c)
	}
	// Another mapping of the same file is another import, not duplicates.
	r = e.run("import", "crm.csv", "--project", "app-a", "--map", "E-mail=email", "--map", "Full Name=name",
		"--map", "Plan Name=param:tier", "--map", "notes=-", "--map", "Signed Up=-").ok(t)
	if r.stdout != "imported 1 row\n" {
		t.Errorf("second mapping: %q", r.stdout)
	}
	r = e.run("import", "crm.csv", "--project", "app-a", "--map", "E-mail=email", "--map", "Full Name=email", "--map", "Plan Name=-", "--map", "Signed Up=-")
	if r.code != 1 || !strings.Contains(r.stderr, "are both email") {
		t.Errorf("two email columns: %+v", r)
	}
}

// A big file streams in bounded memory, and lands whole.
func TestImportBig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	const rows = 50000
	path := filepath.Join(e.home, "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name,status,plan,mrr,seats,note")
	for i := range rows {
		fmt.Fprintf(w, "user%06d@example.com,User %d,paid,pro,%d,%d,%s\n", i, i, i%50, i%7, strings.Repeat("x", 40))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	start := time.Now()
	cmd := e.command("import", "big.csv", "--project", "app-a")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if string(out) != "imported 50,000 rows\n" {
		t.Errorf("summary %q", out)
	}
	maxRSS := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
	limit := int64(100 << 20)
	if raceEnabled {
		limit = 400 << 20 // the race detector's shadow memory
	}
	t.Logf("imported %d rows in %v, peak RSS %d MiB", rows, time.Since(start).Round(time.Millisecond), maxRSS>>20)
	if maxRSS > limit {
		t.Errorf("peak RSS %d MiB, want under %d MiB", maxRSS>>20, limit>>20)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != rows {
		t.Errorf("%d customers, want %d", n, rows)
	}
}

// rejections returns the "line N: …" lines an import printed on stderr.
func rejections(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "line ") {
			out = append(out, l)
		}
	}
	return out
}

// --dry-run predicts the real import row by row: the same rows rejected,
// for the same reasons, by line number, with nothing stored.
func TestImportDryRunMatchesImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "tricky.csv", "email,name,status,mrr,created_at\n"+
		"ann@example.com,Ann,paid,9,2026-01-05\n"+ // 2: fine
		"bob@example.com,Bob,paid,1e999,\n"+ // 3: out of a double's range
		"cat@example.com,Cat,paid,Inf,\n"+ // 4: text, stored as text
		"dan@example.com,Dan,paid,-5,\n"+ // 5: mrr below 0
		"eve@example.com,Eve,free,,1990-01-01\n"+ // 6: before 2000
		"fay@example.com,Fa\xffy,free,,\n"+ // 7: not UTF-8
		"\"gil@example.com\",Gil,\"free\n\",1e-400,\n"+ // 8-9: too close to 0
		"nope,Nope,free,,\n"+ // 10: no @
		"hal@example.com,Hal,Free!,,\n") // 11: bad status
	var header strings.Builder
	var row strings.Builder
	header.WriteString("email")
	row.WriteString("kim@example.com")
	for i := range 120 {
		fmt.Fprintf(&header, ",p%d", i)
		fmt.Fprintf(&row, ",%d", i)
	}
	writeFile(t, e.home, "wide.csv", header.String()+"\n"+row.String()+"\nlee@example.com"+strings.Repeat(",", 120)+"\n")

	for _, file := range []string{"tricky.csv", "wide.csv"} {
		before := e.dbState()
		dry := e.run("import", file, "--project", "app-a", "--dry-run")
		if after := e.dbState(); after != before {
			t.Errorf("%s: the dry run stored something: %s, was %s", file, after, before)
		}
		real := e.run("import", file, "--project", "app-a")
		if dry.code != real.code {
			t.Errorf("%s: dry run exit %d, import exit %d", file, dry.code, real.code)
		}
		if d, r := rejections(dry.stderr), rejections(real.stderr); !slices.Equal(d, r) {
			t.Errorf("%s: the dry run rejects\n%s\nthe import rejects\n%s", file, strings.Join(d, "\n"), strings.Join(r, "\n"))
		}
		wouldRE := regexp.MustCompile(`^would import (\d+) rows? \(dry run: nothing stored\)`)
		didRE := regexp.MustCompile(`^imported (\d+) rows?`)
		w, d := wouldRE.FindStringSubmatch(dry.stdout), didRE.FindStringSubmatch(real.stdout)
		if w == nil || d == nil || w[1] != d[1] {
			t.Errorf("%s: dry run %q, import %q", file, dry.stdout, real.stdout)
		}
		t.Logf("%s: %s%s", file, real.stdout, real.stderr)
	}
	// What the file says was checked; a few rows by name, to be sure the
	// verdicts are the server's and not all alike.
	r := e.run("import", "tricky.csv", "--project", "app-a", "--dry-run")
	for _, want := range []string{"line 3: params.mrr", "line 5: params.mrr", "line 6: timestamp", "line 7: name: is not valid UTF-8",
		"line 8: params.mrr", "line 10: email", "line 11: status"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "line 4:") || strings.Contains(r.stderr, "line 2:") {
		t.Errorf("dry run rejects a row the import takes:\n%s", r.stderr)
	}
	if r := e.run("import", "wide.csv", "--project", "app-a", "--dry-run"); !strings.Contains(r.stderr, "line 2: params") || r.code != 0 {
		t.Errorf("120 params: %+v", r)
	}
	// It needs the server.
	if r := e.runWith(runOpts{env: []string{"TINYCRM_URL=http://127.0.0.1:1"}}, "import", "tricky.csv", "--project", "app-a", "--dry-run"); r.code != 1 ||
		!strings.Contains(r.stderr, "cannot reach") {
		t.Errorf("dry run without a server: %+v", r)
	}
}

// A Latin-1 file is refused row by row with the way out, never stored as
// U+FFFD.
func TestImportNotUTF8(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "latin1.csv", "email,name,city\n"+
		"\"ann@example.com\",Ann,\"Boston\nMA\"\n"+ // lines 2-3
		"jose@example.com,Jos\xe9,Sevilla\n"+ // line 4: name
		"zoe@example.com,Zoe,Z\xfcrich\n") // line 5: a param
	for _, dry := range []bool{true, false} {
		args := []string{"import", "latin1.csv", "--project", "app-a"}
		if dry {
			args = append(args, "--dry-run")
		}
		r := e.run(args...).ok(t)
		for _, want := range []string{
			"line 4: name: is not valid UTF-8 (is the file in Latin-1 or another encoding?); convert it first, such as with: iconv -f latin1 -t utf-8 latin1.csv > latin1-utf8.csv",
			"line 5: params.city: is not valid UTF-8",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("dry run %v: stderr lacks %q:\n%s", dry, want, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "import") || !strings.Contains(r.stdout, "1 row") || !strings.Contains(r.stdout, "rejected 2") {
			t.Errorf("dry run %v: %q", dry, r.stdout)
		}
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers, want only ann", n)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE name LIKE '%' || chr(65533) || '%'`); n != 0 {
		t.Errorf("%d names with U+FFFD", n)
	}
}

// A row too big to land is rejected like any other bad row, by line
// number, and every other row lands: a 64 MiB cell quoted over many lines
// (past what a record may take: it is skipped, in little memory), and a
// 100 kB cell (past what an identify call may take).
func TestImportOversizedRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("Mid", "mid", "#e69f00")
	path := filepath.Join(e.home, "midhuge.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name,notes")
	line := 2
	for i := range 3000 {
		switch i {
		case 1000:
			fmt.Fprintf(w, "big@x.co,B,%s\n", strings.Repeat("y", 100<<10))
		case 1500:
			// Line by line: the peak RSS of a child counts its parent's.
			fmt.Fprint(w, "huge@x.co,H,\"")
			for range 64 << 10 {
				fmt.Fprintln(w, strings.Repeat("x", 1023))
			}
			fmt.Fprintln(w, "\"")
			line += 64 << 10
		case 1501:
			fmt.Fprintln(w, "not-an-email,N,ok")
		default:
			fmt.Fprintf(w, "m%d@mid.co,N%d,\"ok\n%d\"\n", i, i, i)
			line++
		}
		line++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if line != 3000*2+(64<<10)-1 {
		t.Fatalf("the file ends on line %d", line)
	}
	const rejected = "rejected 3: line 2002: is 102.5 kB as an identify call, over the server's limit of 32 KiB; " +
		"its largest cell, in column \"notes\", has 102.4 kB: shorten it, or leave the column out with --map notes=-; " +
		"line 3001: is 67.1 MB long, over the 1 MiB a row may take; shorten it or remove it from the file (or close a quote left open there); " +
		"line 68538: email: missing @\n"

	dry := e.command("import", "midhuge.csv", "--project", "mid", "--dry-run")
	out, err := dry.Output()
	if err != nil || string(out) != "would import 2,997 rows (dry run: nothing stored), "+rejected {
		t.Errorf("dry run: %v %q", err, out)
	}
	maxRSS := dry.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // KiB on Linux
	limit := int64(100 << 20)
	if raceEnabled {
		limit = 400 << 20 // the race detector's shadow memory
	}
	if maxRSS > limit {
		t.Errorf("peak RSS %d MiB, want under %d MiB", maxRSS>>20, limit>>20)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 0 {
		t.Errorf("the dry run stored %d customers", n)
	}
	r := e.run("import", "midhuge.csv", "--project", "mid").ok(t)
	if r.stdout != "imported 2,997 rows, "+rejected {
		t.Errorf("import: %q\n%s", r.stdout, r.stderr)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 2997 {
		t.Errorf("%d customers, want 2,997", n)
	}
	r = e.run("import", "midhuge.csv", "--project", "mid").ok(t)
	if r.stdout != "imported 2,997 rows (2,997 duplicates), "+rejected {
		t.Errorf("re-run: %q", r.stdout)
	}
}

// Spreadsheets write a BOM first; a quoted first header still reads.
func TestImportBOMQuotedHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "bomq.csv", "\ufeff\"email\",\"name\"\nq1@x.co,A\n")
	if r := e.run("import", "bomq.csv", "--project", "app-a").ok(t); r.stdout != "imported 1 row\n" {
		t.Errorf("import: %q", r.stdout)
	}
}

// The advice about a header works when followed: a column without a name
// is ignored while its cells are empty, two columns of one name (which
// --map cannot tell apart) are refused with the advice to rename one, and
// a column mapped twice is a usage error.
func TestImportHeaderAdvice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	writeFile(t, e.home, "trailing.csv", "email,name,\nann@example.com,Ann,\nbob@example.com,Bob, x \n")
	r := e.run("import", "trailing.csv", "--project", "app-a").ok(t)
	if r.stdout != "imported 1 row, rejected 1: line 3: has a value in column 3, which has no name in the header; name the column in the header row (or empty its cells)\n" {
		t.Errorf("trailing comma: %q", r.stdout)
	}

	writeFile(t, e.home, "emails.csv", "email,name,Email\ncat@example.com,Cat,cat2@example.com\n")
	writeFile(t, e.home, "plans.csv", "email,plan,notes,Plan\ndan@example.com,pro,hi,team\n")
	for _, c := range []struct {
		file string
		maps []string
		want string
	}{
		{"emails.csv", nil, `tinycrm: emails.csv: columns 1 ("email") and 3 ("Email") of the header have the same name; rename one of them in the header row`},
		{"emails.csv", []string{"email=-"}, `tinycrm: emails.csv: columns 1 ("email") and 3 ("Email") of the header have the same name; rename one of them in the header row`},
		{"plans.csv", []string{"plan=-"}, `tinycrm: plans.csv: columns 2 ("plan") and 4 ("Plan") of the header have the same name; rename one of them in the header row`},
	} {
		args := []string{"import", c.file, "--project", "app-a"}
		for _, m := range c.maps {
			args = append(args, "--map", m)
		}
		if r := e.run(args...); r.code != 1 || r.stderr != c.want+"\n" {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", args, r.code, r.stderr, c.want)
		}
	}
	r = e.run("import", "plans.csv", "--project", "app-a", "--map", "notes=param:note", "--map", "Notes=-")
	if want := `tinycrm: --map: column "Notes" is mapped twice ("notes=param:note" and "Notes=-"); give one --map per column` + "\n"; r.code != 2 || r.stderr != want {
		t.Errorf("mapped twice: exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers, want only ann", n)
	}
}

// An import whose server goes away stops, saying how many rows landed:
// exactly those stored, since the requests in flight are not abandoned.
func TestImportStoppedCountsLanded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	f, err := os.Create(filepath.Join(e.home, "big.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name")
	for i := range 1_000_000 {
		fmt.Fprintf(w, "user%07d@example.com,User %d\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd := e.command("import", "big.csv", "--project", "app-a")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); e.count(`SELECT count(*) FROM customers`) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no row landed in a minute")
		}
	}
	if err := e.daemon.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stored := e.count(`SELECT count(*) FROM customers`)
	m := regexp.MustCompile(`^tinycrm: import stopped after ([0-9,]+) rows landed: cannot reach .*; run the same command again to finish`).FindStringSubmatch(stderr.String())
	if cmd.ProcessState.ExitCode() != 1 || m == nil || stdout.String() != "" {
		t.Fatalf("%v, stdout %q, stderr %q; want exit 1 and how many rows landed", err, stdout.String(), stderr.String())
	}
	if landed := strings.ReplaceAll(m[1], ",", ""); landed != fmt.Sprint(stored) {
		t.Errorf("%s rows landed, says the import; %d are stored", m[1], stored)
	}
}
