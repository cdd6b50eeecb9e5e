package shop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Storage keeps uploaded files, content-addressed, per tenant. The default is
// the local disk; an object store can implement the same interface.
type Storage interface {
	// Put stores data under tenant and hash (hex sha256 of data); storing the
	// same hash twice is a no-op.
	Put(ctx context.Context, tenantID int64, hash string, data []byte) error
	// Open returns the file, or ErrNoFile.
	Open(ctx context.Context, tenantID int64, hash string) (io.ReadSeekCloser, error)
}

// ErrNoFile is returned by Storage.Open for a missing file.
var ErrNoFile = errors.New("storage: no such file")

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Disk stores files under Dir/<tenant id>/<hash[:2]>/<hash>.
type Disk struct{ Dir string }

func (d Disk) path(tenantID int64, hash string) (string, error) {
	if tenantID <= 0 || !hashPattern.MatchString(hash) {
		return "", fmt.Errorf("storage: bad key %d/%q", tenantID, hash)
	}
	return filepath.Join(d.Dir, strconv.FormatInt(tenantID, 10), hash[:2], hash), nil
}

// Put implements Storage. It writes to a temporary file and renames it, so a
// reader never sees half a file.
func (d Disk) Put(_ context.Context, tenantID int64, hash string, data []byte) error {
	p, err := d.path(tenantID, hash)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// Open implements Storage.
func (d Disk) Open(_ context.Context, tenantID int64, hash string) (io.ReadSeekCloser, error) {
	p, err := d.path(tenantID, hash)
	if err != nil {
		return nil, ErrNoFile
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoFile
	}
	return f, err
}
