package sink

import (
	"context"
	"fmt"
)

// recover lists the bucket's files and makes them the archived state:
// the watermarks, the covered ranges that later files must not overlap,
// and the file listing. Temporary files left by an upload a crash
// interrupted (file buckets only; they are never valid names) are
// removed.
func (a *Archiver) recover(ctx context.Context) error {
	var files []File
	var temps []string
	foreign := 0
	err := a.cfg.Bucket.List(ctx, EventsPrefix, func(key string, size int64) error {
		f, err := ParseFileName(key)
		switch {
		case err == nil:
			f.Bytes = size
			files = append(files, f)
		case isFileTemp(key):
			temps = append(temps, key)
		default:
			foreign++
			a.log.Debug("ignoring a key that is no archive file", "key", key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sink: list archive: %w", err)
	}
	if cb, ok := a.cfg.Bucket.(*cloudBucket); ok && cb.dir != "" {
		err := a.cfg.Bucket.List(ctx, BlobsPrefix, func(key string, _ int64) error {
			if isFileTemp(key) {
				temps = append(temps, key)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sink: list archive: %w", err)
		}
	}
	if err := a.recoverManifest(ctx, len(files) == 0, &temps); err != nil {
		return err
	}
	for _, k := range temps {
		if err := a.cfg.Bucket.Delete(ctx, k); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.ix.load(files)
	a.recovered = true
	wm := a.ix.watermarks()
	a.mu.Unlock()
	if a.cfg.Cache != nil { // the bucket wins, also where it holds less
		for d := range a.cached {
			if _, ok := wm[d]; !ok {
				wm[d] = 0
			}
		}
		for d, w := range wm {
			if a.cached[d] != w {
				if err := a.cfg.Cache.Save(d, w); err != nil {
					a.log.Warn("cache archived watermark", "device", d, "err", err)
				}
			}
		}
	}
	a.log.Info("archive listed", "files", len(files), "removed_temp_files", len(temps), "foreign_keys", foreign)
	return nil
}
