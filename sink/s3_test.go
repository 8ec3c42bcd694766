package sink

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestArchiveToS3 archives a fleet into a real S3-compatible server
// (versitygw), reads it back with DuckDB, and restarts: the new archiver
// recovers the same watermarks from the listing alone.
func TestArchiveToS3(t *testing.T) {
	srv := startS3(t)
	b, err := OpenBucket(context.Background(), srv.url)
	if err != nil {
		t.Fatal(err)
	}
	f, a := archiveAll(t, b, 100)
	want := a.Watermarks()
	a.Close()
	if n := checkArchive(t, download(t, b2(t, srv)), f.sink.st, want, f.blobData); n != 3*370 {
		t.Fatalf("%d rows archived, want %d", n, 3*370)
	}
	a2 := f.archiver(t, b2(t, srv), 50)
	defer a2.Close()
	if err := a2.recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := a2.Watermarks(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recovered %v, want %v", got, want)
	}
	if n := drain(t, a2, f.sink.clk); n != 0 {
		t.Fatalf("restart wrote %d files over a complete archive", n)
	}
}

func b2(t *testing.T, srv *s3Server) Bucket {
	t.Helper()
	b, err := OpenBucket(context.Background(), srv.url)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3FailedUploadInvisible breaks the archiver's uploads halfway: the
// bucket lists nothing.
func TestS3FailedUploadInvisible(t *testing.T) {
	srv := startS3(t)
	fb := &failingBucket{Bucket: b2(t, srv), prefix: EventsPrefix}
	f := newFleet(t, t.TempDir())
	f.grow(t, 30, "a")
	a := f.archiver(t, fb, 100)
	f.sink.clk.Advance(time.Minute)
	if n, err := a.RunOnce(context.Background()); n != 0 || err == nil {
		t.Fatalf("RunOnce: %d files, %v", n, err)
	}
	if keys := listKeys(t, fb, EventsPrefix); len(keys) != 0 {
		t.Fatalf("a failed upload left %v", keys)
	}
}

// TestS3PutIsAtomic checks what the archive's crash safety assumes of the
// server, at the protocol level: a PUT with a Content-MD5 (as the
// archiver sends) whose connection dies halfway through the body creates
// nothing, and neither does a multipart upload that is never completed.
// Without the Content-MD5, versitygw v1.8.0 does store the half it got as
// the object; the test logs what this server does then.
func TestS3PutIsAtomic(t *testing.T) {
	srv := startS3(t)
	c := srv.client(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("rumor "), 200_000)
	sum := md5.Sum(body)
	presign := func(key string, withMD5 bool) (*url.URL, http.Header) {
		in := &s3.PutObjectInput{Bucket: aws.String(srv.bucket), Key: aws.String(key)}
		if withMD5 {
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
		}
		req, err := s3.NewPresignClient(c).PresignPutObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		return u, req.SignedHeader
	}
	// halfPut sends a presigned PUT by hand: headers for the whole body,
	// half of it, then the connection closes, as when the uploader is
	// killed.
	halfPut := func(key string, withMD5 bool) {
		u, hdr := presign(key, withMD5)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", u.RequestURI(), u.Host, len(body))
		for k, vs := range hdr {
			if !strings.EqualFold(k, "host") {
				fmt.Fprintf(conn, "%s: %s\r\n", k, strings.Join(vs, ","))
			}
		}
		fmt.Fprint(conn, "\r\n")
		if _, err := conn.Write(body[:len(body)/2]); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	halfPut("events/half.parquet", true)
	halfPut("other/half-without-md5", false)

	// The same kind of request sent whole creates its object: the half one
	// fails for its missing bytes only.
	u, hdr := presign("events/whole.parquet", true)
	put, err := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if !strings.EqualFold(k, "host") {
			put.Header[k] = vs
		}
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("whole presigned PUT: %s", resp.Status)
	}

	// A multipart upload with a part in, never completed.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(srv.bucket), Key: aws.String("events/multi.parquet")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(srv.bucket), Key: aws.String("events/multi.parquet"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(body),
	}); err != nil {
		t.Fatal(err)
	}

	b := b2(t, srv)
	for i := 0; i < 5; i++ { // the server may still be handling the broken PUT
		if keys := listKeys(t, b, EventsPrefix); len(keys) != 1 || keys[0] != "events/whole.parquet" {
			for _, k := range keys {
				r, _ := b.(*cloudBucket).b.Attributes(ctx, k)
				t.Logf("%s: %d bytes", k, r.Size)
			}
			t.Fatalf("bucket lists %v; want only events/whole.parquet", keys)
		}
		for _, k := range []string{"events/half.parquet", "events/multi.parquet"} {
			if ok, err := b.Exists(ctx, k); ok || err != nil {
				t.Fatalf("%s exists: %v %v", k, ok, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ok, _ := b.Exists(ctx, "other/half-without-md5"); ok {
		t.Logf("this server stored a PUT cut off halfway when it carried no Content-MD5")
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(srv.bucket), Key: aws.String("events/multi.parquet"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
}

func listKeys(t testing.TB, b Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	if err := b.List(context.Background(), prefix, func(k string, _ int64) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}
