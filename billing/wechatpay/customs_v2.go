package wechatpay

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
)

// V2Sign is the MD5 signature of WeChat Pay API v2: the non-empty
// parameters other than sign, sorted by name, joined as k=v&…, followed by
// &key=<API v2 key>, MD5, upper-case hexadecimal. Exported so that servers
// (internal/sandbox) check exactly what clients sign.
func V2Sign(p map[string]string, key string) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
		b.WriteByte('&')
	}
	b.WriteString("key=")
	b.WriteString(key)
	sum := md5.Sum([]byte(b.String()))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// V2Verify reports whether p carries the right sign for key, in constant time.
func V2Verify(p map[string]string, key string) bool {
	want := V2Sign(p, key)
	return subtle.ConstantTimeCompare([]byte(strings.ToUpper(p["sign"])), []byte(want)) == 1
}

// EncodeV2XML writes p as <xml><k>v</k>…</xml>, names sorted, values
// escaped. Names must be XML names of [a-z0-9_].
func EncodeV2XML(p map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if v == "" {
			continue
		}
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return nil, errors.New("bad field name " + k)
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + ">")
		if err := xml.EscapeText(&b, []byte(p[k])); err != nil {
			return nil, err
		}
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes(), nil
}

// DecodeV2XML reads a flat <xml><k>v</k>…</xml> document (CDATA allowed)
// into a map. Nested elements, a root other than xml, a repeated field or
// more than 500 fields are refused.
func DecodeV2XML(b []byte) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	m := map[string]string{}
	depth := 0
	var field string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if t.Name.Local != "xml" {
					return nil, errors.New("the root element must be xml")
				}
			case 2:
				field = t.Name.Local
				text.Reset()
			default:
				return nil, errors.New("nested element " + t.Name.Local)
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				if _, dup := m[field]; dup {
					return nil, errors.New("repeated field " + field)
				}
				if len(m) >= 500 {
					return nil, errors.New("too many fields")
				}
				m[field] = strings.TrimSpace(text.String())
			}
			depth--
		}
	}
	if depth != 0 {
		return nil, errors.New("unterminated document")
	}
	return m, nil
}

// postXML posts an XML body to requestURI and returns the answer's fields
// and HTTP status. Transport failures, 5xx answers and answers that are not
// WeChat Pay's XML match ErrUnavailable.
func (c *Client) postXML(ctx context.Context, op, requestURI string, body []byte) (map[string]string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.Scheme+"://"+c.base.Host+requestURI, bytes.NewReader(body))
	if err != nil {
		return nil, 0, configError("%s: %v", op, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Accept", "text/xml")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, unavailable(op, "request failed", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxReply+1))
	if err != nil {
		return nil, 0, unavailable(op, "reading the answer", err)
	}
	if int64(len(raw)) > c.maxReply {
		return nil, 0, unavailable(op, "the answer is larger than expected", nil)
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return nil, 0, unavailable(op, "HTTP "+resp.Status, nil)
	}
	m, err := DecodeV2XML(raw)
	if err != nil || m["return_code"] == "" {
		return nil, 0, unavailable(op, "HTTP "+resp.Status+": the answer is not WeChat Pay's XML", nil)
	}
	return m, resp.StatusCode, nil
}
