package shop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	_ "image/gif"  // decoders for image.DecodeConfig
	_ "image/jpeg" //
	_ "image/png"  //
	"io"
	"net/http"
	"time"

	_ "golang.org/x/image/webp" // WeChat clients show WebP
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// Image limits: what a Mini Program can show well.
const (
	MaxImageBytes = 5 << 20
	maxImageSide  = 8000
)

var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// UploadedImage describes a stored image.
type UploadedImage struct {
	Hash        string    `json:"hash"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	URL         string    `json:"url"`
	CreatedAt   time.Time `json:"created_at"`
}

// UploadImage checks and stores an image for the tenant in ctx. The type is
// read from the bytes (not the file name or header); the same bytes uploaded
// twice are stored once.
func (s *Service) UploadImage(ctx context.Context, r io.Reader) (*UploadedImage, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.Errorf(errs.TooLarge, "the image is larger than %d MiB", MaxImageBytes>>20)
		}
		return nil, errs.E(errs.Invalid, "invalid_upload", "the upload was interrupted")
	}
	if len(data) > MaxImageBytes {
		return nil, errs.Errorf(errs.TooLarge, "the image is larger than %d MiB", MaxImageBytes>>20)
	}
	if len(data) == 0 {
		return nil, errs.E(errs.Invalid, "invalid_image", "the file is empty")
	}
	ct := http.DetectContentType(data)
	if !imageTypes[ct] {
		return nil, errs.E(errs.Invalid, "invalid_image", "upload a JPEG, PNG, GIF or WebP image (this file is "+ct+")")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errs.E(errs.Invalid, "invalid_image", "the image cannot be read: it is damaged or not really a "+ct)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
		return nil, errs.Errorf(errs.Invalid, "images must be from 1×1 to %d×%d pixels", maxImageSide, maxImageSide)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if err := s.Media.Put(ctx, tid, hash, data); err != nil {
		return nil, err
	}
	out := UploadedImage{Hash: hash, ContentType: ct, Size: len(data), Width: cfg.Width, Height: cfg.Height}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO images (tenant_id, hash, content_type, size, width, height) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, hash) DO NOTHING`, tid, hash, ct, len(data), cfg.Width, cfg.Height).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT created_at FROM images WHERE tenant_id = ? AND hash = ?`, tid, hash).Scan(&out.CreatedAt).Error
	})
	if err != nil {
		return nil, err
	}
	slug, err := s.slug(ctx, tid)
	out.URL = adminImageURL(slug)(hash)
	return &out, err
}

// ImageFile opens an image of the tenant in ctx and returns its type.
func (s *Service) ImageFile(ctx context.Context, hash string) (io.ReadSeekCloser, string, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, "", err
	}
	notFound := errs.E(errs.NotFound, "image_not_found", "no such image")
	if !hashPattern.MatchString(hash) {
		return nil, "", notFound
	}
	var ct string
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT content_type FROM images WHERE tenant_id = ? AND hash = ?`, tid, hash).Scan(&ct).Error
	}); err != nil {
		return nil, "", err
	}
	if ct == "" {
		return nil, "", notFound
	}
	f, err := s.Media.Open(ctx, tid, hash)
	if errors.Is(err, ErrNoFile) {
		return nil, "", notFound
	}
	return f, ct, err
}

// startOfTime is the modification time given to content-addressed files:
// they never change, so only the ETag-free, immutable caching matters.
var startOfTime = time.Unix(0, 0)
