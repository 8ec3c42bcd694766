package sink

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// Bucket is the object store the archive is written to. Implementations
// are safe for concurrent use.
type Bucket interface {
	// Put stores body, from its start to its end, under key. It is atomic
	// (a reader sees the whole object or, if Put fails or the process dies,
	// nothing new) and durable once it returns nil. Putting a key again
	// replaces it.
	Put(ctx context.Context, key, contentType string, body io.ReadSeeker) error
	// List calls fn with the key and size of every object whose key starts
	// with prefix, in no particular order, until fn returns an error.
	List(ctx context.Context, prefix string, fn func(key string, size int64) error) error
	// Get returns the whole object stored under key.
	Get(ctx context.Context, key string) ([]byte, error)
	// Exists reports whether key is stored.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; removing a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Close releases the bucket's resources.
	Close() error
}

// OpenBucket opens the archive bucket named by rawURL:
//
//   - a plain path, or file:///abs/path: a directory on this machine,
//     created if missing (no query parameters);
//   - s3://bucket?endpoint=URL&region=R&use_path_style=true (and the other
//     parameters of gocloud.dev/blob/s3blob): an S3 bucket or any
//     S3-compatible store, with credentials from the usual AWS environment
//     variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …).
//
// Opening does not contact the store; the first List or Put does.
func OpenBucket(ctx context.Context, rawURL string) (Bucket, error) {
	if rawURL == "" {
		return nil, errors.New("sink: archive URL is empty")
	}
	if !strings.Contains(rawURL, "://") {
		return openDir(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sink: archive URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("sink: archive URL %q: a file URL has no host (file:///abs/path)", rawURL)
		}
		if u.RawQuery != "" {
			return nil, fmt.Errorf("sink: archive URL %q: a file URL takes no parameters", rawURL)
		}
		return openDir(u.Path)
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("sink: archive URL %q names no bucket (s3://BUCKET?…)", rawURL)
		}
		b, err := (&s3blob.URLOpener{}).OpenBucketURL(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("sink: archive URL %q: %w", rawURL, err)
		}
		cb := &cloudBucket{b: b, name: u.Host}
		if !b.As(&cb.s3) {
			b.Close()
			return nil, fmt.Errorf("sink: archive URL %q: no S3 client", rawURL)
		}
		return cb, nil
	default:
		return nil, fmt.Errorf("sink: archive URL %q: scheme %q is not file or s3", rawURL, u.Scheme)
	}
}

// openDir opens a directory bucket. Temporary files go next to their
// final name (so that the rename that publishes a file never crosses
// file systems), and no attribute sidecar files are written.
func openDir(path string) (Bucket, error) {
	if path == "" {
		return nil, errors.New("sink: archive path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sink: archive path %q: %w", path, err)
	}
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{
		CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite, DirFileMode: 0o755,
	})
	if err != nil {
		return nil, fmt.Errorf("sink: open archive directory %s: %w", abs, err)
	}
	return &cloudBucket{b: b, dir: abs}, nil
}

// maxPutBytes is the largest object one S3 PUT may carry.
const maxPutBytes = 5 << 30

// cloudBucket is a Bucket on gocloud.dev/blob.
//
// In a directory (dir set), fileblob writes a temporary file next to the
// final one and renames it into place, but syncs neither: Put fsyncs the
// file before the rename and the directories after it.
//
// On S3, Put is one PutObject with the body's length and its Content-MD5:
// the server must store exactly those bytes or nothing. Without the MD5 an
// upload cut off mid-body is not always refused: versitygw v1.8.0 stores
// the part it received as the whole object (TestS3PutIsAtomic). One PUT,
// not a multipart upload, also means no parts are left behind by a crash.
type cloudBucket struct {
	b    *blob.Bucket
	dir  string     // the root directory of a file bucket, "" for S3
	s3   *s3.Client // the S3 client of an S3 bucket
	name string     // the S3 bucket's name
}

var _ Bucket = (*cloudBucket)(nil)

func (c *cloudBucket) Put(ctx context.Context, key, contentType string, body io.ReadSeeker) error {
	if c.s3 != nil {
		return c.putS3(ctx, key, contentType, body)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	return c.putFile(ctx, key, contentType, body)
}

func (c *cloudBucket) putS3(ctx context.Context, key, contentType string, body io.ReadSeeker) error {
	size, err := body.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	if size > maxPutBytes {
		return fmt.Errorf("sink: put %s: %d bytes is more than one S3 PUT carries (%d)", key, size, int64(maxPutBytes))
	}
	h := md5.New()
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	if _, err := io.Copy(h, body); err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	_, err = c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(c.name), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(h.Sum(nil))), ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	return nil
}

func (c *cloudBucket) putFile(ctx context.Context, key, contentType string, r io.Reader) error {
	var tmp *os.File
	opts := &blob.WriterOptions{ContentType: contentType, BeforeWrite: func(as func(any) bool) error {
		if !as(&tmp) {
			return errors.New("sink: file bucket writer is not a file")
		}
		return nil
	}}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := c.b.NewWriter(wctx, key, opts)
	if err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // abandons the upload: nothing becomes visible
		_ = w.Close()
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("sink: put %s: sync: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("sink: put %s: %w", key, err)
	}
	return c.syncDirs(key)
}

// syncDirs fsyncs the directories from key's up to the bucket's root, so
// that the rename and any directory the write created are durable.
func (c *cloudBucket) syncDirs(key string) error {
	dir := filepath.Dir(filepath.Join(c.dir, filepath.FromSlash(key)))
	for {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("sink: put %s: %w", key, err)
		}
		if dir == c.dir || len(dir) <= len(c.dir) {
			return nil
		}
		dir = filepath.Dir(dir)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (c *cloudBucket) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	it := c.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sink: list %s: %w", prefix, err)
		}
		if err := fn(obj.Key, obj.Size); err != nil {
			return err
		}
	}
}

func (c *cloudBucket) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.b.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("sink: get %s: %w", key, err)
	}
	return b, nil
}

func (c *cloudBucket) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := c.b.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("sink: stat %s: %w", key, err)
	}
	return ok, nil
}

func (c *cloudBucket) Delete(ctx context.Context, key string) error {
	err := c.b.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("sink: delete %s: %w", key, err)
	}
	return nil
}

func (c *cloudBucket) Close() error { return c.b.Close() }

// isFileTemp reports whether key is a temporary file fileblob left behind
// when a process died mid-write: "<key>.<hex nanoseconds>.tmp".
func isFileTemp(key string) bool {
	rest, ok := strings.CutSuffix(key, ".tmp")
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 || i == len(rest)-1 {
		return false
	}
	for _, c := range rest[i+1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
