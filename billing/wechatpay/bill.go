package wechatpay

import (
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Bill types of TradeBill.
const (
	BillAll     = "ALL"
	BillSuccess = "SUCCESS"
	BillRefund  = "REFUND"
)

// BillInfo is the answer of the trade bill request: where to download the
// file (valid a few minutes) and the SHA-1 of the uncompressed file.
type BillInfo struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// ErrBillHash matches the error of a downloaded bill whose SHA-1 is not the
// one announced: the file was truncated or altered; download it again.
var ErrBillHash = errors.New("wechatpay: the trade bill does not match its announced SHA-1")

// TradeBill asks for the trade bill of day (China time; only the date part
// is used) of billType (BillAll, BillSuccess, BillRefund), gzipped. In
// partner mode it is the bill of the client's sub-merchant. A day without a
// bill yet is an *APIError (NO_STATEMENT_EXIST, or a 400 for a future day).
func (c *Client) TradeBill(ctx context.Context, day time.Time, billType string) (*BillInfo, error) {
	switch billType {
	case BillAll, BillSuccess, BillRefund:
	default:
		return nil, configError("bill type must be ALL, SUCCESS or REFUND, not %q", billType)
	}
	q := url.Values{}
	q.Set("bill_date", day.Format("2006-01-02"))
	q.Set("bill_type", billType)
	q.Set("tar_type", "GZIP")
	if c.institutional() {
		q.Set("sub_mchid", c.subMchID)
	}
	var info BillInfo
	// WeChat Pay documents the order bill_date, bill_type, tar_type; Encode
	// sorts, which is the same order plus sub_mchid last but one.
	if _, err := c.do(ctx, call{op: "tradebill", method: "GET", path: "/v3/bill/tradebill?" + q.Encode(), out: &info}); err != nil {
		return nil, err
	}
	if !strings.EqualFold(info.HashType, "SHA1") || len(info.HashValue) != 40 || info.DownloadURL == "" {
		return nil, unavailable("tradebill", "the answer lacks a SHA1 hash or a download URL", nil)
	}
	return &info, nil
}

// DownloadBill downloads the file of info and returns it uncompressed, as
// a stream: nothing is held in memory beyond gzip's window. The request is
// signed (the token is part of the signed URI); the answer is not signed,
// so the stream is checked against info's SHA-1 instead: the Read that
// reaches the end returns ErrBillHash when it differs, and io.EOF only when
// it matches. The URL must be on the client's WeChat Pay host (the request
// carries the merchant's signature). The caller closes the stream.
func (c *Client) DownloadBill(ctx context.Context, info *BillInfo) (io.ReadCloser, error) {
	u, err := url.Parse(info.DownloadURL)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, unavailable("billdownload", "the download URL is not on the WeChat Pay host", nil)
	}
	want, err := hex.DecodeString(info.HashValue)
	if err != nil || len(want) != sha1.Size {
		return nil, unavailable("billdownload", "the announced hash is not a hexadecimal SHA-1", nil)
	}
	requestURI := u.EscapedPath()
	if u.RawQuery != "" {
		requestURI += "?" + u.RawQuery
	}
	auth, err := c.authorization(http.MethodGet, requestURI, nil, c.now())
	if err != nil {
		return nil, configError("billdownload: signing: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Scheme+"://"+u.Host+requestURI, http.NoBody)
	if err != nil {
		return nil, configError("billdownload: %v", err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", c.userAgent)
	// The bill can take longer than API calls: no client-wide timeout; the
	// caller's ctx bounds it.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, unavailable("billdownload", "request failed", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, c.maxReply))
		return nil, apiError("billdownload", resp, raw)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		resp.Body.Close()
		return nil, unavailable("billdownload", "the file is not gzip", err)
	}
	return &billStream{body: resp.Body, zr: zr, h: sha1.New(), want: want, left: c.maxBillLen}, nil
}

// billStream is the uncompressed bill, hashed as it is read.
type billStream struct {
	body io.ReadCloser
	zr   *gzip.Reader
	h    hash.Hash
	want []byte
	left int64
	done error
}

func (s *billStream) Read(p []byte) (int, error) {
	if s.done != nil {
		return 0, s.done
	}
	n, err := s.zr.Read(p)
	s.h.Write(p[:n])
	s.left -= int64(n)
	if s.left < 0 {
		s.done = unavailable("billdownload", "the bill is larger than the limit", nil)
		return n, s.done
	}
	if err == io.EOF {
		if subtle.ConstantTimeCompare(s.h.Sum(nil), s.want) != 1 {
			s.done = ErrBillHash
		} else {
			s.done = io.EOF
		}
		return n, s.done
	}
	if err != nil {
		s.done = unavailable("billdownload", "reading the file", err)
		return n, s.done
	}
	return n, nil
}

func (s *billStream) Close() error {
	s.zr.Close()
	return s.body.Close()
}
