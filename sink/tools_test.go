package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rumor-sync/rumor/internal/duckdb"
)

// External tools of the archive tests. .ci/run installs both and sets
// RUMOR_REQUIRE_S3=1 and RUMOR_REQUIRE_DUCKDB=1, which turn a missing tool
// from a skip into a failure:
//
//   - versitygw (an S3-compatible server on a directory):
//     go install github.com/versity/versitygw/cmd/versitygw@v1.8.0;
//     found as $VERSITYGW or on PATH.
//   - DuckDB's Node.js client, the independent Parquet reader:
//     npm install --prefix DIR @duckdb/node-api@1.5.6-r.1; found in
//     $RUMOR_DUCKDB_DIR, else ~/.cache/rumor-test/duckdb; needs node.

// missingTool skips the test, or fails it when env is set to 1.
func missingTool(t testing.TB, env, msg string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (required: %s=1)", msg, env)
	}
	t.Skipf("skipped: %s (set %s=1 to make this a failure)", msg, env)
}

// duckDBDir returns the directory holding node_modules/@duckdb/node-api.
func duckDBDir(t testing.TB) string {
	t.Helper()
	return duckdb.Dir(t)
}

// duckRow is one row as DuckDB reads it from the archive.
type duckRow struct {
	EventID    string   `json:"event_id"`
	DeviceID   string   `json:"device_id"`
	Seq        uint64   `json:"seq,string"`
	TS         int64    `json:"ts,string"`
	Type       string   `json:"type"`
	Schema     int64    `json:"schema,string"`
	Payload    string   `json:"payload"`
	Blobs      []string `json:"blobs"`
	ReceivedAt int64    `json:"received_at,string"`
	Redacted   bool     `json:"redacted"`
	RedactedBy *string  `json:"redacted_by"`
	RedactedAt *string  `json:"redacted_at"` // epoch ms
	File       string   `json:"file"`
	Date       string   `json:"date"`
	Device     string   `json:"device"`
}

// duckRead reads every Parquet file under root/events with DuckDB, as a
// Hive-partitioned table, and returns its column types and rows.
func duckRead(t testing.TB, root string) (map[string]string, []duckRow) {
	t.Helper()
	dir := duckDBDir(t)
	cmd := exec.Command("node", "testdata/read_parquet.cjs", filepath.Join(dir, "package.json"), root)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb read of %s: %v", root, err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<24)
	types := map[string]string{}
	var rows []duckRow
	for first := true; sc.Scan(); first = false {
		if first {
			if err := json.Unmarshal(sc.Bytes(), &types); err != nil {
				t.Fatalf("duckdb schema line %q: %v", sc.Text(), err)
			}
			continue
		}
		var r duckRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("duckdb row %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	return types, rows
}

// s3Server is a versitygw process serving a fresh bucket.
type s3Server struct {
	url    string // the archive URL of the bucket
	root   string // the posix backend's directory
	bucket string
	env    []string // AWS_* variables for a child process
}

const s3Access, s3Secret = "rumortest", "rumortestsecret0"

// startS3 starts versitygw on a temporary directory, creates a bucket and
// sets the AWS credential variables for the test.
func startS3(t *testing.T) *s3Server {
	t.Helper()
	bin := os.Getenv("VERSITYGW")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("versitygw"); err != nil {
			missingTool(t, "RUMOR_REQUIRE_S3", "versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, or set VERSITYGW)")
		}
	}
	// The free port may be taken again before versitygw binds it (tests
	// of other packages open listeners and connections alongside): then
	// versitygw exits, and another port is tried.
	for attempt := 1; ; attempt++ {
		s, err := tryS3(t, bin, freePort(t))
		if err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("%v; trying another port", err)
	}
}

// tryS3 starts versitygw on port; it returns an error only when
// versitygw exited before serving (its port was taken).
func tryS3(t *testing.T, bin, port string) (*s3Server, error) {
	t.Helper()
	root := t.TempDir()
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+port, "--access", s3Access, "--secret", s3Secret, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	exited := fmt.Errorf("versitygw on port %s exited", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return nil, fmt.Errorf("%w: %v", exited, waitErr)
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := &s3Server{root: root, bucket: "archive",
		env: []string{"AWS_ACCESS_KEY_ID=" + s3Access, "AWS_SECRET_ACCESS_KEY=" + s3Secret, "AWS_REGION=us-east-1"}}
	s.url = fmt.Sprintf("s3://%s?endpoint=http://127.0.0.1:%s&region=us-east-1&use_path_style=true", s.bucket, port)
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if _, err := s.client(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		// What answered may be another listener on the port, versitygw
		// having exited (or about to).
		select {
		case <-done:
			return nil, fmt.Errorf("%w (create bucket: %v): %v", exited, err, waitErr)
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("create bucket: %v", err)
	}
	return s, nil
}

// client returns a plain S3 client of the server.
func (s *s3Server) client(t testing.TB) *s3.Client {
	t.Helper()
	b, err := OpenBucket(context.Background(), s.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	var c *s3.Client
	if !b.(*cloudBucket).b.As(&c) {
		t.Fatal("s3 bucket has no s3 client")
	}
	return c
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
